"""The `swe-pdb` profile's schemas, read from the release, and its semantics where they differ from gym-pdb's."""

from __future__ import annotations

import pytest

from gym_pdb.env import PDBEnv
from gym_pdb.profiles import get_profile
from gym_pdb.profiles.swe_pdb.release import class_constants
from gym_pdb.tasks.task import Task


@pytest.fixture
def env(release):
    env = PDBEnv(suite="Demo", sandbox="local", profile="swe-pdb")
    env.reset(options={"task_id": "inventory"})
    yield env
    env.close()


def test_schemas_are_swe_pdbs_as_its_client_sent_them(env, release):
    schemas = {s["function"]["name"]: s["function"] for s in env.tools_schema()}
    assert list(schemas) == ["grep", "pdb", "view", "rewrite", "eval"]
    view = schemas["view"]["parameters"]
    assert view["additionalProperties"] is False
    assert view["required"] == ["path", "start", "end", "include_line_numbers_and_breakpoints"]
    assert view["properties"]["start"]["type"] == ["number", "null"]
    assert "required" not in schemas["eval"]["parameters"] and schemas["eval"]["parameters"]["properties"] == {}
    defined = class_constants("gym/tools/pdb.py", "PDBTool", str(release))
    assert schemas["pdb"]["description"] == defined["description"]
    assert "pdb(command=\"c\")" in schemas["pdb"]["description"]  # built from the examples list by "\n".join
    assert get_profile("gym-pdb").default_tools[0] == "pdb"
    with pytest.raises(ValueError):
        get_profile("other")


def test_nullable_arguments_bind(env):
    obs = env.step({"name": "view", "arguments": {"path": "solution.py", "start": 2.0, "end": None,
                                                  "include_line_numbers_and_breakpoints": None}})[0]  # fmt: skip
    assert obs.startswith("Viewing `solution.py`, lines 2-21 of 21 total lines.")


def test_empty_rewrite_keeps_a_line_and_past_the_end_appends(env):
    env.step({"name": "rewrite", "arguments": {"path": "solution.py", "start": 5, "end": 5, "new_code": ""}})
    lines = env.unwrapped.workspace_files()["solution.py"].split("\n")
    assert lines[4] == "" and lines[6].startswith("    def add(") and len(lines) == 22  # later lines stay put
    obs = env.step({"name": "rewrite", "arguments": {"path": "solution.py", "start": 40, "new_code": "# end"}})[0]
    assert "+# end" in obs
    assert env.unwrapped.workspace_files()["solution.py"].endswith("\n# end")
    obs = env.step({"name": "rewrite", "arguments": {"path": "test.py", "start": 1, "new_code": "x"}})[0]
    assert obs.startswith("Rewrite failed. Error message:\n`test.py` is not editable.")


def test_default_profile_keeps_gym_pdbs_semantics():
    env = PDBEnv(suite="Demo", sandbox="local")
    try:
        env.reset(options={"task_id": "inventory"})
        assert env.step("rewrite solution.py 40:40\n# end")[0].startswith("Error:")
        assert [s["function"]["name"] for s in env.tools_schema()][0] == "pdb"
    finally:
        env.close()


def test_a_whole_file_rewrite_drops_its_breakpoints(env):
    env.step({"name": "pdb", "arguments": {"command": "b solution.py:8", "runner": None, "file": None}})
    assert env.step({"name": "view", "arguments": {"path": "solution.py", "start": 8, "end": 8}})[4]["breakpoints"]
    text = env.unwrapped.workspace_files()["solution.py"]
    info = env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": text}})[4]
    assert info["breakpoints"] == []


def test_swe_pdbs_refusal_keeps_its_emoji_in_the_observation_space(env):
    obs = env.step({"name": "pdb", "arguments": {"command": "b solution.py:7"}})[0]
    assert obs.startswith("Invalid pdb command: b solution.py:7\n\u274c BREAKPOINT SETTING FAILED:")
    assert "b solution.py:8" in obs and env.observation_space.contains(obs)
    assert env.step({"name": "pdb", "arguments": {"command": "b"}})[0] == "Breakpoints:\nNo breakpoints are set.\n"


def test_command_line_forms_work_in_the_profile(env):
    assert env.step("pdb start pytest test.py")[0].startswith("PDB session started with: python -m pdb -m pytest")
    assert env.step("pdb p 6 * 7")[0] == "Pdb command output:\n42\n"
    assert env.step("view solution.py 1 2")[0].startswith("Viewing `solution.py`, lines 1-2 of 21 total lines.")
    assert env.step("grep stock solution.py")[0].startswith("Found ")
    assert "has been updated successfully" in env.step("rewrite solution.py 3:3\n")[0]


def test_a_breakpoint_is_set_and_listed_and_an_expression_joined_by_pdbs_separator_is_listed_after(env):
    obs, *_, info = env.step({"name": "pdb", "arguments": {"command": "b solution.py:8"}})
    assert obs.startswith("Pdb command output:\nBreakpoint 1 at ") and obs.count("(Pdb)") == 0
    listed = obs.split("All breakpoints:", 1)[1]
    assert "breakpoint   keep yes   at " in listed and listed.rstrip().endswith("solution.py:8")
    assert info["breakpoints"] == ["solution.py:8"]
    assert env.step("pdb p 6 * 7")[4]["breakpoints"] == ["solution.py:8"]  # an expression: the listing as it was
    info = env.step("pdb p 1;; b solution.py:11")[4]  # pdb runs both: the listing is asked again
    assert info["breakpoints"] == ["solution.py:8", "solution.py:11"]
    obs = env.step({"name": "pdb", "arguments": {"command": "b solution.py:14"}})[0]
    assert [line.split()[0] for line in obs.split("All breakpoints:", 1)[1].strip().splitlines()[1:]] == ["1", "2", "3"]


def test_the_plain_runs_load_no_pytest_plugin_of_the_interpreters_other_packages(release):
    """pdb's and the eval's plain pytest runs leave out installed packages' plugins, as the judged run does.

    (This venv's training extras install some: anyio's, hypothesis'.)
    """
    test = "def test_no_plugin_of_an_installed_package(pytestconfig):\n    assert pytestconfig.pluginmanager.list_plugin_distinfo() == []\n"
    task = Task(id="plugins", suite="Custom", files={"solution.py": "x = 1\n", "test.py": test})
    env = PDBEnv(tasks=[task], sandbox="local", profile="swe-pdb")
    try:
        env.reset()
        assert "1 passed" in env.step({"name": "eval", "arguments": {}})[0]
        env.step({"name": "pdb", "arguments": {"command": "b test.py:2"}})
        env.step({"name": "pdb", "arguments": {"command": "c"}})
        obs = env.step({"name": "pdb", "arguments": {"command": "p pytestconfig.pluginmanager.list_plugin_distinfo()"}})[0]
        assert obs == "Pdb command output:\n[]\n"
    finally:
        env.close()


def test_the_evals_two_runs_start_side_by_side_on_every_backend(backend, release):
    """The judged run and the plain one start from two threads at once (the race itself:
    tests/sandbox/test_docker_threads.py)."""
    env = PDBEnv(suite="Demo", sandbox=backend, profile="swe-pdb")
    try:
        env.reset(options={"task_id": "inventory"})
        for _ in range(4):
            obs, _, _, _, info = env.step({"name": "eval", "arguments": {}})
            assert "short test summary info" in obs and 0 < info["tests_passed"] < info["tests_total"], obs
    finally:
        env.close()
