"""GRPO on live gym-pdb episodes: the TRL environment adapter, parallel tool rounds, training steps."""

from __future__ import annotations

import json
import threading
import time

import pytest
from trainers_testlib import SHARED_DATA, finite_losses, require_train_extra

require_train_extra()

import torch  # noqa: E402
from transformers.utils import get_json_schema  # noqa: E402

from gym_pdb.tools import tools_schema  # noqa: E402
from trainers.env import DONE_MESSAGE, LIMIT_MESSAGE, PDBToolEnv, env_factory, load_tasks, tool_env_class  # noqa: E402
from trainers.grpo import GRPOTaskArguments, PDBGRPOConfig, build_grpo_trainer  # noqa: E402
from trainers.trl_compat import ToolRound as _ToolRound  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "mini_nightmare").is_dir(), reason="needs the suite data (GYM_PDB_DATA)"
)

FIX_SET = "    def set(self, name, value):\n        self._config[name] = value\n        self._cache.pop(name, None)"
FIX_INIT = (
    "    def __init__(self, config_dict=None):\n        self._cache = {}\n        self._config = config_dict or {}"
)


def test_tool_schemas_are_the_envs():
    env = PDBToolEnv.__new__(PDBToolEnv)  # schemas need no live env
    for schema in tools_schema():
        name = schema["function"]["name"]
        expected = json.loads(json.dumps(schema))
        if not expected["function"]["parameters"].get("required"):
            expected["function"]["parameters"].pop("required", None)  # get_json_schema leaves out an empty list
        assert get_json_schema(getattr(env, name)) == expected, name


def test_episode_protocol():
    index, keys = load_tasks("PDB-MiniNightmare-v0:config")
    assert keys == ["config"]
    env = env_factory(index, max_tool_calls=8)()
    try:
        prompt = env.reset(task_id="config", prompt=[{"role": "user", "content": ""}])
        assert "config_code.py" in prompt and "test.py" in prompt
        assert "Started pdb" in env.pdb(command="start", runner="pytest", file="test.py")
        assert "config_code.py:20" in env.pdb(command="b config_code.py:20")
        assert "__getattr__" in env.pdb(command="c")
        assert "'database'" in env.pdb(command="p name, self._cache")
        diff = env.rewrite(path="config_code.py", start=37, end=38, new_code=FIX_SET)
        assert "+        self._cache.pop(name, None)" in diff
        env.rewrite(path="config_code.py", start=5, end=6, new_code=FIX_INIT)
        assert "2/2 tests passed" in env.eval()
        assert env.resolved and env.get_reward() == 1.0
        assert env.view(path="config_code.py") == DONE_MESSAGE  # the episode is over

        # A fresh episode: unresolved, the final test run gives the reward (and the fraction variant).
        assert env.reset(task_id="config") == prompt
        assert not env.resolved and env.tool_calls == 0
        assert "ConfigManager" in env.grep(pattern="class ")
        assert "config_code.py" in env.listdir()
        assert env.get_reward() == 0.0 and env.tests_total == 2 and env.tests_passed == 0
        env.reward_kind = "fraction"
        assert env.get_reward() == 0.0

        # The call limit, and a prefetched reset.
        env.max_tool_calls = 2
        env._prefetch_reset(task_id="config")
        assert env.reset(task_id="config") == prompt
        env.view(path="test.py")
        env.view(path="test.py", start=1, end=3, include_line_numbers_and_breakpoints=False)
        assert env.eval() == LIMIT_MESSAGE
    finally:
        env._close()


@pytest.mark.skipif(not (SHARED_DATA / "rl_test.parquet").is_file(), reason="needs rl_test.parquet")
def test_rl_parquet_tasks_and_tool_subsets():
    index, keys = load_tasks([str(SHARED_DATA / "rl_test.parquet") + "", "PDB-MiniNightmare-v0:2"])
    assert len(keys) == 102 and keys[-2:] == ["config", "counter"]
    cls = tool_env_class(["rewrite", "view", "eval"])
    assert not hasattr(cls, "pdb") and hasattr(cls, "rewrite")
    env = env_factory(index, tools=["rewrite", "view", "eval"])()
    try:
        prompt = env.reset(task_id=keys[0])
        assert prompt.startswith("Investigate the repository, find the bug")
        assert "test.py (read-only)" in prompt
        assert "passed" in env.eval()
        assert env.get_reward() == 0.0
    finally:
        env._close()


def test_tool_round_runs_generations_in_parallel():
    log, lock = [], threading.Lock()

    def tool(i):
        def act(x: int) -> str:
            with lock:
                log.append((i, x, "start"))
            time.sleep(0.3)
            if x < 0:
                raise RuntimeError(f"bad {x}")
            with lock:
                log.append((i, x, "end"))
            return f"{i}:{x}"

        return act

    def assistant(*xs):
        calls = [{"type": "function", "function": {"name": "act", "arguments": {"x": x}}} for x in xs]
        return {"role": "assistant", "tool_calls": calls}

    n = 4
    completions = [[assistant(1, 2)], [assistant(3)], [{"role": "assistant", "content": "done"}], [assistant(-1, 5)]]
    tool_dicts = [{"act": tool(i)} for i in range(n)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        tool_round = _ToolRound(completions, tool_dicts, pool)
        wrapped = [tool_round.wrap(i) for i in range(n)]
        start = time.perf_counter()
        # TRL's order: generation by generation, call by call.
        assert wrapped[0]["act"](x=1) == "0:1"
        assert wrapped[0]["act"](x=2) == "0:2"
        assert wrapped[1]["act"](x=3) == "1:3"
        with pytest.raises(RuntimeError, match="bad -1"):
            wrapped[3]["act"](x=-1)
        assert wrapped[3]["act"](x=5) == "3:5"
        elapsed = time.perf_counter() - start
        assert elapsed < 1.3, elapsed  # 5 calls of 0.3 s one after the other would take 1.5 s
        # Generations 0 and 3 ran side by side: 3 started before 0 finished its first call.
        assert log.index((3, -1, "start")) < log.index((0, 1, "end"))
        # Calls of one generation ran in order; generation 2 (no calls) ran nothing.
        assert [e for e in log if e[0] == 0] == [(0, 1, "start"), (0, 1, "end"), (0, 2, "start"), (0, 2, "end")]
        assert not [e for e in log if e[0] == 2]

        # The next turn: new assistant messages are dispatched again, each call ran exactly once.
        completions[0] += [{"role": "tool", "content": "0:1"}, {"role": "tool", "content": "0:2"}, assistant(7)]
        completions[1] += [{"role": "tool", "content": "1:3"}, {"role": "assistant", "content": "done"}]
        assert wrapped[0]["act"](x=7) == "0:7"
        assert sorted(e[1] for e in log if e[2] == "start") == [-1, 1, 2, 3, 5, 7]


def grpo_args(tmp_path, **overrides) -> PDBGRPOConfig:
    kwargs = dict(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        bf16=False,
        use_vllm=False,
        max_steps=2,
        per_device_train_batch_size=2,
        num_generations=2,
        gradient_accumulation_steps=1,
        gradient_checkpointing=False,
        max_completion_length=32,
        max_tool_calling_iterations=2,
        save_strategy="no",
        logging_steps=1,
        seed=0,
    )
    kwargs.update(overrides)
    return PDBGRPOConfig(**kwargs)


def test_recipe_defaults():
    args = PDBGRPOConfig(output_dir="x", use_cpu=True)
    assert args.num_generations == 8 and args.max_tool_calling_iterations == 80
    assert args.learning_rate == 1e-6 and args.temperature == 1.0
    assert args.beta == 0.0 and args.epsilon_high == 0.28
    assert args.use_vllm and args.vllm_mode == "colocate"
    assert GRPOTaskArguments().max_tool_calls == 80


def test_two_steps_with_a_random_model(tokenizer, tiny_model, tmp_path, completion_only_lm_head):
    trainer = build_grpo_trainer(
        tiny_model,
        tokenizer,
        ["PDB-MiniNightmare-v0:config,counter"],
        args=grpo_args(tmp_path),
        task_args=GRPOTaskArguments(tool_workers=4),
    )
    try:
        trainer.train()
        finite_losses(trainer.state.log_history)
        logged = [e for e in trainer.state.log_history if "reward" in e]
        assert len(logged) == 2 and all(e["reward"] == 0.0 for e in logged)
        assert all(e["rewards/PDBToolEnv/mean"] == 0.0 for e in logged)
        envs = trainer.environments
        assert len(envs) == 2 and {e.task_id for e in envs} <= {"config", "counter"}
        assert all(e.finished and e.tests_total > 0 and not e.resolved for e in envs)  # the final test run
    finally:
        trainer.close_environments()


def test_the_prompt_offers_the_tools_in_gym_pdb_evals_order(tokenizer, tiny_model, tmp_path):
    """TRL sorts an environment's methods by name; the trainer offers them as ``gym-pdb eval`` does (SFT's data)."""
    tools = ["eval", "view", "pdb", "rewrite"]
    trainer = build_grpo_trainer(
        tiny_model, tokenizer, ["PDB-MiniNightmare-v0:config"], args=grpo_args(tmp_path),
        task_args=GRPOTaskArguments(tools=tools, tool_workers=0),
    )  # fmt: skip
    try:
        offered = trainer._env_tools[None]  # what TRL renders each prompt's tool schemas from
        assert [tool.__name__ for tool in offered] == [tool.__name__ for tool in trainer.tools] == tools
        prompt = [{"role": "user", "content": "fix it"}]
        rendered = tokenizer.apply_chat_template(prompt, tools=offered, tokenize=False)
        assert rendered == tokenizer.apply_chat_template(prompt, tools=tools_schema(tools), tokenize=False)
    finally:
        trainer.close_environments()


def call(name: str, **arguments) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


SOLVER = [
    "<think>\nRun the tests under pdb first.\n</think>\n\n"
    + call("pdb", command="start", runner="pytest", file="test.py"),
    "<think>\nStop where the cache is read.\n</think>\n\n" + call("pdb", command="b config_code.py:20"),
    "<think>\n\n</think>\n\n" + call("pdb", command="c"),
    "<think>\n\n</think>\n\n" + call("pdb", command="p name, self._cache"),
    "<think>\nThe cache is never invalidated.\n</think>\n\nClearing it in set().\n"
    + call("rewrite", path="config_code.py", start=37, end=38, new_code=FIX_SET),
    "<think>\nAnd it is shared between instances.\n</think>\n\n"
    + call("rewrite", path="config_code.py", start=5, end=6, new_code=FIX_INIT),
    "<think>\n\n</think>\n\n" + call("eval"),
    "<think>\nAll tests pass.\n</think>\n\nFixed: the cache is per instance and set() invalidates it.",
]
GIVE_UP = [
    "<think>\n\n</think>\n\n" + call("eval"),
    "<think>\n\n</think>\n\nI could not find the bug.",
]


def test_canned_episode_solves_the_task(tokenizer, tiny_model, tmp_path, completion_only_lm_head, monkeypatch):
    rounds = []
    run = _ToolRound._run
    monkeypatch.setattr(_ToolRound, "_run", lambda self, j, calls: rounds.append((j, calls)) or run(self, j, calls))
    scripts = {"solver": SOLVER, "giver": GIVE_UP}
    generated: dict[str, list[list[int]]] = {"solver": [], "giver": []}

    def canned(prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        outputs = []
        for n, ids in enumerate(prompt_ids):
            text = tokenizer.decode(ids)
            turn = text.count("<|im_start|>assistant") - 1
            if turn == 0:
                who = "solver" if n == 0 else "giver"
            else:
                who = "solver" if "Run the tests under pdb first." in text else "giver"
            out = tokenizer.encode(scripts[who][turn] + "<|im_end|>", add_special_tokens=False)
            generated[who].append(out)
            outputs.append(out)
        return outputs, None

    args = grpo_args(tmp_path, max_steps=1, max_completion_length=4096, max_tool_calling_iterations=80)
    trainer = build_grpo_trainer(
        tiny_model, tokenizer, ["PDB-MiniNightmare-v0:config"], args=args, task_args=GRPOTaskArguments(tool_workers=2)
    )
    trainer._generate_single_turn = canned
    captured = []
    original = trainer._generate_and_score_completions

    def spy(inputs):
        output = original(inputs)
        captured.append(output)
        return output

    trainer._generate_and_score_completions = spy
    try:
        trainer.train()
        finite_losses(trainer.state.log_history)
        solver, giver = trainer.environments
        assert solver.resolved and solver.get_reward() == 1.0
        assert [name for name, _, _ in solver.history] == ["pdb"] * 4 + ["rewrite", "rewrite", "eval"]
        assert not giver.resolved and giver.get_reward() == 0.0
        logged = next(e for e in trainer.state.log_history if "reward" in e)
        assert logged["reward"] == 0.5 and logged["tools/call_frequency"] == 4.0  # (7 + 1) / 2

        assert len(rounds) == 8  # every call went through the parallel rounds: 7 turns of the solver, 1 of the other
        (output,) = captured
        assert len(generated["solver"]) == len(SOLVER) and len(generated["giver"]) == len(GIVE_UP)
        for row, who in enumerate(["solver", "giver"]):
            length = int(output["completion_mask"][row].sum())
            ids = output["completion_ids"][row][:length].tolist()
            mask = output["tool_mask"][row][:length].tolist()
            pos = 0
            for turn, gen in enumerate(generated[who]):
                # The model's tokens, exactly as generated, and in the loss.
                assert ids[pos : pos + len(gen)] == gen, (who, turn)
                assert all(mask[pos : pos + len(gen)])
                pos += len(gen)
                if turn == len(generated[who]) - 1:
                    break
                # Then the tool output, up to the next generation prompt: masked out of the loss.
                end = pos
                while end < length and mask[end] == 0:
                    end += 1
                suffix = tokenizer.decode(ids[pos:end])
                assert suffix.startswith("\n<|im_start|>user\n<tool_response>\n"), suffix[:80]
                assert suffix.endswith("</tool_response><|im_end|>\n<|im_start|>assistant\n"), suffix[-80:]
                pos = end
            assert pos == length
        solver_ids = output["completion_ids"][0].tolist()
        solver_text = tokenizer.decode([t for t, m in zip(solver_ids, output["tool_mask"][0].tolist(), strict=True) if m == 0])
        assert "2/2 tests passed" in solver_text and "Breakpoint 1 at config_code.py:20" in solver_text
        assert output["advantages"][0] > 0 > output["advantages"][1]
        assert torch.isfinite(output["advantages"]).all()
    finally:
        trainer.close_environments()


def test_a_tool_schedule_offers_every_tool_and_answers_locked_calls():
    with pytest.raises(ValueError, match="tool schedule"):
        GRPOTaskArguments(tool_schedule="debug(five)")
    tools = ["pdb", "rewrite", "view", "eval", "trace"]
    cls = tool_env_class(tools)
    for schema in tools_schema(["trace"]):
        expected = json.loads(json.dumps(schema))
        expected["function"]["parameters"].pop("required", None)
        assert get_json_schema(cls.trace) == expected
    index, _ = load_tasks("PDB-MiniNightmare-v0:config")
    env = env_factory(index, tools=tools, env_kwargs={"tool_schedule": "debug(1)"})()
    try:
        env.reset(task_id="config")
        assert env.trace().startswith("Error: trace is locked: it unlocks after 1 call of rewrite (0 so far).")
        source = env.view(path="config_code.py", include_line_numbers_and_breakpoints=False)
        env.rewrite(path="config_code.py", start=1, end=1, new_code=source.splitlines()[1])
        assert env.trace(target="test.py").startswith("Trace of test.py")
        assert env.get_reward() == 0.0
    finally:
        env._close()
