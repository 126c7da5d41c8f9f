/* The page's router: the URL's fragment says what to show, so every view is a link (and works from file://).
     #/?suite=..&resolved=..        the overview, filtered
     #/episode/<run>/<suite>/<task>[/step/<n>]
     #/compare/<run a>/<run b>[/<suite>/<task>][?only=a|b|both|neither|one] */
(function (G) {
  "use strict";
  const main = document.getElementById("main");
  let shown = "";

  function nav() {
    const idx = G.index();
    let html = '<a href="#/">Overview</a>';
    if (idx.runs.length > 1) html += `<a href="${G.compareHref(idx.runs[0].id, idx.runs[1].id)}">Compare</a>`;
    document.getElementById("nav").innerHTML = html +
      `<span class="muted">${idx.runs.map((r) => G.esc(r.name)).join(", ")}</span>`;
  }

  function route() {
    const hash = location.hash.replace(/^#\/?/, "");
    const q = hash.indexOf("?");
    const path = q < 0 ? hash : hash.slice(0, q);
    const params = new URLSearchParams(q < 0 ? "" : hash.slice(q + 1));
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] === "episode") {
      const key = parts.slice(1, 4).join("/");
      const step = parts[4] === "step" ? Number(parts[5]) : null;
      if (shown === "episode:" + key) {  // a step link on the page already shown: only move to it
        if (step) G.focusStep(step);
        return;
      }
      shown = "episode:" + key;
      G.showEpisode(main, key, step);
    } else if (parts[0] === "compare") {
      shown = "compare:" + path + "?" + params;
      G.showCompare(main, parts.slice(1), params);
    } else {
      shown = "overview";
      G.showOverview(main, params);
    }
  }

  if (!G.index()) {
    main.innerHTML = '<p class="error-box">No run data: data/index.js did not load.</p>';
    return;
  }
  nav();
  window.addEventListener("hashchange", route);
  route();
})(window.GymPdb);
