"""Grounding: do the numbers of the final answer come from what the tools returned?"""

from __future__ import annotations

from evalkit.scoring.checks._common import answer_numbers, decimals, fail_with, listed, result_numbers, seqs
from evalkit.scoring.registry import CheckContext, Verdict, check
from evalkit.trace.types import Event

#: Unit conversions allowed between a tool result and the answer: thousands / millions / billions either
#: way, and ×100 (ratio → percent) or ÷100.
SCALES: tuple[float, ...] = (1.0, 1e3, 1e-3, 1e6, 1e-6, 1e9, 1e-9, 100.0, 0.01)


def source_numbers(events: list[Event]) -> list[tuple[int, float]]:
    """(seq, number) for every number in successful sql_query / calculator results."""
    out = []
    for e in events:
        for x in result_numbers(e.content or ""):
            out.append((e.seq, x))
        value = (e.data or {}).get("value")
        if e.tool == "calculator" and isinstance(value, int | float) and not isinstance(value, bool):
            out.append((e.seq, float(value)))
    return out


def grounded_in(value: float, places: int, sources: list[tuple[int, float]]) -> int | None:
    """The seq of a result that gives ``value`` (sign ignored) rounded to ``places`` decimals, possibly
    after one of ``SCALES``; None when no result does."""
    v = abs(value)
    tol = 0.5 * 10.0 ** (-places) * (1 + 1e-9) + 1e-12 * v
    for seq, x in sources:
        r = abs(x)
        if v == 0:
            if r == 0:
                return seq
            continue
        if any(abs(r * k - v) <= tol for k in SCALES):
            return seq
    return None


@check("answer_grounded", args=())
def answer_grounded(ctx: CheckContext) -> Verdict:
    """Every number the final answer states appears in a successful ``sql_query`` or ``calculator`` result,
    allowing formatting (``1,234.5`` = ``1234.50``), rounding to the answer's precision, the sign (a
    "decrease of 10%" for -10), and scaling by 1e3 / 1e6 / 1e9 or ×100 for percentages. The answer is read as
    the matcher reads it (markup and ``<think>`` blocks removed); years (1990-2100) other than the figure read
    as the answer, step numbers and numbers that the question gives are ignored. Value: the share of numbers
    grounded; passes when all are."""
    view = ctx.view
    stated = answer_numbers(ctx)
    if stated is None:
        return Verdict.not_applicable("gave no final answer")
    _final, numbers = stated
    if not numbers:
        return Verdict.not_applicable("the answer states no number")
    sources = source_numbers(view.result_events)
    final_seq = [view.final_event.seq] if view.final_event is not None else []
    found: list[int] = []
    missing: list[str] = []
    for n in numbers:
        seq = grounded_in(n.value, decimals(n.value, n.text), sources)
        if seq is None:
            missing.append(n.text.split()[0] if n.text else f"{n.value:g}")
        else:
            found.append(seq)
    share = len(found) / len(numbers)
    if not missing:
        return Verdict.passed(
            f"all {len(numbers)} number(s) of the answer appear in tool results", seqs([*found, *final_seq])
        )
    where = "no tool result succeeded" if not sources else "not in any tool result"
    return fail_with(share, f"{listed(missing)}: {where} ({len(found)}/{len(numbers)} grounded)", [*final_seq, *found])
