/* Shared helpers of the viewer's pages: escaping, formatting, tool colours, loading episode scripts. */
(function (G) {
  "use strict";

  const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  G.esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ENTITIES[c]);

  G.index = () => window.GYM_PDB_INDEX;

  G.seconds = (s) => {
    if (s == null || isNaN(s)) return "";
    if (s < 1) return Math.round(s * 1000) + " ms";
    return s < 60 ? s.toFixed(s < 10 ? 2 : 1) + " s" : Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  };

  G.plural = (n, word) => n + " " + word + (n === 1 ? "" : "s");

  const KNOWN_TOOLS = ["pdb", "rewrite", "view", "eval", "grep", "listdir", "submit", "trace"];
  G.toolClass = (tool) => "t-" + (KNOWN_TOOLS.includes(tool) ? tool : "other");

  /* A stacked bar of tool calls (counts by tool): one element with a gradient, so that a list of
     thousands of episodes stays light; the title gives the counts. */
  const TOOL_COLOURS = { pdb: "#2457c5", rewrite: "#c2410c", view: "#7c8594", eval: "#17803d", grep: "#8b5cf6",
    listdir: "#b8bec9", submit: "#0e7490", trace: "#db2777" };
  G.toolMix = (counts) => {
    const entries = Object.entries(counts || {}).filter(([, n]) => n > 0);
    const total = entries.reduce((s, [, n]) => s + n, 0);
    if (!total) return '<span class="mix"></span>';
    entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    let at = 0;
    const stops = entries.map(([tool, n]) => {
      const from = at;
      at += (100 * n) / total;
      const colour = TOOL_COLOURS[tool] || "#a3a3a3";
      return `${colour} ${from.toFixed(1)}% ${at.toFixed(1)}%`;
    });
    const title = entries.map(([t, n]) => `${t} ${n} (${Math.round((100 * n) / total)}%)`).join(", ");
    return `<span class="mix" title="${G.esc(title)}" style="background:linear-gradient(90deg,${stops.join(",")})"></span>`;
  };

  G.toolLegend = (tools) =>
    '<span class="legend">' + tools.map((t) => `<span><i class="${G.toolClass(t)}"></i>${G.esc(t)}</span>`).join("") + "</span>";

  /* The outcome of an episode as a badge: resolved, unresolved, or the error it ended with. */
  G.outcome = (ep) => {
    if (ep.error) return `<span class="badge error" title="${G.esc(ep.error)}">error</span>`;
    return ep.resolved ? '<span class="badge ok">resolved</span>' : '<span class="badge no">unresolved</span>';
  };

  G.runLabel = (run) => `${run.name} \u2014 ${run.label}`;

  /* Hash links: #/episode/<key>[/step/N], #/compare/<a>/<b>[/<suite>/<task>]. */
  G.episodeHref = (key, step) => "#/episode/" + key + (step ? "/step/" + step : "");
  G.compareHref = (a, b, key) => "#/compare/" + a + "/" + b + (key ? "/" + key.split("/").slice(1).join("/") : "");

  /* Episodes arrive as scripts (data/ep/<key>.js calls GymPdb.episodeLoaded): that works from file://. */
  const cache = {};
  const pending = {};
  G.episodeLoaded = (data) => {
    cache[data.key] = data;
    (pending[data.key] || []).forEach((p) => p.resolve(data));
    delete pending[data.key];
  };
  G.loadEpisode = (key) => {
    if (cache[key]) return Promise.resolve(cache[key]);
    return new Promise((resolve, reject) => {
      if (pending[key]) return pending[key].push({ resolve, reject });
      pending[key] = [{ resolve, reject }];
      const script = document.createElement("script");
      script.src = "data/ep/" + key + ".js";
      script.onload = () => script.remove();
      script.onerror = () => {
        script.remove();
        (pending[key] || []).forEach((p) => p.reject(new Error("no data for the episode " + key)));
        delete pending[key];
      };
      document.head.appendChild(script);
    });
  };

  /* Episodes of the index by key, and the same task in each run (suite + task id). */
  let byKey = null;
  G.episodeByKey = (key) => {
    if (!byKey) {
      byKey = {};
      G.index().episodes.forEach((e) => { byKey[e.key] = e; });
    }
    return byKey[key];
  };
  G.taskKey = (e) => e.suite + "\u0000" + e.task;
})((window.GymPdb = window.GymPdb || {}));
