"""The ``view`` command of ``gym-pdb``."""

from __future__ import annotations

import argparse
import errno
import sys

DEFAULT_PORT = 8765

EXAMPLES = """examples:
  gym-pdb view runs/20261201-101500-expert
  gym-pdb view runs/A runs/B                       # compare two runs on the same tasks
  gym-pdb view runs/A --export site/               # a static site: open site/index.html, no server
"""


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "view",
        help="look at runs in the browser: summary, episodes step by step, two runs side by side",
        description="Serve an HTML viewer of run folders on loopback, or write it as a static site.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    p.add_argument("--export", metavar="DIR", help="write a static site there (works from file://) instead of serving")
    p.add_argument("--host", default="127.0.0.1", help="the address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help=f"the port (default {DEFAULT_PORT}, or a free one if taken; 0: any free)")
    p.add_argument("--open", action="store_true", help="open the viewer in the default browser")
    p.set_defaults(func=cmd_view)


def cmd_view(args: argparse.Namespace) -> int:
    from gym_pdb.viewer import Runs, ViewerServer, export

    try:
        runs = Runs(args.run_dirs)
    except FileNotFoundError as exc:
        print(f"gym-pdb view: {exc}", file=sys.stderr)
        return 2
    if args.export:
        index = export(runs, args.export)
        print(f"wrote the viewer of {len(runs.runs)} run(s) to {index.parent}; open {index.resolve().as_uri()}")
        return 0
    try:
        server = ViewerServer(runs, args.host, DEFAULT_PORT if args.port is None else args.port)
    except OSError as exc:
        if args.port is not None or exc.errno != errno.EADDRINUSE:
            print(f"gym-pdb view: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 2
        server = ViewerServer(runs, args.host, 0)
    print(f"serving the viewer of {len(runs.runs)} run(s) at {server.url} (Ctrl-C stops)", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
