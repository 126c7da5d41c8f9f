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
Each tool declares its command-line form beside its schema
(:mod:`gym_pdb.tools.grammar`); nothing here knows a tool by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gym_pdb.tools.base import Tool
from gym_pdb.tools.grammar import ExtraLines, GrammarError

#: The longest action taken (also the env's action space); longer ones are refused, not cut.
MAX_ACTION_CHARS = 200_000
TOOL_CALL_TAG = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)


@dataclass
class ToolCall:
    """A parsed call: the tool's name and its (not yet checked) arguments."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "arguments": self.arguments}, default=repr)


@dataclass
class ParseError:
    """An action that is no tool call; ``message`` teaches the agent how to call the tools."""

    message: str


def parse_action(action: Any, tools: Mapping[str, Tool]) -> ToolCall | ParseError:
    """Turn an action (str or dict) into a ToolCall, or a ParseError explaining the problem."""
    try:
        return _parse(action, tools)
    except _Bad as exc:
        return ParseError(str(exc) + "\n\n" + usage(tools))


class _Bad(Exception):
    """A malformed action; the message becomes the first line of the ParseError."""


def usage(tools: Mapping[str, Tool]) -> str:
    """How to call ``tools``: the JSON form, then each tool's signature and command-line form."""
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
    """``NAME REST`` on the first line, maybe more lines after: the tool's own grammar reads the arguments."""
    first, _, body = text.partition("\n")
    name, _, rest = first.strip().partition(" ")
    tool = tools.get(name)
    if tool is None:
        raise _Bad(f"There is no tool {name!r}.{_hint(name, first.strip(), tools)}")
    try:
        return ToolCall(name, tool.parse_line(rest.strip(), body))
    except ExtraLines as exc:
        coders = [t.name for t in tools.values() if t.command_line.takes_code]
        takes = f"; only {', '.join(coders)} {'takes' if len(coders) == 1 else 'take'} code on the following lines"
        raise _Bad(f"{exc}{takes if coders else ''}.") from None
    except GrammarError as exc:
        raise _Bad(str(exc)) from None


def _hint(word: str, line: str, tools: Mapping[str, Tool]) -> str:
    """Say which tool a word belongs to (``b solution.py:12`` -> ``pdb b solution.py:12``)."""
    for tool in tools.values():
        if word in tool.command_line.hint_words:
            return f" {tool.command_line.hint}: {tool.name} {line}"
    return ""
