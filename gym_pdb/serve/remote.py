"""``gym.make(ID, remote=URL)``: a gym-pdb env whose episodes run on a ``gym-pdb serve`` server.

The env has the local env's API and spaces (Text observations and actions,
``reset``/``step``/``render``/``close``, ``info`` with ``integrity``), so it
passes ``check_env`` and runs in vector envs; each env holds one OpenEnv
session (one sandbox on the server) through OpenEnv's own ``EnvClient``.
``remote`` may list several servers: an env starts on the first and, when
its server is gone or full, moves to the next one at its next ``reset``
(a step on a lost session raises :class:`RemoteEnvError`; the episode is lost).

The server decides the suite, sandbox and data; the client may set the env
arguments in ``CLIENT_CONFIG_KEYS`` (tools, reward mode, timeouts), sent
with each reset. ``max_episode_steps`` is applied here, by ``gym.make``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
from gymnasium import spaces
from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient

from gym_pdb.actions import MAX_ACTION_CHARS
from gym_pdb.env import CHARSET, MAX_OBSERVATION_CHARS
from gym_pdb.serve.guard import PING_INTERVAL, PING_TIMEOUT, TOKEN_VARIABLE
from gym_pdb.serve.models import CLIENT_CONFIG_KEYS, PDBAction, PDBObservation, PDBState
from gym_pdb.serve.remote_tasks import RemoteTasks
from gym_pdb.tasks.task import Task


#: Error codes of OpenEnv's server after which the session is gone (full, failed, closed when idle).
LOST_CODES = ("CAPACITY_REACHED", "SESSION_ERROR", "FACTORY_ERROR")
NO_EPISODE = "this session has no episode"  # environment.PDBEnvironment's answer to a step before reset


class RemoteEnvError(RuntimeError):
    """The server refused or lost the session (full, gone, unreachable, or an error it reported)."""


class PDBClient(EnvClient[PDBAction, PDBObservation, PDBState]):
    """OpenEnv's WebSocket client, typed for gym-pdb's action, observation and state."""

    def _step_payload(self, action: PDBAction) -> dict[str, Any]:
        return action.model_dump(exclude_none=True, exclude={"metadata"})

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[PDBObservation]:
        observation = PDBObservation(**payload.get("observation", {}), reward=payload.get("reward"),
                                     done=payload.get("done", False))  # fmt: skip
        return StepResult(observation=observation, reward=payload.get("reward"), done=observation.done)

    def _parse_state(self, payload: dict[str, Any]) -> PDBState:
        return PDBState(**payload)


def _server_names(remote: str | Sequence[str]) -> list[str]:
    urls = [remote] if isinstance(remote, str) else list(remote)
    urls = [u for url in urls for u in str(url).split(",") if u.strip()]
    if not urls:
        raise ValueError("remote= needs a server URL (ws://host:port), or a list of them")
    return [u.strip() for u in urls]


class RemotePDBEnv(gym.Env):
    """A gym-pdb env served elsewhere (see the module docstring).

    Args:
        suite: the suite the caller asked for (``gym.make`` passes it); the server must serve it.
        remote: a server URL (``ws://host:port``, ``http://`` works too), or several.
        token: the server's bearer token (default ``GYM_PDB_SERVE_TOKEN``).
        message_timeout: seconds to wait for one reply (a test run may take minutes).
        **config: env arguments the client may set (``tools``, ``reward_mode``, ``integrity``,
            ``pdb_timeout``, ``test_timeout``, ``eval_timeout``, ``max_observation_chars``).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        suite: str = "Demo",
        remote: str | Sequence[str] = "",
        token: str | None = None,
        render_mode: str | None = None,
        message_timeout: float = 900.0,
        connect_timeout: float = 10.0,
        **config: Any,
    ):
        unknown = sorted(set(config) - set(CLIENT_CONFIG_KEYS))
        if unknown:
            raise ValueError(
                f"a remote env takes {', '.join(CLIENT_CONFIG_KEYS)}; {', '.join(unknown)} are the server's to set "
                "(gym-pdb serve --sandbox/--data-dir/--env-kwargs)"
            )
        if render_mode not in (None, "ansi"):
            raise ValueError(f"render_mode must be 'ansi' or None, not {render_mode!r}")
        self.suite = suite
        self.urls = _server_names(remote)
        token = token if token is not None else os.environ.get(TOKEN_VARIABLE)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._config = {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}
        self._timeouts = (connect_timeout, message_timeout)
        self.render_mode = render_mode
        limit = int(config.get("max_observation_chars", MAX_OBSERVATION_CHARS))
        self.observation_space = spaces.Text(max_length=limit, min_length=0, charset=CHARSET)
        self.action_space = spaces.Text(max_length=MAX_ACTION_CHARS, min_length=0, charset=CHARSET)
        self._client: Any = None  # the SyncEnvClient of the current session
        self._server = -1  # index into self.urls of the current session's server
        self._live = False
        self._tools: list[dict[str, Any]] = []
        self._task_id: str | None = None
        self._tasks: dict[str, RemoteTasks] = {}
        self._transcript: list[str] = []

    # -- where the session is --------------------------------------------------------------------
    @property
    def url(self) -> str | None:
        """The server of the current session."""
        return self.urls[self._server] if self._server >= 0 else None

    def _connect(self) -> None:
        """A new session: the next server that takes it, starting after the last one used."""
        self._drop()
        errors = []
        for step in range(len(self.urls)):
            index = (self._server + 1 + step) % len(self.urls)
            client = PDBClient(base_url=self.urls[index], connect_timeout_s=self._timeouts[0],
                               message_timeout_s=self._timeouts[1], headers=self._headers or None,
                               websocket_ping_interval_s=PING_INTERVAL, websocket_ping_timeout_s=PING_TIMEOUT).sync()  # fmt: skip
            try:
                client.connect()
            except Exception as exc:  # noqa: BLE001 - unreachable, refused: try the next server
                errors.append(f"{self.urls[index]}: {exc}")
                _close_quietly(client)
                continue
            self._client, self._server, self._live = client, index, True
            return
        raise RemoteEnvError("no gym-pdb server took the session: " + "; ".join(errors))

    def _drop(self) -> None:
        if self._client is not None:
            _close_quietly(self._client)
        self._client, self._live = None, False

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure of the wire is this env's error
            lost = not isinstance(exc, RuntimeError) or any(f"(code: {c})" in str(exc) for c in LOST_CODES)
            # OpenEnv's client reconnects by itself when its socket dropped: to a new session, with no episode.
            lost = lost or (what == "step" and NO_EPISODE in str(exc))
            if lost:
                self._live = False
                raise RemoteEnvError(
                    f"the session on {self.url} was lost during {what} ({type(exc).__name__}: {exc}); "
                    "reset() starts a new episode" + (" on another server" if len(self.urls) > 1 else "")
                ) from exc
            raise RemoteEnvError(f"{self.url} refused {what}: {exc}") from exc

    # -- gymnasium API ---------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        task_id = options.pop("task_id", None)
        if options:
            raise ValueError(f"reset options are task_id only, not {sorted(options)}")
        data = {"config": self._config, **({"seed": seed} if seed is not None else {}),
                **({"task_id": task_id} if task_id is not None else {})}  # fmt: skip
        for attempt in range(2):  # a session found dead at reset: once more on a fresh one
            if not self._live:
                self._connect()
            try:
                result = self._call("reset", self._client.reset, **data)
                break
            except RemoteEnvError:
                if attempt or self._live:
                    raise
        observation = result.observation
        served = observation.env_id
        if served and served.removeprefix("PDB-").removesuffix("-v0") != self.suite:
            raise RemoteEnvError(f"{self.url} serves {served}, not PDB-{self.suite}-v0")
        self._tools = observation.tools or []
        self._task_id = observation.info.get("task_id")
        self._transcript = [f"# Task {self._task_id}\n{observation.text}"]
        return observation.text, observation.info

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._client is None or self._task_id is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if not self._live:
            raise RemoteEnvError(f"the session on {self.url} is gone; reset() starts a new episode")
        if isinstance(action, PDBAction):
            message = action
        elif isinstance(action, str):
            message = PDBAction(text=action)
        else:
            message = PDBAction(text=json.dumps(action, default=str))
        result = self._call("step", self._client.step, message)
        o = result.observation
        self._transcript.append(f"> {message.text if message.text is not None else message.tool}\n{o.text}")
        return o.text, float(result.reward or 0.0), o.terminated, o.truncated, o.info

    def render(self) -> str | None:
        return "\n\n".join(self._transcript) if self.render_mode == "ansi" else None

    def close(self) -> None:
        self._drop()
        for tasks in self._tasks.values():
            tasks.close()
        self._tasks.clear()
        super().close()

    # -- what PDBEnv offers beside the gym API ---------------------------------------------------
    def state(self) -> PDBState:
        """The session's state on the server (task, verdict, files)."""
        if self._client is None:
            raise gym.error.ResetNeeded("call reset() before state()")
        return self._call("state", self._client.state)

    def tools_schema(self) -> list[dict[str, Any]]:
        """The session's tool schemas (known after the first reset)."""
        return list(self._tools)

    def workspace_files(self) -> dict[str, str]:
        return self.state().files if self._live and self._task_id else {}

    @property
    def tasks(self) -> RemoteTasks:
        """The served suite's tasks (ids, files, gold fixes), from the server's task API."""
        url = self.url or self.urls[0]
        if url not in self._tasks:
            self._tasks[url] = RemoteTasks(url, f"PDB-{self.suite}-v0", self._headers, self._timeouts[1])
        return self._tasks[url]

    @property
    def task_ids(self) -> list[str]:
        return list(self.tasks)

    @property
    def task(self) -> Task | None:
        """The current episode's task (fetched from the server when first asked for)."""
        if self._task_id is None:
            return None
        tasks = self.tasks
        if self._task_id not in tasks:
            tasks.refresh()
        return tasks[self._task_id]

    @property
    def integrity(self) -> str:
        return str(self._config.get("integrity", "flag"))


def _close_quietly(client: Any) -> None:
    try:
        client.close()
    except Exception:  # noqa: BLE001 - the session is gone either way
        pass


__all__ = ["PDBClient", "RemoteEnvError", "RemotePDBEnv"]
