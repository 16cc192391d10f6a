"""The HTML report's trace drill-down, packed so the page stays small and opens fast.

Each trace's body (question, verdicts, every event) is rendered once by ``templates/_trace_body.html.j2`` and
the bodies are packed, ``BLOCK_TRACES`` at a time, into gzip-compressed JSON blocks embedded as base64 in
non-executable ``<script type="application/x-evalkit-traces">`` elements. The page keeps only each trace's
one-line summary; its script decodes a block (``DecompressionStream``) the first time one of its traces is
opened. Embedded as markup, a trace cost about 11 kB (22 MB for 2,000); a block costs about a tenth of that,
because adjacent traces share their system prompt and schema. The file stays one self-contained document.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalkit.report.model import Report, Trace

if TYPE_CHECKING:
    import jinja2

__all__ = ["BLOCK_MEDIA_TYPE", "BLOCK_TRACES", "TOOL_RESULT_CHARS", "trace_blocks", "trace_view"]

TOOL_RESULT_CHARS = 2000
"""Tool results longer than this are cut in the page (``evalkit show --full`` prints them whole)."""
BLOCK_TRACES = 20
"""Traces per compressed block: opening a trace decodes its block only (a few tens of kB), while a block is
still long enough for gzip to share the text its traces repeat."""
BLOCK_MEDIA_TYPE = "application/x-evalkit-traces"
"""The ``type`` of a block's ``<script>``: not JavaScript, so the browser neither runs nor renders it."""


def trace_view(n: int, t: Trace, report: Report, labels: dict[str, str]) -> dict[str, Any]:
    """The view dict of trace number ``n``: its summary line's fields, its verdicts and events."""
    evidence: dict[int, list[str]] = defaultdict(list)
    verdicts = []
    for v in t.verdicts:
        key = f"{v.rubric}.{v.criterion}"
        failing = v.verdict == "fail"
        if failing:
            for seq in dict.fromkeys(v.evidence):
                evidence[seq].append(v.criterion)
        info = report.criterion_info(v.rubric, v.criterion)
        verdicts.append(
            {
                "key": key,
                "verdict": v.verdict,
                "value": v.value,
                "reason": v.reason,
                "failing": failing,
                "critical": info is not None and info.severity == "critical",
                "evidence": [(f"#trace-{n}-e{s}", s) for s in v.evidence],
            }
        )
    verdicts.sort(key=lambda v: (not v["failing"], v["key"]))
    return {
        "n": n,
        "block": n // BLOCK_TRACES,
        "t": t,
        "mark": "✓" if t.correct else "✗" if t.correct is False else "–",
        "state": "ok" if t.correct else "bad" if t.correct is False else "na",
        "mode": labels.get(t.failure_mode, "") if t.failure_mode else "",
        "verdicts": verdicts,
        "failing": sum(1 for v in verdicts if v["failing"]),
        "events": [_event(e, n, evidence) for e in t.events],
    }


def trace_blocks(env: jinja2.Environment, views: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The traces' bodies rendered and packed: one ``{"n": block number, "data": base64}`` per block, whose
    data is the gzip of a JSON object from each trace's id (``trace-N``) to its body's HTML (autoescaped by
    the template, so the page may insert it as markup)."""
    template = env.get_template("_trace_body.html.j2")
    bodies: dict[int, dict[str, str]] = defaultdict(dict)
    for view in views:
        bodies[view["block"]][f"trace-{view['n']}"] = template.render(tr=view)
    out = []
    for n, block in sorted(bodies.items()):
        raw = json.dumps(block, ensure_ascii=False, separators=(",", ":")).encode()
        # mtime=0: the same report renders to the same bytes.
        packed = gzip.compress(raw, compresslevel=6, mtime=0)
        out.append({"n": n, "data": base64.b64encode(packed).decode("ascii")})
    return out


def _truncate(text: str | None, limit: int) -> tuple[str, int]:
    """The text cut to ``limit`` characters, and how many were cut."""
    if text is None:
        return "", 0
    return (text[:limit], len(text) - limit) if len(text) > limit else (text, 0)


def _args(call: dict[str, Any]) -> str:
    if call.get("arguments") is None:
        return str(call.get("raw_arguments") or "")
    return json.dumps(call["arguments"], separators=(",", ":"), ensure_ascii=False)


def _secs(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f} s"


def _usd(x: float) -> str:
    return f"${x:,.2f}" if x >= 1 else f"${x:.4f}"


def _event(e: dict[str, Any], n: int, evidence: dict[int, list[str]]) -> dict[str, Any]:
    seq = int(e["seq"])
    limit = TOOL_RESULT_CHARS if e["kind"] == "tool" else 100_000
    content, cut = _truncate(e.get("content"), limit)
    meta = []
    if e["kind"] == "model":
        usage = e.get("usage") or {}
        if usage:
            meta.append(f"{usage.get('prompt_tokens', 0):,} + {usage.get('completion_tokens', 0):,} tokens")
    if e.get("latency_s") is not None:
        meta.append(_secs(e["latency_s"]))
    if e["kind"] == "model":
        meta.append(_usd(e["cost_usd"]) if e.get("cost_usd") is not None else "cost unknown")
        if e.get("cached"):
            meta.append("cached")
    return {
        "seq": seq,
        "id": f"trace-{n}-e{seq}",
        "kind": e["kind"],
        "turn": e.get("turn"),
        "content": content,
        "cut": cut,
        "reasoning": _truncate(e.get("reasoning"), 100_000)[0],
        "calls": [{"name": c.get("name", ""), "args": _args(c)} for c in e.get("tool_calls") or ()],
        "tool": e.get("tool"),
        "ok": e.get("ok"),
        "error_type": e.get("error_type"),
        "meta": " · ".join(meta),
        "evidence": evidence.get(seq, []),
    }
