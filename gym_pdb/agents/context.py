"""Fit a conversation into the model's context by trimming old observations.

The system prompt, the task prompt and the latest turn (the last assistant
message and what answered it) are never touched; older tool outputs are
replaced by a short note, oldest first, until the estimate fits.
"""

from __future__ import annotations

import json
from typing import Any, Callable

TRIMMED = "[output trimmed to fit the context: {n} characters]"


def estimate_tokens(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, chars_per_token: float) -> int:
    """A rough token count: characters over ``chars_per_token``, plus a few per message."""
    chars = sum(len(_text(m)) for m in messages) + (len(json.dumps(tools)) if tools else 0)
    return int(chars / chars_per_token) + 8 * len(messages)


def fit_context(
    messages: list[dict[str, Any]],
    budget: int,
    count: Callable[[list[dict[str, Any]]], int],
) -> tuple[list[dict[str, Any]], int]:
    """A copy of ``messages`` that ``count`` puts within ``budget`` tokens where trimming can.

    Returns the messages and how many observations were trimmed.
    """
    out = [dict(m) for m in messages]
    if count(out) <= budget:
        return out, 0
    protected = _protected(out)
    trimmed = 0
    for i, message in enumerate(out):
        if i in protected or message.get("role") not in ("tool", "user"):
            continue
        content = message.get("content") or ""
        if len(content) <= len(TRIMMED) + 20:
            continue
        message["content"] = TRIMMED.format(n=len(content))
        trimmed += 1
        if count(out) <= budget:
            break
    return out, trimmed


def _protected(messages: list[dict[str, Any]]) -> set[int]:
    """Indices never trimmed: system messages, the first user message, the latest turn."""
    keep = {i for i, m in enumerate(messages) if m.get("role") == "system"}
    first_user = next((i for i, m in enumerate(messages) if m.get("role") == "user"), None)
    if first_user is not None:
        keep.add(first_user)
    last_assistant = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
    if last_assistant is None:
        keep.update(range(len(messages)))
    else:
        keep.update(range(last_assistant, len(messages)))
    return keep


def _text(message: dict[str, Any]) -> str:
    text = message.get("content") or ""
    if not isinstance(text, str):
        text = json.dumps(text)
    for call in message.get("tool_calls") or ():
        function = call.get("function", {})
        text += function.get("name", "") + str(function.get("arguments", ""))
    return text
