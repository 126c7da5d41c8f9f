"""pytest's side of the prepared eval: a session held at the start of its collection, forked per run.

Every eval in a sandbox runs ``python -m pytest`` with the same options,
plugins and environment; only the per-test timeout and the test files differ
(``eval_plugin.parse_run_args``), and the record channel, which comes with
each request. Configuring pytest and
starting its session (registering some thirty plugins, parsing their fixtures)
is half of a short run, so the zygote keeps a process that has done both and
waits in ``Hold.pytest_collection`` (``prepared_host.run_prepared_eval``). Each eval
is a fork of it that confines itself as any child of the zygote, then goes on
with the session for its own files.

What pytest set up before the fork but belongs to one run is made anew in the
child: the output capture (its temporary files would be every child's), the
fault handler's stream, the session's start time and the eval plugin's
recorder. Nothing in this process runs code of the workspace: conftest files
and ini files there are ignored by the eval's options (``--noconftest``,
``-c``), and the workspace joins ``sys.path`` only in the child.
"""

from __future__ import annotations

import faulthandler
import os
import sys
from typing import Callable

import eval_plugin
import pytest


class Hold:
    """pytest plugin: at the start of collection, hands the session to ``serve``, which forks the runs.

    ``serve(session)`` returns None when the prepared process is to end; in a
    fork, it returns the run's own arguments, and the fork goes on from here
    with the session.
    """

    def __init__(self, serve: Callable[[pytest.Session], "list[str] | None"]) -> None:
        self.serve = serve
        self.resumed = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        run_args = self.serve(session)
        if run_args is None:
            os._exit(0)
        self.resumed = True
        resume_session(session, run_args)
        # None: the session's own pytest_collection collects


def detach(session: pytest.Session) -> None:
    """In a fork, before its streams change: end the output capture it shares with the prepared process."""
    capture = session.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.stop_global_capturing()


def resume_session(session: pytest.Session, run_args: list[str]) -> None:
    """Make the held session this run's: its capture, fault handler, start time, test files and recorder."""
    config = session.config
    parsed = eval_plugin.parse_run_args(run_args)
    if parsed is None:  # the host sends only arguments it has checked (prepared_host)
        raise ValueError("not an eval's run arguments: %r" % (run_args,))
    timeout, files, trace = parsed
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.start_global_capturing()
        capture.suspend_global_capture()
    if faulthandler.is_enabled():  # pytest's faulthandler plugin: on a copy of the prepared process's stderr
        faulthandler.enable(file=os.dup(sys.stderr.fileno()))
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None:
        reporter.pytest_sessionstart(session=session)  # the run's start time (-q: no header)
    config.args = files
    eval_plugin.record(config, timeout, trace)
