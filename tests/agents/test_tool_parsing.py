"""Reading tool calls and thinking from text, and trimming a conversation to a budget."""

from __future__ import annotations

import json

from gym_pdb.agents.context import TRIMMED, estimate_tokens, fit_context
from gym_pdb.agents.tool_parsing import parse_tool_calls, split_thinking


def test_qwen3_hermes_and_coder_formats():
    qwen = parse_tool_calls('Let me look.\n<tool_call>\n{"name": "view", "arguments": {"path": "a.py"}}\n</tool_call>')
    assert qwen.content == "Let me look." and [(c.name, json.loads(c.arguments)) for c in qwen.calls] == [
        ("view", {"path": "a.py"})
    ]
    hermes = parse_tool_calls("<tool_call>\n{'arguments': {'command': 'p x'}, 'name': 'pdb'}\n</tool_call>")
    assert hermes.calls[0].name == "pdb" and json.loads(hermes.calls[0].arguments) == {"command": "p x"}
    fenced = parse_tool_calls('<tool_call>\n```json\n{"name": "eval", "arguments": "{}"}\n```\n</tool_call>')
    assert fenced.calls[0].name == "eval" and fenced.calls[0].arguments == "{}"
    coder = parse_tool_calls(
        "<tool_call>\n<function=pdb>\n<parameter=command>\nb a.py:3\n</parameter>\n</function>\n</tool_call>"
    )
    assert coder.calls[0].name == "pdb" and json.loads(coder.calls[0].arguments) == {"command": "b a.py:3"}


def test_several_calls_open_blocks_and_problems():
    two = parse_tool_calls(
        '<tool_call>{"name": "eval"}</tool_call> and <tool_call>{"name": "view", "arguments": {"path": "x"}}</tool_call>'
    )
    assert [c.name for c in two.calls] == ["eval", "view"] and two.content == "and"
    assert parse_tool_calls('<tool_call>\n{"name": "eval", "arguments": {}}').calls[0].name == "eval"
    broken = parse_tool_calls(
        '<tool_call>{"name": "rewrite", "arguments": {"path": "a.py", "new_code": "x = "1""}}</tool_call>'
    )
    assert broken.calls[0].name == "rewrite" and broken.calls[0].arguments.startswith('{"path"')
    nameless = parse_tool_calls("<tool_call>[1, 2]</tool_call>")
    assert not nameless.calls and "not a JSON object with a name" in nameless.problems[0]
    assert parse_tool_calls("no call here").calls == []


def test_thinking_is_split_off():
    assert split_thinking("<think>hmm</think>\nanswer") == ("hmm", "answer")
    assert split_thinking("hmm, so</think>answer") == ("hmm, so", "answer")  # the template opened <think>
    assert split_thinking("<think>cut off in the middle") == ("cut off in the middle", "")
    assert split_thinking("plain") == (None, "plain")
    assert split_thinking(None) == (None, "")


def test_fit_context_trims_oldest_observations_only():
    messages = [
        {"role": "system", "content": "S" * 500},
        {"role": "user", "content": "U" * 500},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "1", "function": {"name": "view", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "1", "content": "A" * 1000},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "2", "function": {"name": "view", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "2", "content": "B" * 1000},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "3", "function": {"name": "view", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "3", "content": "C" * 1000},
    ]

    def count(msgs):
        return estimate_tokens(msgs, None, 1.0)

    fitted, trimmed = fit_context(messages, count(messages) - 500, count)
    assert trimmed == 1 and fitted[3]["content"] == TRIMMED.format(n=1000) and fitted[5]["content"] == "B" * 1000
    assert messages[3]["content"] == "A" * 1000  # the input is not changed
    fitted, trimmed = fit_context(messages, 100, count)  # cannot fit: trims all it may, keeps the rest
    assert trimmed == 2 and fitted[0] == messages[0] and fitted[1] == messages[1] and fitted[7] == messages[7]
    assert fit_context(messages, 10**6, count) == (messages, 0)
