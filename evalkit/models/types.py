"""Typed model-call results and the errors the gateway raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


class ModelCallError(Exception):
    """A model call failed. ``transient`` errors (rate limits, timeouts, outages) are retried;
    ``retry_after`` is the provider's Retry-After in seconds when it sent one."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after
