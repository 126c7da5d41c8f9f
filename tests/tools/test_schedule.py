"""Tool schedules: debug(N) and the general form, in the env (locked calls, unlocks, the tools offered)."""

from __future__ import annotations

import pytest

from gym_pdb.env import PDBEnv
from gym_pdb.tools import DEFAULT_TOOLS
from gym_pdb.tools.schedule import ToolSchedule

TOOLS = [*DEFAULT_TOOLS, "trace"]


def test_debug_n_locks_pdb_and_trace_until_the_nth_rewrite():
    schedule = ToolSchedule.parse("debug(5)")
    assert schedule is not None
    assert schedule.to_dict() == {"pdb": {"after": {"rewrite": 5}}, "trace": {"after": {"rewrite": 5}}}
    assert schedule.locked("pdb", {"rewrite": 4}, 40) and not schedule.locked("pdb", {"rewrite": 5}, 5)
    assert not schedule.locked("view", {}, 0)
    assert schedule.available(TOOLS, {"rewrite": 2}, 9) == ["rewrite", "view", "eval", "grep", "listdir"]
    assert schedule.unlocks("pdb", {"rewrite": 2}, 9) == "after 5 calls of rewrite (2 so far)"


def test_the_general_form_as_a_mapping_or_json_with_steps():
    schedule = ToolSchedule.parse('{"trace": {"after": {"steps": 3, "eval": 1}}}')
    assert schedule is not None
    assert schedule.locked("trace", {"eval": 1}, 2) and schedule.locked("trace", {}, 9)
    assert not schedule.locked("trace", {"eval": 1}, 3)
    assert schedule.unlocks("trace", {}, 1) == "after 3 steps (1 so far) and 1 call of eval (0 so far)"
    assert ToolSchedule.parse(schedule.to_dict()) == schedule
    assert ToolSchedule.parse(None) is None


@pytest.mark.parametrize(
    "spec, message",
    [
        ("debug(x)", "or a mapping such as"),
        ({"pdb": {"rewrite": 5}}, "needs 'after'"),
        ({"pdb": {"after": {"rewrite": -1}}}, "not a whole number"),
        ({"pdb": {"after": {"rewrite": True}}}, "not a whole number"),
        (["pdb"], "or a mapping such as"),
    ],
)
def test_bad_schedules_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        ToolSchedule.parse(spec)


def test_a_schedule_must_name_tools():
    with pytest.raises(ValueError, match="locks 'pbd', which is no tool"):
        PDBEnv(suite="Demo", tool_schedule={"pbd": {"after": {"rewrite": 1}}})
    with pytest.raises(ValueError, match="counts calls of 'trace', which is not among the tools"):
        PDBEnv(suite="Demo", tools=DEFAULT_TOOLS, tool_schedule={"pdb": {"after": {"trace": 1}}})
    PDBEnv(suite="Demo", tools=DEFAULT_TOOLS, tool_schedule="debug(2)").close()  # trace is not offered: left alone


def test_the_env_answers_a_locked_call_and_unlocks_after_the_rewrites():
    env = PDBEnv(suite="Demo", tools=TOOLS, tool_schedule="debug(2)", sandbox="local")
    try:
        _, info = env.reset(options={"task_id": "running_mean"})
        assert info["tools_available"] == ["rewrite", "view", "eval", "grep", "listdir"]
        assert [s["function"]["name"] for s in env.tools_schema()] == TOOLS
        assert [s["function"]["name"] for s in env.tools_schema(available_only=True)] == info["tools_available"]

        obs, reward, terminated, _, info = env.step("pdb start")
        assert obs == (
            "Error: pdb is locked: it unlocks after 2 calls of rewrite (0 so far). "
            "Tools available now: rewrite, view, eval, grep, listdir."
        )
        assert info["tool"] == "pdb" and reward == 0.0 and not terminated and info["current_frame"] == ""
        source = env.workspace_files()["solution.py"]
        for done in (0, 1):
            assert env.step("trace")[0].startswith(f"Error: trace is locked: it unlocks after 2 calls of rewrite ({done} so far)")
            info = env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": source}})[-1]
        assert "pdb" in info["tools_available"] and "trace" in info["tools_available"]
        obs, *_, info = env.step("pdb start pytest test.py")
        assert obs.startswith("Started pdb") and info["current_frame"].startswith("test.py:")
        assert env.step("trace test.py::test_bad_window")[0].startswith("Trace of")
        env.reset(options={"task_id": "running_mean"})  # a new episode locks them again
        assert env.step("pdb start")[0].startswith("Error: pdb is locked")
    finally:
        env.close()


def test_a_schedule_by_steps():
    env = PDBEnv(suite="Demo", tools=TOOLS, tool_schedule={"trace": {"after": {"steps": 2}}}, sandbox="local")
    try:
        env.reset(options={"task_id": "inventory"})
        assert env.step("trace")[0].startswith("Error: trace is locked: it unlocks after 2 steps (0 so far)")
        info = env.step("listdir")[-1]
        assert info["tools_available"] == TOOLS  # two steps taken: trace is offered at the next one
        assert env.step("trace")[0].startswith("Trace of")
    finally:
        env.close()
