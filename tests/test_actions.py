"""Parsing actions: JSON, dicts, command lines, and every way to get them wrong."""

from __future__ import annotations

import json

import pytest

from gym_pdb.actions import ParseError, ToolCall, parse_action
from gym_pdb.tools import make_tools

TOOLS = make_tools()


@pytest.mark.parametrize(
    "action, expected",
    [
        ('{"name": "pdb", "arguments": {"command": "b solution.py:12"}}', ToolCall("pdb", {"command": "b solution.py:12"})),
        ({"name": "eval", "arguments": {}}, ToolCall("eval", {})),
        ({"type": "function", "function": {"name": "view", "arguments": '{"path": "a.py"}'}}, ToolCall("view", {"path": "a.py"})),
        ('<tool_call>\n{"name": "listdir", "arguments": {}}\n</tool_call>', ToolCall("listdir", {})),
        ("pdb b solution.py:12", ToolCall("pdb", {"command": "b solution.py:12"})),
        ("pdb start pytest test.py::test_x", ToolCall("pdb", {"command": "start", "runner": "pytest", "file": "test.py::test_x"})),
        ("pdb start python solution.py", ToolCall("pdb", {"command": "start", "runner": "python", "file": "solution.py"})),
        ("pdb start", ToolCall("pdb", {"command": "start"})),
        ("view solution.py 1 40", ToolCall("view", {"path": "solution.py", "start": 1, "end": 40})),
        ("view solution.py 5:9", ToolCall("view", {"path": "solution.py", "start": 5, "end": 9})),
        ("view solution.py", ToolCall("view", {"path": "solution.py"})),
        ("rewrite solution.py 5:7\n    x = 1\n    return x", ToolCall("rewrite", {"path": "solution.py", "start": 5, "end": 7, "new_code": "    x = 1\n    return x"})),
        ("rewrite solution.py\nprint(1)\n", ToolCall("rewrite", {"path": "solution.py", "new_code": "print(1)\n"})),
        ('grep "def .*x" solution.py 3', ToolCall("grep", {"pattern": "def .*x", "path": "solution.py", "max_results": 3})),
        ("listdir . 3", ToolCall("listdir", {"path": ".", "depth": 3})),
        ("eval", ToolCall("eval", {})),
    ],
)
def test_valid_actions(action, expected):
    assert parse_action(action, TOOLS) == expected


@pytest.mark.parametrize(
    "action, says",
    [
        ("", "empty"),
        ("   ", "empty"),
        ('{"name": "pdb", "arguments": {', "does not parse"),
        ('{"name": "pdb", "arguments": "{not json"}', "not valid JSON"),
        ('{"name": "pdb", "arguments": [1, 2]}', "must be a JSON object"),
        ('{"arguments": {}}', "needs a 'name'"),
        ('[1, 2]', "must be an object"),
        ('{"name": "shell", "arguments": {}}', "no tool 'shell'"),
        ("b solution.py:12", "pdb b solution.py:12"),
        ("view", "needs a path"),
        ("view a.py x", "whole number"),
        ("view a.py 1 2 3", "too many"),
        ("eval now", "takes no arguments"),
        ("listdir . deep", "whole number"),
        ("pdb", "needs a command"),
        (12, "not int"),
        ("x" * 300_000, "limit"),
    ],
)
def test_malformed_actions_explain_themselves(action, says):
    result = parse_action(action, TOOLS)
    assert isinstance(result, ParseError)
    assert says in result.message
    assert "Tools:" in result.message and "pdb(command, runner?, file?)" in result.message


def test_tool_call_round_trips_as_json():
    call = ToolCall("rewrite", {"path": "a.py", "start": 1, "end": 2, "new_code": "x = 1\n"})
    assert parse_action(call.to_json(), TOOLS) == call
    assert json.loads(call.to_json())["name"] == "rewrite"
