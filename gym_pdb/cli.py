"""The ``gym-pdb`` command."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from gym_pdb.tasks.data_dir import DataNotFoundError
from gym_pdb.tasks.registry import TASK_SOURCES, SourceSpec


def _count(spec: SourceSpec, data_dir: str | None) -> str:
    """The task count ``gym-pdb list`` shows: a number, ``stream``, ``no data``, or nothing for ``Custom``."""
    if spec.from_data_dir:
        return ""
    try:
        tasks = spec.load(data_dir)
    except DataNotFoundError:
        return "no data"
    return "stream" if tasks.unbounded else str(len(tasks))


def cmd_list(args: argparse.Namespace) -> int:
    """Print every task source with its environment id and task count."""
    rows = [(spec.env_id, _count(spec, args.data_dir), spec.description) for spec in TASK_SOURCES.values()]
    width = max(len(r[0]) for r in rows)
    print(f"{'environment id':<{width}}  {'tasks':>7}  description")
    for env_id, count, description in rows:
        print(f"{env_id:<{width}}  {count:>7}  {description}")
    if any(r[1] == "no data" for r in rows):
        print("\nSuites without data: pass --data-dir, set GYM_PDB_DATA, or run `gym-pdb download`.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gym-pdb", description="Gymnasium environments for debugging Python with pdb.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="list the suites and their task counts")
    p_list.add_argument("--data-dir", default=None, help="folder holding the suites (default: GYM_PDB_DATA, then the cache)")
    p_list.set_defaults(func=cmd_list)

    from gym_pdb.sandbox.docker_cli import add_commands

    add_commands(sub)
    from gym_pdb.tasks import audit, download

    audit.add_commands(sub)
    download.add_commands(sub)
    __import__("gym_pdb.evaluation.cli", fromlist=["add_commands"]).add_commands(sub)
    __import__("gym_pdb.viewer.cli", fromlist=["add_commands"]).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
