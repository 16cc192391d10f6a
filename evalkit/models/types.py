"""Typed model-call results and the errors the gateway raises."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from evalkit.trace.types import ToolCall, Usage


@dataclass(frozen=True)
class ModelReply:
    """One model call's outcome, independent of the provider."""

    content: str
    tool_calls: tuple[ToolCall, ...]
    usage: Usage
    latency_s: float
    cost_usd: float | None
    cached: bool = False
    raw_message: dict[str, Any] | None = None
    finish_reason: str | None = None
    """Why the provider ended the reply (``stop``, ``tool_calls``, ``length`` when ``max_tokens`` cut it, ...);
    ``None`` when it did not say."""
    reasoning: str | None = None
    """The model's reasoning, apart from ``content`` (a ``reasoning_content`` or ``reasoning`` field, or a
    ``<think>`` block that opens the reply); never read for the answer."""
    reasoning_tokens: int | None = None
    """The completion tokens spent on reasoning, when the provider reports them
    (``usage.completion_tokens_details.reasoning_tokens``); already counted in ``usage.completion_tokens``."""


ErrorClass = Literal[
    "auth_failed",
    "request_rejected",
    "rate_limited",
    "timeout",
    "connection",
    "server_error",
    "malformed_reply",
    "provider_error",
]
"""What a failed model call was. ``auth_failed`` (HTTP 401/403, or credentials litellm refuses) stops the
run; ``request_rejected`` (a 4xx, or the same server error for every sample) is the request's fault, not an
outage; ``malformed_reply`` is a reply that is no usable chat completion (no choices, no message, not JSON,
tool-call arguments that are no JSON text, too large); the others are outages that a retry may cure."""


class ModelCallError(Exception):
    """A model call failed. ``transient`` errors (rate limits, timeouts, outages) are retried;
    ``retry_after`` is the provider's Retry-After in seconds when it sent one; ``error_class`` says what
    failed and ``status`` is the HTTP status when the server answered with one."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        error_class: ErrorClass = "provider_error",
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
        self.error_class: ErrorClass = error_class
        self.status = status

    @property
    def signature(self) -> str:
        """The failure without what varies between requests (numbers, ids): two samples failing with the
        same signature failed the same way."""
        text = re.sub(r"[0-9a-f]{8,}|\d+", "#", str(self)[:300])
        return f"{self.error_class}|{self.status}|{text}"
