/* An episode: the task prompt, then each turn (the model's text, thinking folded, the tool call, the
   observation rendered for its tool, times and tokens), then the final patch and the gold's diff. */
(function (G) {
  "use strict";
  const esc = G.esc;

  /* The turns of a trajectory: each assistant message with the messages answering it. The per-turn
     records (ep.turns) are matched by the index of the assistant message they point at. */
  function turnsOf(ep) {
    const records = {};
    (ep.turns || []).forEach((r) => { records[r.message] = r; });
    const turns = [];
    let current = null;
    let prompt = null;
    let system = null;
    ep.messages.forEach((m, i) => {
      if (m.role === "system" && system === null && !turns.length) { system = m; return; }
      if (m.role === "user" && prompt === null && !turns.length) { prompt = m; return; }
      if (m.role === "assistant") {
        current = { n: turns.length + 1, message: m, record: records[i], replies: [] };
        if (current.record) current.n = current.record.turn;
        turns.push(current);
      } else if (current) {
        current.replies.push(m);
      } else {
        turns.push({ n: turns.length + 1, message: null, record: null, replies: [m] });
      }
    });
    return { system, prompt, turns };
  }

  function facts(list) {
    return '<dl class="facts">' + list.filter(([, v]) => v !== "" && v != null)
      .map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${v}</dd></div>`).join("") + "</dl>";
  }

  function header(ep, opts) {
    const row = ep.row;
    const tokens = row.tokens || {};
    const spent = (tokens.prompt || 0) + (tokens.completion || 0);
    const tests = row.tests_total >= 0 ? `${row.tests_passed}/${row.tests_total}` : "not run";
    const title = opts.compact
      ? `<h2><a href="${G.episodeHref(ep.key)}">${esc(row.task_id)}</a> ${G.outcome(row)}</h2>`
      : `<h1>${esc(row.task_id)} ${G.outcome(row)}</h1>`;
    return title + facts([
      ["suite", esc(ep.suite)],
      ["agent", esc(row.agent)],
      ["model", esc(row.model || "-")],
      ["stopped", esc(row.stop_reason)],
      ["steps", `${row.steps} of ${row.max_steps}`],
      ["tests", tests],
      ["time", G.seconds(row.wall_time)],
      ["tokens", spent ? `${tokens.prompt} in, ${tokens.completion} out` : ""],
    ]) + (row.error ? `<pre class="obs parse-error">${esc(row.error)}</pre>` : "");
  }

  function turnHtml(ep, turn, opts) {
    const m = turn.message || {};
    const rec = turn.record || {};
    const call = (m.tool_calls || [])[0];
    const fn = (call && call.function) || {};
    const tool = rec.tool || fn.name || "";
    const times = [];
    if (rec.elapsed != null && rec.step != null) times.push(`tool ${G.seconds(rec.elapsed)}`);
    if (rec.agent_time) times.push(`model ${G.seconds(rec.agent_time)}`);
    if (rec.tokens) times.push(`${rec.tokens.prompt} + ${rec.tokens.completion} tokens`);
    let html = `<article class="turn"${opts.compact ? "" : ` id="turn-${turn.n}"`} data-turn="${turn.n}" data-tool="${esc(tool)}">` +
      `<header><a class="turn-no" href="${G.episodeHref(ep.key, turn.n)}" title="link to this step">#${turn.n}</a>` +
      (tool ? `<span class="tool ${G.toolClass(tool)}">${esc(tool)}</span>` : '<span class="tool t-none">no tool call</span>') +
      (rec.reward ? `<span class="badge ok">reward ${rec.reward}</span>` : "") +
      `<span class="times">${times.join(" \u00b7 ")}</span></header>`;
    const thinking = m.reasoning_content || m.reasoning;
    if (thinking) {
      html += `<details class="thinking"><summary>thinking (${G.plural(thinking.length, "character")})</summary>` +
        `<div class="say">${esc(thinking)}</div></details>`;
    }
    if (m.content) html += `<div class="say">${esc(m.content)}</div>`;
    if (call) html += `<div class="call"><span class="fn">${esc(fn.name)}</span>${G.callArgs(fn.name, rec.arguments != null ? rec.arguments : fn.arguments)}</div>`;
    turn.replies.forEach((reply, i) => {
      if (reply.role === "tool" && i === 0) {
        html += `<div class="reply">${G.observation(tool, reply.content, rec)}</div>`;
        html += G.subagent(rec.subagent || reply.subagent);
      } else if (reply.role === "tool") {
        html += `<div class="reply extra"><span class="muted">call ${esc(reply.name)}:</span> ${esc(reply.content)}</div>`;
      } else {
        html += `<div class="reply note"><span class="role">${esc(reply.role)}</span><div class="say">${esc(reply.content)}</div></div>`;
      }
    });
    if (rec.integrity && (rec.integrity.valid === false || (rec.integrity.flags || []).length)) {
      const flags = (rec.integrity.flags || []).map((f) => esc(typeof f === "string" ? f : JSON.stringify(f))).join(", ");
      html += `<div class="integrity">integrity: ${rec.integrity.valid === false ? "<b>run voided</b>" : "flagged"}` +
        (flags ? ` \u2014 ${flags}` : "") + "</div>";
    }
    return html + "</article>";
  }

  /* The whole episode as HTML; compact (side by side) leaves out the system prompt and the navigation. */
  G.renderEpisode = (ep, opts) => {
    opts = opts || {};
    const { system, prompt, turns } = turnsOf(ep);
    let html = `<div class="episode${opts.compact ? " compact" : ""}" data-key="${esc(ep.key)}">`;
    html += `<section class="card head">${header(ep, opts)}</section>`;
    if (prompt) {
      html += `<section class="card prompt"><h3>Task</h3><div class="say">${esc(prompt.content)}</div>` +
        (system && !opts.compact ? `<details><summary>system prompt</summary><div class="say">${esc(system.content)}</div></details>` : "") +
        "</section>";
    }
    if (!ep.messages.length) html += '<p class="muted">No trajectory was recorded for this episode.</p>';
    html += `<section class="turns">${turns.map((t) => turnHtml(ep, t, opts)).join("")}</section>`;
    html += `<section class="card"><h3>Final patch</h3>${ep.patch == null ? '<p class="muted">none recorded</p>' : G.diff(ep.patch)}</section>`;
    if (ep.gold_patch != null) html += `<section class="card"><h3>Gold fix</h3>${G.diff(ep.gold_patch)}</section>`;
    return html + "</div>";
  };

  function neighbours(key) {
    const e = G.episodeByKey(key);
    if (!e) return "";
    const same = G.index().episodes.filter((x) => x.run === e.run);
    const i = same.findIndex((x) => x.key === key);
    const link = (x, label) => x ? `<a href="${G.episodeHref(x.key)}">${label}</a>` : `<span class="muted">${label}</span>`;
    const others = G.index().episodes.filter((x) => x.run !== e.run && G.taskKey(x) === G.taskKey(e));
    const runs = G.index().runs;
    const compare = others.map((x) =>
      `<a href="${G.compareHref(runs[e.run].id, runs[x.run].id, key)}">side by side with ${esc(runs[x.run].name)}</a>`).join(" ");
    return `<nav class="crumbs"><a href="#/">Overview</a> \u203a ${esc(runs[e.run].name)} \u203a ${esc(e.suite)}` +
      `<span class="spacer"></span>${compare} ${link(same[i - 1], "\u2190 previous")} ${link(same[i + 1], "next \u2192")}</nav>`;
  }

  G.focusStep = (step) => {
    document.querySelectorAll(".turn.focus").forEach((el) => el.classList.remove("focus"));
    const el = document.getElementById("turn-" + step);
    if (el) {
      el.classList.add("focus");
      el.scrollIntoView({ block: "start" });
    }
  };

  G.showEpisode = (main, key, step) => {
    main.innerHTML = '<p class="muted">Loading the episode&hellip;</p>';
    return G.loadEpisode(key).then((ep) => {
      main.innerHTML = neighbours(key) + G.renderEpisode(ep, {});
      document.title = `${ep.row.task_id} \u2014 gym-pdb viewer`;
      if (step) G.focusStep(step);
      else window.scrollTo(0, 0);
    }, (err) => {
      main.innerHTML = `<p class="error-box">${esc(err.message)}</p>`;
    });
  };
})(window.GymPdb);
