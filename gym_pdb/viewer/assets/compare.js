/* Two runs on the same tasks: which tasks one resolves and the other does not, and an episode of each
   next to the other. Tasks are matched by suite and task id. */
(function (G) {
  "use strict";
  const esc = G.esc;
  const KINDS = [
    ["a", (a, b) => a && b && a.resolved && !b.resolved],
    ["b", (a, b) => a && b && !a.resolved && b.resolved],
    ["both", (a, b) => a && b && a.resolved && b.resolved],
    ["neither", (a, b) => a && b && !a.resolved && !b.resolved],
    ["one", (a, b) => !a || !b],
  ];

  function pairs(ia, ib) {
    const byTask = new Map();
    G.index().episodes.forEach((e) => {
      if (e.run !== ia && e.run !== ib) return;
      const k = G.taskKey(e);
      if (!byTask.has(k)) byTask.set(k, [null, null]);
      byTask.get(k)[e.run === ia ? 0 : 1] = e;
    });
    return [...byTask.values()].sort((x, y) => {
      const ex = x[0] || x[1], ey = y[0] || y[1];
      return ex.suite.localeCompare(ey.suite) || ex.task.localeCompare(ey.task, undefined, { numeric: true });
    });
  }

  function cell(e) {
    if (!e) return '<td class="muted">not run</td>';
    return `<td>${G.outcome(e)} <span class="muted">${G.plural(e.steps, "step")}</span></td>`;
  }

  function runPicker(name, runs, value) {
    return `<select name="${name}">` + runs.map((r) => `<option value="${esc(r.id)}"${r.id === value ? " selected" : ""}>${esc(r.name)}</option>`).join("") + "</select>";
  }

  function list(main, a, b, params) {
    const idx = G.index();
    const ia = idx.runs.findIndex((r) => r.id === a), ib = idx.runs.findIndex((r) => r.id === b);
    const all = pairs(ia, ib);
    const kind = params.get("only") || "";
    const names = { a: `only ${idx.runs[ia].name} resolves`, b: `only ${idx.runs[ib].name} resolves`,
      both: "both resolve", neither: "neither resolves", one: "run by one only" };
    const counts = KINDS.map(([k, test]) => [k, all.filter(([x, y]) => test(x, y)).length]);
    const chips = [["", `all ${all.length}`], ...counts.map(([k, n]) => [k, `${names[k]}: ${n}`])]
      .map(([k, label]) => `<a class="chip${k === kind ? " on" : ""}" data-kind="${k}" href="${G.compareHref(a, b)}${k ? "?only=" + k : ""}">${esc(label)}</a>`).join("");
    const test = (KINDS.find(([k]) => k === kind) || [null, () => true])[1];
    const rows = all.filter(([x, y]) => test(x, y)).map(([x, y]) => {
      const e = x || y;
      const href = x && y ? G.compareHref(a, b, x.key) : G.episodeHref(e.key);
      return `<tr data-task="${esc(e.task)}"><td><a href="${href}">${esc(e.task)}</a></td><td>${esc(e.suite)}</td>${cell(x)}${cell(y)}</tr>`;
    }).join("");
    main.innerHTML = `<section class="card"><h2>Compare ${runPicker("a", idx.runs, a)} with ${runPicker("b", idx.runs, b)}</h2>` +
      `<p class="muted">${esc(G.runLabel(idx.runs[ia]))}<br>${esc(G.runLabel(idx.runs[ib]))}</p>` +
      `<div class="chips">${chips}</div><table class="compare"><thead><tr><th>task</th><th>suite</th>` +
      `<th>${esc(idx.runs[ia].name)}</th><th>${esc(idx.runs[ib].name)}</th></tr></thead><tbody>${rows}</tbody></table></section>`;
    main.querySelectorAll("h2 select").forEach((sel) => sel.addEventListener("change", () => {
      const pick = (n) => main.querySelector(`select[name=${n}]`).value;
      location.hash = G.compareHref(pick("a"), pick("b"));
    }));
  }

  function sideBySide(main, a, b, rest) {
    const idx = G.index();
    let ea = G.episodeByKey(a + "/" + rest), eb = G.episodeByKey(b + "/" + rest);
    const ref = ea || eb;
    if (ref) {  // the same task under another key (two env ids of one suite name)
      const same = idx.episodes.filter((e) => G.taskKey(e) === G.taskKey(ref));
      const run = (id) => idx.runs.findIndex((r) => r.id === id);
      ea = ea || same.find((e) => e.run === run(a));
      eb = eb || same.find((e) => e.run === run(b));
    }
    main.innerHTML = '<p class="muted">Loading the episodes&hellip;</p>';
    const load = (e) => e ? G.loadEpisode(e.key) : Promise.resolve(null);
    return Promise.all([load(ea), load(eb)]).then(([x, y]) => {
      const column = (ep, run) => `<div class="column"><h3 class="run-name">${esc(run.name)}</h3>` +
        (ep ? G.renderEpisode(ep, { compact: true }) : '<p class="muted">This run has no episode of the task.</p>') + "</div>";
      const runA = idx.runs.find((r) => r.id === a), runB = idx.runs.find((r) => r.id === b);
      main.innerHTML = `<nav class="crumbs"><a href="#/">Overview</a> \u203a <a href="${G.compareHref(a, b)}">` +
        `${esc(runA.name)} vs ${esc(runB.name)}</a> \u203a ${esc((ea || eb || {}).task || rest)}</nav>` +
        `<div class="side-by-side">${column(x, runA)}${column(y, runB)}</div>`;
      window.scrollTo(0, 0);
    }, (err) => { main.innerHTML = `<p class="error-box">${esc(err.message)}</p>`; });
  }

  G.showCompare = (main, parts, params) => {
    const runs = G.index().runs;
    const known = (id) => runs.some((r) => r.id === id);
    const [a, b] = parts;
    if (runs.length < 2 || !known(a) || !known(b)) {
      main.innerHTML = '<p class="error-box">Comparing needs two runs: <code>gym-pdb view RUN_A RUN_B</code>.</p>';
      return;
    }
    document.title = "compare \u2014 gym-pdb viewer";
    if (parts.length >= 4) return sideBySide(main, a, b, parts.slice(2).join("/"));
    list(main, a, b, params);
  };
})(window.GymPdb);
