"""Parse an agent's action into a tool call.

An action is a tool call as JSON (``{"name": "pdb", "arguments": {...}}``, the
OpenAI ``{"function": {...}}`` form, or either inside ``<tool_call>`` tags),
a dict of the same shape, or a plain command line::

    pdb start pytest test.py::test_x
    pdb b solution.py:12
    view solution.py 1 40
    rewrite solution.py 5:7
        <the new code on the following lines>
    grep "def .*sum" solution.py
    listdir
    eval

A malformed action never raises: :func:`parse_action` returns a
:class:`ParseError` whose message says what was wrong and how to call the tool.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Mapping

from gym_pdb.tools.base import Tool

MAX_ACTION_CHARS = 200_000
TOOL_CALL_TAG = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
RANGE = re.compile(r"^(\d+)?\s*[:\-,]\s*(\d+)?$")


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "arguments": self.arguments}, default=repr)


@dataclass
class ParseError:
    message: str


def parse_action(action: Any, tools: Mapping[str, Tool]) -> ToolCall | ParseError:
    """Turn an action (str or dict) into a ToolCall, or a ParseError explaining the problem."""
    try:
        return _parse(action, tools)
    except _Bad as exc:
        return ParseError(str(exc) + "\n\n" + usage(tools))


class _Bad(Exception):
    pass


def usage(tools: Mapping[str, Tool]) -> str:
    lines = ["Call a tool as JSON, e.g. {\"name\": \"pdb\", \"arguments\": {\"command\": \"b solution.py:12\"}}, "
             "or as a command line. Tools:"]  # fmt: skip
    lines += [f"- {tool.help()}" for tool in tools.values()]
    return "\n".join(lines)


def _parse(action: Any, tools: Mapping[str, Tool]) -> ToolCall:
    if isinstance(action, (bytes, bytearray)):
        action = action.decode("utf-8", "replace")
    if isinstance(action, Mapping):
        return _from_mapping(action, tools)
    if not isinstance(action, str):
        raise _Bad(f"An action is a string or a dict, not {type(action).__name__}.")
    if len(action) > MAX_ACTION_CHARS:
        raise _Bad(f"The action is {len(action)} characters long; the limit is {MAX_ACTION_CHARS}.")
    text = action.strip()
    if not text:
        raise _Bad("The action is empty.")
    tagged = TOOL_CALL_TAG.search(text)
    if tagged:
        text = tagged.group(1).strip()
    else:
        text = action.lstrip()  # keep the code of a rewrite exactly as given
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise _Bad(f"The action looks like JSON but does not parse: {exc}.") from None
        if not isinstance(data, dict):
            raise _Bad("A JSON action must be an object with 'name' and 'arguments'.")
        return _from_mapping(data, tools)
    return _from_command_line(text, tools)


def _from_mapping(data: Mapping[str, Any], tools: Mapping[str, Tool]) -> ToolCall:
    if isinstance(data.get("function"), Mapping):
        data = data["function"]
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise _Bad("A tool call needs a 'name' (the tool) and 'arguments' (an object).")
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError as exc:
            raise _Bad(f"The arguments of {name} are not valid JSON: {exc}.") from None
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise _Bad(f"The arguments of {name} must be a JSON object, not {type(arguments).__name__}.")
    if not all(isinstance(key, str) for key in arguments):
        raise _Bad(f"The arguments of {name} are named by strings.")
    _check_tool(name, tools)
    return ToolCall(name, dict(arguments))


def _check_tool(name: str, tools: Mapping[str, Tool]) -> None:
    if name not in tools:
        raise _Bad(f"There is no tool {name!r}.")


def _from_command_line(text: str, tools: Mapping[str, Tool]) -> ToolCall:
    first, _, body = text.partition("\n")
    name, _, rest = first.strip().partition(" ")
    rest = rest.strip()
    if name not in tools:
        hint = f" To send it to the debugger: pdb {first.strip()}" if name in PDB_WORDS else ""
        raise _Bad(f"There is no tool {name!r}.{hint}")
    if name == "pdb":
        command = (rest + ("\n" + body if body.strip() else "")).strip()
        if not command:
            raise _Bad("pdb needs a command, e.g. 'pdb start pytest test.py' or 'pdb p x'.")
        words = command.split()
        if words[0] == "start":
            args: dict[str, Any] = {"command": "start"}
            if len(words) > 1:
                if words[1] in ("pytest", "python"):
                    args["runner"] = words[1]
                    words = words[1:]
                if len(words) > 1:
                    args["file"] = words[1]
            return ToolCall("pdb", args)
        return ToolCall("pdb", {"command": command})
    if name == "rewrite":
        return _rewrite(rest, body)
    if body.strip():
        raise _Bad(f"{name} takes one line; only rewrite takes code on the following lines.")
    words = _split(rest)
    if name == "view":
        if not words:
            raise _Bad("view needs a path: view PATH [START [END]].")
        args = {"path": words[0]}
        args.update(_line_range(words[1:], "view"))
        return ToolCall("view", args)
    if name == "grep":
        if not words:
            raise _Bad("grep needs a pattern: grep PATTERN [PATH] [MAX_RESULTS].")
        args = {"pattern": words[0]}
        if len(words) > 1:
            args["path"] = words[1]
        if len(words) > 2:
            args["max_results"] = _int(words[2], "max_results")
        return ToolCall("grep", args)
    if name == "listdir":
        args = {}
        if words:
            args["path"] = words[0]
        if len(words) > 1:
            args["depth"] = _int(words[1], "depth")
        return ToolCall("listdir", args)
    if words:
        raise _Bad(f"{name} takes no arguments.")
    return ToolCall(name, {})


def _rewrite(rest: str, body: str) -> ToolCall:
    words = _split(rest)
    if not words:
        raise _Bad("rewrite needs a path: rewrite PATH START:END, then the new code on the next lines.")
    args: dict[str, Any] = {"path": words[0], "new_code": body}
    args.update(_line_range(words[1:], "rewrite"))
    return ToolCall("rewrite", args)


def _line_range(words: list[str], tool: str) -> dict[str, int]:
    if not words:
        return {}
    if len(words) == 1:
        m = RANGE.match(words[0])
        if m:
            out = {}
            if m.group(1):
                out["start"] = int(m.group(1))
            if m.group(2):
                out["end"] = int(m.group(2))
            return out
        return {"start": _int(words[0], "start")}
    if len(words) == 2:
        return {"start": _int(words[0], "start"), "end": _int(words[1], "end")}
    raise _Bad(f"{tool}: too many arguments; give a line range as START END or START:END.")


def _int(word: str, what: str) -> int:
    try:
        return int(word)
    except ValueError:
        raise _Bad(f"{what} must be a whole number, not {word!r}.") from None


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


PDB_WORDS = {
    "b", "break", "tbreak", "c", "cont", "continue", "n", "next", "s", "step", "r", "return", "p", "pp", "l",
    "list", "ll", "longlist", "w", "where", "bt", "u", "up", "d", "down", "a", "args", "cl", "clear", "q",
    "quit", "j", "jump", "until", "unt", "display", "undisplay", "whatis", "disable", "enable", "condition",
    "ignore", "commands", "retval", "rv", "source", "restart", "run", "!", "start",
}  # fmt: skip
