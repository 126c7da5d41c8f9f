"""human: play an episode in the terminal.

Type command lines (``pdb b solution.py:12``, ``view solution.py 1 40``,
``eval``) or JSON tool calls; tab completes tool names, pdb commands and file
names, and the line history is kept across sessions. ``rewrite PATH A:B``
reads the new code on the following lines up to a line holding only ``.``.
``help`` lists the tools, ``quit`` (or Ctrl-D) ends the episode.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any, Callable, TextIO

from gym_pdb.actions import ParseError, parse_action, usage
from gym_pdb.agents.base import Agent, Turn, tool_call
from gym_pdb.agents.prompts import DEBUG_SYSTEM_PROMPT
from gym_pdb.tasks.data_dir import user_cache_dir
from gym_pdb.tasks.task import Task
from gym_pdb.tools import DEFAULT_TOOLS, make_tools
from gym_pdb.tools.pdb import PDB_WORDS

PROMPT = "gym-pdb> "
CODE_PROMPT = "... "
END_OF_CODE = "."
QUIT = {"quit", "exit", ":q"}


class HumanAgent(Agent):
    """Reads each action from the terminal (or ``read``, for scripted play)."""

    name = "human"
    model = "human"

    def __init__(
        self,
        tools: tuple[str, ...] = DEFAULT_TOOLS,
        read: Callable[[str], str] | None = None,
        out: TextIO | None = None,
        history_file: str | os.PathLike | None = None,
    ):
        self.tools = tuple(tools)
        self._tools = make_tools(self.tools)
        self._read = read or input
        self._out = out or sys.stdout
        self._calls = 0
        self._words: list[str] = []
        self._readline: ModuleType | None = None
        if read is None:
            self._setup_readline(history_file or user_cache_dir() / "play_history")

    def system_prompt(self) -> str:
        return DEBUG_SYSTEM_PROMPT

    def reset(self, task: Task, observation: str) -> None:
        self._calls = 0
        files = [p for p in task.files if task.is_visible(p)]
        self._words = sorted(set(self.tools) | PDB_WORDS | set(files) | {"help", "quit", "start", "pytest", "python"})
        self._print(f"Task {task.id} ({task.suite}). Type help for the tools, quit to stop.\n")

    def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Turn:
        if messages:
            self._print(messages[-1].get("content") or "")
        while True:
            try:
                line = self._read(PROMPT)
            except (EOFError, KeyboardInterrupt):
                self._print("")
                return Turn(stop=True)
            text = line.strip()
            if not text:
                continue
            if text in QUIT:
                return Turn(stop=True)
            if text in ("help", "?"):
                self._print(usage(self._tools))
                continue
            if self._takes_code(text):
                code = self._read_code()
                if code is None:
                    return Turn(stop=True)
                text = f"{text}\n{code}"
            call = parse_action(text, self._tools)
            if isinstance(call, ParseError):
                self._print(call.message)
                continue
            self._calls += 1
            self._save_history(line)
            return Turn(tool_calls=[tool_call(f"call_{self._calls:04d}", call.name, call.arguments)])

    def _takes_code(self, line: str) -> bool:
        """Whether the line calls a tool whose command line reads code on the lines after it (rewrite)."""
        tool = self._tools.get(line.split()[0])
        return tool is not None and tool.command_line.takes_code

    def _read_code(self) -> str | None:
        self._print(f"New code; end with a line holding only '{END_OF_CODE}'.")
        lines: list[str] = []
        while True:
            try:
                line = self._read(CODE_PROMPT)
            except (EOFError, KeyboardInterrupt):
                return None
            if line.strip() == END_OF_CODE:
                return "\n".join(lines)
            lines.append(line)

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    def _setup_readline(self, history_file: str | os.PathLike[str]) -> None:
        try:
            import readline
        except ImportError:  # not every platform has it; play still works
            return
        self._readline = readline
        self._history = str(history_file)
        try:
            readline.read_history_file(self._history)
        except OSError:
            pass
        readline.set_completer_delims(" \t\n:")
        readline.set_completer(self._complete)
        readline.parse_and_bind("tab: complete")

    def _complete(self, prefix: str, state: int) -> str | None:
        matches = [w for w in self._words if w.startswith(prefix)]
        return matches[state] if state < len(matches) else None

    def _save_history(self, line: str) -> None:
        readline = self._readline
        if readline is None:
            return
        length = readline.get_current_history_length()
        if not length or readline.get_history_item(length) != line:  # input() adds it only on a terminal
            readline.add_history(line)
        try:
            os.makedirs(os.path.dirname(self._history), exist_ok=True)
            readline.write_history_file(self._history)
        except OSError:
            pass
