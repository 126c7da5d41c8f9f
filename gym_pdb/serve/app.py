"""The ``gym-pdb serve`` application: OpenEnv's server, gym-pdb's environment, the guard.

OpenEnv's ``HTTPEnvServer`` serves the protocol (``/ws`` sessions with
reset/step/state, ``/mcp``, ``/schema``, ``/metadata``, ``/health``, the task
API); :class:`~gym_pdb.serve.environment.PDBEnvironment` is the episode
behind each session; :class:`~gym_pdb.serve.guard.ServeGuard` checks the
token and closes idle WebSockets. This module only wires them and owns what
outlives a session: the shared tasks, the sessions to close at shutdown,
and, for a Docker-backed replica, the reaping of dead replicas' sandboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import weakref
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from openenv.core.env_server.http_server import HTTPEnvServer
from openenv.core.env_server.types import ConcurrencyConfig, ServerMode

from gym_pdb.serve.environment import EpisodeSpec, PDBEnvironment
from gym_pdb.serve.guard import PING_INTERVAL, PING_TIMEOUT, TOKEN_VARIABLE, ServeGuard, check_bind
from gym_pdb.serve.models import PDBAction, PDBObservation, PDBState
from gym_pdb.serve.replica import reap_dead_replicas, replica_id, replica_labels

logger = logging.getLogger("gym_pdb.serve")

#: Largest WebSocket frame accepted: an action of 200,000 characters, each escaped in JSON, fits.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024



@dataclass
class ServeConfig:
    """How ``gym-pdb serve`` runs.

    ``idle_timeout``: seconds a session may wait for its client before it is
    closed. ``token``: the bearer token clients must send (default
    ``GYM_PDB_SERVE_TOKEN``); required to bind beyond loopback.
    ``reap_interval``: seconds between looks for dead replicas' sandboxes
    (Docker sandboxes of a replica only).
    """

    env_id: str = "PDB-Demo-v0"
    host: str = "127.0.0.1"
    port: int = 8000
    max_sessions: int = 64
    idle_timeout: float = 600.0
    sandbox: str = "local"
    token: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    reap_interval: float = 30.0
    max_message_bytes: int = MAX_MESSAGE_BYTES

    def __post_init__(self) -> None:
        if self.token is None:
            self.token = os.environ.get(TOKEN_VARIABLE) or None
        if self.max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        if self.idle_timeout <= 0:
            raise ValueError("idle_timeout must be positive")
        check_bind(self.host, self.token)


class _Sessions:
    """Makes each session's environment and remembers the live ones, to close them at shutdown."""

    def __init__(self, spec: EpisodeSpec):
        self.spec = spec
        self.live: weakref.WeakSet[PDBEnvironment] = weakref.WeakSet()
        self.made = 0
        self.__name__ = "PDBEnvironment"

    def __call__(self) -> PDBEnvironment:
        env = PDBEnvironment(self.spec)
        self.live.add(env)
        self.made += 1
        return env

    def close_all(self) -> None:
        for env in list(self.live):
            with contextlib.suppress(Exception):
                env.close()


def episode_spec(config: ServeConfig) -> EpisodeSpec:
    """The tasks and sandbox every session of ``config`` shares (a replica's sandboxes carry its label)."""
    env_kwargs = dict(config.env_kwargs)
    if config.sandbox == "docker":
        sandbox_kwargs = dict(env_kwargs.pop("sandbox_kwargs", None) or {})
        sandbox_kwargs["labels"] = {**replica_labels(), **sandbox_kwargs.get("labels", {})}
        env_kwargs["sandbox_kwargs"] = sandbox_kwargs
    return EpisodeSpec.load(config.env_id, config.sandbox, **env_kwargs)


def create_serve_app(config: ServeConfig, spec: EpisodeSpec | None = None) -> FastAPI:
    """The ASGI app of ``gym-pdb serve`` (run it with uvicorn; :func:`serve` does)."""
    spec = spec or episode_spec(config)
    sessions = _Sessions(spec)
    server = HTTPEnvServer(
        sessions,
        PDBAction,
        PDBObservation,
        # OpenEnv's reaper frees sessions no WebSocket holds (HTTP MCP sessions); the guard closes idle sockets.
        concurrency_config=ConcurrencyConfig(
            max_concurrent_envs=config.max_sessions, session_timeout=config.idle_timeout * 1.1 + 1
        ),
        env_name=config.env_id,
        state_cls=PDBState,
    )

    app = FastAPI(
        title=f"gym-pdb: {config.env_id}",
        description="gym-pdb episodes served with OpenEnv: WebSocket sessions at /ws, MCP tools at /mcp.",
    )
    server.register_routes(app, mode=ServerMode.SIMULATION)
    reaper: list[asyncio.Task] = []

    async def start() -> None:  # beside OpenEnv's own startup and shutdown handlers
        if config.sandbox == "docker" and replica_id():
            reaper.append(_start_reaper(config))

    async def stop() -> None:
        for task in reaper:
            task.cancel()
        await asyncio.get_running_loop().run_in_executor(None, sessions.close_all)

    app.router.on_startup.append(start)
    app.router.on_shutdown.append(stop)
    app.state.sessions = sessions
    app.state.openenv = server
    app.add_middleware(ServeGuard, token=config.token, idle_timeout=config.idle_timeout)
    return app


def _start_reaper(config: ServeConfig) -> asyncio.Task:
    """Remove dead replicas' sandboxes now (ours from a previous run too), then every ``reap_interval``."""

    async def loop() -> None:
        import docker

        client = await asyncio.to_thread(docker.from_env)
        me, first = replica_id(), True
        while True:
            try:
                await asyncio.to_thread(reap_dead_replicas, client, me, first)
            except Exception as exc:  # noqa: BLE001 - the engine may be busy; try again later
                logger.warning("reaping dead replicas' sandboxes failed: %s", exc)
            first = False
            await asyncio.sleep(config.reap_interval)

    return asyncio.ensure_future(loop())


def serve(config: ServeConfig, log_level: str = "info") -> None:
    """Run the server until interrupted (SIGINT/SIGTERM close every session and its sandbox)."""
    import uvicorn

    app = create_serve_app(config)
    where = f"{config.host}:{config.port}"
    auth = "token required" if config.token else "no token (loopback only)"
    logger.info("serving %s on ws://%s/ws (%s sandbox, %d sessions, %s)", config.env_id, where, config.sandbox,
                config.max_sessions, auth)  # fmt: skip
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level=log_level,
        ws_max_size=config.max_message_bytes,
        ws_ping_interval=PING_INTERVAL,
        ws_ping_timeout=PING_TIMEOUT,
        timeout_graceful_shutdown=10,
    )


__all__ = ["MAX_MESSAGE_BYTES", "PING_INTERVAL", "PING_TIMEOUT", "ServeConfig", "create_serve_app", "episode_spec", "serve"]
