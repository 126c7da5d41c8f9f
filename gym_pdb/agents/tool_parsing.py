"""Read tool calls and thinking out of a model's text, for servers without a tool-call parser.

Formats: Qwen3 and hermes ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
(hermes models also write Python-style dicts with single quotes), Qwen3-Coder's
``<tool_call><function=NAME><parameter=KEY>value</parameter></function></tool_call>``,
and a last block left open when generation stopped at the closing tag.
Thinking is ``<think>...</think>``, or only ``...</think>`` when the chat
template put the opening tag into the prompt.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field

TOOL_CALL_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.S)
FUNCTION_XML = re.compile(r"<function=([^>\s]+)>(.*?)(?:</function>|\Z)", re.S)
PARAMETER_XML = re.compile(r"<parameter=([^>\s]+)>\n?(.*?)\n?(?:</parameter>|(?=<parameter=)|\Z)", re.S)
NAME_FIELD = re.compile(r"""["']name["']\s*:\s*["']([A-Za-z_][\w.-]*)["']""")
ARGUMENTS_FIELD = re.compile(r"""["'](?:arguments|parameters)["']\s*:\s*(.*)\}\s*$""", re.S)
FENCE = re.compile(r"^```(?:json|python)?\s*\n?(.*?)\n?```$", re.S)


@dataclass
class TextCall:
    name: str
    arguments: str  # JSON text, or the raw text when it did not parse


@dataclass
class ParsedText:
    content: str
    calls: list[TextCall] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def split_thinking(text: str | None) -> tuple[str | None, str]:
    """``(reasoning, rest)`` of a reply that may start with thinking."""
    if not text:
        return None, text or ""
    stripped = text.lstrip()
    if stripped.startswith("<think>"):
        body = stripped[len("<think>") :]
        reasoning, closed, rest = body.partition("</think>")
        if not closed:  # cut off while thinking
            return reasoning.strip() or None, ""
        return reasoning.strip() or None, rest.strip()
    if "</think>" in text and "<think>" not in text:
        reasoning, _, rest = text.partition("</think>")
        return reasoning.strip() or None, rest.strip()
    return None, text


def parse_tool_calls(text: str) -> ParsedText:
    """The tool calls written in ``text`` and the text around them."""
    blocks = list(TOOL_CALL_BLOCK.finditer(text))
    if not blocks:
        return ParsedText(content=text.strip())
    content = TOOL_CALL_BLOCK.sub("", text).strip()
    parsed = ParsedText(content=content)
    for block in blocks:
        body = block.group(1).strip()
        try:
            parsed.calls.append(_parse_block(body))
        except ValueError as exc:
            parsed.problems.append(str(exc))
    return parsed


def _parse_block(body: str) -> TextCall:
    fenced = FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    function = FUNCTION_XML.search(body)
    if function:
        arguments = {key: value for key, value in PARAMETER_XML.findall(function.group(2))}
        return TextCall(function.group(1), json.dumps(arguments))
    if not body:
        raise ValueError("a <tool_call> block is empty")
    data = _load_object(body)
    if data is None:
        name = NAME_FIELD.search(body)
        if not name:
            raise ValueError(f"a <tool_call> block is not a JSON object with a name: {_clip(body)}")
        raw = ARGUMENTS_FIELD.search(body)
        return TextCall(name.group(1), raw.group(1).strip() if raw else body)
    if isinstance(data.get("function"), dict):
        data = data["function"]
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"a <tool_call> block has no tool name: {_clip(body)}")
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str):
        return TextCall(name, arguments)
    return TextCall(name, json.dumps({} if arguments is None else arguments))


def _load_object(body: str) -> dict | None:
    try:
        data = json.loads(body)
    except ValueError:
        try:
            data = ast.literal_eval(body)  # hermes' Python-style dicts
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return data if isinstance(data, dict) else None


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
