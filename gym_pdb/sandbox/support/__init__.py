"""Scripts that run inside a sandbox (stdlib and pytest only, never gym_pdb itself).

Every backend lays these files into its ``support_dir`` before running anything.
"""

from __future__ import annotations

from importlib import resources
from typing import Sequence

SUPPORT_SCRIPTS = (
    "pdb_driver.py", "eval_plugin.py", "records.py", "guard.py", "prepared_eval.py", "pytest.ini",
    "zygote.py", "warmup.py", "forkserver.py", "channels.py", "prepared_host.py", "pyrun.py",
    "trace_calls.py", "trace_monitor.py", "lazy_pdb.py",
)  # fmt: skip

#: pytest plugins that only serve command-line options an eval never passes (cacheprovider would
#: also write into the workspace): each costs the run a little to load.
UNUSED_PLUGINS = tuple(
    arg for name in ("cacheprovider", "junitxml", "pastebin", "stepwise", "setuponly", "setupplan") for arg in ("-p", f"no:{name}")
)


def support_files() -> dict[str, bytes]:
    """The support scripts by file name, as bytes."""
    here = resources.files(__name__)
    return {name: here.joinpath(name).read_bytes() for name in SUPPORT_SCRIPTS}


def eval_command(support_dir: str, workdir: str) -> tuple[list[str], dict[str, str]]:
    """The ``python`` arguments and the environment every eval in a sandbox shares.

    A run adds ``eval_run_args``. The sandbox's warm interpreter prepares a
    pytest session of this command (``support/prepared_eval.py``).
    """
    args = [
        "-m", "pytest", "-q", "--tb=short", "--no-summary", *UNUSED_PLUGINS, "--noconftest",
        "-c", f"{support_dir}/pytest.ini", "--rootdir", workdir,
    ]  # fmt: skip
    # The plugin comes by PYTEST_PLUGINS, not -p: pytest looks a -p name up among every installed
    # package's entry points first.
    # PYTHONSAFEPATH: the workspace is not first on sys.path while pytest and the plugin load (a
    # `pytest.py` or `json.py` of the agent's would run before the plugin took its key); pytest
    # puts it there when it collects the tests.
    env = {
        "PYTHONPATH": support_dir,
        "PYTHONSAFEPATH": "1",
        "PYTEST_PLUGINS": "eval_plugin",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    return args, env


def repo_eval_command(support_dir: str, workdir: str) -> tuple[list[str], dict[str, str]]:
    """Like :func:`eval_command`, for a repository: its own ``conftest.py`` and ini file are part of the task.

    They are trusted as the original commit has them: the host restores and
    checks them before each run (``verdict.repo_run``). The repository is on
    ``sys.path`` as ``python -m pytest`` run in it would have it, but after
    the support scripts (``verdict.repo_run`` refuses a new module that would
    shadow pytest or the standard library).
    """
    args, env = eval_command(support_dir, workdir)
    drop = args.index("--noconftest")
    return args[:drop] + ["--rootdir", workdir], {**env, "PYTHONPATH": f"{support_dir}:{workdir}"}


def eval_run_args(timeout: float, test_files: Sequence[str], trace: str | None = None) -> list[str]:
    """One eval's own arguments, in the form ``eval_plugin.parse_run_args`` reads.

    The run's records come on its record channel (``records.py``), which the
    sandbox gives the process when ``run`` is asked for one. ``trace``: the
    JSON settings of a ``trace`` run (``trace_calls.read_spec``), which goes
    the eval's way (the prepared session) and adds a trace record per test.
    """
    trace_args = ["--gym-pdb-trace", trace] if trace is not None else []
    return ["--gym-pdb-eval", "--gym-pdb-timeout", f"{timeout:g}", *trace_args, *test_files]
