/* The overview: gym-pdb summarize's table (computed in Python, shown as is) and plots, then every
   episode, filtered (run, suite, resolved, tool used, ended with an error) and searched by task id.
   The filters live in the URL's fragment, so a filtered view is a link. */
(function (G) {
  "use strict";
  const esc = G.esc;
  const FILTERS = ["run", "suite", "resolved", "tool", "error", "q"];

  function summaryTable(idx) {
    const head = idx.columns.map((c, i) => `<th class="${i < 3 ? "" : "num"}">${esc(c)}</th>`).join("") + "<th>tool mix</th>";
    const rows = idx.groups.map((g) =>
      `<tr class="${g.total ? "total" : ""}">` +
      g.cells.map((c, i) => `<td class="${i < 3 ? "" : "num"}" data-col="${esc(idx.columns[i])}">${esc(c)}</td>`).join("") +
      `<td>${G.toolMix(g.tools)}</td></tr>`).join("");
    return `<table class="summary"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
  }

  function plots(idx) {
    if (!idx.plots.length) return "";
    return '<section class="card"><h2>Plots</h2><div class="plots">' +
      idx.plots.map((p) => `<a href="${esc(p)}" target="_blank"><img src="${esc(p)}" alt="${esc(p.split("/").pop().split(".")[0].replace(/_/g, " "))}" loading="lazy"></a>`).join("") +
      "</div></section>";
  }

  function select(name, label, options, value) {
    const opts = options.map(([v, text]) => `<option value="${esc(v)}"${v === value ? " selected" : ""}>${esc(text)}</option>`);
    return `<label>${esc(label)} <select name="${name}">${opts.join("")}</select></label>`;
  }

  function filterBar(idx, f) {
    const suites = [...new Set(idx.episodes.map((e) => e.suite))].sort();
    let html = `<form class="filters" onsubmit="return false">` +
      `<label class="search">Task <input type="search" name="q" placeholder="search task ids" value="${esc(f.q || "")}"></label>`;
    if (idx.runs.length > 1) {
      html += select("run", "Run", [["", "all runs"], ...idx.runs.map((r, i) => [String(i), r.name])], f.run || "");
    }
    html += select("suite", "Suite", [["", "all suites"], ...suites.map((s) => [s, s])], f.suite || "");
    html += select("resolved", "Resolved", [["", "any"], ["yes", "resolved"], ["no", "unresolved"]], f.resolved || "");
    html += select("tool", "Tool used", [["", "any tool"], ...idx.tools.map((t) => [t, t])], f.tool || "");
    html += select("error", "Ended with an error", [["", "any"], ["yes", "error"], ["no", "no error"]], f.error || "");
    return html + '<button type="button" name="clear">clear</button></form>';
  }

  function matches(e, f) {
    if (f.run && String(e.run) !== f.run) return false;
    if (f.suite && e.suite !== f.suite) return false;
    if (f.resolved && e.resolved !== (f.resolved === "yes")) return false;
    if (f.tool && !(e.tools[f.tool] > 0)) return false;
    if (f.error && !!e.error !== (f.error === "yes")) return false;
    if (f.q && e.task.toLowerCase().indexOf(f.q.toLowerCase()) < 0) return false;
    return true;
  }

  /* The episodes that pass the filters, as row links (a grid per row, not a table: rows of one height). */
  function episodeRows(idx, f) {
    const many = idx.runs.length > 1;
    const out = [];
    for (const e of idx.episodes) {
      if (!matches(e, f)) continue;
      const tests = e.total >= 0 ? `${e.passed}/${e.total}` : "";
      const model = e.model !== "-" && e.model !== "scripted" ? ` <span class="muted">${esc(e.model)}</span>` : "";
      out.push(`<a class="ep-row" href="#/episode/${esc(e.key)}" data-key="${esc(e.key)}"><span class="task">${esc(e.task)}</span>` +
        `<span>${esc(e.suite)}</span>` + (many ? `<span>${esc(idx.runs[e.run].name)}</span>` : "") +
        `<span>${esc(e.agent)}${model}</span><span>${G.outcome(e)}</span><span class="num">${e.steps}</span>` +
        `<span class="num">${tests}</span><span>${G.toolMix(e.tools)}</span><span class="num">${G.seconds(e.wall)}</span>` +
        `<span class="stop" title="${esc(e.error)}">${esc(e.error || e.stop)}</span></a>`);
    }
    return out;
  }

  function rowsHead(idx) {
    return '<div class="ep-row head"><span>task</span><span>suite</span>' + (idx.runs.length > 1 ? "<span>run</span>" : "") +
      '<span>agent</span><span>outcome</span><span class="num">steps</span><span class="num">tests</span><span>tools</span>' +
      '<span class="num">time</span><span>stopped</span></div>';
  }

  /* Only the rows near the screen are in the page, the others stand as the body's height: a run of
     thousands of episodes renders as fast as one of fifty. ROW is .ep-row's height in viewer.css. */
  const ROW = 34;
  const MARGIN = 15;
  let onScroll = null;
  function showRows(body, rows) {
    const win = body.firstElementChild;
    body.style.height = rows.length * ROW + "px";
    let drawn = -1;
    const draw = () => {
      if (!body.isConnected) return window.removeEventListener("scroll", onScroll);
      const first = Math.max(0, Math.floor(-body.getBoundingClientRect().top / ROW) - MARGIN);
      if (first === drawn) return;
      drawn = first;
      win.style.transform = `translateY(${first * ROW}px)`;
      win.innerHTML = rows.slice(first, first + Math.ceil(window.innerHeight / ROW) + 2 * MARGIN).join("");
    };
    if (onScroll) {
      window.removeEventListener("scroll", onScroll);
      window.removeEventListener("resize", onScroll);
    }
    let queued = false;
    onScroll = () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; draw(); });
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    window.addEventListener("resize", onScroll);
    draw();
  }

  G.showOverview = (main, params) => {
    const idx = G.index();
    const f = {};
    FILTERS.forEach((k) => { if (params.get(k)) f[k] = params.get(k); });
    const runs = idx.runs.map((r) => `<li><b>${esc(r.name)}</b> <span class="muted">${esc(r.label)} \u00b7 ` +
      `${G.plural(r.episodes, "episode")} \u00b7 ${esc(r.path)}</span></li>`).join("");
    const compare = idx.runs.length > 1
      ? `<p><a class="button" href="${G.compareHref(idx.runs[0].id, idx.runs[1].id)}">Compare ${esc(idx.runs[0].name)} with ${esc(idx.runs[1].name)}</a></p>` : "";
    main.innerHTML =
      `<section class="card"><h2>Summary</h2><ul class="runs">${runs}</ul>${summaryTable(idx)}` +
      `<p class="note">As <code>gym-pdb summarize</code> prints it: episodes that ended with an error are counted apart, ` +
      `not in the rates. ${G.toolLegend(idx.tools)}</p>${compare}</section>` + plots(idx) +
      `<section class="card"><h2>Episodes</h2>${filterBar(idx, f)}<p class="count" id="count"></p>` +
      `<div class="episodes${idx.runs.length > 1 ? " runs" : ""}">${rowsHead(idx)}` +
      '<div class="ep-body" id="episodes"><div class="ep-window"></div></div></div></section>';
    const form = main.querySelector("form.filters");
    const table = main.querySelector("#episodes");
    const count = main.querySelector("#count");
    const apply = () => {
      const rows = episodeRows(idx, f);
      showRows(table, rows);
      count.textContent = `${rows.length} of ${G.plural(idx.episodes.length, "episode")}`;
      const query = new URLSearchParams(f).toString();
      history.replaceState(null, "", "#/" + (query ? "?" + query : ""));
    };
    const read = () => {
      FILTERS.forEach((k) => {
        const el = form.elements[k];
        if (el && el.value) f[k] = el.value; else delete f[k];
      });
      apply();
    };
    form.addEventListener("change", read);
    form.addEventListener("input", read);
    form.elements.clear.addEventListener("click", () => { form.reset(); FILTERS.forEach((k) => { if (form.elements[k]) form.elements[k].value = ""; }); read(); });
    apply();
    document.title = "gym-pdb viewer";
    // For benchmarks/bench_viewer.py: when the frame holding the rows has been laid out and painted.
    requestAnimationFrame(() => setTimeout(() => { window.__gymPdbOverviewRendered = performance.now(); }, 0));
  };
})(window.GymPdb);
