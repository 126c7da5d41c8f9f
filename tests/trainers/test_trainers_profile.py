"""GRPO in the `swe-pdb` profile: what of SWE-PDB's schemas reaches the model through TRL's public API."""

from __future__ import annotations

import os

import pytest
from trainers_testlib import REPO, SHARED_DATA, require_train_extra

require_train_extra()

from transformers.utils import get_json_schema  # noqa: E402

from gym_pdb.profiles import get_profile  # noqa: E402
from gym_pdb.profiles.swe_pdb.release import RELEASE_ENV  # noqa: E402
from gym_pdb.tasks.loader import load_task  # noqa: E402
from trainers.env import env_factory, tool_env_class  # noqa: E402

REFERENCE = REPO.parent / "shared" / "reference" / "swe-pdb-agent"
pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "mini_nightmare").is_dir(), reason="needs the suite data (GYM_PDB_DATA)"
)


@pytest.fixture(autouse=True)
def release(monkeypatch):
    if RELEASE_ENV not in os.environ:
        if not REFERENCE.is_dir():
            pytest.fail(f"SWE-PDB's release not found: set {RELEASE_ENV}")
        monkeypatch.setenv(RELEASE_ENV, str(REFERENCE))


def test_swe_pdb_schemas_through_trl():
    tools = get_profile("swe-pdb").default_tools
    cls = tool_env_class(tools, "swe-pdb")
    assert cls.__name__ == "PDBToolEnv_grep_pdb_view_rewrite_eval_swe_pdb"
    episode = cls.__new__(cls)
    for schema in get_profile("swe-pdb").tools.schemas(tools):
        name = schema["function"]["name"]
        seen = get_json_schema(getattr(episode, name))["function"]
        # The same name and description; each property's description and its non-null type.
        assert seen["name"] == name and seen["description"] == schema["function"]["description"].strip()
        for arg, prop in schema["function"]["parameters"]["properties"].items():
            kinds = [k for k in prop["type"] if k != "null"]
            assert seen["parameters"]["properties"][arg]["type"] == kinds[0], (name, arg)
        # What differs: nullable arguments are optional, and there is no additionalProperties.
        nullable = [a for a, p in schema["function"]["parameters"]["properties"].items() if "null" in p["type"]]
        assert not set(nullable) & set(seen["parameters"].get("required", []))
        assert "additionalProperties" not in seen["parameters"]


def test_an_episode_in_the_swe_pdb_profile():
    task = load_task(SHARED_DATA / "humaneval_buggy" / "humaneval_0", suite="HumanEvalBuggy")
    make = env_factory({task.id: task}, tools=get_profile("swe-pdb").default_tools, profile="swe-pdb")
    episode = make()
    try:
        episode.reset(task_id=task.id)
        assert episode.view(path="solution.py", start=1, end=2).startswith("Viewing `solution.py`, lines 1-2 of ")
        assert "1 failed" in episode.eval() and episode.get_reward() == 0.0
    finally:
        episode._close()


def test_grpo_rows_get_the_profiles_system_prompt():
    import json

    from gym_pdb.profiles.swe_pdb.normalize import normalize
    from trainers.env import SYSTEM_PROMPT, load_tasks
    from trainers.grpo import ROW_WORKDIR, GRPOTaskArguments, rows_system_prompt, task_dataset

    recorded = json.loads((REPO / "tests" / "profiles" / "data" / "swe_pdb_oracle.json").read_text())[0]
    index, keys = load_tasks(f"PDB-{recorded['suite']}-v0:{recorded['task']}", SHARED_DATA)
    tools = list(get_profile("swe-pdb").default_tools)
    system = rows_system_prompt(GRPOTaskArguments(profile="swe-pdb", tools=tools), index)
    row = task_dataset(keys, system)[0]
    theirs = recorded["system_prompts"]["debug_agent"]  # SWE-PDB's debug agent's, its tree naming ROW_WORKDIR
    assert normalize(row["prompt"][0]["content"], ROW_WORKDIR) == normalize(theirs["content"], theirs["workdir"])
    assert row["prompt"][1] == {"role": "user", "content": ""} and row["task_id"] == keys[0]
    # Set explicitly, it is kept (empty: no system message); in gym-pdb's profile, gym-pdb's debug prompt.
    assert rows_system_prompt(GRPOTaskArguments(profile="swe-pdb", tools=tools, system_prompt="mine"), index) == "mine"
    assert task_dataset(keys, rows_system_prompt(GRPOTaskArguments(system_prompt=""), index))[0]["prompt"][0]["role"] == "user"
    assert rows_system_prompt(GRPOTaskArguments(), index) == SYSTEM_PROMPT
