"""Tokens and time a trace format recorded, as the fields of a ``Sample`` (see ``trace.external``'s ``usage``)."""

from __future__ import annotations

import math
from typing import Any

from evalkit.fileio import shown


def recorded_usage(raw: Any, found: list[str]) -> dict[str, Any]:
    """The ``Sample`` fields a line's ``usage`` gives (tokens only as a pair), or what is wrong with it."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        found.append(f"usage: must be an object, got {shown(raw)}")
        return {}
    out: dict[str, Any] = {}
    for key in ("prompt_tokens", "completion_tokens"):
        v = raw.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            found.append(f"usage.{key}: must be a whole number from 0, got {shown(v)}")
        elif v is not None:
            out[key] = v
    if len(out) == 1:
        out = {"prompt_tokens": out.get("prompt_tokens", 0), "completion_tokens": out.get("completion_tokens", 0)}
    v = raw.get("latency_s")
    if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0):
        found.append(f"usage.latency_s: must be a number of seconds from 0, got {shown(v)}")
    elif v is not None:
        out["latency_s"] = float(v)
    return out
