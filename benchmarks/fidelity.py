"""How closely gym-pdb's `swe-pdb` profile shows what SWE-PDB's own environment showed.

One run beside SWE-PDB's env: the same scripted tool calls (start, breakpoints
on a def line and in a body, c, p, n, view, rewrite incl. empty and past the
end, grep, eval failing and passing) on a task of every suite go to SWE-PDB's
environment (in the venv of ``benchmarks/setup_swe_pdb.sh``, driven by
``benchmarks/record_swe_pdb.py``) and to gym-pdb in a profile; prints, per
tool, the share of observations equal after the normalisations of
:mod:`gym_pdb.profiles.swe_pdb.normalize`.

    python benchmarks/fidelity.py [--profile swe-pdb] [--venv /work/venv-swepdb]
    python benchmarks/fidelity.py --record tests/profiles/data/swe_pdb_oracle.json   # refresh the fixture
    python benchmarks/fidelity.py --recording tests/profiles/data/swe_pdb_oracle.json  # compare with a recording
    python benchmarks/fidelity.py --add-system-prompts tests/profiles/data/swe_pdb_oracle.json  # its agents' prompts
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from gym_pdb.env import PDBEnv
from gym_pdb.profiles.swe_pdb.normalize import normalize
from gym_pdb.profiles.swe_pdb.release import find_release
from gym_pdb.tasks.data_dir import resolve_suite_dir
from gym_pdb.tasks.registry import source_spec
from gym_pdb.tools.def_lines import headers

REPO = Path(__file__).resolve().parents[1]
#: suite -> (the release's run config, the task scripted here)
SUITES = {
    "MiniNightmare": ("config_mini_nightmare.yaml", "config"),
    "DebugBench": ("config_debug_bench.yaml", "problem_0"),
    "HumanEvalBuggy": ("config_humaneval_buggy.yaml", "humaneval_0"),
    "MBPPBuggy": ("config_mbpp_buggy.yaml", "mbpp_2"),
    "CanItEdit": ("config_edit.yaml", "1_cipher"),
    "SynDebug": ("config_syndebug.yaml", "acecode_bigcode_python_fns_267_llama3_1_instruct_39"),
}


def program_of(task: Any) -> str:
    """The file the agent fixes: the first editable, visible Python file that is not a test."""
    return next(p for p in sorted(task.files) if p.endswith(".py") and task.is_editable(p) and task.is_visible(p))


def scripted_calls(task: Any) -> list[dict[str, Any]]:
    """The calls of one episode, chosen from the task's own program."""
    program = program_of(task)
    source = task.files[program]
    header = min(headers(source), key=lambda h: h.first)
    n_lines = len(source.splitlines())
    calls: list[dict[str, Any]] = [
        {"name": "pdb", "arguments": {"command": "p 1 + 1"}},
        {"name": "pdb", "arguments": {"command": "start", "runner": "pytest", "file": "test.py"}},
        {"name": "pdb", "arguments": {"command": f"b {program}:{header.first}"}},
        {"name": "pdb", "arguments": {"command": f"b {program}:{header.body}"}},
        {"name": "pdb", "arguments": {"command": "b"}},
        {"name": "pdb", "arguments": {"command": "c"}},
        {"name": "pdb", "arguments": {"command": "p 6 * 7"}},
        {"name": "pdb", "arguments": {"command": "n"}},
        {"name": "view", "arguments": {"path": program}},
        {"name": "view", "arguments": {"path": "."}},
        {"name": "view", "arguments": {"path": program, "start": 2, "end": 4}},
        {"name": "grep", "arguments": {"pattern": "def "}},
        {"name": "grep", "arguments": {"pattern": "return", "path": program}},
        {"name": "eval", "arguments": {}},
        {"name": "rewrite", "arguments": {"path": program, "start": n_lines + 5, "new_code": "# appended"}},
        {"name": "rewrite", "arguments": {"path": program, "start": n_lines + 2, "end": n_lines + 2, "new_code": ""}},
        {"name": "view", "arguments": {"path": program, "start": max(1, n_lines - 2)}},
        {"name": "rewrite", "arguments": {"path": program, "start": header.body, "end": header.body,
                                          "new_code": source.splitlines()[header.body - 1]}},  # fmt: skip
    ]
    gold = (task.gold_files or {}).get(program)
    if gold is not None:
        calls.append({"name": "rewrite", "arguments": {"path": program, "new_code": gold}})
    calls.append({"name": "eval", "arguments": {}})
    return calls


def script(data_dir: Path, release: Path) -> list[dict[str, Any]]:
    """The episodes of a run: per suite, the release's env settings and the scripted calls."""
    episodes = []
    for suite, (config_name, task_id) in SUITES.items():
        config = yaml.safe_load((release / "scripts" / config_name).read_text())["base"]
        folder = data_dir / str(source_spec(suite).folder)
        task = PDBEnv(suite=suite, data_dir=data_dir, sandbox="local").tasks[task_id]
        kwargs = {k: v for k, v in config["env_kwargs"].items() if k != "data_path"}
        episodes.append({
            "suite": suite, "task": task_id, "benchmark": config["benchmark"], "data_path": str(folder),
            "env_kwargs": kwargs, "calls": scripted_calls(task),
        })  # fmt: skip
    return episodes


def record(episodes: list[dict[str, Any]], venv: Path, system_prompts_only: bool = False) -> list[dict[str, Any]]:
    """Run ``episodes`` in SWE-PDB's environment (its own venv) and return the recording.

    ``system_prompts_only``: ``episodes`` is a recording; add SWE-PDB's agents' system prompts to it, as it is.
    """
    python = venv / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"no SWE-PDB venv at {venv}: bash benchmarks/setup_swe_pdb.sh")
    with tempfile.TemporaryDirectory() as tmp:
        script_path, out = Path(tmp) / "script.json", Path(tmp) / "recording.json"
        script_path.write_text(json.dumps(episodes))
        # SWE-PDB's terminal runs `python` from PATH: gym-pdb's sandbox interpreter first, so that both sides run
        # the same Python and pytest (pdb shows pytest's own files); no network look-up of litellm's at import.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        # Without CI markers: pytest prints whole assertion diffs where CI or BUILD_NUMBER is set, and gym-pdb's
        # sandbox, whose side the recording is compared with, never passes them on.
        outer = {k: v for k, v in os.environ.items() if k not in ("CI", "BUILD_NUMBER")}
        env = {**outer, "PATH": path, "PYTHONPATH": "", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        mode = ["--system-prompts"] if system_prompts_only else []
        subprocess.run([str(python), str(REPO / "benchmarks" / "record_swe_pdb.py"), *mode, str(script_path), str(out)],
                       check=True, cwd=tmp, env=env)  # fmt: skip
        recorded: list[dict[str, Any]] = json.loads(out.read_text())
        return recorded


def replay_in_gym_pdb(episode: dict[str, Any], profile: str, data_dir: Path) -> tuple[list[str], str]:
    """The observations gym-pdb gives for the episode's calls, in ``profile``, and its working folder."""
    env = PDBEnv(suite=episode["suite"], data_dir=data_dir, sandbox="local", profile=profile)
    try:
        env.reset(options={"task_id": episode["task"]})
        observations = [env.step({"name": c["name"], "arguments": c["arguments"]})[0] for c in episode["calls"]]
        assert env.sandbox is not None
        return observations, env.sandbox.info.workdir
    finally:
        env.close()


def compare(recording: list[dict[str, Any]], profile: str, data_dir: Path) -> dict[str, list[int]]:
    """Per tool: [observations equal after normalisation, observations]; prints the first few differences."""
    shares: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for episode in recording:
        ours, workdir = replay_in_gym_pdb(episode, profile, data_dir)
        for call, theirs, mine in zip(episode["calls"], episode["observations"], ours, strict=True):
            same = normalize(theirs, episode["workdir"]) == normalize(mine, workdir)
            shares[call["name"]][0] += same
            shares[call["name"]][1] += 1
    return dict(shares)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="swe-pdb")
    parser.add_argument("--venv", default=os.environ.get("SWE_PDB_VENV", "/work/venv-swepdb"))
    parser.add_argument("--record", metavar="FIXTURE", help="write SWE-PDB's observations to this JSON file and stop")
    parser.add_argument("--recording", metavar="FIXTURE", help="compare with a recording instead of running SWE-PDB")
    parser.add_argument(
        "--add-system-prompts", metavar="FIXTURE", help="add SWE-PDB's agents' system prompts to a recording and stop"
    )
    args = parser.parse_args(argv)
    data_dir = resolve_suite_dir("debugbench").parent
    if args.add_system_prompts:
        fixture = Path(args.add_system_prompts)
        recording = record(json.loads(fixture.read_text()), Path(args.venv), system_prompts_only=True)
        fixture.write_text(json.dumps(recording, indent=1, ensure_ascii=False) + "\n")
        print(f"{2 * len(recording)} system prompts of SWE-PDB's agents in {fixture}")
        return 0
    if args.recording:
        recording = json.loads(Path(args.recording).read_text())
    else:
        recording = record(script(data_dir, find_release()), Path(args.venv))
    if args.record:
        Path(args.record).write_text(json.dumps(recording, indent=1, ensure_ascii=False) + "\n")
        print(f"{sum(len(e['calls']) for e in recording)} observations of SWE-PDB's env in {args.record}")
        return 0
    shares = compare(recording, args.profile, data_dir)
    print(f"| tool | exact matches ({args.profile} profile) |\n|---|---|")
    for tool, (same, total) in sorted(shares.items()):
        print(f"| {tool} | {same}/{total} ({100 * same / total:.0f}%) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
