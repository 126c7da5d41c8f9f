"""Malformed model output, server errors and the client's options, through a real chat server."""

from __future__ import annotations

import time

import gymnasium as gym
import pytest
from chat_server import Delay, Status, calls_reply, llm_config, text_reply, tool_reply

from gym_pdb.agents import make_agent, run_episode
from gym_pdb.agents.llm import ChatClient, LLMError
from gym_pdb.agents.prompts import NOT_EXECUTED


def play(server, task="inventory", max_steps=10, agent="debug_agent", **llm):
    agent = make_agent(agent, llm_config(server, **llm))
    env = gym.make("PDB-Demo-v0", tools=list(agent.tools), max_episode_steps=max_steps)
    try:
        return run_episode(env, agent, task, max_steps=max_steps)
    finally:
        env.close()
        agent.close()


def test_malformed_calls_get_clear_messages_and_the_loop_goes_on(chat_server):
    server = chat_server(
        [
            tool_reply("view", '{"path": "solution.py", "start": 1,'),  # arguments that are not JSON
            tool_reply("debug", {"command": "c"}),  # a tool that does not exist
            text_reply("I think the bug is on line 15."),  # no tool call at all
            calls_reply([("view", {"path": "solution.py", "start": 14, "end": 16}), ("eval", {})]),  # two calls
            tool_reply("view", {"path": "solution.py", "start": "15"}),  # a number as a string: coerced
            tool_reply("rewrite", {"path": "solution.py", "start": 15, "end": 15, "new_code": "        if left == 0:"}),
            tool_reply("eval"),
        ]
    )
    episode = play(server)
    assert episode.resolved and episode.error == ""
    m = episode.messages
    assert m[3]["role"] == "tool" and "not valid JSON" in m[3]["content"] and "view(path" in m[3]["content"]
    assert "There is no tool 'debug'" in m[5]["content"]
    assert m[7]["role"] == "user" and "called no tool" in m[7]["content"]
    assert [x["role"] for x in m[8:11]] == ["assistant", "tool", "tool"]
    assert "15" in m[9]["content"] and m[10]["content"] == NOT_EXECUTED
    assert m[10]["tool_call_id"] == m[8]["tool_calls"][1]["id"]
    assert episode.parse_errors == 2 and episode.no_tool_calls == 1 and episode.turns == 7 and episode.steps == 6
    assert episode.tool_counts["eval"] == 1  # the second call of the two was not run
    # The malformed call goes back as the text it was read from: servers decode native tool-call arguments.
    history = server.requests[1]["messages"][2]
    assert "tool_calls" not in history and history["content"].endswith(
        '<tool_call>\n{"name": "view", "arguments": {"path": "solution.py", "start": 1,}\n</tool_call>'
    )
    assert server.requests[2]["messages"][4]["tool_calls"][0]["function"]["name"] == "debug"


def test_rate_limit_and_server_errors_are_retried(chat_server):
    server = chat_server(
        [
            Status(429, "slow down", {"Retry-After": "0.2"}),
            Status(503, "overloaded"),
            tool_reply("eval"),
        ]
    )
    start = time.monotonic()
    episode = play(server, max_steps=1, max_retries=3)
    assert episode.error == "" and episode.steps == 1 and len(server.requests) == 3
    assert time.monotonic() - start >= 0.2  # Retry-After was honoured


def test_a_timeout_is_retried(chat_server):
    server = chat_server([Delay(2.0, tool_reply("view", {"path": "solution.py"})), tool_reply("eval")])
    episode = play(server, max_steps=1, timeout=0.5)
    assert episode.error == "" and episode.tool_counts == {"eval": 1} and len(server.requests) == 2


def test_out_of_retries_is_the_episodes_error_not_an_exception(chat_server):
    server = chat_server([Status(500, "boom")] * 3)
    episode = play(server, max_retries=2)
    assert episode.stop_reason == "error" and "HTTP 500" in episode.error and "3 tries" in episode.error
    assert episode.messages[:2] and episode.steps == 0


def test_a_refused_request_is_not_retried(chat_server):
    server = chat_server([Status(400, "context length exceeded"), tool_reply("eval")])
    client = ChatClient(llm_config(server))
    with pytest.raises(LLMError, match="HTTP 400.*context length exceeded"):
        client.complete([{"role": "user", "content": "hi"}], None)
    assert len(server.requests) == 1


def test_an_unreachable_server_is_named():
    client = ChatClient(llm_config(type("S", (), {"url": "http://127.0.0.1:9/v1"})(), max_retries=1, model="m"))
    with pytest.raises(LLMError, match="could not be reached"):
        client.complete([{"role": "user", "content": "hi"}], None)


def test_text_tool_format_for_servers_without_a_parser(chat_server):
    server = chat_server(
        [
            text_reply(
                '<think>Run the tests.</think>Running them.\n<tool_call>\n{"name": "eval", "arguments": {}}\n</tool_call>'
            ),
            text_reply(
                "<tool_call>\n{'name': 'view', 'arguments': {'path': 'solution.py'}}\n</tool_call>"
            ),  # hermes style
            text_reply('<tool_call>{"name": "view", "arguments": {"path": </tool_call>'),  # bad JSON, name readable
            text_reply("<tool_call>not a call</tool_call>"),
            text_reply(
                "<tool_call>\n<function=rewrite>\n<parameter=path>\nsolution.py\n</parameter>\n<parameter=start>\n15\n"
                "</parameter>\n<parameter=end>\n15\n</parameter>\n<parameter=new_code>\n        if left == 0:\n"
                "</parameter>\n</function>\n</tool_call>"
            ),
            text_reply('<tool_call>\n{"name": "eval", "arguments": {}}'),  # left open at a stop token
        ]
    )
    episode = play(server, tool_format="text", enable_thinking=True)
    assert episode.resolved and episode.error == ""
    first = server.requests[0]
    assert "tools" not in first and "<tools>" in first["messages"][0]["content"]
    assert first["chat_template_kwargs"] == {"enable_thinking": True}
    history = server.requests[-1]["messages"]
    assert history[2]["role"] == "assistant" and '<tool_call>\n{"name": "eval"' in history[2]["content"]
    assert history[3]["role"] == "user" and history[3]["content"].startswith("<tool_response>")
    m = episode.messages
    assert m[2]["reasoning_content"] == "Run the tests." and m[2]["content"] == "Running them."
    assert m[2]["tool_calls"][0]["function"]["name"] == "eval"
    assert m[4]["tool_calls"][0]["function"]["name"] == "view"
    assert "not valid JSON" in m[7]["content"]
    assert m[9]["role"] == "user" and "not a JSON object with a name" in m[9]["content"]


def test_old_observations_are_trimmed_to_the_context_budget(chat_server):
    server = chat_server([tool_reply("view", {"path": "solution.py"})] * 6 + [tool_reply("eval")])
    episode = play(server, context_tokens=1900, max_tokens=200, max_steps=7)
    assert episode.error == ""
    last = server.requests[-1]["messages"]
    assert last[0] == episode.messages[0] and last[1] == episode.messages[1]  # system and task prompt untouched
    assert "trimmed to fit the context" in last[3]["content"]
    assert last[-1]["content"] == episode.messages[-3]["content"]  # the latest observation is whole
    assert all("trimmed" not in m["content"] for m in episode.messages)  # the trajectory keeps everything


def test_a_reply_cut_at_the_token_limit_is_explained(chat_server):
    server = chat_server([text_reply("Let me think about", finish_reason="length"), tool_reply("eval")])
    episode = play(server, max_steps=2)
    assert "cut at the token limit" in episode.messages[3]["content"]


def test_history_calls_as_text_keep_the_turns_text(chat_server):
    # transformers serve drops the text of an assistant message with tool_calls: "text" sends the calls in it.
    server = chat_server([tool_reply("view", {"path": "solution.py"}, content="Let me read it."), tool_reply("eval")])
    play(server, max_steps=2, history_calls="text")
    turn = server.requests[1]["messages"][2]
    assert "tool_calls" not in turn
    assert turn["content"] == 'Let me read it.\n<tool_call>\n{"name": "view", "arguments": {"path": "solution.py"}}\n</tool_call>'
