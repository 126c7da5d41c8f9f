"""A tool defined here, registered, and used everywhere tools are: gym.make, command lines, JSON, the TRL adapter.

Adding a tool is one module: its schema, its command-line form and its call,
registered with ``register_tool``. Nothing else names it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import pytest

import gym_pdb  # noqa: F401  (registers the PDB-*-v0 ids)
from gym_pdb.actions import ParseError, ToolCall, parse_action
from gym_pdb.tasks.suites import load_suite
from gym_pdb.tools import DEFAULT_TOOLS, TOOLS, Tool, ToolContext, ToolError, ToolResult, make_tools, register_tool
from gym_pdb.tools.grammar import CommandLine, LineRange, Rest, Word


class CountLinesTool(Tool):
    """The whole definition of a tool: schema, command-line form, call."""

    name = "count_lines"
    description = "Count the lines of a file (or of lines start..end of it), and how many are blank."
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "The file, relative to the workspace."},
            "start": {"type": "integer", "description": "First line to count (1-based)."},
            "end": {"type": "integer", "description": "Last line to count (inclusive)."},
        },
        "required": ["path"],
    }
    command_line = CommandLine(Word("path"), LineRange())

    def __call__(self, ctx: ToolContext, path: str, start: int | None = None, end: int | None = None) -> ToolResult:
        try:
            lines = ctx.workspace.read(path).splitlines()[(start or 1) - 1 : end]
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        blank = sum(1 for line in lines if not line.strip())
        return ToolResult(f"{path}: {len(lines)} lines, {blank} blank")


TOOL_SET = (*DEFAULT_TOOLS, "count_lines")


@pytest.fixture
def count_lines() -> Iterator[type[Tool]]:
    """Register the tool for one test (a tool module does it with ``@register_tool`` at import)."""
    register_tool(CountLinesTool)
    yield CountLinesTool
    TOOLS.unregister("count_lines")


def expected_count(text: str, start: int = 1, end: int | None = None) -> str:
    lines = text.splitlines()[start - 1 : end]
    return f"{len(lines)} lines, {sum(1 for line in lines if not line.strip())} blank"


def test_the_tool_works_through_gym_make_command_lines_and_json(count_lines: type[Tool]) -> None:
    env = gym.make("PDB-Demo-v0", tools=TOOL_SET)
    try:
        env.reset(options={"task_id": "inventory"})
        source = env.unwrapped.tasks["inventory"].files["solution.py"]
        assert env.unwrapped.tools_schema()[-1] == CountLinesTool().schema()

        obs, reward, terminated, _, info = env.step("count_lines solution.py 3:8")
        assert obs == f"solution.py: {expected_count(source, 3, 8)}" and info["tool"] == "count_lines"
        assert not terminated and reward == 0.0
        json_obs = env.step({"name": "count_lines", "arguments": {"path": "solution.py", "start": 3, "end": 8}})[0]
        assert json_obs == obs
        assert env.step('{"name": "count_lines", "arguments": {"path": "solution.py"}}')[0].endswith(
            expected_count(source)
        )

        obs, *_, info = env.step("count_lines")
        assert info["parse_error"] == "count_lines needs a path: count_lines PATH [START [END]]."
        assert "count_lines(path, start?, end?): Count the lines" in obs and "Plain form: count_lines PATH" in obs
        assert env.step("count_lines missing.py")[0].startswith("Error: no file")
    finally:
        env.close()


def test_the_grammar_is_declared_not_coded() -> None:
    tools = make_tools(DEFAULT_TOOLS)
    forms = {
        "pdb start pytest test.py::test_x": ToolCall("pdb", {"command": "start", "runner": "pytest", "file": "test.py::test_x"}),
        "pdb start test.py": ToolCall("pdb", {"command": "start", "file": "test.py"}),  # runner left out: not a choice
        "pdb p  a,  b": ToolCall("pdb", {"command": "p  a,  b"}),  # the rest of the line, spacing kept
        "pdb b 3\nc": ToolCall("pdb", {"command": "b 3\nc"}),
        "rewrite solution.py 5:7\n  x = 1\n": ToolCall("rewrite", {"path": "solution.py", "start": 5, "end": 7, "new_code": "  x = 1\n"}),
        "view solution.py 1 40": ToolCall("view", {"path": "solution.py", "start": 1, "end": 40}),
        "view solution.py :9": ToolCall("view", {"path": "solution.py", "end": 9}),
        'grep "def f" solution.py': ToolCall("grep", {"pattern": "def f", "path": "solution.py"}),
        "listdir . 2": ToolCall("listdir", {"path": ".", "depth": 2}),
    }  # fmt: skip
    for line, call in forms.items():
        assert parse_action(line, tools) == call, line
    wrong = {
        "listdir . 2 3": "listdir: too many arguments ('3' left over)",
        "pdb start pytest test.py\nc": "pdb start takes one line; only rewrite takes code on the following lines.",
        "eval\nnow": "eval takes one line; only rewrite takes code",
        "grep x . many": "max_results must be a whole number, not 'many'.",
        "c": "There is no tool 'c'. To send it to the debugger: pdb c",
    }
    for line, says in wrong.items():
        result = parse_action(line, tools)
        assert isinstance(result, ParseError) and result.message.startswith(says), (line, result)


def test_a_tool_without_a_declared_form_takes_one_word_per_property() -> None:
    class Echo(Tool):
        name = "echo"
        description = "Say it back."
        parameters = {
            "type": "object",
            "properties": {
                "times": {"type": "integer", "description": "How often."},
                "text": {"type": "string", "description": "What."},
            },
            "required": ["text"],
        }

        def __call__(self, ctx: ToolContext, **arguments: Any) -> ToolResult:
            return ToolResult(str(arguments))

    assert Echo.command_line == CommandLine(Word("text"), Word("times"))  # required first
    assert Echo().usage == "echo TEXT [TIMES]"
    assert parse_action("echo 'hi there' 2", {"echo": Echo()}) == ToolCall("echo", {"text": "hi there", "times": 2})


def test_the_registry_refuses_what_cannot_work() -> None:
    class Clash(Tool):
        name = "view"
        description = "Another view."

        def __call__(self, ctx: ToolContext, **arguments: Any) -> ToolResult:
            return ToolResult("")

    class BadGrammar(Clash):
        name = "bad_grammar"
        command_line = CommandLine(Rest("text"))  # the schema has no "text"

    with pytest.raises(ValueError, match="'view' is registered already"):
        register_tool(Clash)
    with pytest.raises(ValueError, match="sets text, which its schema does not have"):
        register_tool(BadGrammar)
    assert "bad_grammar" not in TOOLS
    with pytest.raises(ValueError, match="unknown tool 'nope'"):
        gym.make("PDB-Demo-v0", tools=["eval", "nope"])


def test_the_trl_adapter_derives_the_method(count_lines: type[Tool]) -> None:
    get_json_schema = pytest.importorskip("transformers.utils").get_json_schema
    from trainers.env import SUBMITTED_MESSAGE, env_factory, tool_env_class

    cls = tool_env_class(TOOL_SET)
    assert cls.__name__ == "PDBToolEnv_pdb_rewrite_view_eval_grep_listdir_count_lines"
    assert inspect.getdoc(cls.count_lines) == (
        "Count the lines of a file (or of lines start..end of it), and how many are blank.\n\nArgs:\n"
        "    path: The file, relative to the workspace.\n    start: First line to count (1-based).\n"
        "    end: Last line to count (inclusive)."
    )
    episode = env_factory(load_suite("Demo"), tools=(*TOOL_SET, "submit"), env_id="PDB-Demo-v0")()
    try:
        assert get_json_schema(episode.count_lines) == CountLinesTool().schema()
        episode.reset(task_id="inventory")
        source = episode.env.unwrapped.tasks["inventory"].files["solution.py"]
        assert episode.count_lines(path="solution.py", start=2) == f"solution.py: {expected_count(source, 2)}"

        # submit, too, is a method: it ends the episode, and its run is the one rewarded.
        assert "tests passed" in episode.submit()
        assert episode.submitted and episode.tests_total > 0
        assert episode.count_lines(path="solution.py") == SUBMITTED_MESSAGE
        assert episode.get_reward() == 0.0 and [name for name, *_ in episode.history] == ["count_lines", "submit"]
    finally:
        episode._close()
