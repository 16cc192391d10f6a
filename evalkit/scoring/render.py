"""A compact text rendering of one trace, for a judge's prompt.

One line (or a few) per event: the question, each model turn's text and its tool calls with their
arguments, each tool result (``ok`` or ``ERROR <type>``) cut to its first lines, and the final answer.
The system prompt is not repeated (it is the same for every sample). Long texts keep their head and tail;
a trace that is still too long keeps its first and last events and says how many were left out.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from evalkit.contracts.answers import expected_text

if TYPE_CHECKING:
    from evalkit.contracts.suite import TaskSpec
    from evalkit.trace.types import Event, Sample

RESULT_CHARS = 700
"""Characters kept of one tool result."""
RESULT_LINES = 14
"""Lines kept of one tool result (a table keeps its header and first rows)."""
TEXT_CHARS = 1500
"""Characters kept of one model turn's text."""
TRACE_CHARS = 16000
"""Characters of the whole rendering before middle events are left out."""


def clip(text: str, limit: int, *, lines: int | None = None) -> str:
    """``text`` cut to ``lines`` lines and ``limit`` characters (head and tail kept), saying what was cut."""
    text = text.strip()
    parts = text.splitlines()
    if lines is not None and len(parts) > lines:
        text = "\n".join(parts[:lines]) + f"\n… ({len(parts) - lines} more lines)"
    if len(text) <= limit:
        return text
    head = text[: limit * 2 // 3].rstrip()
    tail = text[-(limit // 3) :].lstrip()
    return f"{head} … ({len(text) - len(head) - len(tail)} characters left out) … {tail}"


def _args(arguments: dict[str, Any] | None, raw: str | None) -> str:
    if arguments is None:
        return f"<invalid JSON: {clip(raw or '', 200)}>"
    if set(arguments) == {"query"} and isinstance(arguments["query"], str):
        return " ".join(arguments["query"].split())  # the SQL itself, on one line
    return json.dumps(arguments, ensure_ascii=False, separators=(", ", ": "))


def render_event(e: Event) -> str:
    """One event as text (without the system prompt's content)."""
    if e.kind == "system":
        return f"[{e.seq}] SYSTEM PROMPT ({len(e.content or '')} characters, not shown)"
    if e.kind == "user":
        return f"[{e.seq}] USER: {clip(e.content or '', TEXT_CHARS)}"
    if e.kind == "model":
        out = f"[{e.seq}] AGENT (turn {e.turn}):"
        if e.content and e.content.strip():
            out += " " + clip(e.content, TEXT_CHARS)
        for c in e.tool_calls:
            out += f"\n    → {c.name}({_args(c.arguments, c.raw_arguments)})"
        return out
    status = "ok" if e.ok else f"ERROR {e.error_type or 'unknown'}"
    body = clip(e.content or "", RESULT_CHARS, lines=RESULT_LINES)
    body = "\n".join("    " + line for line in body.splitlines()) if body else "    (empty)"
    return f"[{e.seq}] TOOL {e.tool or '?'} → {status}\n{body}"


def render_trace(sample: Sample, *, max_chars: int = TRACE_CHARS) -> str:
    """The sample's events as compact text, then how it ended and its final answer."""
    blocks = [render_event(e) for e in sample.events]
    total = sum(len(b) + 1 for b in blocks)
    if total > max_chars and len(blocks) > 4:
        head: list[str] = []
        tail: list[str] = []
        budget = max_chars
        i, j = 0, len(blocks) - 1
        while i <= j:  # alternate: keep the start (the question, discovery) and the end (the answer)
            pick_head = len(head) <= len(tail)
            block = blocks[i] if pick_head else blocks[j]
            if len(block) + 1 > budget:
                break
            budget -= len(block) + 1
            if pick_head:
                head.append(block)
                i += 1
            else:
                tail.append(block)
                j -= 1
        left_out = j - i + 1
        blocks = [*head, f"… ({left_out} events left out) …", *reversed(tail)] if left_out > 0 else blocks
    end = f"STOPPED BY: {sample.stop_reason}"
    if sample.status != "ok":
        end += f" ({sample.status}: {sample.error or ''})"
    answer = sample.final_answer if sample.final_answer else "(none)"
    return "\n".join([*blocks, end, f"FINAL ANSWER: {answer}"])


def question_of(sample: Sample, task: TaskSpec | None) -> str:
    """The task's question, else the first user message of the trace."""
    if task is not None:
        return task.question
    for e in sample.events:
        if e.kind == "user" and e.content:
            return e.content
    return ""


def expected_of(sample: Sample, task: TaskSpec | None) -> str:
    """The expected answer in words (``expected_text`` with detail: a list's order, a template's wording and
    blanks), else the one recorded with the sample, or ``(unknown)``."""
    if task is None:
        return sample.expected or "(unknown)"
    return expected_text(task, detail=True)
