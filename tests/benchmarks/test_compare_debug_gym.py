"""benchmarks/compare_debug_gym.py keeps working: its gym-pdb half at one repetition.

The debug-gym half runs only where its venv exists (benchmarks/setup_debug_gym.sh;
not in CI): one task, one repetition, no listdir (whose setup runs apt-get).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import compare_debug_gym as cmp  # noqa: E402 - importable once BENCH is on sys.path

from gym_pdb.env import PDBEnv  # noqa: E402

FAST_OPS = {key for key, _ in cmp.ROWS} - {"reset_listdir"}


@pytest.fixture(scope="module")
def plan():
    try:
        env = PDBEnv(suite="MiniNightmare")
    except Exception as exc:  # noqa: BLE001 - no suite data here
        pytest.skip(f"no Mini Nightmare data: {exc}")
    try:
        return cmp.make_plan(env, ["config"])
    finally:
        env.close()


def test_function_params_picks_first_body_line_and_argument():
    source = 'def f(self, x, y=1):\n    """doc"""\n    return x\n\ndef g():\n    pass\n'
    assert cmp.function_params(source) == [(3, "x")]
    assert cmp.parse_frame("config_code.py:6 in __init__()") == ("config_code.py", 6)
    assert cmp.parse_frame("") is None


def test_reached_frame_reads_a_plain_pdb_reply_without_current_frame():
    reply = "Pdb command output:\n> /w/pytest/__main__.py(5)<module>()\nFF\n> /w/config_code.py(6)__init__()\n-> x = 1\n"
    assert cmp.reached_frame((reply, {})) == ("config_code.py", 6)  # the swe-pdb profile: the last frame line
    assert cmp.reached_frame(("", {"current_frame": "a.py:3 in f()"})) == ("a.py", 3)
    assert cmp.reached_frame(("FF\n2 failed", {"current_frame": ""})) is None


def test_plan_finds_a_breakpoint_the_first_continue_reaches(plan):
    (task,) = plan
    assert task["entry"] == "config_code.py"
    assert (Path(task["codebase"]) / "test.py").is_file()
    assert task["note"] == ""
    assert task["var"] and task["bp_line"] > 0


def test_gym_pdb_half_and_report(plan, tmp_path):
    env = cmp.open_env("local", "MiniNightmare", plan[0]["name"])
    try:
        gym = cmp.bench_gym_pdb(plan, env, warmup=0, reps=1, ops=FAST_OPS)
        for key in FAST_OPS:
            (values,) = gym["samples"][key].values()
            assert len(values) == 1 and values[0] > 0, key
        (reached,) = gym["checks"]["c_reached"].values()
        assert reached == [(plan[0]["entry"], plan[0]["bp_line"])]
        floor = cmp.bench_floor(plan, "MiniNightmare", warmup=0, reps=1, gym_env=env)
    finally:
        env.close()
    assert set(floor["samples"]) == {key for key, _ in cmp.FLOOR_ROWS}
    summary = cmp.summarize(gym, None, floor)
    assert summary["eval_vs_bare_pytest"] > 0
    assert summary["goal_10x_met"] is None  # no debug-gym half: no ratio
    report = {"meta": {"date": "d", "machine": "m", "load_before": (0, 0, 0), "load_after": (0, 0, 0),
                       "task_python_version": "3", "reps": 1, "tasks": ["config"]},
              "sandboxes": {"local": summary}, "raw": {}, "plan": plan}  # fmt: skip
    text = cmp.markdown(report)
    assert "| pdb `p 1+1` |" in text and "bare pytest run" in text
    json.dumps(report)
    compact = cmp.compact_markdown(report)
    assert "| pdb `p 1+1` | " in compact and "local: eval / bare pytest run" in compact
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- compare_debug_gym: begin -->\nold\n<!-- compare_debug_gym: end -->\ntail\n")
    cmp.update_readme(readme, compact)
    updated = readme.read_text()
    assert "old" not in updated and compact.strip() in updated and updated.endswith("-->\ntail\n")


@pytest.mark.skipif(
    not cmp.debug_gym_python().exists(),
    reason="debug-gym's venv is not set up (benchmarks/setup_debug_gym.sh)",
)
def test_debug_gym_half(plan):
    dg = cmp.bench_debug_gym(plan, "local", warmup=0, reps=1, ops=FAST_OPS, timeout=600)
    assert not dg["errors"], dg["errors"]
    assert dg["version"].startswith("1.")
    for key in FAST_OPS:
        (values,) = dg["samples"][key].values()
        assert len(values) == 1, key
    (reached,) = dg["checks"]["c_reached"].values()
    assert [tuple(f) for f in reached] == [(plan[0]["entry"], plan[0]["bp_line"])]
