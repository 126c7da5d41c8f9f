"""``gym-pdb serve`` under bad input: clear errors, the server keeps serving, no sandbox left behind."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import httpx
import pytest
from openenv.core.generic_client import GenericEnvClient
from servelib import own_sandbox_dirs, served, wait_until
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

CYCLES = 1000


@pytest.fixture(scope="module")
def server():
    """A server whose sessions do not idle out: under load three resets in a row can take more than seconds."""
    with served(max_sessions=3, idle_timeout=600.0) as (url, app):
        yield url, app


@pytest.fixture
def impatient_server():
    with served(max_sessions=3, idle_timeout=2.0) as (url, app):
        yield url, app


def _ask(ws, message) -> dict:
    ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))
    return json.loads(ws.recv(timeout=60))


def _all_gone(app) -> None:
    wait_until(lambda: app.state.openenv.active_sessions == 0 and not own_sandbox_dirs(), what="every session to go")


def _still_serves(url: str) -> None:
    with GenericEnvClient(base_url=url).sync() as env:
        assert env.reset(task_id="binary_search").observation["info"]["task_id"] == "binary_search"
        assert "2" in env.step({"text": "pdb p 1+1"}).observation["text"]


def test_malformed_frames_get_clear_errors_on_a_live_session(server):
    url, app = server
    with connect(url + "/ws") as ws:
        assert _ask(ws, "{not json")["data"]["code"] == "INVALID_JSON"
        assert _ask(ws, {"type": "launch"})["data"]["code"] == "UNKNOWN_TYPE"
        bad = _ask(ws, {"type": "step", "data": {"tool": "pdb", "text": "pdb p 1"}})
        assert bad["data"]["code"] == "VALIDATION_ERROR" and "either `text`" in json.dumps(bad["data"]["errors"])
        early = _ask(ws, {"type": "step", "data": {"text": "pdb p 1"}})
        assert early["data"]["code"] == "EXECUTION_ERROR" and "reset() before step()" in early["data"]["message"]
        refused = _ask(ws, {"type": "reset", "data": {"config": {"sandbox": "docker"}}})
        assert "unknown config keys ['sandbox']" in refused["data"]["message"]
        assert _ask(ws, {"type": "reset", "data": {"task_id": "nope"}})["data"]["code"] == "EXECUTION_ERROR"
        # The session is still good.
        assert _ask(ws, {"type": "reset", "data": {"task_id": "inventory"}})["type"] == "observation"
        step = _ask(ws, {"type": "step", "data": {"text": '{"name": "view", "arguments": {"path": 3}}'}})
        assert step["type"] == "observation" and step["data"]["observation"]["info"]["tool"] == "view"
        # A binary frame is no message of the protocol: the server says so and ends the session.
        answer = _ask(ws, b"\x00\x01")
        assert answer["type"] == "error"
    _all_gone(app)
    _still_serves(url)


def test_unknown_sessions(server):
    url, app = server
    with connect(url + "/ws?session_id=no-such-session") as ws:
        answer = json.loads(ws.recv(timeout=30))
        assert answer["type"] == "error" and "Unknown session_id: no-such-session" in answer["data"]["message"]
    http = url.replace("ws://", "http://")
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "eval", "session_id": "nope"}}
    reply = httpx.post(http + "/mcp", json=call).json()
    assert "Unknown session_id: nope" in reply["error"]["message"]
    close = {"jsonrpc": "2.0", "id": 2, "method": "openenv/session/close", "params": {"session_id": "nope"}}
    assert "Unknown session_id" in httpx.post(http + "/mcp", json=close).json()["error"]["message"]
    assert httpx.post(http + "/step", json={"action": {"text": "eval"}}).status_code == 409
    _still_serves(url)


def test_oversized_actions(server):
    url, app = server
    with connect(url + "/ws", max_size=None) as ws:
        _ask(ws, {"type": "reset", "data": {"task_id": "binary_search"}})
        long = _ask(ws, {"type": "step", "data": {"text": "pdb p " + "1" * 250_000}})
        observation = long["data"]["observation"]
        assert observation["info"]["parse_error"] and "the limit is 200000" in observation["text"]
        ws.send(json.dumps({"type": "step", "data": {"text": "x" * (5 * 1024 * 1024)}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
    _all_gone(app)
    _still_serves(url)


def test_too_many_sessions(server):
    url, app = server
    clients = [GenericEnvClient(base_url=url).sync() for _ in range(3)]
    try:
        for client in clients:
            client.reset(task_id="running_mean")
        extra = GenericEnvClient(base_url=url).sync()
        with pytest.raises(RuntimeError, match=r"Server at capacity: 3/3 sessions active.*CAPACITY_REACHED"):
            extra.reset()
        extra.close()
        assert "2" in clients[0].step({"text": "pdb p 1+1"}).observation["text"]  # the others go on
    finally:
        for client in clients:
            client.close()
    _all_gone(app)
    _still_serves(url)


def test_abrupt_disconnects_free_the_session(server):
    url, app = server
    for mid_step in (False, True):
        with connect(url + "/ws") as ws, contextlib.suppress(OSError, ConnectionClosed):
            _ask(ws, {"type": "reset", "data": {"task_id": "binary_search"}})
            wait_until(lambda: own_sandbox_dirs(), what="the sandbox")
            if mid_step:  # the client vanishes while a test run is in flight
                ws.send(json.dumps({"type": "step", "data": {"text": "eval"}}))
            ws.socket.shutdown(socket.SHUT_RDWR)  # no close frame: the TCP connection just ends
            ws.socket.close()
        _all_gone(app)
    _still_serves(url)


def test_idle_sessions_are_closed_with_a_message(impatient_server):
    url, app = impatient_server
    with connect(url + "/ws") as ws:
        _ask(ws, {"type": "reset", "data": {"task_id": "binary_search"}})
        time.sleep(3)
        answer = json.loads(ws.recv(timeout=10))
        assert answer["type"] == "error" and "idle for 2 s" in answer["data"]["message"]
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd.code == 4000
    _all_gone(app)
    _still_serves(url)


def test_a_thousand_connect_disconnect_cycles(server):
    url, app = server
    started = time.monotonic()
    for i in range(CYCLES):
        with connect(url + "/ws", open_timeout=30) as ws:
            if i % 100 == 0:  # now and then with an episode, so a sandbox comes and goes too
                assert _ask(ws, {"type": "reset", "data": {"task_id": "inventory"}})["type"] == "observation"
        assert time.monotonic() - started < 300, f"{i} cycles took too long"
    _all_gone(app)
    _still_serves(url)
    _all_gone(app)
