/* Observations rendered for their tool, from the per-turn records where they say more than the text:
   pdb listings with the current line and breakpoints (record.frame, record.breakpoints), eval results
   per test (record.eval), rewrite diffs coloured, a subagent's conversation nested. */
(function (G) {
  "use strict";
  const esc = G.esc;

  /* A unified diff, each line coloured by its kind. */
  G.diff = (text) => {
    if (!text || !text.trim()) return '<p class="muted">no changes</p>';
    const lines = text.replace(/\n$/, "").split("\n").map((line) => {
      let cls = "d-ctx";
      if (line.startsWith("+++") || line.startsWith("---")) cls = "d-file";
      else if (line.startsWith("@@")) cls = "d-hunk";
      else if (line.startsWith("+")) cls = "d-add";
      else if (line.startsWith("-")) cls = "d-del";
      return `<span class="${cls}">${esc(line)}</span>`;
    });
    return `<pre class="diff">${lines.join("")}</pre>`;  // each line a block: no newlines between
  };

  /* pdb: the listing of the current frame (recorded beside the step) found in the reply, its lines
     marked from the record: the current line, and the breakpoints of that file. */
  function pdbReply(text, rec) {
    const frame = rec && rec.frame;
    const at = frame && frame.listing ? text.lastIndexOf(frame.listing) : -1;
    if (at < 0) return `<pre class="obs">${esc(text)}</pre>`;
    const breaks = new Set((rec.breakpoints || []).filter((b) => b.file === frame.file).map((b) => b.line));
    const lines = frame.listing.split("\n").map((line, i) => {
      const n = frame.first_line + i;
      const cls = ["ln"];
      if (n === frame.line) cls.push("cur");
      if (breaks.has(n)) cls.push("bp");
      return `<span class="${cls.join(" ")}" data-line="${n}">${esc(line)}</span>`;
    });
    const before = text.slice(0, at).replace(/\n$/, "");
    const after = text.slice(at + frame.listing.length).replace(/^\n/, "");
    return (
      '<pre class="obs pdb">' +
      (before ? esc(before) + "\n" : "") +
      `<span class="listing" title="${esc(frame.file)}:${frame.line} in ${esc(frame.function)}()">` +
      lines.join("") + "</span>" + (after ? esc(after) : "") + "</pre>"
    );
  }

  /* eval: one line per test, failures folded with their details. */
  function evalResult(text, rec) {
    const ev = rec && rec.eval;
    if (!ev) return `<pre class="obs">${esc(text)}</pre>`;
    const ok = ev.passed === ev.total && ev.total > 0;
    let html = `<div class="eval"><div class="eval-head ${ok ? "ok" : "no"}">${ev.passed}/${ev.total} tests passed` +
      (ev.timed_out ? ' <span class="badge error">run stopped: timeout</span>' : "") + "</div><ul>";
    ev.collect_errors.forEach((e) => {
      html += `<li class="test error"><details><summary><span class="outcome">collection error</span></summary>` +
        `<pre>${esc(e)}</pre></details></li>`;
    });
    ev.tests.forEach((t) => {
      const label = `<span class="outcome o-${esc(t.outcome.replace(/\W/g, "-"))}">${esc(t.outcome)}</span>` +
        `<code>${esc(t.nodeid)}</code><span class="dur">${G.seconds(t.duration)}</span>`;
      html += t.details
        ? `<li class="test"><details><summary>${label}</summary><pre>${esc(t.details)}</pre></details></li>`
        : `<li class="test"><div class="summaryless">${label}</div></li>`;
    });
    html += "</ul>";
    html += `<details class="raw"><summary>the text the agent saw</summary><pre class="obs">${esc(text)}</pre></details></div>`;
    return html;
  }

  /* rewrite: the diff part of the reply coloured, the rest as it is. */
  function rewriteReply(text) {
    const start = text.search(/^--- /m);
    if (start < 0) return `<pre class="obs">${esc(text)}</pre>`;
    const head = text.slice(0, start);
    const lines = text.slice(start).split("\n");
    let end = 0;
    while (end < lines.length && /^([-+ @\\]|$)/.test(lines[end])) end++;
    const diff = lines.slice(0, end).join("\n");
    const tail = lines.slice(end).join("\n");
    return (head ? `<pre class="obs">${esc(head.replace(/\n$/, ""))}</pre>` : "") + G.diff(diff) +
      (tail ? `<pre class="obs">${esc(tail)}</pre>` : "");
  }

  G.observation = (tool, text, rec) => {
    text = text == null ? "" : String(text);
    if (rec && rec.parse_error) return `<pre class="obs parse-error">${esc(text)}</pre>`;
    if (tool === "pdb") return pdbReply(text, rec);
    if (tool === "eval" || tool === "submit") return evalResult(text, rec);
    if (tool === "rewrite") return rewriteReply(text);
    return `<pre class="obs">${esc(text)}</pre>`;
  };

  /* The arguments of a tool call, shown as the call reads best. */
  G.callArgs = (tool, args) => {
    if (typeof args === "string") {
      try { args = args.trim() ? JSON.parse(args) : {}; } catch (e) { return `<code class="malformed">${esc(args)}</code>`; }
    }
    args = args || {};
    if (tool === "pdb") {
      const extra = ["runner", "file"].filter((k) => args[k] != null).map((k) => `${k}=${args[k]}`).join(" ");
      return `<code>${esc(args.command)}</code>` + (extra ? ` <span class="muted">${esc(extra)}</span>` : "");
    }
    if (tool === "rewrite") {
      const range = args.start != null ? ` lines ${args.start}\u2013${args.end != null ? args.end : args.start}` : " (whole file)";
      return `<code>${esc(args.path)}</code><span class="muted">${range}</span><pre class="code">${esc(args.new_code)}</pre>`;
    }
    if (tool === "view") {
      const range = args.start != null ? ` ${args.start}\u2013${args.end != null ? args.end : ""}` : "";
      return `<code>${esc(args.path)}</code><span class="muted">${range}</span>`;
    }
    const keys = Object.keys(args);
    if (!keys.length) return "";
    return keys.map((k) => `<span class="arg"><span class="muted">${esc(k)}=</span><code>${esc(
      typeof args[k] === "string" ? args[k] : JSON.stringify(args[k]))}</code></span>`).join(" ");
  };

  /* A subagent's conversation, nested under the call that ran it. */
  G.subagent = (sub) => {
    const messages = (sub && sub.messages) || [];
    if (!messages.length) return "";
    const items = messages.map((m) => {
      const calls = (m.tool_calls || []).map((c) => {
        const fn = c.function || {};
        return `<div class="call"><span class="tool ${G.toolClass(fn.name)}">${esc(fn.name)}</span> ${G.callArgs(fn.name, fn.arguments)}</div>`;
      }).join("");
      const body = m.role === "tool" ? G.observation(m.name, m.content, null)
        : m.content ? `<div class="say">${esc(m.content)}</div>` : "";
      return `<div class="sub-msg role-${esc(m.role)}"><span class="role">${esc(m.role)}${m.name ? " \u00b7 " + esc(m.name) : ""}</span>${body}${calls}</div>`;
    });
    return `<details class="subagent"><summary>subagent conversation (${G.plural(messages.length, "message")})</summary>${items.join("")}</details>`;
  };
})(window.GymPdb);
