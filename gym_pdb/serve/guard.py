"""What a connection to ``gym-pdb serve`` may do, checked before OpenEnv's routes see it.

An ASGI middleware around OpenEnv's app, for three things OpenEnv's server
leaves to its host:

- the token: with ``GYM_PDB_SERVE_TOKEN`` set, every request and WebSocket
  but ``/health`` must carry ``Authorization: Bearer <token>`` (a WebSocket
  without it is refused at the handshake, HTTP 403);
- idle sessions: a WebSocket that sends nothing for ``idle_timeout``
  seconds gets an error frame saying so and is closed (code 4000), and its
  session (sandbox) goes with it; OpenEnv's own reaper only frees sessions
  that no WebSocket holds;
- the stateless ``POST /reset`` and ``/step``: each would make a sandbox for
  one call, outside the session limit; a gym-pdb episode lives in a
  WebSocket session, and these answer 409 saying so.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_VARIABLE = "GYM_PDB_SERVE_TOKEN"
OPEN_PATHS = frozenset({"/health"})
STATELESS_PATHS = frozenset({"/reset", "/step"})
IDLE_CLOSE_CODE = 4000
#: Keepalive, both ends: a ping every 20 s; a peer silent for a minute is gone (a loaded machine answers late).
PING_INTERVAL, PING_TIMEOUT = 20.0, 60.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token: anyone who reaches the port could run code."""
    if not is_loopback(host) and not token:
        raise ValueError(
            f"binding to {host} exposes the server beyond this machine: set {TOKEN_VARIABLE} to a secret "
            "token (clients send it as 'Authorization: Bearer <token>'), or bind to 127.0.0.1"
        )


class ServeGuard:
    """ASGI middleware: token, idle WebSockets, stateless routes (see the module docstring)."""

    def __init__(self, app: ASGIApp, token: str | None = None, idle_timeout: float | None = None):
        self.app = app
        self.token = token or None
        self.idle_timeout = idle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if self.token and path not in OPEN_PATHS and not self._authorized(scope):
            return await self._refuse(scope, receive, send, 401, "a valid 'Authorization: Bearer <token>' is required")
        if kind == "http" and scope.get("method") == "POST" and path in STATELESS_PATHS:
            return await self._refuse(
                scope, receive, send, 409,
                "gym-pdb episodes are stateful: open a WebSocket session at /ws "
                "(OpenEnv's EnvClient or GenericEnvClient; gym.make(ID, remote=URL))",
            )  # fmt: skip
        if kind == "websocket" and self.idle_timeout:
            receive, send = _IdleWatch(receive, send, self.idle_timeout).wrap()
        return await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        for name, value in scope.get("headers") or []:
            if name.lower() == b"authorization":
                scheme, _, given = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode())
        return False

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
            return
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _IdleWatch:
    """Ends a WebSocket whose client has sent nothing for ``timeout`` seconds, with a message saying so.

    The clock runs while the server waits for the client, not while a step runs.
    """

    def __init__(self, receive: Receive, send: Send, timeout: float):
        self._receive, self._send, self.timeout = receive, send, timeout
        self._pending: asyncio.Task | None = None
        self._expired = False

    def wrap(self) -> tuple[Receive, Send]:
        return self.receive, self.send

    async def receive(self) -> Message:
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._receive())
        if self._expired:
            return await self._pending
        done, _ = await asyncio.wait({self._pending}, timeout=self.timeout)
        if not done:
            self._expired = True
            message = {"message": f"the session was idle for {self.timeout:g} s and is closed; connect again",
                       "code": "SESSION_ERROR"}  # fmt: skip
            await self._send({"type": "websocket.send", "text": json.dumps({"type": "error", "data": message})})
            await self._send({"type": "websocket.close", "code": IDLE_CLOSE_CODE, "reason": "idle timeout"})
            return {"type": "websocket.disconnect", "code": IDLE_CLOSE_CODE}
        task, self._pending = self._pending, None
        return task.result()

    async def send(self, message: Message) -> None:
        if self._expired:
            return  # closed already: the app's own close (and late frames) go nowhere
        await self._send(message)


__all__ = ["PING_INTERVAL", "PING_TIMEOUT", "ServeGuard", "TOKEN_VARIABLE", "check_bind", "is_loopback"]
