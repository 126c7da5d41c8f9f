"""A real OpenAI-compatible HTTP server on loopback that answers chat completions from a script.

``ChatServer(responder)`` serves ``POST /v1/chat/completions`` and ``GET
/v1/models`` on 127.0.0.1 (a free port) from a thread. ``responder(body)``
gets each request's JSON body and returns what to answer: a completion made
with :func:`tool_reply` / :func:`calls_reply` / :func:`text_reply`, a
:class:`Status` (an HTTP error), or a :class:`Delay` (answer late, to make the
client time out). :class:`Script` answers from a list, in order.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from gym_pdb.agents.llm import LLMConfig

MODEL = "scripted-qwen3"
_ids = itertools.count(1)


@dataclass
class Status:
    code: int
    message: str = "scripted error"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Delay:
    seconds: float
    then: Any = None


def completion(message: dict[str, Any], finish_reason: str = "stop", prompt_tokens: int = 100) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 20, "total_tokens": prompt_tokens + 20},
    }


def calls_reply(calls: list[tuple[str, Any]], content: str = "", **extra: Any) -> dict[str, Any]:
    """A reply with native tool calls; an argument that is a string is sent as is (even bad JSON)."""
    tool_calls = [
        {
            "id": f"chatcmpl-tool-{next(_ids)}",
            "type": "function",
            "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
        }
        for name, args in calls
    ]
    return completion({"role": "assistant", "content": content, "tool_calls": tool_calls, **extra}, "tool_calls")


def tool_reply(name: str, arguments: Any = None, content: str = "", **extra: Any) -> dict[str, Any]:
    return calls_reply([(name, {} if arguments is None else arguments)], content, **extra)


def text_reply(content: str, finish_reason: str = "stop", **extra: Any) -> dict[str, Any]:
    return completion({"role": "assistant", "content": content, **extra}, finish_reason)


class Script:
    """Answers request i with ``replies[i]``; past the end, with an eval call."""

    def __init__(self, replies: list[Any]):
        self.replies = list(replies)
        self.lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Any:
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
        return tool_reply("eval")


class ChatServer:
    """The server; use as a context manager. ``requests`` holds every request body received."""

    def __init__(self, responder: Callable[[dict[str, Any]], Any]):
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "test"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                with server.lock:
                    server.requests.append(body)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    reply = server.responder(body)
                    while isinstance(reply, Delay):
                        time.sleep(reply.seconds)
                        reply = reply.then if reply.then is not None else tool_reply("eval")
                    if isinstance(reply, Status):
                        self._json(reply.code, {"error": {"message": reply.message, "type": "scripted"}}, reply.headers)
                    else:
                        reply = json.loads(json.dumps(reply))
                        reply["usage"]["prompt_tokens"] = len(json.dumps([body["messages"], body.get("tools")])) // 4
                        self._json(200, reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _json(self, code: int, data: Any, headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def llm_config(server: ChatServer, **overrides: Any) -> LLMConfig:
    """A client config for ``server`` with fast retries."""
    settings = dict(base_url=server.url, model=None, max_retries=2, backoff=0.01, backoff_max=0.05, timeout=10.0)
    settings.update(overrides)
    return LLMConfig(**settings)


# -- a solver for the add-K tasks of the `add_tasks` fixture -------------------------------------
BUG = re.compile(r"return x \+ (\d+) - 1")


def turn_of(body: dict[str, Any]) -> int:
    """How many assistant turns the conversation already has."""
    return sum(1 for m in body["messages"] if m["role"] == "assistant")


def constant_of(body: dict[str, Any]) -> int | None:
    """K of the add-K task, once a tool result has shown solution.py."""
    for m in body["messages"]:
        if m["role"] in ("tool", "user"):
            found = BUG.search(m.get("content") or "")
            if found:
                return int(found.group(1))
    return None


def solve_add_task(body: dict[str, Any]) -> Any:
    """eval, view solution.py, rewrite the bug, eval."""
    turn = turn_of(body)
    if turn == 0:
        return tool_reply("eval", content="Let me run the tests.")
    if turn == 1:
        return tool_reply("view", {"path": "solution.py"})
    k = constant_of(body)
    if turn == 2 and k is not None:
        return tool_reply("rewrite", {"path": "solution.py", "start": 3, "end": 3, "new_code": f"    return x + {k}"})
    return tool_reply("eval")
