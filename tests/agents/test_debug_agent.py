"""debug_agent and rewrite_agent against a real chat server on loopback."""

from __future__ import annotations

import json

import gymnasium as gym
from chat_server import MODEL, llm_config, text_reply, tool_reply

from gym_pdb.agents import make_agent, run_episode
from gym_pdb.agents.trajectory import trajectory_row

TOMORROW = "tomorrow_date_code.py"
FIX = """            elif day == 29:
                return datetime(year, 3, 1).date()
            else:
                return datetime(year, month, day + 1).date()"""


def test_debug_agent_solves_a_mini_nightmare_task_with_pdb(chat_server, data_dir):
    server = chat_server(
        [
            tool_reply("eval", content="First, which tests fail?"),
            tool_reply("view", {"path": TOMORROW, "start": 17, "end": 30}),
            tool_reply("pdb", {"command": "start", "runner": "pytest", "file": "test.py::test_tomorrow_date"}),
            tool_reply("pdb", {"command": f"b {TOMORROW}:26"}),
            tool_reply("pdb", {"command": "c"}),
            tool_reply("pdb", {"command": "p year, month, day"}, reasoning_content="Feb 29 of a leap year?"),
            tool_reply("rewrite", {"path": TOMORROW, "start": 25, "end": 26, "new_code": FIX}),
            tool_reply("eval"),
        ]
    )
    agent = make_agent("debug_agent", llm_config(server))
    env = gym.make("PDB-MiniNightmare-v0", data_dir=str(data_dir), max_episode_steps=20)
    try:
        episode = run_episode(env, agent, "tomorrow_date", max_steps=20)
    finally:
        env.close()
        agent.close()

    assert episode.error == "" and episode.resolved and episode.stop_reason == "resolved"
    assert episode.steps == 8 and dict(episode.tool_counts) == {"eval": 2, "view": 1, "pdb": 4, "rewrite": 1}
    tool_outputs = [m["content"] for m in episode.messages if m["role"] == "tool"]
    assert f"Current frame: {TOMORROW}:26 in date_plus_one()" in tool_outputs[4]  # continue reached the breakpoint
    assert tool_outputs[5].startswith("(2024, 2, 29)")  # print showed the leap day
    assert "passed" in tool_outputs[-1] and "FAILED" not in tool_outputs[-1]

    first = server.requests[0]
    assert first["model"] == MODEL  # the server's first model, as none was given
    assert {t["function"]["name"] for t in first["tools"]} == {"pdb", "rewrite", "view", "eval", "grep", "listdir"}
    assert first["messages"][0]["role"] == "system" and "breakpoints" in first["messages"][0]["content"]
    assert "only the first tool call of a turn is run" in first["messages"][0]["content"]
    later = server.requests[-1]["messages"]
    assert all("reasoning_content" not in m and ("name" not in m or m["role"] != "tool") for m in later)

    row = trajectory_row(episode, agent, "PDB-MiniNightmare-v0")
    assert row["agent"] == "debug_agent" and row["model"] == MODEL and row["enable_thinking"] is True
    assert row["tools"] == env.unwrapped.tools_schema()
    assistant = [m for m in row["messages"] if m["role"] == "assistant"]
    assert assistant[5]["reasoning_content"] == "Feb 29 of a leap year?"
    for message in assistant:
        (call,) = message["tool_calls"]
        assert call["type"] == "function" and isinstance(json.loads(call["function"]["arguments"]), dict)
    tools = [m for m in row["messages"] if m["role"] == "tool"]
    assert [t["tool_call_id"] for t in tools] == [a["tool_calls"][0]["id"] for a in assistant]
    assert [t["name"] for t in tools] == [a["tool_calls"][0]["function"]["name"] for a in assistant]


def test_rewrite_agent_has_no_pdb(chat_server):
    server = chat_server([tool_reply("pdb", {"command": "c"}), text_reply("I give up.")] + [text_reply("")] * 3)
    agent = make_agent("rewrite_agent", llm_config(server))
    env = gym.make("PDB-Demo-v0", tools=list(agent.tools), max_episode_steps=10)
    try:
        episode = run_episode(env, agent, "inventory", max_steps=10)
    finally:
        env.close()
        agent.close()
    assert {t["function"]["name"] for t in server.requests[0]["tools"]} == {
        "rewrite",
        "view",
        "eval",
        "grep",
        "listdir",
    }
    assert "pdb" not in server.requests[0]["messages"][0]["content"]
    assert "There is no tool 'pdb'" in episode.messages[3]["content"]
    assert episode.parse_errors == 1 and episode.stop_reason == "no_tool_call" and not episode.resolved
