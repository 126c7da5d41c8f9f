"""A chat client for any OpenAI-compatible endpoint (vLLM, SGLang, OpenAI, ...).

Requests go through the ``openai`` package with its own retries off: this
client retries 408/409/429/5xx answers, timeouts and dropped connections with
exponential backoff (honouring ``Retry-After``), and turns anything else into
an :class:`LLMError` that names the problem.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from gym_pdb.agents.base import Usage
from gym_pdb.agents.prompts import text_tools_prompt

TOOL_FORMATS = ("native", "text")
RETRY_STATUS = {408, 409, 429}


@dataclass
class LLMConfig:
    """How to reach and sample the model.

    ``tool_format="native"`` sends the tool schemas and reads the server's
    ``tool_calls`` (vLLM needs ``--enable-auto-tool-choice --tool-call-parser
    hermes`` for Qwen3); ``"text"`` puts the tools into the system prompt and
    reads ``<tool_call>`` blocks from the reply, for servers without a parser.
    Replies are read for ``<tool_call>`` blocks in both formats when the server
    returned no ``tool_calls``. ``enable_thinking`` sets Qwen3's chat-template
    switch (None: the server's default). ``context_tokens`` bounds the prompt
    plus ``max_tokens``; old observations are trimmed to fit.
    ``history_calls="text"`` sends the history's tool calls of a native request
    as the ``<tool_call>`` blocks Qwen3's template renders, in the message's
    text: ``transformers serve`` drops the text of an assistant message that
    has ``tool_calls``, so a model would see a history it was not trained on.
    """

    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = 4096
    enable_thinking: bool | None = None
    tool_format: str = "native"
    history_calls: str = "native"
    context_tokens: int | None = 32768
    chars_per_token: float = 3.0
    timeout: float = 600.0
    max_retries: int = 6
    backoff: float = 1.0
    backoff_max: float = 60.0
    extra_body: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tool_format not in TOOL_FORMATS:
            raise ValueError(f"tool_format must be one of {TOOL_FORMATS}, not {self.tool_format!r}")
        if self.history_calls not in TOOL_FORMATS:
            raise ValueError(f"history_calls must be one of {TOOL_FORMATS}, not {self.history_calls!r}")


class LLMError(RuntimeError):
    """The model could not be asked (unreachable, refused, out of retries)."""


@dataclass
class Completion:
    content: str
    reasoning: str | None
    tool_calls: list[dict[str, Any]]
    usage: Usage
    finish_reason: str
    retries: int = 0


class ChatClient:
    """Chat completions with retries; one per worker."""

    def __init__(self, config: LLMConfig, sleep: Callable[[float], None] = time.sleep):
        try:
            import openai
        except ImportError:
            raise LLMError("LLM agents need the openai package: pip install 'gym-pdb[agents]'") from None
        self.config = config
        self._openai = openai
        self._sleep = sleep
        base_url = config.base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=os.environ.get(config.api_key_env) or "EMPTY",
            timeout=config.timeout,
            max_retries=0,
        )
        self._model = config.model

    @property
    def model(self) -> str:
        """The configured model, else the first one the server lists."""
        if not self._model:
            models = self._with_retries(lambda: self.client.models.list())
            if not models.data:
                raise LLMError(f"the server at {self.client.base_url} lists no models; pass --model")
            self._model = models.data[0].id
        return self._model

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> Completion:
        """One chat completion; ``messages`` in the trajectory's format."""
        cfg = self.config
        if cfg.tool_format == "text":
            request = to_text_messages(messages, tools or [])
            tools = None
        else:
            request = to_native_messages(messages, text_calls=cfg.history_calls == "text")
        kwargs: dict[str, Any] = {"model": self.model, "messages": request}
        if tools:
            kwargs["tools"] = tools
        for key in ("temperature", "top_p", "max_tokens"):
            if getattr(cfg, key) is not None:
                kwargs[key] = getattr(cfg, key)
        extra = dict(cfg.extra_body)
        if cfg.enable_thinking is not None:
            extra["chat_template_kwargs"] = {
                **extra.get("chat_template_kwargs", {}),
                "enable_thinking": cfg.enable_thinking,
            }
        if extra:
            kwargs["extra_body"] = extra
        tries = [0]

        def call() -> Any:  # an openai ChatCompletion
            tries[0] += 1
            return self.client.chat.completions.create(**kwargs)

        response = self._with_retries(call)
        if not response.choices:
            raise LLMError("the server answered with no choices")
        choice = response.choices[0]
        message = choice.message
        reasoning = getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)
        calls = [
            {
                "id": call.id or "",
                "type": "function",
                "function": {"name": call.function.name or "", "arguments": call.function.arguments or ""},
            }
            for call in (message.tool_calls or [])
            if getattr(call, "function", None) is not None
        ]
        usage = response.usage
        return Completion(
            content=message.content or "",
            reasoning=reasoning if isinstance(reasoning, str) else None,
            tool_calls=calls,
            usage=Usage(getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0),
            finish_reason=choice.finish_reason or "",
            retries=tries[0] - 1,
        )

    def _with_retries(self, call: Callable[[], Any]) -> Any:
        openai = self._openai
        cfg = self.config
        last: Exception | None = None
        for attempt in range(cfg.max_retries + 1):
            try:
                return call()
            except openai.APIStatusError as exc:
                if exc.status_code not in RETRY_STATUS and exc.status_code < 500:
                    raise LLMError(f"the server refused the request (HTTP {exc.status_code}): {_detail(exc)}") from None
                last = exc
                wait = _retry_after(exc)
            except openai.APIConnectionError as exc:  # includes APITimeoutError
                last = exc
                wait = None
            if attempt == cfg.max_retries:
                break
            backoff = min(cfg.backoff_max, cfg.backoff * 2**attempt) * random.uniform(0.5, 1.0)
            self._sleep(min(cfg.backoff_max, wait) if wait is not None else backoff)
        kind = "timed out" if isinstance(last, openai.APITimeoutError) else _describe(last)
        raise LLMError(f"the model server at {self.client.base_url} {kind}; gave up after {cfg.max_retries + 1} tries")

    def close(self) -> None:
        self.client.close()


def to_native_messages(messages: list[dict[str, Any]], text_calls: bool = False) -> list[dict[str, Any]]:
    """Trajectory messages as an OpenAI request takes them (no reasoning, no tool names).

    A call whose arguments are not a JSON object (the model wrote it so), or every call if ``text_calls``,
    goes back as the tagged text it was read from, not as a ``tool_calls`` entry: servers decode those
    arguments to render the history, and some (``transformers serve``) answer the whole request with HTTP
    500 when they do not parse.
    """
    out = []
    for m in messages:
        sent: dict[str, Any] = {"role": m["role"], "content": m.get("content") or ""}
        if m["role"] == "assistant" and m.get("tool_calls"):
            native = [c for c in m["tool_calls"] if not text_calls and _json_object(c["function"].get("arguments") or "{}")]
            malformed = [c for c in m["tool_calls"] if c not in native]
            if native:
                sent["tool_calls"] = native
            if malformed:
                blocks = [tagged_call(c["function"]["name"], c["function"].get("arguments") or "") for c in malformed]
                sent["content"] = "\n".join(([sent["content"]] if sent["content"] else []) + blocks)
        if m["role"] == "tool":
            sent["tool_call_id"] = m.get("tool_call_id", "")
        out.append(sent)
    return out


def tagged_call(name: str, arguments: str) -> str:
    """A call as Qwen3's template writes it: ``arguments`` (JSON text, or what the model wrote) as they are."""
    return f'<tool_call>\n{{"name": {json.dumps(name)}, "arguments": {arguments}}}\n</tool_call>'


def _json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def to_text_messages(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Trajectory messages as plain chat: tools in the system prompt, calls and results as tagged text."""
    out: list[dict[str, Any]] = []
    for m in messages:
        role, content = m["role"], m.get("content") or ""
        if role == "system":
            out.append({"role": "system", "content": f"{content}\n\n{text_tools_prompt(tools)}"})
        elif role == "assistant":
            parts = [content] if content else []
            for call in m.get("tool_calls") or []:
                function = call["function"]
                arguments = function.get("arguments") or "{}"
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    pass
                parts.append(tagged_call(function["name"], json.dumps(arguments)))
            out.append({"role": "assistant", "content": "\n".join(parts)})
        elif role == "tool":
            block = f"<tool_response>\n{content}\n</tool_response>"
            if out and out[-1].get("_tool_responses"):
                out[-1]["content"] += "\n" + block
            else:
                out.append({"role": "user", "content": block, "_tool_responses": True})
        else:
            out.append({"role": role, "content": content})
    for m in out:
        m.pop("_tool_responses", None)
    return out


def _retry_after(exc: Any) -> float | None:
    try:
        value = exc.response.headers.get("retry-after")
        return max(0.0, float(value)) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        body = body.get("message") or body.get("error") or body
    text = str(body or getattr(exc, "message", "") or exc)
    return text if len(text) <= 500 else text[:500] + "..."


def _describe(exc: Exception | None) -> str:
    if exc is None:
        return "did not answer"
    status = getattr(exc, "status_code", None)
    if status is not None:
        return f"kept failing (HTTP {status}: {_detail(exc)})"
    return f"could not be reached ({exc})"
