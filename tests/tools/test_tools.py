"""Every tool on a real task of each suite, on every backend."""

from __future__ import annotations

import pytest

from gym_pdb.env import PDBEnv

SUITE_TASKS = [
    ("MiniNightmare", "config", "config_code.py"),
    ("DebugBench", "problem_0", "solution.py"),
    ("HumanEvalBuggy", "humaneval_0", "solution.py"),
    ("MBPPBuggy", "mbpp_2", "solution.py"),
    ("CanItEdit", "1_cipher", "solution.py"),
    ("SynDebug", "acecode_bigcode_python_fns_267_llama3_1_instruct_39", None),
]


def env_for(envs, backend, suite):
    key = (backend, suite)
    if key not in envs:
        envs[key] = PDBEnv(suite=suite, sandbox=backend)
    return envs[key]


@pytest.mark.parametrize("suite, task_id, program", SUITE_TASKS)
def test_every_tool_on_a_real_task(envs, backend, suite, task_id, program):
    env = env_for(envs, backend, suite)
    prompt, info = env.reset(options={"task_id": task_id})
    task = env.tasks[task_id]
    program = program or task.entrypoint
    assert program in prompt and ".debugignore" not in prompt

    listing = env.step("listdir")[0]
    assert program in listing and "test.py (read-only)" in listing

    obs = env.step(f"view {program}")[0]
    first_line = task.files[program].splitlines()[0]
    assert f"   1   {first_line}".rstrip() in obs

    obs = env.step({"name": "grep", "arguments": {"pattern": "def ", "path": program}})[0]
    assert f"{program}:" in obs

    obs, reward, terminated, _, info = env.step("eval")
    assert info["tests_total"] > 0 and info["tests_passed"] < info["tests_total"] and reward == 0.0

    obs, *_, info = env.step("pdb start pytest test.py")
    assert info["current_frame"].startswith("test.py:"), obs
    assert env.step("pdb p 6 * 7")[0].startswith("42")

    lines = task.files[program].splitlines()
    obs, *_, info = env.step({"name": "rewrite", "arguments": {"path": program, "start": 1, "end": 1, "new_code": lines[0] + "  # edited"}})
    assert "Rewrote" in obs and "# edited" in obs
    assert "pdb session was restarted" in obs

    obs, *_ = env.step("rewrite test.py 1:1\nimport os")
    assert "read-only" in obs


@pytest.mark.parametrize("path", ["../outside.py", "/etc/passwd", ".debugignore", "a/../../x.py"])
def test_paths_outside_or_hidden_are_refused(envs, backend, path):
    env = env_for(envs, backend, "MiniNightmare")
    env.reset(options={"task_id": "config"})
    for action in (f"view {path}", f"rewrite {path}\nx = 1"):
        obs = env.step(action)[0]
        assert obs.startswith("Error:"), (action, obs)


def test_view_ranges_and_limits(envs, backend):
    env = env_for(envs, backend, "Demo")
    env.reset(options={"task_id": "inventory"})
    obs = env.step("view solution.py 10 12")[0]
    assert obs.splitlines()[0] == "solution.py (21 lines), lines 10..12:"
    assert len(obs.splitlines()) == 4
    plain = env.step({"name": "view", "arguments": {"path": "test.py", "start": 1, "end": 1, "include_line_numbers_and_breakpoints": False}})[0]
    assert plain.splitlines()[1] == "import pytest"
    assert env.step("view solution.py 99")[0].startswith("Error:")


def test_rewrite_forms(envs, backend):
    env = env_for(envs, backend, "Demo")
    env.reset(options={"task_id": "inventory"})
    env.step("pdb start python solution.py")
    env.step("pdb b solution.py:14")
    env.step("pdb b solution.py:21")
    obs = env.step("rewrite solution.py 11:10\n        # a note\n        # and another")[0]
    assert "Rewrote solution.py lines 11..10" in obs
    _, *_, info = env.step("view solution.py 1 1")
    assert info["breakpoints"] == ["solution.py:16", "solution.py:23"]
    obs, *_, info = env.step("rewrite solution.py 16:16\n        left = have - count  # what remains")
    assert "Breakpoints removed" in obs and info["breakpoints"] == ["solution.py:23"]
    obs = env.step("rewrite solution.py 3:3\n    def broken(:")[0]
    assert "does not compile" in obs
    whole = env.tasks["inventory"].gold_files["solution.py"]
    env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": whole}})
    assert env.step("eval")[4]["resolved"]
    obs = env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": whole}})[0]
    assert obs.startswith("No change")
    assert env.step("rewrite solution.py 40:41\nx")[0].startswith("Error:")


def test_grep_and_listdir_details(envs, backend):
    env = env_for(envs, backend, "Demo")
    env.reset(options={"task_id": "inventory"})
    assert "not a valid regular expression" in env.step("grep (unclosed")[0]
    obs = env.step("grep stock . 2")[0]
    assert len(obs.splitlines()) == 3 and "more matches" in obs
    assert "No match" in env.step("grep zzzqqq")[0]
    assert env.step("listdir nowhere")[0].startswith("Error:")


def test_bad_arguments_explain_usage(envs, backend):
    env = env_for(envs, backend, "Demo")
    env.reset(options={"task_id": "inventory"})
    cases = {
        '{"name": "view", "arguments": {}}': "needs 'path'",
        '{"name": "view", "arguments": {"path": "solution.py", "colour": 1}}': "takes no argument 'colour'",
        '{"name": "view", "arguments": {"path": "solution.py", "start": "ten"}}': "must be an integer",
        '{"name": "pdb", "arguments": {"command": "start", "runner": "ruby"}}': "runner must be",
        '{"name": "pdb", "arguments": {"command": "start", "file": "missing.py"}}': "no file",
        '{"name": "pdb", "arguments": {"command": "c", "runner": "python"}}': "go with command='start'",
    }
    for action, says in cases.items():
        obs, _, _, _, info = env.step(action)
        assert obs.startswith("Error:") and says in obs, (action, obs)
        assert info["parse_error"] == ""
    obs, *_, info = env.step("not json {")
    assert info["parse_error"] and "Tools:" in obs


def test_breakpoint_on_a_def_line_is_refused_with_the_body_line(envs, backend):
    env = env_for(envs, backend, "Demo")
    env.reset(options={"task_id": "inventory"})
    env.step("pdb start pytest test.py")
    obs, *_, info = env.step("pdb b solution.py:10")
    assert "No breakpoint set" in obs and "b solution.py:11" in obs
    assert info["breakpoints"] == []
    obs, *_, info = env.step("pdb b solution.py:11")
    assert "No breakpoint set" not in obs and info["breakpoints"] == ["solution.py:11"]
    obs, *_, info = env.step("pdb c")
    assert info["current_frame"].startswith("solution.py:11 in remove"), obs


def test_view_of_a_folder_shows_its_tree(envs, backend):
    env = env_for(envs, backend, "Demo")
    env.reset(options={"task_id": "inventory"})
    obs, *_, info = env.step({"name": "view", "arguments": {"path": "."}})
    assert obs.splitlines()[0] == ". is a folder; its files:"
    assert "  solution.py" in obs and "  test.py (read-only)" in obs
    assert env.step("view nowhere")[0].startswith("Error:")
