"""The most of one event field the trace keeps, so that one runaway reply or tool output cannot bloat the
store: model text, tool-call arguments and tool results over ``MAX_FIELD_CHARS`` are cut, and the cut says
so (``…[cut: 10,485,760 chars, 10,420,224 not stored]``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

MAX_FIELD_CHARS = 65_536
"""Characters kept per text field of an event (64 KiB of ASCII)."""


def cap_text(text: str | None, limit: int = MAX_FIELD_CHARS) -> str | None:
    """``text`` cut to ``limit`` characters with a marker saying how much was left out."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}…[cut: {len(text):,} chars, {len(text) - limit:,} not stored]"


def cap_value(value: Any) -> Any:
    """``value`` (JSON-like) with every string in it capped; small values come back as they are."""
    if isinstance(value, str):
        return cap_text(value)
    if isinstance(value, dict):
        return {k: cap_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cap_value(v) for v in value]
    return value


def cap_calls(calls: tuple[Any, ...]) -> tuple[Any, ...]:
    """Tool calls (``trace.types.ToolCall``, a dataclass) with their arguments capped."""
    out = []
    for call in calls:
        raw, args = call.raw_arguments, call.arguments
        capped_raw, capped_args = cap_text(raw), cap_value(args) if args is not None else None
        same = capped_raw is raw and capped_args == args
        out.append(call if same else replace(call, raw_arguments=capped_raw, arguments=capped_args))
    return tuple(out)
