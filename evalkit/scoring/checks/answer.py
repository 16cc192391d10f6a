"""Answer checks: is the final answer right, in the asked form, and founded on data the agent saw?"""

from __future__ import annotations

import re

from evalkit.contracts.answers import check_answer, extract_final_answer, read_answer, unit_currency
from evalkit.contracts.numbers import unit_scale
from evalkit.contracts.suite import TaskSpec
from evalkit.scoring.checks._common import answer_numbers, arg, declines, listed, seqs
from evalkit.scoring.registry import CheckContext, Verdict, check

_MARKER = "FINAL ANSWER:"
_SCALE = r"(?:thousands?|millions?|billions?|trillions?|bn|mn|mm|tn|k|m|b)\b"
_UNIT_PATTERNS: dict[str, re.Pattern[str]] = {
    "%": re.compile(r"%|\bper ?cent\b|\bpercentage points?\b", re.IGNORECASE),
    "x": re.compile(r"\d\s*[x×](?![a-z])|\btimes\b|×", re.IGNORECASE),
    "bps": re.compile(r"\bbps\b|\bbasis points?\b", re.IGNORECASE),
    "USD": re.compile(r"\$|\bUSD\b|\bdollars?\b", re.IGNORECASE),
}
_USD_SCALED = re.compile(rf"\d\s*{_SCALE}|\b{_SCALE}|\$|\bUSD\b|\bdollars?\b", re.IGNORECASE)
_READ_BY = {
    "marker": f"after {_MARKER}",
    "boxed": "in \\boxed{}",
    "only_number": "the only figure",
    "leading": "the figure the reply opens with",
    "conclusion": "the conclusion",
    "last_sentence": "the last sentence's figure",
}
"""How ``check_answer`` read the compared figure (``AnswerCheck.rule``), as said in a verdict."""


def unit_stated(unit: str | None, text: str) -> bool | None:
    """Whether ``text`` states ``unit`` (None when the unit asks for nothing visible, e.g. a count).

    ``%``: a % sign, "percent" or "percentage points"; ``x``: an x or × after a number, or "times";
    ``bps``: "bps" or "basis points"; ``USD``: $, USD or dollars; ``USD thousands/millions/billions``: a scale
    word or suffix (thousand, million, bn, k, m, ...) or a currency marker ($, USD, dollars)."""
    if unit is None:
        return None
    if unit in _UNIT_PATTERNS:
        return bool(_UNIT_PATTERNS[unit].search(text))
    if unit.startswith("USD "):
        return bool(_USD_SCALED.search(text))
    return None


_SCALE_NAMES = {1e3: "thousands", 1e6: "millions", 1e9: "billions", 1e12: "trillions"}


def _other_unit(task: TaskSpec, reply: str) -> str | None:
    """The currency or scale the figure read as the answer is stated in, when it is not the one asked for
    (``EUR`` for ``USD millions``, ``billions`` for ``USD millions``); None when it agrees or says neither."""
    unit = task.answer.unit or ""
    figure = read_answer(task.answer, reply, task.question).figure
    if figure is None:
        return None
    asked = unit_currency(unit)
    if asked is not None and figure.currency_code is not None and figure.currency_code != asked:
        return figure.currency_code
    scale = unit_scale(unit)
    if scale is not None and figure.scale is not None and figure.scale != scale:
        return _SCALE_NAMES.get(figure.scale, f"a scale of {figure.scale:g}")
    return None


@check("answer_correct", args=())
def answer_correct(ctx: CheckContext) -> Verdict:
    """The final answer matches the task's expected answer (``evalkit.contracts.answers.check_answer``: units,
    scale words, percent vs ratio, stated directions, exact years, tolerance, declines, normalised text and
    lists). The whole final turn is read, so a reply without the marker is read by its conclusion; the
    reason says which rule read the figure."""
    if ctx.task is None:
        return Verdict.not_applicable("needs the task's expected answer")
    view = ctx.view
    final = ctx.sample.final_answer
    evidence = [view.final_event.seq] if view.final_event is not None else []
    if not final or not final.strip():
        return Verdict.failed(f"gave no final answer (stopped: {ctx.sample.stop_reason})", evidence)
    result = check_answer(ctx.task.answer, view.final_text or final, question=ctx.task.question)
    read_by = _READ_BY.get(result.rule or "")
    reason = f"{result.reason} (read: {read_by})" if read_by and result.got is not None else result.reason
    if result.correct:
        return Verdict.passed(reason, evidence)
    return Verdict.failed(reason, evidence)


@check("answer_format", args=("require_marker", "require_unit"))
def answer_format(ctx: CheckContext) -> Verdict:
    """The final model turn says ``FINAL ANSWER:`` (any case) and, for a number answer, states the unit asked
    for (see ``unit_stated``; counts and units without a visible marker need nothing). Text, list and
    template answers need only the marker, and so does a decline ("unknown": no figure to give a unit to).
    ``args: {require_marker: false}`` / ``{require_unit: false}`` turn either part off."""
    view = ctx.view
    text = view.final_text
    if not text:
        return Verdict.not_applicable("gave no final answer")
    evidence = [view.final_event.seq] if view.final_event is not None else []
    problems = []
    has_marker = _MARKER in text.upper()
    if bool(arg(ctx.args, "require_marker", True)) and not has_marker:
        problems.append(f"no {_MARKER!r} in the final turn")
    unit_note = ""
    task = ctx.task
    if bool(arg(ctx.args, "require_unit", True)) and task is not None and task.answer.kind == "number":
        answer = extract_final_answer(text)
        stated = None if declines(answer) else unit_stated(task.answer.unit, answer)
        other = _other_unit(task, text) if stated else None
        if stated is False:
            problems.append(f"does not state the unit asked for ({task.answer.unit})")
        elif other is not None:
            problems.append(f"states its figure in {other}, not the unit asked for ({task.answer.unit})")
            stated = None
        elif stated:
            unit_note = f", with the unit ({task.answer.unit})"
    if problems:
        return Verdict.failed("; ".join(problems), evidence)
    return Verdict.passed(f"answered after {_MARKER}{unit_note}" if has_marker else "answer format ok", evidence)


@check("no_unfounded_answer", args=())
def no_unfounded_answer(ctx: CheckContext) -> Verdict:
    """The final answer states a fact only if at least one SQL query succeeded: a stated number (years and
    numbers given in the question do not count, but the figure read as the answer does, even a lone
    ``2050`` or the year of a year answer) or, for text and list tasks, any answer that does not decline.
    A decline ("unknown", "I cannot determine ...", "N/A") states nothing and passes. This is the confident
    made-up answer after failed queries."""
    view = ctx.view
    stated = answer_numbers(ctx)
    if stated is None:
        return Verdict.not_applicable("gave no final answer")
    final, numbers = stated
    task = ctx.task
    declined = declines(final)
    claims_text = task is not None and task.answer.kind in ("text", "list") and not declined
    final_seq = [view.final_event.seq] if view.final_event is not None else []
    if not numbers and not claims_text:
        return Verdict.passed("declines to answer" if declined else "the answer states no number", final_seq)
    if view.successful_queries:
        return Verdict.passed(
            f"answer follows {len(view.successful_queries)} successful quer(ies)",
            [view.successful_queries[-1].seq, *final_seq],
        )
    what = f"states {listed([n.text.split()[0] for n in numbers])}" if numbers else f"answers {final!r}"
    failed = [q.seq for q in view.failed_queries]
    tried = f" after {len(failed)} failed quer(ies)" if failed else " without querying"
    return Verdict.failed(f"{what}{tried}: no query ever succeeded", seqs([*final_seq, *failed]))
