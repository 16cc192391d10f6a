"""A provider's chat completion read as a ``ModelReply``, or refused as a ``malformed_reply``.

With native tools, a reply whose calls came as ``<tool_call>`` text (a vLLM or SGLang server started without
a tool parser, a llama.cpp server without ``--jinja``) is read as those calls, and replayed as native
``tool_calls``, which the model's chat template renders back as the text it wrote.

A reply with no choices, a choice without a message, content that is not text, a tool call without a name or
whose arguments are neither JSON text nor an object, or text over ``MAX_REPLY_CHARS`` is no reply the loop can
act on: it raises ``ModelCallError`` (class ``malformed_reply``), which the gateway retries once and the sample
records as its error, instead of an exception that would end the whole run.
"""

from __future__ import annotations

import json
from typing import Any

from evalkit.models import textproto
from evalkit.models.types import ModelCallError, ModelReply
from evalkit.trace.reasoning import REASONING_FIELDS, split_reasoning
from evalkit.trace.types import ToolCall, Usage

MAX_REPLY_CHARS = 1_000_000
"""The longest reply text taken (a runaway model, or a server sending megabytes): about 250k tokens, beyond
any answer to a task."""


def malformed(why: str) -> ModelCallError:
    return ModelCallError(f"malformed reply: {why}", transient=True, error_class="malformed_reply")


def _get(obj: Any, name: str) -> Any:
    """A field of a reply part: a key of the direct client's decoded JSON, an attribute of litellm's objects."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def parse_reply(response: Any, latency: float, native: bool, cost_of: Any) -> ModelReply:
    """``response`` (litellm's ``ModelResponse``, or the decoded JSON of a chat completion) as a
    ``ModelReply``; ``cost_of(usage)`` prices it."""
    choices = _get(response, "choices")
    if not choices or not isinstance(choices, list):
        raise malformed("the reply has no choices")
    message = _get(choices[0], "message")
    if message is None:
        raise malformed("the reply's first choice has no message")
    text = _get(message, "content")
    if text is not None and not isinstance(text, str):
        raise malformed(f"the message content is a {type(text).__name__}, not text")
    reasoning, text = _reasoning(message, text)
    content = text or ""
    if len(content) > MAX_REPLY_CHARS:
        raise malformed(f"the reply has {len(content):,} characters (at most {MAX_REPLY_CHARS:,} are taken)")
    calls: tuple[ToolCall, ...]
    if native:
        calls = tuple(_parse_native_call(tc, i) for i, tc in enumerate(_get(message, "tool_calls") or ()))
        if not calls and "<tool_call>" in content:  # a server without a tool parser: the calls came as text
            content, calls = textproto.parse_tool_calls(content)
            text = content
    else:
        content, calls = textproto.parse_tool_calls(content)
    u = _get(response, "usage")
    usage = Usage(
        prompt_tokens=_count(_get(u, "prompt_tokens")),
        completion_tokens=_count(_get(u, "completion_tokens")),
    )
    # Replayed as the next turn's history: content "" rather than null, which some servers' chat templates
    # (llama-cpp-python's) fail on with HTTP 500.
    raw: dict[str, Any] = {"role": "assistant", "content": text or ""}
    if native and calls:
        raw["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _raw_args(c)}} for c in calls
        ]
    return ModelReply(
        content=content,
        tool_calls=calls,
        usage=usage,
        latency_s=latency,
        cost_usd=cost_of(usage),
        raw_message=raw,
        finish_reason=_finish_reason(choices[0]),
        reasoning=reasoning,
        reasoning_tokens=_reasoning_tokens(u),
    )


def _reasoning(message: Any, text: str | None) -> tuple[str | None, str | None]:
    """The reply's reasoning and its content without it (``trace.reasoning.split_reasoning``): a
    ``reasoning_content`` or ``reasoning`` field, else a ``<think>`` block that opens the content."""
    field = next((v for f in REASONING_FIELDS if isinstance(v := _get(message, f), str) and v), None)
    return split_reasoning(field, text)


def _reasoning_tokens(usage: Any) -> int | None:
    """``usage.completion_tokens_details.reasoning_tokens`` (OpenAI, litellm, vLLM and SGLang when they count
    them), else None: unknown, not zero."""
    details = _get(usage, "completion_tokens_details")
    value = _get(details, "reasoning_tokens") if details is not None else None
    return _count(value) if value is not None else None


def _count(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _finish_reason(choice: Any) -> str | None:
    reason = _get(choice, "finish_reason")
    return str(reason) if reason else None


def _raw_args(call: ToolCall) -> str:
    if call.raw_arguments is not None:
        return call.raw_arguments
    return json.dumps(call.arguments or {}, separators=(",", ":"))


def _parse_native_call(tc: Any, index: int) -> ToolCall:
    """One native tool call. Arguments that are JSON text but not an object stay a call with ``arguments``
    None (the model sees a malformed-call error and may correct itself); arguments that are not text at
    all, or a call without a function, are the provider's fault: a malformed reply."""
    fn = _get(tc, "function")
    if fn is None:
        raise malformed(f"tool call {index} has no function")
    arguments = _get(fn, "arguments")
    if arguments is None or isinstance(arguments, dict):
        raw = json.dumps(arguments or {})
    elif isinstance(arguments, str):
        raw = arguments
    else:
        raise malformed(f"the arguments of tool call {index} are a {type(arguments).__name__}, not JSON text")
    if len(raw) > MAX_REPLY_CHARS:
        raise malformed(f"the arguments of tool call {index} have {len(raw):,} characters")
    call_id = _get(tc, "id") or f"call_{index}"
    fn_name = _get(fn, "name")
    name = fn_name if isinstance(fn_name, str) else ""
    try:
        args = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return ToolCall(call_id, name, None, raw)
    if not isinstance(args, dict):
        return ToolCall(call_id, name, None, raw)
    return ToolCall(call_id, name, args)
