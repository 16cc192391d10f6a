"""A provider's chat completion read as a ``ModelReply``, or refused as a ``malformed_reply``.

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
from evalkit.trace.types import ToolCall, Usage

MAX_REPLY_CHARS = 1_000_000
"""The longest reply text taken (a runaway model, or a server sending megabytes): about 250k tokens, beyond
any answer to a task."""


def malformed(why: str) -> ModelCallError:
    return ModelCallError(f"malformed reply: {why}", transient=True, error_class="malformed_reply")


def parse_reply(response: Any, latency: float, native: bool, cost_of: Any) -> ModelReply:
    """``response`` (litellm's ``ModelResponse``) as a ``ModelReply``; ``cost_of(usage)`` prices it."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise malformed("the reply has no choices")
    message = getattr(choices[0], "message", None)
    if message is None:
        raise malformed("the reply's first choice has no message")
    text = getattr(message, "content", None)
    if text is not None and not isinstance(text, str):
        raise malformed(f"the message content is a {type(text).__name__}, not text")
    content = text or ""
    if len(content) > MAX_REPLY_CHARS:
        raise malformed(f"the reply has {len(content):,} characters (at most {MAX_REPLY_CHARS:,} are taken)")
    calls: tuple[ToolCall, ...]
    if native:
        calls = tuple(_parse_native_call(tc, i) for i, tc in enumerate(getattr(message, "tool_calls", None) or ()))
    else:
        content, calls = textproto.parse_tool_calls(content)
    u = getattr(response, "usage", None)
    usage = Usage(
        prompt_tokens=int(getattr(u, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(u, "completion_tokens", 0) or 0),
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
    )


def _finish_reason(choice: Any) -> str | None:
    reason = getattr(choice, "finish_reason", None)
    return str(reason) if reason else None


def _raw_args(call: ToolCall) -> str:
    if call.raw_arguments is not None:
        return call.raw_arguments
    return json.dumps(call.arguments or {}, separators=(",", ":"))


def _parse_native_call(tc: Any, index: int) -> ToolCall:
    """One native tool call. Arguments that are JSON text but not an object stay a call with ``arguments``
    None (the model sees a malformed-call error and may correct itself); arguments that are not text at
    all, or a call without a function, are the provider's fault: a malformed reply."""
    fn = getattr(tc, "function", None)
    if fn is None:
        raise malformed(f"tool call {index} has no function")
    if fn.arguments is None or isinstance(fn.arguments, dict):
        raw = json.dumps(fn.arguments or {})
    elif isinstance(fn.arguments, str):
        raw = fn.arguments
    else:
        raise malformed(f"the arguments of tool call {index} are a {type(fn.arguments).__name__}, not JSON text")
    if len(raw) > MAX_REPLY_CHARS:
        raise malformed(f"the arguments of tool call {index} have {len(raw):,} characters")
    call_id = getattr(tc, "id", None) or f"call_{index}"
    name = fn.name if isinstance(fn.name, str) else ""
    try:
        args = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return ToolCall(call_id, name, None, raw)
    if not isinstance(args, dict):
        return ToolCall(call_id, name, None, raw)
    return ToolCall(call_id, name, args)
