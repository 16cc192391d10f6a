"""A reasoning model's thinking split from what it said, one rule for live replies and imported traces.

Reasoning comes either in its own field (``reasoning_content`` from litellm's, vLLM's and SGLang's reasoning
parsers, ``reasoning`` from newer vLLM and OpenRouter) or, from a server without a reasoning parser, as a
``<think>`` block (also ``<thinking>``, ``<budget:thinking>``) that opens the content, as Qwen3 writes it. The
block is split the way litellm splits it, so the direct client, litellm and an imported log record the same
reasoning. A block later in the content stays in it (the answer matcher, ``contracts.reply``, ignores it).
"""

from __future__ import annotations

import re

_OPENING_THOUGHT = re.compile(
    r"<(?:think|thinking|budget:thinking)>(.*?)</(?:think|thinking|budget:thinking)>(.*)", re.DOTALL
)
"""A reasoning block that opens the reply, as litellm splits it from an OpenAI-compatible server's content."""

REASONING_FIELDS = ("reasoning_content", "reasoning")
"""A message's fields that hold its reasoning apart from its content, in the order they are read."""


def split_reasoning(field: str | None, text: str | None) -> tuple[str | None, str | None]:
    """``(reasoning, content without it)``: ``field`` (the message's reasoning field) when it is non-empty text,
    else a ``<think>`` block that opens ``text``; ``(None, text)`` when there is neither."""
    if isinstance(field, str) and field:
        return field, text
    if text and text.startswith("<"):
        found = _OPENING_THOUGHT.match(text)
        if found:
            return found.group(1), found.group(2)
    return None, text
