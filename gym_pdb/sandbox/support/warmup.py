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
    memoize_option_parser()
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


def memoize_option_parser() -> None:
    """pytest < 8 builds its argparse parser anew for each of a run's five parses of its arguments
    (some 500 options: ~12 ms of a run's start); here a parser is built again only when what it
    is built from changed (the option groups and their options, the program name, the help's
    extra info). Parsing does not change a parser, so a kept one parses as a new one. pytest >= 8
    keeps one parser and adds each option to it: nothing to do.
    """
    try:
        from _pytest.config.argparsing import Parser
    except ImportError:
        return
    build = getattr(Parser, "_getparser", None)
    if build is None:
        return

    def _getparser(self: Any) -> Any:
        groups = [*self._groups, self._anonymous]
        key = (self.prog, id(self.extra_info), tuple((g.name, g.description, tuple(g.options)) for g in groups))
        kept = self.__dict__.get("_gym_pdb_parser")
        if kept is None or kept[0] != key:
            kept = self.__dict__["_gym_pdb_parser"] = (key, build(self))
        return kept[1]

    Parser._getparser = _getparser  # type: ignore[attr-defined]


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


def unchanged(namespace: Any, snapshot: dict[str, object]) -> bool:
    """Whether ``namespace`` (a ``__dict__``) binds the same names to the same objects as ``snapshot``."""
    return len(namespace) == len(snapshot) and all(namespace.get(k, _MISSING) is v for k, v in snapshot.items())


def memoize_plugin_scans(plugins: Iterable[object]) -> None:
    """pytest's scan of its own plugins for fixtures, done once here for every session of a child.

    A session's fixture manager reads every attribute of every registered
    plugin (``FixtureManager.parsefactories``: ~2000 names, ~10-15 ms, a
    third of a plain pytest start) and registers the fixtures among them.
    What that scan finds depends only on the holder's namespace: for a module,
    its ``__dict__`` (read in ``dir`` order); for an instance, its class's
    (the ``__dict__`` of each class of its MRO: a name only the instance has
    is looked up on the class, where it is missing or ``type``'s). So it is
    done here for the plugin modules registered in a prebuilt config and for
    the classes of pytest's own modules (whose instances a session registers:
    the terminal reporter, the config...), and ``parsefactories`` uses it
    while those namespaces are still the ones seen here (the same names bound
    to the same objects; a class's changed names are checked again): a module's
    scan runs over a stand-in module holding only its fixtures (the same
    fixtures registered in the same order), and an instance of a class
    holding no fixture is not scanned. The names left out can give no
    warning (checked here: none is a fixture behind other decorators). Any
    other holder (a test module, a conftest, an object of another class), or
    one whose namespace changed, is scanned in full.
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

    def quiet(value: object) -> bool:
        """Whether pytest's check of a raw namespace entry for a fixture behind decorators gives no warning."""
        found = wrapped(probe, value)
        return found is None or found is value

    modules: dict[int, tuple[types.ModuleType, dict[str, object], types.ModuleType]] = {}
    for plugin in plugins:
        if type(plugin) is not types.ModuleType or "__dir__" in vars(plugin) or id(plugin) in modules:
            continue
        snapshot = dict(vars(plugin))
        try:
            if not all(map(quiet, snapshot.values())):
                continue
        except Exception:
            continue
        stand_in = types.ModuleType(plugin.__name__)
        stand_in.__dict__.update({name: value for name, value in snapshot.items() if type(value) is definition})
        modules[id(plugin)] = (plugin, snapshot, stand_in)
    namespaces: dict[type, dict[str, object]] = {}
    empty: dict[type, tuple[type, ...]] = {}  # classes whose instances' scan finds nothing -> their MRO
    for name, module in list(sys.modules.items()):
        if not (name == "_pytest" or name.startswith("_pytest.")) or module is None:
            continue
        for cls in list(vars(module).values()):
            if type(cls) is not type or cls in empty or issubclass(cls, (type, types.ModuleType)):
                continue
            try:
                if getattr(cls, "__dir__", None) is not object.__dir__:
                    continue
                seen: dict[str, object] = {}
                for base in cls.__mro__:
                    for attr, value in namespaces.setdefault(base, dict(vars(base))).items():
                        seen.setdefault(attr, value)
                if all(quiet(value) and type(getattr(cls, attr, None)) is not definition for attr, value in seen.items()):
                    empty[cls] = cls.__mro__
            except Exception:
                continue
    if not modules and not empty:
        return

    def finds_nothing(cls: type, mro: tuple[type, ...]) -> bool:
        """Whether scanning an instance of ``cls`` (in ``empty``) still finds no fixture and gives no warning.

        Its classes' namespaces as seen here, or changed only in names whose
        entries are checked now as they were here (pytest's legacypath plugin
        gives ``Config`` and ``TerminalReporter`` properties for a session).
        """
        if mro != cls.__mro__:
            return False
        names: set[str] = set()
        for base in mro:
            namespace, snapshot = vars(base), namespaces[base]
            if not unchanged(namespace, snapshot):
                names.update(k for k, v in namespace.items() if snapshot.get(k, _MISSING) is not v)
                names.update(k for k in snapshot if k not in namespace)
        for attr in names:
            raw = next((vars(base)[attr] for base in mro if attr in vars(base)), None)
            if (raw is not None and not quiet(raw)) or type(getattr(cls, attr, None)) is definition:
                return False
        return True

    def parsefactories(self: Any, *args: Any, **kwargs: Any) -> Any:
        holder = kwargs.get("holder", _MISSING)
        if not args and holder is not _MISSING:
            entry = modules.get(id(holder))
            if entry is not None and entry[0] is holder and unchanged(vars(holder), entry[1]):
                kwargs["holder"] = entry[2]
            mro = empty.get(type(holder))
            try:
                if mro is not None and finds_nothing(type(holder), mro):
                    return None
            except Exception:
                pass
        return original(self, *args, **kwargs)

    parsefactories.__doc__ = original.__doc__
    manager.parsefactories = parsefactories
