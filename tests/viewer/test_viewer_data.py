"""What the viewer reads: the per-turn records `gym-pdb eval` writes, and the site served and exported from them."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path


from gym_pdb.cli import main
from gym_pdb.evaluation.summary import read_results, summarize, table_rows
from gym_pdb.viewer import Runs, serve
from gym_pdb.viewer.site import ASSETS


def rows_by_task(run: Path) -> dict[str, dict]:
    return {row["task_id"]: row for row in read_results([run])}


def test_eval_records_each_turn_beside_the_trajectory(viewer_runs):
    run = viewer_runs["expert"]
    row = rows_by_task(run)["running_mean"]
    messages = json.loads((run / row["trajectory"]).read_text())["messages"]
    log = json.loads((run / row["step_log"]).read_text())
    assert row["step_log"] == "steps/demo/running_mean.json" and log["task_id"] == "running_mean"
    turns = log["turns"]
    assert [t["turn"] for t in turns] == list(range(1, row["turns"] + 1))
    for t in turns:
        call = messages[t["message"]]["tool_calls"][0]["function"]
        assert t["tool"] == call["name"] and t["arguments"] == json.loads(call["arguments"])
        assert messages[t["observation"]]["role"] == "tool" and t["elapsed"] >= 0 and "agent_time" in t
    pdb = [t for t in turns if t["tool"] == "pdb"]
    stopped = pdb[-1]  # the expert's last pdb step sits on the breakpoint it set
    frame = stopped["frame"]
    assert stopped["breakpoints"] == [{"file": frame["file"], "line": frame["line"], "cond": None}]
    listing = frame["listing"].splitlines()
    assert frame["listing"] in messages[stopped["observation"]]["content"]
    assert "B->" in listing[frame["line"] - frame["first_line"]]
    first_eval, last_eval = [t["eval"] for t in turns if t["tool"] == "eval"]
    assert (first_eval["passed"], first_eval["total"]) == (2, 4) and last_eval["passed"] == 4
    failed = [t for t in first_eval["tests"] if t["outcome"] == "failed"]
    assert len(failed) == 2 and "assert" in failed[0]["details"]
    assert "integrity" not in first_eval  # recorded beside "eval", from the env's info
    assert [t["integrity"] for t in turns if t["tool"] == "eval"] == [{"valid": True, "evidence": [], "flags": []}] * 2
    gold = (run / row["gold_patch"]).read_text()
    assert "+    for start in range(len(values) - window + 1):" in gold
    summary = (run / "summary.md").read_text()
    assert summary.rstrip().endswith(f"gym-pdb view {run}")


def test_llm_turns_record_tokens_and_an_error_keeps_its_turns(viewer_runs):
    run = viewer_runs["llm"]
    rows = rows_by_task(run)
    log = json.loads((run / rows["running_mean"]["step_log"]).read_text())
    assert all(t["tokens"]["prompt"] > 0 and t["tokens"]["completion"] == 20 for t in log["turns"])
    assert rows["running_mean"]["stop_reason"] == "max_steps" and not rows["running_mean"]["resolved"]
    failed = rows["inventory"]
    assert failed["error"].startswith("model: the server refused the request (HTTP 400)")
    assert [t["tool"] for t in json.loads((run / failed["step_log"]).read_text())["turns"]] == ["view"]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def script_data(body: bytes, prefix: str) -> dict:
    text = body.decode("ascii")
    assert text.startswith(prefix)
    return json.loads(text[len(prefix) :].rstrip().rstrip(";").rstrip(")"))


def test_server_serves_the_pages_and_the_data(viewer_runs):
    server = serve(Runs([viewer_runs["expert"], viewer_runs["llm"]]))
    try:
        status, page = get(server.url)
        assert status == 200 and b'<script src="data/index.js">' in page
        assert get(server.url + "assets/viewer.css")[0] == 200
        index = script_data(get(server.url + "data/index.js")[1], "window.GYM_PDB_INDEX = ")
        groups = summarize(read_results([viewer_runs["expert"], viewer_runs["llm"]]))
        assert [g["cells"] for g in index["groups"]] == table_rows(groups)
        keys = {e["key"] for e in index["episodes"]}
        assert keys == {f"r{i}/demo/{t}" for i in (0, 1) for t in ("running_mean", "inventory")}
        episode = script_data(get(server.url + "data/ep/r1/demo/running_mean.js")[1], "GymPdb.episodeLoaded(")
        assert episode["row"]["agent"] == "debug_agent" and len(episode["turns"]) == 4
        assert episode["messages"][2]["reasoning_content"].startswith("Some tests fail")
        for missing in ("data/ep/r9/demo/x.js", "assets/../../setup.cfg", "plots/nope.png", "data/ep/r0/demo/../../../results.jsonl"):
            assert get(server.url + missing)[0] == 404, missing
        if index["plots"]:
            status, png = get(server.url + index["plots"][0])
            assert status == 200 and png.startswith(b"\x89PNG")
    finally:
        server.shutdown()
        server.server_close()


def test_export_is_a_self_contained_site(viewer_runs, tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["view", str(viewer_runs["expert"]), str(viewer_runs["llm"]), "--export", str(out)]) == 0
    assert (out / "index.html").as_uri() in capsys.readouterr().out
    assert sorted(p.name for p in (out / "assets").iterdir()) == sorted(a for a in ASSETS if a != "index.html")
    assert sorted(str(p.relative_to(out / "data" / "ep")) for p in (out / "data" / "ep").rglob("*.js")) == [
        f"r{i}/demo/{t}.js" for i in (0, 1) for t in ("inventory", "running_mean")
    ]
    for path in [out / "index.html", *(out / "assets").iterdir()]:  # nothing from the network
        assert not re.search(r"(src|href)=[\"']?(https?:)?//|@import|url\(\s*['\"]?https?:", path.read_text()), path


def test_view_without_results_says_so(tmp_path, capsys):
    assert main(["view", str(tmp_path)]) == 2
    assert "no results.jsonl" in capsys.readouterr().err
