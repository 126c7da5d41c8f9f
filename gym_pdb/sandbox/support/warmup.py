"""The warm interpreter's start: pytest, pdb and numpy imported, and pytest's plugin set-up done once.

Every child of the zygote inherits this state, so none pays for these imports,
and each one's first pytest run skips registering pytest's built-in plugins.
"""

from __future__ import annotations

import importlib
import linecache
import os
import shutil
import sys
import tempfile
import types
from typing import Any, Iterable

WARMUP_TEST = """
def helper(value):
    return value + 1


def test_passes():
    assert helper(1) == 2


def test_fails():
    data = {"key": [1, 2, 3]}
    assert helper(data["key"][0]) == 3, "a failing test warms the failure report"
"""


def warm_up() -> None:
    """Import pytest, pdb and numpy, and run a small session, so that children start from a warm state.

    numpy, where installed: the HumanEval and MBPP tests import it (a third of
    their run). Each child reseeds its global random state (``pyrun.reseed``).
    """
    try:
        import numpy  # noqa: F401
    except ImportError:
        pass
    try:
        import pdb  # noqa: F401

        import pytest
        from _pytest.config import default_plugins
    except ImportError:
        return
    for name in default_plugins:
        try:
            importlib.import_module("_pytest." + name)
        except ImportError:
            pass
    folder = tempfile.mkdtemp(prefix="gym-pdb-warmup-")
    modules, path = set(sys.modules), list(sys.path)
    stdout, stderr = os.dup(1), os.dup(2)
    try:
        with open(os.path.join(folder, "test_gym_pdb_warmup.py"), "w") as f:
            f.write(WARMUP_TEST)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        args = ["-q", "--tb=short", "-p", "no:cacheprovider", "--noconftest", "--rootdir", folder, folder]
        if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval_plugin.py")):
            args += ["-p", "eval_plugin"]
        pytest.main(args)
    except Exception:
        pass
    finally:
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.close(stdout)
        os.close(stderr)
        for name in set(sys.modules) - modules:
            file = getattr(sys.modules[name], "__file__", None)
            if file and file.startswith(folder):
                del sys.modules[name]
        sys.path[:] = path
        linecache.clearcache()
        tempfile.tempdir = None  # found again from each child's TMPDIR
        shutil.rmtree(folder, ignore_errors=True)


def blocked_plugins(args: Iterable[str]) -> set[str]:
    """The plugins ``-p no:NAME`` arguments block, as pytest reads them before it loads any."""
    blocked: set[str] = set()
    given = list(args)
    for i, arg in enumerate(given):
        if arg == "-p" and i + 1 < len(given):
            name = given[i + 1].strip()
        elif arg.startswith("-p") and arg != "-p":
            name = arg[2:].strip()
        else:
            continue
        if name.startswith("no:"):
            blocked.add(name[3:])
    return blocked


def prebuild_pytest_config(*blocked_sets: set[str]) -> None:
    """Register pytest's built-in plugins once, here, for the first pytest run of each child.

    A pytest run starts by building its plugin manager and registering some
    thirty built-in plugins (their hooks and command-line options: ~9 ms)
    before it reads its arguments; only ``-p no:NAME`` changes that step. So
    a config with that step done is built here for each set of plugins in
    ``blocked_sets`` (the eval's and the pdb driver's block some; a plain
    ``pytest`` run, such as the swe-pdb profile's pdb and plain eval, none),
    and pytest's ``get_config`` gives it to a child's first run if that blocks
    the same ones, with the run's own invocation (arguments, plugins,
    folder). Any other run builds its own, as pytest does.
    """
    try:
        import pathlib

        import _pytest.config as pytest_config
    except ImportError:
        return
    original = pytest_config.get_config
    prebuilt: dict[frozenset[str], Any] = {}
    for blocked in blocked_sets:
        try:
            prebuilt[frozenset(blocked)] = original(["-p" + "no:" + name for name in sorted(blocked)])
        except Exception:
            continue
    memoize_plugin_scans(plugin for config in prebuilt.values() for plugin in config.pluginmanager.get_plugins())

    def get_config(args: Any = None, plugins: Any = None, **kwargs: Any) -> Any:
        prog = kwargs.pop("prog", None)  # pytest >= 9: the name in usage messages
        config = prebuilt.pop(frozenset(blocked_plugins(args or ())), None)
        prebuilt.clear()  # the first run's only: a later one starts from what the first left
        parser = getattr(config, "_parser", None)
        if config is not None and not kwargs and (prog is None or isinstance(getattr(type(parser), "prog", None), property)):
            if prog is not None and parser is not None:
                parser.prog = prog
            config.invocation_params = pytest_config.Config.InvocationParams(
                args=args or (), plugins=plugins, dir=pathlib.Path.cwd()
            )
            return config
        if prog is not None:
            kwargs["prog"] = prog
        return original(args, plugins, **kwargs)

    pytest_config.get_config = get_config


_MISSING = object()


def memoize_plugin_scans(plugins: Iterable[object]) -> None:
    """pytest's scan of its own plugin modules for fixtures, done once here for every session of a child.

    A session's fixture manager reads every attribute of every registered
    plugin (``FixtureManager.parsefactories``: ~2000 names, ~10 ms, a fifth of
    a plain pytest start) and registers the fixtures among them. For a plugin
    module registered in a prebuilt config (pytest's own modules), the names
    holding fixtures are found here, and while such a module's namespace is
    still exactly the one seen here (the same names bound to the same
    objects), ``parsefactories`` scans a stand-in module holding only those
    names: pytest's scan of a module reads its ``__dict__`` in ``dir`` order,
    so it registers the same fixtures in the same order, and the names left
    out can give no warning (checked here: none is a fixture behind other
    decorators). Any other holder (a test module, a conftest, an object), or a
    module changed since, is scanned in full.
    """
    try:
        from _pytest import fixtures
    except ImportError:
        return
    manager = getattr(fixtures, "FixtureManager", None)
    definition = getattr(fixtures, "FixtureFunctionDefinition", None)
    original = getattr(manager, "parsefactories", None)
    wrapped = getattr(manager, "_find_wrapped_fixture_def", None)
    if manager is None or definition is None or original is None or wrapped is None:
        return
    probe = manager.__new__(manager)
    memo: dict[int, tuple[types.ModuleType, dict[str, object], types.ModuleType]] = {}
    for plugin in plugins:
        if type(plugin) is not types.ModuleType or "__dir__" in vars(plugin) or id(plugin) in memo:
            continue
        snapshot = dict(vars(plugin))
        try:
            if any(wrapped(probe, value) not in (None, value) for value in snapshot.values()):
                continue
        except Exception:
            continue
        stand_in = types.ModuleType(plugin.__name__)
        stand_in.__dict__.update({name: value for name, value in snapshot.items() if type(value) is definition})
        memo[id(plugin)] = (plugin, snapshot, stand_in)
    if not memo:
        return

    def parsefactories(self: Any, *args: Any, **kwargs: Any) -> Any:
        holder = kwargs.get("holder", _MISSING)
        entry = memo.get(id(holder)) if not args else None
        if entry is not None and entry[0] is holder:
            namespace, snapshot = vars(holder), entry[1]
            if len(namespace) == len(snapshot) and all(namespace.get(k, _MISSING) is v for k, v in snapshot.items()):
                kwargs["holder"] = entry[2]
        return original(self, *args, **kwargs)

    parsefactories.__doc__ = original.__doc__
    manager.parsefactories = parsefactories
