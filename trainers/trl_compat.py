"""The one place gym-pdb reaches into TRL's private GRPO internals: tool calls of a batch run in parallel,
and the tools are offered in the environment's order.

TRL 1.16 runs the tool calls of a batch's generations one after another
(``GRPOTrainer._tool_call_loop``), and resets and scores the environments one
by one. With live sandboxes that is most of a rollout's wall time: running
each turn's calls of all generations in threads (one environment per
generation, its own calls in order) was measured at several times faster per
GRPO step (``benchmarks/grpo_tool_rounds.py``; the README has the figures).
No public TRL hook offers that, so :class:`ParallelToolCalls` overrides two
private methods and reads the private attributes listed in
:data:`TRL_INTERNALS`. :func:`trl_internals_problems` checks that TRL still has
them; the trainer falls back to TRL's own sequential loop, with a warning,
when it does not, and ``tests/trainers/test_trainers_trl_compat.py`` fails
loudly on such a TRL release so that this module gets updated.

TRL also lists an environment's tool methods by name (``inspect.getmembers``),
so the schemas reach the model sorted (``eval, pdb, rewrite, view``), while
``gym-pdb eval``, and so the SFT trajectories, offer them in the order asked
for (``eval, view, pdb, rewrite``). A model trained on those trajectories sees
another prompt in GRPO; a small one stops writing tool calls at all. The trainer
puts ``_env_tools`` back in the order of the environment's ``TOOL_ORDER``.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable

from trl import GRPOTrainer

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

__all__ = ["TRL_INTERNALS", "ParallelToolCalls", "ToolRound", "trl_internals_problems"]

#: Private methods overridden here, with the parameters TRL calls them with.
TRL_METHODS: dict[str, tuple[str, ...]] = {
    "_generate_and_score_completions": ("self", "inputs"),
    "_tool_call_loop": (
        "self", "prompts", "prompt_ids", "completion_ids", "completions", "logprobs", "images", "multimodal_fields",
    ),
}  # fmt: skip
#: Private attributes read or replaced here: what ``GRPOTrainer``'s code must still assign.
TRL_ATTRIBUTES = (
    "environment_factories",  # {None: factory} for one environment_factory
    "_multi_environment",  # True when environment_factory is a dict of several
    "_environment_pool",  # {name: [instances]}: reused across batches, grown on demand
    "environments",  # the instances of the current batch, one per generation
    "_sync_tool_dicts",  # per generation: {tool name: bound method}, what _tool_call_loop calls
    "_env_tools",  # {environment name: [tools]}: the schemas of a prompt, in this order
)
TRL_INTERNALS = (*TRL_METHODS, *TRL_ATTRIBUTES)


def trl_internals_problems(trainer_class: type = GRPOTrainer) -> list[str]:
    """What ``trainer_class`` (TRL's ``GRPOTrainer``) lacks of the internals this module relies on."""
    problems = []
    for name, params in TRL_METHODS.items():
        method = getattr(trainer_class, name, None)
        if method is None:
            problems.append(f"GRPOTrainer.{name} is gone")
            continue
        found = tuple(inspect.signature(method).parameters)
        if found != params:
            problems.append(f"GRPOTrainer.{name}{found} is not {name}{params}")
    try:
        source = inspect.getsource(trainer_class)
    except (OSError, TypeError):
        return [*problems, "GRPOTrainer's source cannot be read to check its attributes"]
    for attribute in TRL_ATTRIBUTES:
        if f"self.{attribute} =" not in source:
            problems.append(f"GRPOTrainer no longer assigns self.{attribute}")
    loop = getattr(trainer_class, "_tool_call_loop", None)
    if loop is not None and "self._sync_tool_dicts[" not in inspect.getsource(loop):
        problems.append("GRPOTrainer._tool_call_loop no longer calls tools through self._sync_tool_dicts")
    return problems


class ToolRound:
    """Runs the pending tool calls of every generation at once, each environment in its own thread.

    TRL executes the tool calls of a turn generation by generation. The first
    call of a turn sends the pending calls of all generations (the last,
    not yet executed assistant message of each) to a thread pool; each later
    call of that turn takes its result from there. A generation's calls run in
    order; different generations run side by side.
    """

    def __init__(self, completions: list[list[dict]], tool_dicts: list[dict], executor: ThreadPoolExecutor):
        self.completions = completions
        self.tool_dicts = tool_dicts
        self.executor = executor
        self.jobs: dict[int, tuple[dict, list[tuple[str, dict]], Future, list[int]]] = {}

    def wrap(self, i: int) -> dict:
        def bind(name: str) -> Callable[..., Any]:
            def call(**arguments: Any) -> Any:
                return self.call(i, name, arguments)

            call.__name__ = name
            return call

        return {name: bind(name) for name in self.tool_dicts[i]}

    def _pending(self, j: int) -> tuple[dict, list[tuple[str, dict]]] | None:
        if not self.completions[j]:
            return None
        last = self.completions[j][-1]
        if last.get("role") != "assistant" or not last.get("tool_calls"):
            return None
        calls = []
        for tool_call in last["tool_calls"]:
            function = tool_call.get("function") or {}
            if tool_call.get("type") != "function" or not isinstance(function.get("arguments"), Mapping):
                continue
            if function.get("name") in self.tool_dicts[j]:
                calls.append((function["name"], dict(function["arguments"])))
        return last, calls

    def _run(self, j: int, calls: list[tuple[str, dict]]) -> list[tuple[bool, Any]]:
        outcomes = []
        for name, arguments in calls:
            try:
                outcomes.append((True, self.tool_dicts[j][name](**arguments)))
            except Exception as exc:  # noqa: BLE001 - handed back to TRL, which reports it to the model
                outcomes.append((False, exc))
        return outcomes

    def _dispatch(self) -> None:
        for j in range(len(self.completions)):
            pending = self._pending(j)
            if pending is None or (j in self.jobs and self.jobs[j][0] is pending[0]):
                continue
            message, calls = pending
            self.jobs[j] = (message, calls, self.executor.submit(self._run, j, calls), [0])

    def call(self, i: int, name: str, arguments: dict) -> Any:
        message = self.completions[i][-1] if self.completions[i] else None
        if i not in self.jobs or self.jobs[i][0] is not message:
            self._dispatch()
        job = self.jobs.get(i)
        if job is None or job[0] is not message or job[3][0] >= len(job[1]):
            return self.tool_dicts[i][name](**arguments)
        _, calls, future, cursor = job
        expected = calls[cursor[0]]
        cursor[0] += 1
        if expected != (name, arguments):  # should not happen: TRL calls what the message says, in order
            logger.warning("tool call out of step (%s vs %s); running it directly", expected[0], name)
            return self.tool_dicts[i][name](**arguments)
        ok, value = future.result()[cursor[0] - 1]
        if not ok:
            raise value
        return value


class ParallelToolCalls(GRPOTrainer):
    """``GRPOTrainer`` whose environments reset, run their tool calls and finish in threads, one per generation.

    Extra keyword: ``tool_workers`` (threads; 0 leaves TRL's sequential loop as it is). It applies to a single
    ``environment_factory``; with several environments, or a TRL whose internals changed, TRL's loop runs.
    """

    def __init__(self, *args: Any, tool_workers: int = 32, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        problems = trl_internals_problems()
        if problems:
            warnings.warn(
                "this TRL's GRPOTrainer internals changed, so tool calls run one after another and the tools are "
                "offered sorted by name: " + "; ".join(problems),
                RuntimeWarning,
                stacklevel=2,
            )
            tool_workers = 0
        else:
            self._offer_tools_in_order()
        self.tool_workers = tool_workers
        self._executor = (
            ThreadPoolExecutor(max_workers=tool_workers, thread_name_prefix="pdb-env") if tool_workers else None
        )

    def _offer_tools_in_order(self) -> None:
        """Each environment's tools in its ``TOOL_ORDER`` (TRL sorts them by name); standalone tools stay first.

        With one environment, ``self.tools`` (the same tools) follows, so that rendering a conversation with
        ``trainer.tools`` gives the prompt the model saw.
        """
        for name, tools in self._env_tools.items():
            pool = self._environment_pool.get(name) or []
            order = list(getattr(type(pool[0]), "TOOL_ORDER", ())) if pool else []
            if order:
                rank = {tool: i for i, tool in enumerate(order)}
                tools.sort(key=lambda tool: rank.get(getattr(tool, "__name__", ""), -1))
        if not self._multi_environment and None in self._env_tools:
            self.tools = list(self._env_tools[None])

    def _parallel(self) -> bool:
        return self._executor is not None and self.environment_factories is not None and not self._multi_environment

    def _generate_and_score_completions(self, inputs: list[dict[str, torch.Tensor | Any]]) -> dict[str, torch.Tensor | Any]:
        executor = self._executor
        if executor is not None and self._parallel():
            pool = self._environment_pool[None]
            # TRL keys its one factory by None, though it types the keys as str.
            factory = self.environment_factories[None]  # type: ignore[index]
            while len(pool) < len(inputs):
                pool.append(factory())
            jobs = [
                executor.submit(env._prefetch_reset, **row)
                for env, row in zip(pool, inputs, strict=False)  # the pool may hold more envs than inputs
                if hasattr(env, "_prefetch_reset")
            ]
            for job in jobs:
                job.result()
        return super()._generate_and_score_completions(inputs)

    def _tool_call_loop(
        self, prompts: Any, prompt_ids: Any, completion_ids: Any, completions: Any, *args: Any, **kwargs: Any
    ) -> Any:  # TRL's private loop, untyped there
        executor = self._executor
        if executor is not None and self._parallel():
            tool_round = ToolRound(completions, self._sync_tool_dicts, executor)
            self._sync_tool_dicts = [tool_round.wrap(i) for i in range(len(completions))]
        result = super()._tool_call_loop(prompts, prompt_ids, completion_ids, completions, *args, **kwargs)
        if executor is not None and self._parallel() and self.environments:
            finishing = [executor.submit(env._finish) for env in self.environments if hasattr(env, "_finish")]
            for job in finishing:
                job.result()
        return result

    def close_environments(self) -> None:
        """Close every environment (sandboxes, pdb sessions) and the thread pool."""
        for pool in getattr(self, "_environment_pool", {}).values():
            for env in pool:
                if hasattr(env, "_close"):
                    env._close()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
