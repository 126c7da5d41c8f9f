"""GRPO of Qwen3 on live gym-pdb episodes: a thin wrapper over ``trl.GRPOTrainer``.

Each generation runs in its own gym-pdb environment (:mod:`trainers.env`):
TRL's multi-turn tool loop generates an assistant turn, runs the tool calls in
the environment, appends the outputs (masked out of the loss) and generates
again, up to 80 tool calls; the reward is 1.0 when the tests pass. The
defaults follow the SWE-PDB recipe: 8 generations per task, learning rate
1e-6, temperature 1.0, no KL term (``beta=0``), upper clip 0.28, and vLLM
generation colocated with training (``vllm_mode="server"`` uses a separate
``trl vllm-serve`` process instead).

Tool calls of one round (the same turn of all generations in a batch) run in
parallel threads, one environment per generation, as do the resets and the
final test runs: :mod:`trainers.trl_compat`, the one module that touches TRL's
private internals. ``tool_workers=0`` leaves everything to TRL's own loop.

    python -m trainers.grpo --config examples/configs/grpo_qwen3_8b.yaml
    accelerate launch --config_file examples/accelerate/fsdp_4gpu.yaml -m trainers.grpo --config ...
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trl import GRPOConfig, ModelConfig, TrlParser, get_peft_config

from gym_pdb.sandbox.kinds import sandbox_factory, sandbox_kinds
from gym_pdb.profiles import get_profile
from gym_pdb.tasks.task import Task
from gym_pdb.tools import DEFAULT_TOOLS
from gym_pdb.tools.schedule import ToolSchedule

from .env import SYSTEM_PROMPT, env_factory, load_tasks, served_env_id
from .models import load_for_training, save_trained
from .sft import bf16_default
from .trl_compat import ParallelToolCalls

if TYPE_CHECKING:
    from datasets import Dataset
    from peft import PeftConfig
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

logger = logging.getLogger(__name__)

#: The working folder that a row's system prompt names, where the profile's does (SWE-PDB's tree): the docker
#: sandbox's (``gym_pdb.sandbox.docker.protocol.WORKDIR``, not imported here: that package needs the Docker client).
ROW_WORKDIR = "/workspace"

__all__ = [
    "GRPOTaskArguments",
    "PDBGRPOConfig",
    "PDBGRPOTrainer",
    "build_grpo_trainer",
    "task_dataset",
    "profile_system_prompt",
    "rows_system_prompt",
    "main",
]


@dataclass
class PDBGRPOConfig(GRPOConfig):
    """``GRPOConfig`` with the SWE-PDB recipe's defaults."""

    output_dir: str | None = field(default="runs/grpo", metadata={"help": "Where checkpoints and the model go."})
    learning_rate: float = field(default=1e-6, metadata={"help": "Learning rate (paper: 1e-6)."})
    num_generations: int | None = field(default=8, metadata={"help": "Generations (episodes) per task (paper: 8)."})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "Episodes per device and step."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature (paper: 1.0)."})
    beta: float = field(default=0.0, metadata={"help": "KL coefficient (paper: 0, no reference model)."})
    epsilon_high: float | None = field(default=0.28, metadata={"help": "Upper clip of the ratio (paper: 0.28)."})
    max_tool_calling_iterations: int | None = field(
        default=80, metadata={"help": "Assistant turns with tool calls per episode (paper: 80 tool calls)."}
    )
    max_completion_length: int | None = field(
        default=16384, metadata={"help": "Tokens of an episode after the prompt (model and tool tokens)."}
    )
    use_vllm: bool = field(default=True, metadata={"help": "Generate with vLLM (GPU only)."})
    vllm_mode: str = field(default="colocate", metadata={"help": "`colocate` or `server` (trl vllm-serve)."})
    logging_steps: float = field(default=1, metadata={"help": "Log every N steps."})

    def __post_init__(self) -> None:
        if self.bf16 is None and not self.fp16:
            self.bf16 = bf16_default()
        super().__post_init__()


@dataclass
class GRPOTaskArguments:
    """Where the episodes come from and how they run."""

    train_tasks: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Task specs: a suite (PDB-SynDebug-v0), with ids or a count (PDB-DebugBench-v0:200), an RL "
            "parquet file (SWE-PDB format), or a folder of task folders."
        },
    )
    eval_tasks: list[str] | None = field(default=None, metadata={"help": "Held-out task specs for validation."})
    data_dir: str | None = field(default=None, metadata={"help": "Suite data (default: GYM_PDB_DATA or the cache)."})
    sandbox: str = field(default="local", metadata={"help": f"A sandbox kind: {', '.join(sandbox_kinds())}."})
    remote: list[str] | None = field(
        default=None,
        metadata={
            "help": "gym-pdb serve URLs (ws://host:port): episodes run there, off the GPU machines; "
            "train_tasks then name the served env (PDB-DebugBench-v0:200)."
        },
    )
    max_tool_calls: int = field(default=80, metadata={"help": "Tool calls per episode; later calls are refused."})
    final_eval: bool = field(default=True, metadata={"help": "Run the tests at the end of unresolved episodes."})
    reward: str = field(default="resolved", metadata={"help": "`resolved` (0/1) or `fraction` of tests passing."})
    tools: list[str] = field(
        default_factory=lambda: list(DEFAULT_TOOLS),
        metadata={"help": "The tools offered to the model: any registered tool (`submit`, ...)."},
    )
    profile: str = field(
        default="gym-pdb",
        metadata={
            "help": "What the model sees: `gym-pdb` or `swe-pdb` (SWE-PDB's schemas and observations; offer its "
            "tools: grep pdb view rewrite eval)."
        },
    )
    tool_schedule: str | None = field(
        default=None,
        metadata={
            "help": "Lock tools until they unlock: `debug(5)` (pdb and trace after the 5th rewrite) or JSON such as "
            '`{"pdb": {"after": {"rewrite": 5}}}`. Every tool is offered from the start; a locked tool\'s call '
            "is answered with when it unlocks."
        },
    )
    system_prompt: str | None = field(
        default=None,
        metadata={
            "help": "System message of every episode; empty: none. Default: the profile's for each task (`swe-pdb`: "
            "SWE-PDB's agent's, whose tree names /workspace), else gym-pdb's debug prompt."
        },
    )
    enable_thinking: bool | None = field(default=None, metadata={"help": "Qwen3 thinking (default: the template's)."})
    tool_workers: int = field(default=32, metadata={"help": "Threads running episodes' tool calls; 0: sequential."})
    env_kwargs: str | None = field(
        default=None, metadata={"help": "JSON object of more PDBEnv arguments (eval_timeout, pdb_timeout, ...)."}
    )
    tokenizer_name_or_path: str | None = field(default=None, metadata={"help": "Tokenizer (default: the model's)."})
    chat_template: str = field(default="qwen3", metadata={"help": "`qwen3` (TRL's), `keep`, or a .jinja path."})
    shuffle_seed: int = field(default=0, metadata={"help": "Seed of the task order."})

    def __post_init__(self) -> None:
        sandbox_factory(self.sandbox)  # a registered kind, or a ValueError naming them
        get_profile(self.profile)  # a known profile, or a ValueError naming them
        ToolSchedule.parse(self.tool_schedule)  # a ValueError that says what is wrong with it


def task_dataset(task_ids: Sequence[str], system_prompt: str | Callable[[str], str] | None = SYSTEM_PROMPT) -> Dataset:
    """GRPO rows: a conversational prompt whose user turn the environment fills in, and the task id.

    ``system_prompt``: the system message of every row, or a function of the task id that makes each row's.
    """
    from datasets import Dataset

    def prompt(task_id: str) -> list[dict[str, str]]:
        system = system_prompt(task_id) if callable(system_prompt) else system_prompt
        return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": ""}]

    return Dataset.from_dict({"prompt": [prompt(t) for t in task_ids], "task_id": list(task_ids)})


def profile_system_prompt(tasks: Mapping[str, Task], profile: str, tools: Sequence[str]) -> Callable[[str], str] | None:
    """Each task's system message in ``profile`` (by task id), or None where the profile has none.

    The rows are made before any sandbox: the tree that SWE-PDB's prompt shows names the docker sandbox's
    working folder (a local sandbox's is a fresh temporary folder per env, as SWE-PDB's was).
    """
    hook = get_profile(profile).system_prompt
    if hook is None:
        return None
    offered = list(tools)
    return lambda task_id: hook(tasks[task_id], "", ROW_WORKDIR, offered)


def rows_system_prompt(task_args: GRPOTaskArguments, tasks: Mapping[str, Task]) -> str | Callable[[str], str]:
    """The rows' system message: the one set, else the profile's for each task (not with remote envs), else gym-pdb's."""
    if task_args.system_prompt is not None:
        return task_args.system_prompt
    per_task = None if task_args.remote else profile_system_prompt(tasks, task_args.profile, task_args.tools)
    return per_task or SYSTEM_PROMPT


class PDBGRPOTrainer(ParallelToolCalls):
    """``GRPOTrainer`` that runs the episodes of a batch in parallel (tool calls, resets, final test runs).

    Extra keyword: ``tool_workers`` (threads; 0 leaves TRL's sequential loop as it is). Everything else is
    TRL's public API: the episodes come in through ``environment_factory``, the reward is the environment's.
    """


def build_grpo_trainer(
    model: PreTrainedModel | str,
    tokenizer: PreTrainedTokenizerBase,
    train_tasks: Sequence[str],
    eval_tasks: Sequence[str] | None = None,
    args: GRPOConfig | None = None,
    task_args: GRPOTaskArguments | None = None,
    peft_config: PeftConfig | None = None,
    **kwargs: Any,
) -> PDBGRPOTrainer:
    """A GRPO trainer over gym-pdb episodes of ``train_tasks`` (validated on ``eval_tasks``)."""
    args = args or PDBGRPOConfig()
    task_args = task_args or GRPOTaskArguments()
    remote = task_args.remote or None
    index, train_keys = load_tasks(train_tasks, task_args.data_dir, remote=remote)
    eval_keys: list[str] = []
    if eval_tasks:
        index, eval_keys = load_tasks(eval_tasks, task_args.data_dir, index, remote=remote)
    system = rows_system_prompt(task_args, index)
    train_dataset = task_dataset(train_keys, system).shuffle(seed=task_args.shuffle_seed)
    eval_dataset = task_dataset(eval_keys, system) if eval_keys else None
    if eval_dataset is None and args.eval_strategy != "no":
        args.eval_strategy = "no"
    if task_args.enable_thinking is not None:
        template_kwargs = args.chat_template_kwargs or {}
        if isinstance(template_kwargs, str):  # JSON, when set after the config's __post_init__ parsed it
            template_kwargs = json.loads(template_kwargs)
        args.chat_template_kwargs = {**template_kwargs, "enable_thinking": task_args.enable_thinking}
    env_kwargs = json.loads(task_args.env_kwargs) if isinstance(task_args.env_kwargs, str) else task_args.env_kwargs
    if task_args.tool_schedule is not None:
        if remote:
            raise ValueError("a tool schedule is not offered by remote envs (gym-pdb serve) yet")
        env_kwargs = {**(env_kwargs or {}), "tool_schedule": task_args.tool_schedule}
    factory = env_factory(
        index,
        tools=task_args.tools,
        profile=task_args.profile,
        sandbox=task_args.sandbox,
        max_tool_calls=task_args.max_tool_calls,
        final_eval=task_args.final_eval,
        reward=task_args.reward,
        env_kwargs=env_kwargs,
        **({"remote": remote, "env_id": served_env_id(list(train_tasks) + list(eval_tasks or []))} if remote else {}),
    )
    tokenizer.padding_side = "left"
    return PDBGRPOTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=peft_config,
        environment_factory=factory,
        tool_workers=task_args.tool_workers,
        **kwargs,
    )


def parse_args(argv: Sequence[str] | None = None) -> tuple[Any, ...]:
    # transformers types the dataclasses as DataClassType, a NewType no class is without a cast.
    parser = TrlParser((GRPOTaskArguments, PDBGRPOConfig, ModelConfig))  # type: ignore[arg-type]
    return parser.parse_args_and_config(args=argv)


def main(argv: Sequence[str] | None = None) -> PDBGRPOTrainer:
    task_args, args, model_args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if not task_args.train_tasks:
        raise SystemExit("set train_tasks (e.g. PDB-SynDebug-v0 or an RL parquet file)")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    tokenizer, model = load_for_training(
        model_args, args.trust_remote_code, task_args.tokenizer_name_or_path, task_args.chat_template
    )
    trainer = build_grpo_trainer(
        model,
        tokenizer,
        task_args.train_tasks,
        task_args.eval_tasks,
        args,
        task_args,
        peft_config=get_peft_config(model_args),
    )
    try:
        trainer.train()
        save_trained(trainer, tokenizer, args.output_dir)
    finally:
        trainer.close_environments()
    return trainer


if __name__ == "__main__":
    main(sys.argv[1:])
