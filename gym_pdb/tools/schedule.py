"""Tool schedules: which tools are offered at each step of an episode.

debug-gym's ``debug(N)`` offers pdb only after the agent's N-th rewrite (on
SWE-bench Lite it beat both pdb from the start and no pdb). Here a schedule
says, for each locked tool, what unlocks it: a number of calls of other tools,
or of steps, all of which must have happened::

    ToolSchedule.parse("debug(5)")                                   # pdb and trace after 5 rewrites
    ToolSchedule.parse({"pdb": {"after": {"rewrite": 5}}})           # the general form
    ToolSchedule.parse('{"trace": {"after": {"steps": 3}}}')         # the same, as JSON text

A call counts when it reached its tool (a malformed action or a call of a
locked tool does not); ``steps`` counts the env's steps. The env answers the
call of a locked tool with an observation that says when it unlocks, and lists
the tools offered now in ``info["tools_available"]``, which ``gym-pdb eval
--hide-locked`` sends as each turn's tools.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: ``debug(N)``: the debugging tools unlock after the N-th rewrite.
DEBUG_N = re.compile(r"^\s*debug\(\s*(\d+)\s*\)\s*$")
DEBUG_TOOLS = ("pdb", "trace")
STEPS = "steps"

ScheduleSpec = str | Mapping[str, Any] | None


@dataclass(frozen=True)
class ToolSchedule:
    """For each locked tool: ``{tool or "steps": calls}`` that must all have happened before it is offered."""

    rules: Mapping[str, Mapping[str, int]]

    @classmethod
    def parse(cls, spec: ScheduleSpec | ToolSchedule) -> ToolSchedule | None:
        """A schedule from ``"debug(N)"``, a mapping ``{tool: {"after": {tool or "steps": N}}}`` or its JSON text.

        Raises:
            ValueError: the spec is neither, or a count is not a whole number >= 0.
        """
        if spec is None or isinstance(spec, ToolSchedule):
            return spec
        if isinstance(spec, str):
            match = DEBUG_N.match(spec)
            if match:
                n = int(match.group(1))
                return cls({tool: {"rewrite": n} for tool in DEBUG_TOOLS})
            try:
                spec = json.loads(spec)
            except ValueError:
                raise ValueError(f"a tool schedule is 'debug(N)' or a mapping such as {_EXAMPLE}, not {spec!r}") from None
        if not isinstance(spec, Mapping):
            raise ValueError(f"a tool schedule is 'debug(N)' or a mapping such as {_EXAMPLE}, not {spec!r}")
        rules: dict[str, dict[str, int]] = {}
        for tool, rule in spec.items():
            after = rule.get("after") if isinstance(rule, Mapping) else None
            if not isinstance(after, Mapping) or not after:
                raise ValueError(f"tool schedule: {tool!r} needs 'after': {{tool or 'steps': N}}, as in {_EXAMPLE}")
            counts: dict[str, int] = {}
            for what, n in after.items():
                if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                    raise ValueError(f"tool schedule: {tool} after {what}: {n!r} is not a whole number >= 0")
                counts[str(what)] = n
            rules[str(tool)] = counts
        return cls(rules)

    def check(self, tools: Iterable[str], registered: Iterable[str]) -> None:
        """Raise ValueError where a rule locks a tool that is not registered, or counts one the env lacks.

        A locked tool the env does not offer is left alone (``debug(N)`` in an
        env without ``trace``).
        """
        known, every = set(tools), set(registered)
        for tool, after in self.rules.items():
            if tool not in every:
                raise ValueError(f"the tool schedule locks {tool!r}, which is no tool ({', '.join(sorted(every))})")
            for name in after:
                if name != STEPS and name not in known:
                    raise ValueError(
                        f"the tool schedule counts calls of {name!r}, which is not among the tools ({', '.join(sorted(known))})"
                    )

    def locked(self, tool: str, calls: Mapping[str, int], steps: int) -> bool:
        """Whether ``tool`` is still locked after these calls (by tool) and steps."""
        after = self.rules.get(tool)
        return after is not None and any(_count(what, calls, steps) < n for what, n in after.items())

    def available(self, tools: Iterable[str], calls: Mapping[str, int], steps: int) -> list[str]:
        """The tools offered now, in the order given."""
        return [tool for tool in tools if not self.locked(tool, calls, steps)]

    def unlocks(self, tool: str, calls: Mapping[str, int], steps: int) -> str:
        """When ``tool`` unlocks, as the agent is told: ``after 5 calls of rewrite (2 so far)``."""
        parts = []
        for what, n in self.rules.get(tool, {}).items():
            done = _count(what, calls, steps)
            if done < n:
                unit = "steps" if what == STEPS else f"call{'' if n == 1 else 's'} of {what}"
                parts.append(f"{n} {unit} ({done} so far)")
        return "after " + " and ".join(parts) if parts else "now"

    def to_dict(self) -> dict[str, Any]:
        """The general form (what ``parse`` reads)."""
        return {tool: {"after": dict(after)} for tool, after in self.rules.items()}


def _count(what: str, calls: Mapping[str, int], steps: int) -> int:
    return steps if what == STEPS else calls.get(what, 0)


_EXAMPLE = '{"pdb": {"after": {"rewrite": 5}}}'
