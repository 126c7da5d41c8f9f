"""The ``serve`` and ``mcp`` commands of ``gym-pdb``."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from gym_pdb.sandbox.kinds import sandbox_kinds

SERVE_EXAMPLES = """examples:
  gym-pdb serve --env PDB-DebugBench-v0 --max-sessions 64
  GYM_PDB_SERVE_TOKEN=secret gym-pdb serve --host 0.0.0.0 --sandbox docker --env PDB-MiniNightmare-v0
then: gym.make("PDB-DebugBench-v0", remote="ws://127.0.0.1:8000"), or OpenEnv's GenericEnvClient
"""
MCP_EXAMPLES = """examples:
  gym-pdb mcp --workspace ~/src/myproject --test-command "python -m pytest -q tests" --readonly 'tests/*'
  claude mcp add gym-pdb -- gym-pdb mcp --workspace "$PWD" --python "$PWD/.venv/bin/python"
"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``serve`` and ``mcp`` to the ``gym-pdb`` parser."""
    p = sub.add_parser(
        "serve",
        help="serve an environment over the network (OpenEnv: WebSocket sessions, MCP tools)",
        description="Serve gym-pdb episodes with OpenEnv's server: one sandbox per WebSocket session at /ws, "
        "the tools over MCP at /mcp. Binding beyond loopback needs GYM_PDB_SERVE_TOKEN.",
        epilog=SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--env", default="PDB-Demo-v0", help="the environment id served (default PDB-Demo-v0)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-sessions", type=int, default=64, help="sessions (sandboxes) at once (default 64)")
    p.add_argument("--idle-timeout", type=float, default=600.0, help="seconds before an idle session is closed")
    p.add_argument("--sandbox", choices=sandbox_kinds(), default="local", help="where sessions' code runs")
    p.add_argument("--data-dir", help="folder of the suites (PDB-Custom-v0: the folder of tasks)")
    p.add_argument("--env-kwargs", help="JSON object of more env arguments (e.g. '{\"pdb_timeout\": 5}')")
    p.add_argument("--reap-interval", type=float, default=30.0, help="seconds between looks for dead replicas")
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_serve)

    m = sub.add_parser(
        "mcp",
        help="gym-pdb's tools for your own project, over MCP (stdio), for a coding assistant",
        description="Serve pdb (a persistent session), rewrite, view, grep, listdir and eval on a project "
        "folder, in place, over MCP on stdin/stdout. Code runs in a local sandbox with the project's interpreter.",
        epilog=MCP_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument("--workspace", required=True, help="the project folder (worked on in place)")
    m.add_argument("--test-command", help="what eval runs (default: python -m pytest -q)")
    m.add_argument("--python", help="the project's interpreter (default: python3 on PATH)")
    m.add_argument("--readonly", nargs="*", default=[], metavar="GLOB", help="files the tools must not change")
    m.add_argument("--pdb-timeout", type=float, default=30.0, help="seconds a pdb command may run")
    m.add_argument("--test-timeout", type=float, default=600.0, help="seconds eval may run")
    m.set_defaults(func=cmd_mcp)


def cmd_serve(args: argparse.Namespace) -> int:
    from gym_pdb.serve.app import ServeConfig, serve

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        env_kwargs = json.loads(args.env_kwargs) if args.env_kwargs else {}
        if not isinstance(env_kwargs, dict):
            raise ValueError("--env-kwargs takes a JSON object")
        if args.data_dir:
            env_kwargs["data_dir"] = args.data_dir
        config = ServeConfig(
            env_id=args.env,
            host=args.host,
            port=args.port,
            max_sessions=args.max_sessions,
            idle_timeout=args.idle_timeout,
            sandbox=args.sandbox,
            env_kwargs=env_kwargs,
            reap_interval=args.reap_interval,
        )
        serve(config, log_level=args.log_level.lower())
    except (ValueError, OSError) as exc:
        print(f"gym-pdb serve: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    from gym_pdb.serve.project import ProjectConfig, run_stdio

    try:
        config = ProjectConfig(
            workspace=args.workspace,
            test_command=args.test_command,
            python=args.python,
            readonly=list(args.readonly),
            pdb_timeout=args.pdb_timeout,
            test_timeout=args.test_timeout,
        )
        run_stdio(config)
    except (ValueError, OSError) as exc:
        print(f"gym-pdb mcp: {exc}", file=sys.stderr)
        return 2
    return 0


__all__ = ["add_commands"]
