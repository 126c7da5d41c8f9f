"""What every tool is: a name, an OpenAI-format schema, a command-line form, and a call on the episode.

A tool is defined once, in its module: the schema (``name``, ``description``,
``parameters``), the plain command-line form (``command_line``, see
:mod:`gym_pdb.tools.grammar`) and ``__call__``. The action parser, the env's
``tools_schema()`` and the TRL adapter's methods are all derived from it
through the registry (:mod:`gym_pdb.tools.registry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from gym_pdb.tools.grammar import CommandLine
from gym_pdb.verdict.result import EvalResult


class ToolError(Exception):
    """A call the tool cannot carry out; the message is shown to the agent."""


@dataclass
class ToolResult:
    """What a call gives back to the env.

    Args:
        observation: the text the agent sees.
        eval: the judged test run, when the call ran the tests; the env keeps it
            as the episode's last run (``ctx.last_eval``), pays the reward from
            it and reports it in ``info["eval"]``: the one route of a verdict.
        terminate: the call ends the episode (``submit``), judged on its ``eval``.
        info: more for the step's ``info`` (``subagent``: the debug tool's subagent conversation).
    """

    observation: str
    eval: EvalResult | None = None
    terminate: bool = False
    info: dict[str, Any] | None = None


class Tool:
    """A tool the agent calls by name with JSON arguments, or with a command line."""

    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    #: The plain command-line form; left out, one word per property (``CommandLine.from_schema``).
    command_line: ClassVar[CommandLine]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "command_line", None) is None:
            cls.command_line = CommandLine.from_schema(cls.parameters)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    def signature(self) -> str:
        props = self.parameters.get("properties", {})
        required = set(self.parameters.get("required", []))
        args = [p if p in required else f"{p}?" for p in props]
        return f"{self.name}({', '.join(args)})"

    @property
    def usage(self) -> str:
        """The command-line form as the agent is shown it."""
        return self.command_line.usage(self.name, self.parameters)

    def help(self) -> str:
        return f"{self.signature()}: {self.description.splitlines()[0]}\nPlain form: {self.usage}"

    def parse_line(self, rest: str, body: str) -> dict[str, Any]:
        """The arguments of a command line (``rest``: after the tool's name; ``body``: the lines after it).

        Raises:
            GrammarError: the line does not fit the tool's form.
        """
        return self.command_line.parse(self.name, self.parameters, rest, body)

    def bind(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Check and coerce arguments against the schema; raise ToolError saying what is wrong."""
        if not isinstance(arguments, dict):
            raise ToolError(f"the arguments of {self.name} must be a JSON object. Usage: {self.help()}")
        props = self.parameters.get("properties", {})
        unknown = [k for k in arguments if k not in props]
        if unknown:
            raise ToolError(f"{self.name} takes no argument {', '.join(map(repr, unknown))}. Usage: {self.help()}")
        missing = [k for k in self.parameters.get("required", []) if arguments.get(k) is None]
        if missing:
            raise ToolError(f"{self.name} needs {', '.join(map(repr, missing))}. Usage: {self.help()}")
        bound: dict[str, Any] = {}
        for key, value in arguments.items():
            if value is None:
                continue
            bound[key] = _coerce(self.name, key, value, props[key].get("type"))
        return bound

    #: Run the tool: ``tool(ctx, **tool.bind(arguments))``. Declared as a callable, not an abstract
    #: method, so that each tool's own keyword arguments type-check as an override.
    __call__: Callable[..., ToolResult]


def _coerce(tool: str, key: str, value: Any, kind: str | None) -> Any:
    if kind == "integer":
        if isinstance(value, bool):
            raise ToolError(f"{tool}: {key} must be an integer, not {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        raise ToolError(f"{tool}: {key} must be an integer, not {value!r}")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.strip().lower() in ("true", "1", "yes")
        if isinstance(value, int):
            return bool(value)
        raise ToolError(f"{tool}: {key} must be true or false, not {value!r}")
    if kind == "string":
        if isinstance(value, str):
            return _check_utf8(tool, key, value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ToolError(f"{tool}: {key} must be a string, not {type(value).__name__}")
    return value


def _check_utf8(tool: str, key: str, value: str) -> str:
    """Files, paths and pdb commands are UTF-8: a lone surrogate (``"\\ud800"``) cannot be written or sent."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        line = value.count("\n", 0, exc.start) + 1
        column = exc.start - (value.rfind("\n", 0, exc.start) + 1) + 1
        where = f"line {line}, column {column}" if "\n" in value else f"position {exc.start + 1}"
        char = value[exc.start]
        raise ToolError(
            f"{tool}: {key} contains {char!r} at {where}: a lone surrogate, which cannot be encoded as UTF-8 "
            "(a tool's arguments are UTF-8 text). Remove it, or write it as the escape "
            f"{char.encode('unicode_escape').decode()} inside a Python string literal."
        ) from None
    return value
