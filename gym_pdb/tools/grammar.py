"""A tool's plain command-line form, declared beside its schema as a few parts.

Agents mostly call tools as JSON; people (``gym-pdb play``) and tests type
command lines such as ``view solution.py 1 40``. Each tool declares how its
arguments are written on a line, and :mod:`gym_pdb.actions` parses every line
through these declarations, so no tool has a branch in the parser. Which
arguments are required, their types and their choices come from the schema,
so the grammar only says where each argument stands::

    CommandLine(Word("path"), LineRange(), Code("new_code"))        # rewrite PATH 5:7, code below
    CommandLine(Form(Keyword("start", "command"), Word("runner"), Word("file")),
                Form(Rest("command")))                               # pdb start ... | pdb COMMAND

A tool that declares nothing gets one word per schema property, required ones
first (:meth:`CommandLine.from_schema`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: ``A:B``, ``A-B``, ``A,B``, ``A:`` or ``:B`` as one word.
RANGE = re.compile(r"^(\d+)?\s*[:\-,]\s*(\d+)?$")


class GrammarError(ValueError):
    """A command line that does not fit the tool's form; the message says what was wrong."""


class ExtraLines(GrammarError):
    """Lines after the first, given to a form that takes one line (the caller says which tools take code)."""


@dataclass(frozen=True)
class Keyword:
    """A literal first word that sets argument ``name`` to itself (pdb's ``start``); it also selects the form."""

    word: str
    name: str


@dataclass(frozen=True)
class Word:
    """One word (shell quoting allowed) for argument ``name``.

    Optional when the schema does not require it. With an ``enum`` in the
    schema, an optional word is taken only when it is one of the choices, so
    ``pdb start test.py`` leaves ``runner`` out and gives ``file``.
    """

    name: str


@dataclass(frozen=True)
class Named:
    """An optional ``name=VALUE`` word, anywhere on the line (``trace test.py call=7``)."""

    name: str


@dataclass(frozen=True)
class LineRange:
    """A line range: ``START:END`` (or ``-``, ``,``; either side may be left out), ``START END``, or ``START``."""

    start: str = "start"
    end: str = "end"


@dataclass(frozen=True)
class Rest:
    """The rest of the line and the lines after it, as one string (a pdb command, or several)."""

    name: str


@dataclass(frozen=True)
class Code:
    """The lines after the first, verbatim (the new code of a rewrite); empty when there are none."""

    name: str


Part = Keyword | Word | Named | LineRange | Rest | Code


@dataclass(frozen=True)
class Form:
    """One way of writing the tool's line: parts in order. ``Rest`` and ``Code`` may only come last."""

    parts: tuple[Part, ...]

    def __init__(self, *parts: Part) -> None:
        object.__setattr__(self, "parts", tuple(parts))
        for part in self.parts[:-1]:
            if isinstance(part, (Rest, Code)):
                raise ValueError(f"{type(part).__name__} must be the last part of a form")
        if any(isinstance(p, Keyword) for p in self.parts[1:]):
            raise ValueError("a Keyword can only begin a form")

    @property
    def keyword(self) -> str | None:
        first = self.parts[0] if self.parts else None
        return first.word if isinstance(first, Keyword) else None

    @property
    def multiline(self) -> bool:
        """Whether the form reads the lines after the first."""
        return bool(self.parts) and isinstance(self.parts[-1], (Rest, Code))

    def names(self) -> list[str]:
        out: list[str] = []
        for part in self.parts:
            out += [part.start, part.end] if isinstance(part, LineRange) else [part.name]
        return out

    def usage(self, parameters: Mapping[str, Any]) -> str:
        words = []
        for part in self.parts:
            if isinstance(part, Keyword):
                words.append(part.word)
            elif isinstance(part, Word):
                choices = _prop(parameters, part.name).get("enum")
                meta = "|".join(choices) if choices else part.name.upper()
                words.append(meta if _required(parameters, part.name) else f"[{meta}]")
            elif isinstance(part, LineRange):
                words.append(f"[{part.start.upper()} [{part.end.upper()}]]")
            elif isinstance(part, Named):
                words.append(f"[{part.name}={part.name.upper()}]")
            elif isinstance(part, Rest):
                words.append(part.name.upper())
            else:
                words[-1:] = [(words[-1] if words else "") + f", then {part.name.upper()} on the following lines"]
        return " ".join(words)


@dataclass(frozen=True)
class CommandLine:
    """The command-line form of a tool: one or more forms, chosen by their leading keyword.

    Args:
        *forms: ``Form`` objects, or the parts of a single form.
        usage: the form as shown to the agent (``Plain form: ...``), when the
            derived one (``view PATH [START [END]]``) says less than prose would.
        hint_words: first words meant for this tool when typed without its name
            (pdb's commands: ``b solution.py:12`` earns "pdb b solution.py:12").
        hint: what the tool does with them, for that message.
    """

    forms: tuple[Form, ...]
    usage_text: str | None = None
    hint_words: frozenset[str] = field(default_factory=frozenset)
    hint: str = ""

    def __init__(
        self,
        *forms: Form | Part,
        usage: str | None = None,
        hint_words: Iterable[str] = (),
        hint: str = "",
    ) -> None:
        if forms and not all(isinstance(f, Form) for f in forms):
            if any(isinstance(f, Form) for f in forms):
                raise ValueError("give either forms or the parts of one form")
            forms = (Form(*forms),)  # type: ignore[arg-type]
        object.__setattr__(self, "forms", tuple(forms) or (Form(),))
        object.__setattr__(self, "usage_text", usage)
        object.__setattr__(self, "hint_words", frozenset(hint_words))
        object.__setattr__(self, "hint", hint)

    @classmethod
    def from_schema(cls, parameters: Mapping[str, Any]) -> CommandLine:
        """One word per property, required ones first: the form of a tool that declares none."""
        names = list(parameters.get("properties", {}))
        return cls(*[Word(n) for n in sorted(names, key=lambda n: not _required(parameters, n))])

    @property
    def takes_code(self) -> bool:
        """Whether some form reads code on the lines after the first (rewrite)."""
        return any(form.parts and isinstance(form.parts[-1], Code) for form in self.forms)

    def names(self) -> set[str]:
        """The arguments the forms set (each must be a property of the schema)."""
        return {name for form in self.forms for name in form.names()}

    def usage(self, tool: str, parameters: Mapping[str, Any]) -> str:
        if self.usage_text is not None:
            return self.usage_text
        return "  |  ".join(" ".join(filter(None, [tool, form.usage(parameters)])) for form in self.forms)

    def parse(self, tool: str, parameters: Mapping[str, Any], rest: str, body: str) -> dict[str, Any]:
        """The arguments written in ``rest`` (the first line after the tool's name) and ``body`` (the lines after).

        Raises:
            GrammarError: the line does not fit; the message says how it should be written.
        """
        usage = self.usage(tool, parameters)
        first = rest.split(None, 1)[:1]
        form = next((f for f in self.forms if f.keyword is None or first == [f.keyword]), None)
        if form is None:
            raise GrammarError(f"{tool} is written: {usage}.")
        if body.strip() and not form.multiline:
            raise ExtraLines(" ".join(filter(None, [tool, form.keyword, "takes one line"])))
        return _Reader(tool, parameters, usage, form, rest, body).read()


class _Reader:
    """Reads one form's parts off a line, word by word."""

    def __init__(self, tool: str, parameters: Mapping[str, Any], usage: str, form: Form, rest: str, body: str):
        self.tool, self.parameters, self.usage, self.form = tool, parameters, usage, form
        self.body = body
        last = form.parts[-1] if form.parts else None
        if isinstance(last, Rest):  # the words before it are split on blanks, so the rest keeps its spacing
            lead = len(form.parts) - 1
            pieces = rest.split(None, lead)
            self.words, self.remainder = pieces[:lead], (pieces[lead] if len(pieces) > lead else "")
        else:
            self.words, self.remainder = _split(rest), ""

    def read(self) -> dict[str, Any]:
        args: dict[str, Any] = self._named()
        for part in self.form.parts:
            if isinstance(part, Named):
                continue
            if isinstance(part, Keyword):
                args[part.name] = self.words.pop(0)
            elif isinstance(part, Word):
                self._word(part, args)
            elif isinstance(part, LineRange):
                self._range(part, args)
            elif isinstance(part, Rest):
                text = (self.remainder + ("\n" + self.body if self.body.strip() else "")).strip()
                if text:
                    args[part.name] = text
                elif _required(self.parameters, part.name):
                    raise self._missing(part.name)
            else:
                args[part.name] = self.body
        if self.words:
            if not self.form.parts:
                raise GrammarError(f"{self.tool} takes no arguments.")
            raise GrammarError(f"{self.tool}: too many arguments ({' '.join(self.words)!r} left over); {self.usage}.")
        return args

    def _named(self) -> dict[str, Any]:
        """Take the ``name=VALUE`` words of the form's ``Named`` parts off the line."""
        names = {part.name for part in self.form.parts if isinstance(part, Named)}
        args: dict[str, Any] = {}
        if not names:
            return args
        for word in list(self.words):
            name, sep, value = word.partition("=")
            if sep and name in names:
                self.words.remove(word)
                typed = _prop(self.parameters, name).get("type") == "integer"
                args[name] = _int(value, name) if typed else value
        return args

    def _word(self, part: Word, args: dict[str, Any]) -> None:
        required = _required(self.parameters, part.name)
        prop = _prop(self.parameters, part.name)
        if not self.words:
            if required:
                raise self._missing(part.name)
            return
        choices = prop.get("enum")
        if choices and self.words[0] not in choices and not required:
            return
        word = self.words.pop(0)
        args[part.name] = _int(word, part.name) if prop.get("type") == "integer" else word

    def _range(self, part: LineRange, args: dict[str, Any]) -> None:
        if not self.words:
            return
        match = RANGE.match(self.words[0])
        if match:
            self.words.pop(0)
            if match.group(1):
                args[part.start] = int(match.group(1))
            if match.group(2):
                args[part.end] = int(match.group(2))
            return
        args[part.start] = _int(self.words.pop(0), part.start)
        if self.words:
            args[part.end] = _int(self.words.pop(0), part.end)

    def _missing(self, name: str) -> GrammarError:
        meta = name.replace("_", " ")
        article = "an" if meta[:1] in "aeiou" else "a"
        return GrammarError(f"{self.tool} needs {article} {meta}: {self.usage}.")


def _prop(parameters: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return parameters.get("properties", {}).get(name, {})


def _required(parameters: Mapping[str, Any], name: str) -> bool:
    return name in parameters.get("required", ())


def _int(word: str, what: str) -> int:
    try:
        return int(word)
    except ValueError:
        raise GrammarError(f"{what} must be a whole number, not {word!r}.") from None


def _split(text: str) -> list[str]:
    """Shell words, so a grep pattern may hold blanks; a lone quote falls back to blank-separated words."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def check_names(tool: str, command_line: CommandLine, parameters: Mapping[str, Any]) -> None:
    """Raise ValueError when the grammar sets an argument the schema does not have (caught at registration)."""
    unknown = sorted(command_line.names() - set(parameters.get("properties", {})))
    if unknown:
        raise ValueError(f"the command line of {tool} sets {', '.join(unknown)}, which its schema does not have")


__all__ = [
    "Code", "CommandLine", "ExtraLines", "Form", "GrammarError", "Keyword", "LineRange", "Named", "Rest", "Word",
    "check_names",
]  # fmt: skip
