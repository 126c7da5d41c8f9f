"""Sandbox kinds: a registry that make_sandbox, the env, the CLI and the configs read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import pytest

import gym_pdb  # noqa: F401  (registers the environments)
from gym_pdb.evaluation.config import EvalConfig
from gym_pdb.sandbox import SANDBOX_KINDS, make_sandbox, register_sandbox, sandbox_kinds
from gym_pdb.sandbox.local import LocalSandbox


class CountingSandbox(LocalSandbox):
    """A kind defined in a test module, as a plugin would: the local sandbox, counting its resets."""

    made: list[CountingSandbox] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resets = 0
        CountingSandbox.made.append(self)

    def reset_workspace(self, *args: Any, **kwargs: Any) -> None:
        self.resets += 1
        super().reset_workspace(*args, **kwargs)


@pytest.fixture
def kind() -> Iterator[str]:
    """Register ``test-local`` for one test, then forget it."""
    register_sandbox("test-local", CountingSandbox)
    CountingSandbox.made.clear()
    yield "test-local"
    SANDBOX_KINDS.pop("test-local", None)


def test_a_registered_kind_runs_an_env(kind: str) -> None:
    env = gym.make("PDB-Demo-v0", sandbox=kind)
    try:
        env.reset(seed=0)
        _, _, _, _, info = env.step("eval")
        assert info["tests_total"] > 0
        sandbox = env.unwrapped.sandbox
        assert isinstance(sandbox, CountingSandbox) and CountingSandbox.made == [sandbox] and sandbox.resets >= 1
    finally:
        env.close()


def test_the_cli_and_configs_read_the_registry(kind: str) -> None:
    from gym_pdb.cli import build_parser

    assert sandbox_kinds()[:2] == ("local", "docker") and kind in sandbox_kinds()
    args = build_parser().parse_args(["play", "--sandbox", kind])
    assert args.sandbox == kind
    assert EvalConfig(sandbox=kind).sandbox == kind
    with pytest.raises(ValueError, match="unknown sandbox 'nope'; choose one of local, docker, test-local"):
        EvalConfig(sandbox="nope")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["play", "--sandbox", "nope"])


def test_make_sandbox_by_name_and_environment(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GYM_PDB_SANDBOX", "TEST-LOCAL")
    with make_sandbox(warm=False) as sandbox:
        assert isinstance(sandbox, CountingSandbox)
    with pytest.raises(ValueError, match="unknown sandbox"):
        make_sandbox("nope")
    register_sandbox("test-local", CountingSandbox)  # the same registration again: nothing changes
    with pytest.raises(ValueError, match="already registered"):
        register_sandbox("test-local", LocalSandbox)
