"""PDBEnv: fix a buggy Python program with pdb, rewrites and tests, as a Gymnasium env."""

from __future__ import annotations

import os
import re
import string
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from gym_pdb.actions import MAX_ACTION_CHARS, ParseError, ToolCall, parse_action
from gym_pdb.sandbox import Limits, Sandbox, SandboxError, make_sandbox
from gym_pdb.sandbox.session import PdbSession
from gym_pdb.tasks.registry import load_source
from gym_pdb.tasks.repository import repo_spec
from gym_pdb.tasks.source import TaskSource, as_source, pick
from gym_pdb.tasks.task import Task
from gym_pdb.profiles import get_profile
from gym_pdb.tools import ToolContext, ToolError, ToolResult, ToolSettings, Workspace
from gym_pdb.tools.listdir import render_tree
from gym_pdb.tools.pdb import breakpoints_info, frame_detail, frame_info
from gym_pdb.tools.schedule import ScheduleSpec, ToolSchedule
from gym_pdb.verdict import reward as rewards
from gym_pdb.verdict.expected import expected_tests
from gym_pdb.verdict.result import EvalResult, Expected
from gym_pdb.verdict.run import run_tests

#: Printable ASCII with tab and newline. Text outside it is escaped (``\xe9``, ``\u2603``),
#: so every observation lies in the observation space.
CHARSET = frozenset(string.printable)
OUTSIDE_CHARSET = re.compile("[^" + re.escape(string.printable) + "]")
MAX_OBSERVATION_CHARS = 20_000
REWARD_MODES = rewards.REWARD_MODES


def to_charset(text: str, limit: int = MAX_OBSERVATION_CHARS, outside: re.Pattern[str] = OUTSIDE_CHARSET) -> str:
    """Escape what lies outside CHARSET (``outside`` matches it) and cut to ``limit`` characters (head and tail)."""
    if outside.search(text):
        text = outside.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    if len(text) > limit:
        note = f"\n... [{len(text) - limit} characters cut] ...\n"
        keep = limit - len(note)
        text = text[: keep // 2] + note + text[-(keep - keep // 2) :]
    return text


class PDBEnv(gym.Env):
    """A debugging episode: one buggy program, its tests, a sandbox and a pdb session.

    Observations and actions are text. An action calls one tool (see
    :mod:`gym_pdb.actions`); the observation is the tool's output. The reward
    is 1.0 on the step where all tests first pass (``reward_mode="sparse"``),
    the fraction of tests passing on the step the episode ends
    (``"fraction"``), or the change in that fraction at each test run
    (``"shaped"``, which sums to the last run's fraction). The episode
    terminates when all tests pass or on ``submit``; ``gym.make`` adds the
    step limit (``max_episode_steps``). Only a run of the task's own tests in
    which each of them genuinely passes, with no tampering seen, is paid (see
    :mod:`gym_pdb.verdict`); ``info["integrity"]`` says what was seen.

    Args:
        suite: a registered task source (``"DebugBench"``, ``"Demo"``, ``"Custom"``...;
            see :mod:`gym_pdb.tasks.registry`).
        data_dir: where the suite's data is (else ``GYM_PDB_DATA``, else the user cache).
        tasks: tasks to use instead of a suite: a :class:`~gym_pdb.tasks.source.TaskSource`
            (kept as it is: a stream goes on making tasks), or a list or a mapping by id (copied).
        task_ids: use only these tasks of the suite.
        include_broken: keep the suite's tasks known to be broken (left out by default).
        sandbox: a registered sandbox kind (``"local"``, ``"docker"``; else ``GYM_PDB_SANDBOX``), or a Sandbox.
        sandbox_kwargs: passed to the sandbox (e.g. ``limits``, ``image``).
        tools: the tool names the agent may call (default: the profile's default tools).
        tool_schedule: when locked tools unlock (``"debug(5)"``: pdb and trace after the 5th
            rewrite; or ``{"pdb": {"after": {"rewrite": 5}}}``, see :mod:`gym_pdb.tools.schedule`).
            Every tool stays in ``tools_schema()``; a locked one's call is answered with when it
            unlocks, and ``info["tools_available"]`` lists the tools offered now.
        reward_mode: ``"sparse"``, ``"fraction"`` or ``"shaped"``.
        integrity: ``"flag"`` (static flags of the program are reported in
            ``info["integrity"]["flags"]``) or ``"strict"`` (a flag also zeroes the reward).
        render_mode: ``"ansi"`` (``render()`` returns the transcript) or None.
        pdb_timeout, test_timeout, eval_timeout: seconds (see ToolSettings).
        profile: ``"gym-pdb"`` (default) or ``"swe-pdb"``: the tool schemas, observations and
            semantics the agent meets (:mod:`gym_pdb.profiles`); the reward is the same verdict in both.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        suite: str = "Demo",
        data_dir: str | os.PathLike | None = None,
        tasks: TaskSource | Sequence[Task] | Mapping[str, Task] | None = None,
        task_ids: Sequence[str] | None = None,
        include_broken: bool = False,
        sandbox: str | Sandbox | None = None,
        sandbox_kwargs: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
        tools: Sequence[str] | None = None,
        tool_schedule: ScheduleSpec | ToolSchedule = None,
        reward_mode: str = "sparse",
        integrity: str = "flag",
        render_mode: str | None = None,
        pdb_timeout: float = 10.0,
        test_timeout: float = 5.0,
        eval_timeout: float = 120.0,
        max_observation_chars: int = MAX_OBSERVATION_CHARS,
        profile: str = "gym-pdb",
    ):
        if reward_mode not in REWARD_MODES:
            raise ValueError(f"reward_mode must be one of {REWARD_MODES}, not {reward_mode!r}")
        if integrity not in rewards.INTEGRITY_MODES:
            raise ValueError(f"integrity must be one of {rewards.INTEGRITY_MODES}, not {integrity!r}")
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be 'ansi' or None, not {render_mode!r}")
        self.suite = suite
        if tasks is None:
            self.tasks: TaskSource = load_source(suite, data_dir, include_broken=include_broken, download=True)
        else:
            self.tasks = as_source(tasks, suite)
        if task_ids is not None:
            missing = [t for t in task_ids if t not in self.tasks]
            if missing:
                raise ValueError(f"unknown task ids for {suite}: {', '.join(missing[:5])}")
            task_ids = list(task_ids)
        elif not self.tasks.unbounded and not len(self.tasks):
            raise ValueError(f"the suite {suite} has no tasks")
        self._task_ids = task_ids
        self.profile = get_profile(profile)
        self.tools = self.profile.tools.make(self.profile.default_tools if tools is None else tools)
        self.tool_schedule = ToolSchedule.parse(tool_schedule)
        if self.tool_schedule is not None:
            self.tool_schedule.check(self.tools, self.profile.tools)
        self._tool_calls: Counter[str] = Counter()
        #: The debug tool's subagent (``gym_pdb.tools.debug.Subagent``), which the agent that holds one attaches.
        self.subagent: Any = None
        self.reward_mode = reward_mode
        self.integrity = integrity
        self.render_mode = render_mode
        self.max_observation_chars = max_observation_chars
        self.settings = ToolSettings(pdb_timeout=pdb_timeout, test_timeout=test_timeout, eval_timeout=eval_timeout)
        # A profile may show characters of its own (SWE-PDB's texts have a few emoji): they join the charset.
        extra = "".join(sorted(self.profile.extra_chars))
        self._outside = re.compile("[^" + re.escape(string.printable + extra) + "]") if extra else OUTSIDE_CHARSET
        self.observation_space = spaces.Text(
            max_length=max_observation_chars, min_length=0, charset=CHARSET | self.profile.extra_chars
        )
        self.action_space = spaces.Text(max_length=MAX_ACTION_CHARS, min_length=0, charset=CHARSET)

        self._sandbox_spec = sandbox
        self._sandbox_kwargs = dict(sandbox_kwargs or {})
        if limits is not None:
            self._sandbox_kwargs["limits"] = limits
        self._sandbox: Sandbox | None = sandbox if isinstance(sandbox, Sandbox) else None
        self._ctx: ToolContext | None = None
        self.task: Task | None = None
        self._transcript: list[str] = []
        self._fraction = 0.0
        self._steps = 0
        self._expected_seen: dict = {}  # the expected tests of the tasks this env has seen, by cache key

    # -- gymnasium API -------------------------------------------------------
    @property
    def task_ids(self) -> list[str]:
        """The suite's task ids (for a generated suite: the ids generated so far)."""
        return list(self._task_ids if self._task_ids is not None else self.tasks)

    @property
    def last_eval(self) -> EvalResult | None:
        """The episode's last test run, judged (None before the first)."""
        return self._ctx.last_eval if self._ctx is not None else None

    @property
    def sandbox(self) -> Sandbox | None:
        """Where the episodes' code runs (made at the first reset, kept across resets)."""
        return self._sandbox

    def workspace_files(self) -> dict[str, str]:
        """The text of the episode's files now, the agent's edits included."""
        return dict(self._ctx.workspace.files) if self._ctx is not None else {}

    def tools_schema(self, available_only: bool = False) -> list[dict[str, Any]]:
        """The OpenAI-format schemas of this env's tools (``available_only``: those the schedule offers now)."""
        names = self.tools_available() if available_only else list(self.tools)
        return [self.tools[name].schema() for name in names]

    def tools_available(self) -> list[str]:
        """The tools offered now: all of them, unless the tool schedule keeps some locked."""
        if self.tool_schedule is None:
            return list(self.tools)
        return self.tool_schedule.available(self.tools, self._tool_calls, self._steps)

    def system_prompt(self, agent: str = "") -> str | None:
        """The profile's system message for ``agent`` (its name) in the episode under way; None: the agent's own.

        Raises:
            gymnasium.error.ResetNeeded: before the first reset.
        """
        if self.profile.system_prompt is None:
            return None
        ctx, task = self._episode()
        return self.profile.system_prompt(task, agent, ctx.sandbox.info.workdir, list(self.tools))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        task_id = options.get("task_id")
        if task_id is None:
            task_id = self._sample_task_id()
        elif task_id not in self.tasks:
            raise ValueError(f"unknown task_id {task_id!r} for {self.suite}")
        self.task = self.tasks[task_id]
        self._use_repository(self.task)
        ctx = self._context()
        try:
            ctx.reset(self.task)
        except SandboxError:  # the sandbox died (e.g. the container was removed): a fresh one
            self._drop_sandbox()
            ctx = self._context()
            ctx.reset(self.task)
        ctx.expected = self._expected(ctx)
        self._fraction = 0.0
        self._steps = 0
        self._tool_calls = Counter()
        observation = self._observe(self._prompt())
        self._transcript = [f"# Task {self.task.id}\n{observation}"]
        return observation, self._info(tool="", parse_error="")

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._ctx is None or self.task is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        self._steps += 1
        call = parse_action(action, self.tools)
        reward, terminated = 0.0, False
        elapsed = 0.0
        result = None
        if isinstance(call, ParseError):
            tool, parse_error, text = "", call.message.splitlines()[0], call.message
        elif self._locked(call.name):
            tool, parse_error, text = call.name, "", self._locked_message(call.name)
        else:
            tool, parse_error = call.name, ""
            self._tool_calls[call.name] += 1
            start = time.perf_counter()
            result = self._call(call)
            elapsed = round(time.perf_counter() - start, 3)
            text = result.observation
            if result.eval is not None:  # the one route of a verdict: the episode's last run, the reward, info
                self._ctx.last_eval = result.eval
                reward, terminated = self._reward(result.terminate)
        observation = self._observe(text)
        if self.render_mode == "ansi":  # the transcript is only ever rendered in that mode, fixed at construction
            self._transcript.append(f"> {_action_text(action, call)}\n{observation}")
        info = self._info(tool=tool, parse_error=parse_error)
        info["elapsed"] = elapsed
        info["frame"] = _charset_frame(frame_detail(self._ctx))
        if result is not None and result.eval is not None:
            info["eval"] = result.eval.to_info()
        if result is not None and result.info:  # a tool adds to the info, never changes what the env reports
            for key, value in result.info.items():
                info.setdefault(key, value)
        return observation, reward, terminated, False, info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return "\n\n".join(self._transcript)
        return None

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.session.close()
        self._drop_sandbox()
        super().close()

    # -- internals -------------------------------------------------------------
    def _context(self) -> ToolContext:
        if self._ctx is None:
            if self._sandbox is None:
                spec = self._sandbox_spec if isinstance(self._sandbox_spec, str) else None
                self._sandbox = make_sandbox(spec, **self._sandbox_kwargs)
            session = PdbSession(
                self._sandbox, timeout=self.settings.pdb_timeout, output_limit=self.settings.pdb_output_bytes
            )
            self._ctx = ToolContext(self._sandbox, Workspace(self._sandbox), session, self.settings)
        return self._ctx

    def _use_repository(self, task: Task) -> None:
        """For a repository task: a sandbox on its image (kept while the image stays), and its tree read once."""
        spec = repo_spec(task)
        if spec is None:
            if self._sandbox is not None and self._sandbox.info.extra.get("repository"):
                self._drop_sandbox()  # a small program after a repository: the env's own kind of sandbox again
            return
        from gym_pdb.sandbox.docker.repository import RepositorySandbox
        from gym_pdb.tasks.repo_episode import fits, load_tree, repository_sandbox

        if not fits(self._sandbox, spec):
            made = repository_sandbox(spec, self._sandbox_spec, self._sandbox_kwargs)
            self._drop_sandbox()
            self._sandbox = made
        assert isinstance(self._sandbox, RepositorySandbox)
        load_tree(task, self._sandbox)

    def _sample_task_id(self) -> str:
        """Pick a task with ``self.np_random``: the source's pick (a stream makes a new one), or one of ``task_ids``."""
        if self._task_ids is None:
            return self.tasks.sample(self.np_random)
        return pick(self._task_ids, self.np_random)

    def _drop_sandbox(self) -> None:
        if self._ctx is not None:
            self._ctx.session.close()
        if self._sandbox is not None and not isinstance(self._sandbox_spec, Sandbox):
            self._sandbox.close()
            self._sandbox = None
        self._ctx = None

    def _episode(self) -> tuple[ToolContext, Task]:
        """The context and task of the episode under way."""
        if self._ctx is None or self.task is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        return self._ctx, self.task

    def _call(self, call: ToolCall) -> ToolResult:
        """Run the call; a refused call or a failed sandbox is an observation, never an exception."""
        ctx, _ = self._episode()
        tool = self.tools[call.name]
        ctx.subagent = self.subagent
        try:
            return tool(ctx, **tool.bind(call.arguments))
        except ToolError as exc:
            return ToolResult(f"Error: {exc}")
        except SandboxError as exc:
            ctx.session.stop()
            return ToolResult(f"Error: the sandbox failed: {exc}. The environment recovers at the next reset.")

    def _locked(self, name: str) -> bool:
        """Whether the schedule keeps ``name`` locked at this step (counted before the step)."""
        schedule = self.tool_schedule
        return schedule is not None and schedule.locked(name, self._tool_calls, self._steps - 1)

    def _locked_message(self, name: str) -> str:
        assert self.tool_schedule is not None
        when = self.tool_schedule.unlocks(name, self._tool_calls, self._steps - 1)
        available = self.tool_schedule.available(self.tools, self._tool_calls, self._steps - 1)
        return f"Error: {name} is locked: it unlocks {when}. Tools available now: {', '.join(available)}."

    def _expected(self, ctx: ToolContext) -> Expected | None:
        """The tests this task's runs must pass; a trusted run of the task's own files the first time."""
        _, task = self._episode()
        ran_gold = []

        def trusted_run(files: Mapping[str, str]) -> EvalResult:
            ran_gold.append(files != task.files)
            return run_tests(ctx.sandbox, task, ctx.settings.timeouts, None, files)

        expected = expected_tests(task, trusted_run, self._expected_seen)
        if any(ran_gold):
            ctx.workspace.reset(task)
        return expected

    def _reward(self, submitted: bool) -> tuple[float, bool]:
        """The reward of the run just made (``ctx.last_eval``) and whether it ends the episode."""
        last = self._episode()[0].last_eval
        terminated = rewards.earns(last, self.integrity) or submitted
        reward = rewards.reward(last, self.reward_mode, terminated, self._fraction, self.integrity)
        self._fraction = rewards.progress(last, self.integrity)
        return reward, terminated

    def _prompt(self) -> str:
        ctx, task = self._episode()
        if self.profile.prompt is not None:
            return self.profile.prompt(task)
        ws = ctx.workspace
        depth = 2 if task.repo else 8  # a repository's tree is listed to two levels; listdir shows the rest
        return f"{task.prompt}\n\nFiles in the workspace:\n{render_tree(ws, ws.visible_paths(), '', depth)}"

    def _observe(self, text: str) -> str:
        return to_charset(text, self.max_observation_chars, self._outside)

    def _info(self, tool: str, parse_error: str) -> dict[str, Any]:
        ctx, task = self._episode()
        last = ctx.last_eval
        return {
            "task_id": task.id,
            "suite": task.suite,
            "tool": tool,
            "parse_error": parse_error,
            "tests_passed": last.passed if last else -1,
            "tests_total": last.total if last else -1,
            "resolved": rewards.earns(last, self.integrity),
            "integrity": last.integrity() if last else {"valid": True, "evidence": [], "flags": []},
            "breakpoints": breakpoints_info(ctx),
            "current_frame": frame_info(ctx),
            "step": self._steps,
            "elapsed": 0.0,
            "tools_available": self.tools_available(),
        }


def _charset_frame(frame: dict[str, Any] | None) -> dict[str, Any] | None:
    """The frame with its listing escaped as the observation escapes it, so the listing is found in the observation."""
    if frame is not None:
        frame["listing"] = to_charset(frame["listing"])
    return frame


def _action_text(action: Any, call: ToolCall | ParseError) -> str:
    if isinstance(call, ToolCall):
        return call.to_json()
    return to_charset(str(action), 2000)
