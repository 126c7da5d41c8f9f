"""What every tool is: a name, an OpenAI-format schema, and a call on the episode."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gym_pdb.tools.context import ToolContext


class ToolError(Exception):
    """A call the tool cannot carry out; the message is shown to the agent."""


@dataclass
class ToolResult:
    observation: str
    tests_passed: int | None = None
    tests_total: int | None = None
    terminate: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Tool(abc.ABC):
    """A tool the agent calls by name with JSON arguments."""

    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}}
    usage: ClassVar[str] = ""

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

    def help(self) -> str:
        text = f"{self.signature()}: {self.description.splitlines()[0]}"
        return text + (f"\nPlain form: {self.usage}" if self.usage else "")

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
        bound = {}
        for key, value in arguments.items():
            if value is None:
                continue
            bound[key] = _coerce(self.name, key, value, props[key].get("type"))
        return bound

    @abc.abstractmethod
    def __call__(self, ctx: ToolContext, **arguments: Any) -> ToolResult:
        """Run the tool."""


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
