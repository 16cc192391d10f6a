"""Helpers shared by the built-in checks (not checks themselves)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from evalkit.contracts.answers import ParsedNumber, is_decline, parse_numbers, stated_figures
from evalkit.contracts.suite import ExpectedAnswer
from evalkit.scoring.registry import CheckContext, Verdict
from evalkit.scoring.trace_view import QueryStep, TraceView

MAX_LISTED = 6


def fail_with(value: float, reason: str, evidence: Iterable[int] = ()) -> Verdict:
    """A failed verdict that keeps partial credit in ``value`` (e.g. the share of tables inspected)."""
    return Verdict("fail", max(0.0, min(1.0, float(value))), reason, tuple(sorted(set(evidence))))


def seqs(items: Iterable[int]) -> list[int]:
    """Event numbers, sorted and without duplicates."""
    return sorted(set(items))


def listed(names: Iterable[str], limit: int = MAX_LISTED) -> str:
    """``a, b, c`` (at most ``limit`` names, then ``+N more``)."""
    unique = list(dict.fromkeys(names))
    more = f" +{len(unique) - limit} more" if len(unique) > limit else ""
    return ", ".join(unique[:limit]) + more


def arg(args: Mapping[str, Any], name: str, default: Any) -> Any:
    value = args.get(name, default)
    return default if value is None else value


def pct(x: float) -> str:
    return f"{x:.0%}"


# ------------------------------------------------------------------------------------------- numbers


def result_numbers(text: str) -> list[float]:
    """The numbers in a tool result (``1,234.5``, ``$1,234.5``, ``(12.0)`` for -12, ``1.2e+09``), read by
    ``parse_numbers``; a scale word is not applied (``5 million`` gives 5)."""
    return [n.value for n in parse_numbers(text)]


def answer_numbers(ctx: CheckContext) -> tuple[str, list[ParsedNumber]] | None:
    """The final answer and the numbers it states (``stated_numbers`` with the task's question and answer), or
    None when the agent gave no final answer."""
    final = ctx.sample.final_answer
    if not final or not final.strip():
        return None
    task = ctx.task
    return final, stated_numbers(final, task.question if task is not None else None, task.answer if task else None)


def stated_numbers(text: str, question: str | None = None, answer: ExpectedAnswer | None = None) -> list[ParsedNumber]:
    """The numbers an answer states, read as the matcher reads them (``contracts.answers.stated_figures``):
    markup, entities and ``<think>`` blocks removed; without years, step numbers and numbers the question
    gives, but with the figure the matcher reads for ``answer`` (a lone ``2050``, the year of a year answer).
    ``ParsedNumber.text`` is each number as written."""
    return stated_figures(text, question, answer)


def decimals(value: float, text: str) -> int:
    """Decimal places the number was written with (from its text when known)."""
    m = re.search(r"\d[\d,]*(?:\.(\d+))?|\.(\d+)", text)
    if m:
        return len(m.group(1) or m.group(2) or "")
    return max(0, -int(f"{value:e}".split("e")[1]))


# -------------------------------------------------------------------------------------------- answers


def declines(text: str) -> bool:
    """Whether an answer says it cannot answer rather than stating a fact (``contracts.answers.is_decline``:
    a bare "unknown" or "N/A", "I cannot determine", "insufficient data", "not available in the data")."""
    return is_decline(text)


# ------------------------------------------------------------------------------------------ identifiers


def tokens(name: str) -> frozenset[str]:
    return frozenset(t for t in name.lower().split("_") if t)


def similar(a: str, b: str) -> bool:
    """Two different identifiers one could be meant for the other: one's words are a subset of the
    other's (``net_income`` / ``net_income_attributable``) or they are spelled almost alike."""
    la, lb = a.lower(), b.lower()
    if la == lb:
        return False
    ta, tb = tokens(la), tokens(lb)
    if ta and tb and (ta < tb or tb < ta):
        return True
    return difflib.SequenceMatcher(None, la, lb).ratio() >= 0.85


_GENERIC_WORDS = frozenset({"total", "of", "and", "the", "per", "in", "to", "from", "for", "by", "id", "fy", "year"})
"""Words two column names may share without being alike (``total_revenue`` and ``total_assets``)."""


def similar_column(a: str, b: str) -> bool:
    """Two column names one could be meant for the other: ``similar``, or they share a word that says what is
    measured (``cost_of_revenue`` / ``total_revenue``, ``eps_basic`` / ``eps_diluted``, ``net_income`` /
    ``operating_income``). Only for columns of one table: table names share their company's prefix."""
    if similar(a, b):
        return True
    shared = (tokens(a.lower()) & tokens(b.lower())) - _GENERIC_WORDS
    return a.lower() != b.lower() and bool(shared)


def query_names(q: QueryStep) -> set[str]:
    """Lower-case table and column names a query references."""
    return {t.lower() for t in q.tables} | {c.lower() for _, c in q.refs.columns}


def corrected(view: TraceView, name: str, seen_at: int) -> bool:
    """A *slip*: after the last query using ``name`` (first seen at event ``seen_at``), a query succeeded
    without it. An invented name the agent kept using, or never got past, is not a slip."""
    low = name.lower()
    last = max([seen_at, *(q.seq for q in view.queries if low in query_names(q))])
    return any(q.ok and q.seq > last for q in view.queries)
