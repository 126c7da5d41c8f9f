"""The registry of tools: every part of gym-pdb that offers tools reads it.

A tool registers its class with the decorator, in its own module::

    @register_tool
    class CountLinesTool(Tool):
        name = "count_lines"
        ...

after which ``gym.make(ID, tools=[..., "count_lines"])``, the command-line
parser, JSON actions, ``env.tools_schema()`` and the TRL adapter
(``trainers.env.tool_env_class``) all offer it. The built-in tools register
when :mod:`gym_pdb.tools` imports their modules; the default tool set is named
once, there (``DEFAULT_TOOLS``).

Room left for what comes next: a profile with tools of its own (``swe-pdb``'s
schemas and observation formats) is a second :class:`ToolRegistry` whose
classes subclass these; a tool schedule offers a subset of the env's tools at
each step (``make`` and the parser take any subset); a new tool (``trace``) is
one more module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from gym_pdb.tools.base import Tool
from gym_pdb.tools.grammar import check_names

ToolClass = TypeVar("ToolClass", bound=type[Tool])


class ToolRegistry(Mapping[str, type[Tool]]):
    """Tool classes by name, in the order they registered."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Tool]] = {}

    def register(self, cls: ToolClass) -> ToolClass:
        """Add ``cls`` under ``cls.name`` (a class decorator); its command line must name only schema properties.

        Raises:
            ValueError: another class has the name, the grammar sets an argument the schema lacks,
                or the class has no ``__call__``.
        """
        name = cls.name
        if not any("__call__" in vars(k) for k in cls.__mro__ if k is not Tool and k is not object):
            raise ValueError(f"the tool {name!r} has no __call__")
        if name in self._classes and self._classes[name] is not cls:
            raise ValueError(f"a tool named {name!r} is registered already ({self._classes[name].__qualname__})")
        check_names(name, cls.command_line, cls.parameters)
        self._classes[name] = cls
        return cls

    def unregister(self, name: str) -> None:
        """Remove the tool ``name`` (a test's own tool, when the test is done)."""
        self._classes.pop(name, None)

    def __getitem__(self, name: str) -> type[Tool]:
        return self._classes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def make(self, names: Iterable[str]) -> dict[str, Tool]:
        """Instances of the named tools, in the order given.

        Raises:
            ValueError: a name is not registered.
        """
        tools: dict[str, Tool] = {}
        for name in names:
            if name not in self._classes:
                raise ValueError(f"unknown tool {name!r}; tools: {', '.join(self._classes)}")
            tools[name] = self._classes[name]()
        return tools

    def schemas(self, names: Iterable[str]) -> list[dict[str, Any]]:
        """OpenAI-format function schemas of the named tools."""
        return [tool.schema() for tool in self.make(names).values()]


#: The tools gym-pdb offers; ``register_tool`` adds to it.
TOOLS = ToolRegistry()
register_tool = TOOLS.register
