"""The ``eval``, ``summarize``, ``replay`` and ``play`` commands of ``gym-pdb``."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gym_pdb.agents import AGENTS
from gym_pdb.profiles import PROFILE_NAMES
from gym_pdb.sandbox import sandbox_kinds

if TYPE_CHECKING:
    from gym_pdb.evaluation.config import EvalConfig

EVAL_EXAMPLES = """examples:
  gym-pdb eval --env PDB-Synthetic-v0 --agent expert --tasks 20
  gym-pdb eval --env PDB-DebugBench-v0 PDB-MiniNightmare-v0 --agent debug_agent \\
      --model Qwen/Qwen3-8B --base-url http://localhost:8000/v1 --n-parallel 8 --tasks 100
  gym-pdb eval --config eval.yaml -p llm.temperature=0.6 -p max_steps=30
  gym-pdb eval --resume --output runs/my-run [--rerun-failed]
  gym-pdb eval --env PDB-MiniNightmare-v0 --agent expert --remote ws://node1:8000 ws://node2:8000 --n-parallel 16
"""

# CLI flag -> config key (dotted into llm.*)
FLAG_KEYS = {
    "env": "env", "agent": "agent", "tasks": "tasks", "seed": "seed", "max_steps": "max_steps",
    "n_parallel": "n_parallel", "sandbox": "sandbox", "profile": "profile", "remote": "remote", "data_dir": "data_dir", "output": "output",
    "resume": "resume", "rerun_failed": "rerun_failed", "model": "llm.model", "base_url": "llm.base_url",
    "api_key_env": "llm.api_key_env", "temperature": "llm.temperature", "max_tokens": "llm.max_tokens",
    "context_tokens": "llm.context_tokens", "thinking": "llm.enable_thinking", "tool_format": "llm.tool_format",
    "tool_schedule": "tool_schedule", "hide_locked": "hide_locked", "subagent_model": "agent_kwargs.subagent_model",
    "tools": "tools", "label": "label",
}  # fmt: skip


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add eval, summarize, replay and play to the ``gym-pdb`` parser."""
    _add_eval(sub)
    _add_summarize(sub)
    _add_replay(sub)
    _add_play(sub)


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate an agent on one or more suites",
        description="Run an agent on the tasks of one or more suites; write trajectories, patches and "
        "results.jsonl into the run folder, then print the summary table.",
        epilog=EVAL_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument("--env", nargs="+", help="environment ids (default PDB-Demo-v0); commas work too")
    p.add_argument("--agent", choices=[a for a in AGENTS if a != "human"], help="default debug_agent")
    p.add_argument("--tasks", nargs="+", help="a count per suite (a seeded sample), 'all', or task ids")
    p.add_argument("--seed", type=int, help="seed of the task sample (default 0)")
    p.add_argument("--max-steps", type=int, help="turns per episode (default 50)")
    p.add_argument("--n-parallel", "--workers", type=int, dest="n_parallel", help="episodes at once (default 1)")
    p.add_argument(
        "--sandbox", choices=sandbox_kinds(), help="where code runs (default: GYM_PDB_SANDBOX, else local)"
    )
    p.add_argument(
        "--remote", nargs="+", metavar="URL", help="gym-pdb serve servers (ws://host:port): episodes spread over them"
    )
    p.add_argument(
        "--profile", choices=PROFILE_NAMES, help="what the agent sees: gym-pdb's own (default) or SWE-PDB's"
    )
    p.add_argument("--data-dir", help="folder of the suites (PDB-Custom-v0: the folder of tasks)")
    p.add_argument("--output", "-o", help="the run folder (default runs/<time>-<agent>[-<model>])")
    p.add_argument("--config", help="a YAML or JSON file of EvalConfig keys")
    p.add_argument(
        "-p", "--param", action="append", metavar="KEY=VALUE", help="override a config key (llm.temperature=0.6)"
    )
    p.add_argument(
        "--tool-schedule",
        help="lock tools until they unlock: 'debug(5)' (pdb and trace after the 5th rewrite) or JSON such as "
        '\'{"pdb": {"after": {"rewrite": 5}}}\'',
    )
    p.add_argument(
        "--hide-locked", action="store_true", help="with --tool-schedule: offer each turn only the unlocked tools"
    )
    p.add_argument("--tools", nargs="+", help="the tools the env offers (default: the agent's)")
    p.add_argument("--label", help="the run's name in summaries (default: the agent's name)")
    p.add_argument("--resume", action="store_true", help="continue the run in --output: skip the finished tasks")
    p.add_argument("--rerun-failed", action="store_true", help="with --resume: run the unresolved tasks again too")
    g = p.add_argument_group("model (debug_agent, rewrite_agent, debug_subagent)")
    g.add_argument("--model", help="the served model name (default: the server's first model)")
    g.add_argument("--base-url", help="an OpenAI-compatible endpoint (default OPENAI_BASE_URL)")
    g.add_argument("--api-key-env", help="the environment variable holding the key (default OPENAI_API_KEY)")
    g.add_argument("--temperature", type=float)
    g.add_argument("--max-tokens", type=int, help="tokens per reply (default 4096)")
    g.add_argument(
        "--context-tokens", type=int, help="the model's context; older observations are trimmed to fit (default 32768)"
    )
    g.add_argument(
        "--thinking", action=argparse.BooleanOptionalAction, help="Qwen3 thinking on or off (default: the server's)"
    )
    g.add_argument(
        "--tool-format", choices=["native", "text"], help="native tool calls, or <tool_call> text (default native)"
    )
    g.add_argument("--subagent-model", help="debug_subagent: the subagent's model on the same server (default: --model)")
    o = p.add_argument_group("output")
    o.add_argument("--format", choices=["terminal", "markdown"], help="the summary table's format")
    o.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_eval)


def eval_config(given: dict) -> EvalConfig:
    """The run's configuration: defaults, the saved one (--resume), --config, the flags, then -p."""
    from gym_pdb.evaluation.config import EvalConfig, apply_overrides, load_file, merge, parse_tasks
    from gym_pdb.evaluation.results import CONFIG

    data = EvalConfig().to_dict()
    output = given.get("output")
    if given.get("resume") and output and (Path(output) / CONFIG).is_file():
        data = merge(data, load_file(Path(output) / CONFIG))
    if "config" in given:
        data = merge(data, load_file(given["config"]))
    for flag, key in FLAG_KEYS.items():
        if flag not in given:
            continue
        value = given[flag]
        if flag == "tasks":
            value = parse_tasks(value)
        elif flag in ("env", "remote", "tools"):
            value = [e for v in value for e in v.split(",") if e]
        target = data
        *path, last = key.split(".")
        for part in path:
            target = target.setdefault(part, {})
        target[last] = value
    return EvalConfig.from_dict(apply_overrides(data, given.get("param") or []))


def cmd_eval(args: argparse.Namespace) -> int:
    from gym_pdb.evaluation.results import SUMMARY
    from gym_pdb.evaluation.runner import EvalError, run_eval
    from gym_pdb.evaluation.summary import format_table, read_results, summarize

    given = vars(args)
    try:
        config = eval_config(given)
    except (ValueError, OSError) as exc:
        print(f"gym-pdb eval: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_eval(config, progress=not given.get("quiet"))
    except EvalError as exc:
        print(f"gym-pdb eval: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    groups = summarize(read_results([result.run_dir]))
    table = format_table(groups, given.get("format", "terminal"))
    view = f"gym-pdb view {shlex.quote(str(result.run_dir))}"
    (result.run_dir / SUMMARY).write_text(
        format_table(groups, "markdown") + f"\n\nLook at the episodes in the viewer:\n\n    {view}\n", encoding="utf-8"
    )
    print(table)
    print(f"\n{len(result.rows)} episodes in {result.wall_time:.1f}s; run folder: {result.run_dir}\nlook at them: {view}")
    if result.errors:
        print(
            f"{result.errors} episodes ended with an error (see results.jsonl); "
            f"rerun them with: gym-pdb eval --resume --output {result.run_dir}",
            file=sys.stderr,
        )
        return 1
    return 0


def _add_summarize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summarize", help="summarize runs: resolve rates, tool use, plots")
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--format", choices=["terminal", "markdown"], default="terminal")
    p.add_argument("--plots", metavar="DIR", help="write PNG plots there (needs matplotlib)")
    p.set_defaults(func=cmd_summarize)


def cmd_summarize(args: argparse.Namespace) -> int:
    from gym_pdb.evaluation.summary import format_table, read_results, summarize

    missing = [d for d in args.run_dirs if not (Path(d) / "results.jsonl").is_file()]
    if missing:
        print(f"gym-pdb summarize: no results.jsonl in {', '.join(missing)}", file=sys.stderr)
        return 2
    groups = summarize(read_results(args.run_dirs))
    print(format_table(groups, args.format))
    if args.plots:
        from gym_pdb.evaluation.plots import plot_all

        try:
            paths = plot_all(groups, args.plots)
        except RuntimeError as exc:
            print(f"gym-pdb summarize: {exc}", file=sys.stderr)
            return 2
        print("\nplots: " + ", ".join(str(p) for p in paths))
    return 0


def _add_replay(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="re-run a trajectory's tool calls and report differing observations")
    p.add_argument(
        "trajectory", metavar="TRAJECTORY", help="a .json trajectory, or a .jsonl or .parquet file (see --index)"
    )
    p.add_argument("--index", type=int, default=0, help="the row of a .jsonl or .parquet file (default 0)")
    p.add_argument("--env", help="the environment id (default: the trajectory's env_id or suite)")
    p.add_argument("--data-dir", help="folder of the suites (PDB-Custom-v0: the folder of tasks)")
    p.add_argument(
        "--task-dir", help="the task's folder, for a trajectory whose task is in no suite (SWE-PDB's SFT rows)"
    )
    p.add_argument("--sandbox", choices=sandbox_kinds())
    p.add_argument("--exact", action="store_true", help="compare byte for byte (no masking of addresses and timings)")
    p.add_argument("--profile", choices=PROFILE_NAMES, help="the env's profile (swe-pdb: for SWE-PDB's trajectories)")
    p.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    from gym_pdb.agents.trajectory import load_trajectory
    from gym_pdb.evaluation.replay import replay

    try:
        row = load_trajectory(args.trajectory, args.index)
        pairs = (("sandbox", args.sandbox), ("data_dir", args.data_dir), ("profile", args.profile))
        kwargs: dict[str, Any] = {k: v for k, v in pairs if v}
        env_id, task_id = args.env, None
        if args.task_dir:
            from gym_pdb.tasks.loader import load_task

            task = load_task(args.task_dir)
            env_id, task_id, kwargs["tasks"] = env_id or "PDB-Custom-v0", task.id, [task]
        report = replay(row, env_id=env_id, exact=args.exact, task_id=task_id, **kwargs)
    except (OSError, ValueError, IndexError, json.JSONDecodeError, ImportError) as exc:
        print(f"gym-pdb replay: {exc}", file=sys.stderr)
        return 2
    if report.prompt_differs:
        print("the task prompt differs from the recorded one (another version of the task?)")
    if report.diffs:
        first = report.diffs[0]
        print(f"first divergence: step {first.step}: {first.call}")
    for d in report.diffs:
        print(f"step {d.step}: {d.call}\n{d.diff()}\n")
    verdict = "no differences" if report.ok else f"{len(report.diffs)} steps differ"
    resolved = f"resolved: recorded {report.recorded_resolved}, replayed {report.replayed_resolved}"
    print(f"replayed {report.steps} steps of {report.env_id} task {report.task_id}: {verdict}; {resolved}")
    return 0 if report.ok else 1


def _add_play(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("play", help="play an env in the terminal (the human agent)")
    p.add_argument("--env", default="PDB-Demo-v0")
    p.add_argument("--task", help="the task id (default: one drawn at random)")
    p.add_argument("--seed", type=int)
    p.add_argument("--max-steps", type=int, default=50)
    p.add_argument("--data-dir")
    p.add_argument("--sandbox", choices=sandbox_kinds())
    p.add_argument("--no-pdb", action="store_true", help="the tools of rewrite_agent (no pdb)")
    p.add_argument("--output", "-o", help="save the trajectory to this .json file")
    p.set_defaults(func=cmd_play)


def cmd_play(args: argparse.Namespace) -> int:
    import gymnasium as gym

    import gym_pdb  # noqa: F401
    from gym_pdb.agents import run_episode
    from gym_pdb.agents.human import HumanAgent
    from gym_pdb.agents.trajectory import trajectory_row, write_json
    from gym_pdb.tools import DEFAULT_TOOLS, REWRITE_ONLY_TOOLS

    agent = HumanAgent(tools=REWRITE_ONLY_TOOLS if args.no_pdb else DEFAULT_TOOLS)
    kwargs = {k: v for k, v in (("sandbox", args.sandbox), ("data_dir", args.data_dir)) if v}
    env = gym.make(args.env, max_episode_steps=args.max_steps, tools=list(agent.tools), **kwargs)
    try:
        episode = run_episode(env, agent, args.task, max_steps=args.max_steps, seed=args.seed)
        if episode.messages and episode.messages[-1].get("role") == "tool":
            print(episode.messages[-1]["content"])
    finally:
        env.close()
    print(f"\n{episode.task_id}: {'resolved' if episode.resolved else 'not resolved'} in {episode.steps} steps"
          + (f" ({episode.error})" if episode.error else ""))  # fmt: skip
    if args.output:
        write_json(args.output, trajectory_row(episode, agent, args.env))
        print(f"trajectory: {args.output}")
    return 0 if episode.resolved else 1
