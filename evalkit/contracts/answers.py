"""Deterministic, unit-aware comparison of a model's final answer with a task's expected answer.

Handles thousands / millions / billions (words and k, m, bn, B suffixes), $, %, bps, ``x`` ratios, a ratio
given for a percentage (``0.2`` for ``20%``) and the reverse, negatives in parentheses, directions stated by
phrases ("a decrease of 10%" is -10, never +10), years (matched exactly; ``FY2018`` reads as 2018), the
task's absolute or relative tolerance (or exact match), declines, and normalised text and lists.

A reply is read the way a person would (:func:`read_answer`): markup removed (``evalkit.contracts.reply``),
then the answer part (after ``FINAL ANSWER:``, else a ``\\boxed{}``, else the whole reply), then the figure of
that part by the first rule that applies, recorded as ``AnswerCheck.rule``: ``marker`` / ``boxed`` (the first
figure of that part), ``only_number`` (the one figure in the unit asked for), ``leading`` (a reply that opens
with the figure), ``conclusion`` (the last figure after "so", "therefore", "thus", ``=``, or after "is",
"was", ... in the last sentence) and ``last_sentence`` (the last sentence's first figure). Years, step and
list numbers, figures the question gives and reference values ("up from $1,200M") are passed over.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from evalkit.contracts.numbers import ParsedNumber, is_year, parse_amount, parse_numbers, value_candidates
from evalkit.contracts.reading import given_numbers, is_year_answer, read_figure, signed_values
from evalkit.contracts.reply import answer_part, clean_reply, declines, is_decline, is_label
from evalkit.contracts.suite import ExpectedAnswer, TaskSpec, Tolerance

__all__ = [
    "AnswerCheck",
    "ParsedNumber",
    "Reading",
    "check_answer",
    "clean_reply",
    "expected_text",
    "extract_final_answer",
    "is_decline",
    "is_year",
    "is_year_answer",
    "match_number",
    "normalise_text",
    "parse_amount",
    "parse_numbers",
    "read_answer",
    "stated_figures",
    "value_candidates",
]


@dataclass(frozen=True)
class AnswerCheck:
    """The verdict on one answer; ``rule`` says how the compared figure (or part) was read (see the module
    docstring), ``declined`` that the reply declined to answer."""

    correct: bool
    reason: str
    got: float | str | None = None
    blanks: dict[str, bool] = field(default_factory=dict)
    rule: str | None = None
    declined: bool = False


@dataclass(frozen=True)
class Reading:
    """A reply as the matcher reads it: the cleaned answer part, the figure read from it (number answers)
    and the rule that read it, and whether the reply declines."""

    part: str
    rule: str | None
    figure: ParsedNumber | None
    declined: bool


def unit_currency(unit: str | None) -> str | None:
    """The currency a task's unit asks for (``USD millions`` → ``USD``), or None for other units."""
    head = (unit or "").split(" ", 1)[0].upper()
    return head if re.fullmatch(r"[A-Z]{3}", head) and head not in ("BPS",) else None


def match_number(
    expected: float,
    unit: str | None,
    tolerance: Tolerance,
    text: str,
    *,
    rule: str | None = None,
    question: str | None = None,
    exact: bool = False,
    year: bool | None = None,
) -> AnswerCheck:
    """Compare the figure :func:`read_figure` reads from ``text`` (a cleaned answer part) with ``expected``:
    exactly for a year (``year``; by default a whole 1990-2100 value with no unit) or with ``exact``, else
    within ``tolerance``, in any form ``value_candidates`` allows and with the sign its phrase states."""
    if year is None:
        year = unit is None and float(expected).is_integer() and 1990 <= expected <= 2100
    n, how = read_figure(text, unit, expected, rule=rule, question=question, year=year)
    if n is None:
        if declines(text):
            return AnswerCheck(False, "declined to answer", rule=rule, declined=True)
        return AnswerCheck(False, "no number in the answer", rule=rule)
    asked = unit_currency(unit)
    if asked is not None and n.currency_code is not None and n.currency_code != asked:
        return AnswerCheck(False, f"stated in {n.currency_code}, the task asks for {asked}", rule=how)
    exact = exact or year
    values = signed_values(text, n, expected, question)
    for v in values:
        for cand in value_candidates(replace(n, value=v), unit):
            close = abs(cand - expected) <= 1e-9 * max(1.0, abs(expected))
            if close if exact else tolerance.accepts(expected, cand):
                return AnswerCheck(True, f"{cand:.12g} matches {expected:.12g}", got=cand, rule=how)
    got = value_candidates(replace(n, value=values[0]), unit)[0]
    how_matched = "exactly " if exact else ""
    reason = f"{got:.12g} does not match {how_matched}{expected:.12g} {unit or ''}".rstrip()
    return AnswerCheck(False, reason, got=got, rule=how)


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")
    text = re.sub(r"[^\w\s%.-]", " ", text)
    text = re.sub(r"\b(the|inc|corp|corporation|ltd|plc|co|segment|region)\b\.?", " ", text)
    return " ".join(text.replace(".", " ").split())


def match_text(expected: str, text: str) -> AnswerCheck:
    e, g = normalise_text(expected), normalise_text(text)
    if e == g or (e and re.search(rf"(^|\s){re.escape(e)}(\s|$)", g)):
        return AnswerCheck(True, f"{text.strip()!r} matches {expected!r}", got=text.strip())
    return AnswerCheck(False, f"{text.strip()!r} does not match {expected!r}", got=text.strip())


_ITEM_SEPARATORS = re.compile(r"\s*(?:,|;|\n|>|→)\s*")
_NUMBERING = re.compile(r"^\s*(\d+[.)]|[-*•])\s*")


def split_list(text: str, keep: Collection[str] = ()) -> list[str]:
    """The normalised items of a list answer: split on commas, semicolons, new lines, ``>``/``→`` and "and";
    an item of ``keep`` (normalised, e.g. "oil and gas") is not split on its "and"."""
    out: list[str] = []
    for part in _ITEM_SEPARATORS.split(text):
        item = normalise_text(_NUMBERING.sub("", part))
        pieces = [" ".join(p.split()) for p in re.split(r"\band\b", item)]
        i = 0
        while i < len(pieces):  # greedily re-join pieces that form a kept item ("research and development")
            j = next((j for j in range(len(pieces), i + 1, -1) if " and ".join(pieces[i:j]) in keep), i + 1)
            joined = " and ".join(pieces[i:j])
            if joined:
                out.append(joined)
            i = j
    return out


def match_list(expected: tuple[str, ...], ordered: bool, text: str) -> AnswerCheck:
    want = [normalise_text(x) for x in expected]
    got = [g for g in split_list(text, keep=set(want)) if g]
    ok = got == want if ordered else sorted(got) == sorted(want)
    how = "in order" if ordered else "as a set"
    return AnswerCheck(ok, f"list {'matches' if ok else 'does not match'} {how}", got=", ".join(got))


def match_template(answer: ExpectedAnswer, text: str) -> AnswerCheck:
    template = answer.template or ""
    names = re.findall(r"\{(\w+)\}", template)
    pieces = re.split(r"\{\w+\}", template)
    pattern = "".join(
        r"\s*".join(re.escape(w) for w in piece.split()) + (r"\s*(.+?)\s*" if i < len(names) else "")
        for i, piece in enumerate(pieces)
    )
    m = re.search(pattern.rstrip(r"\s*") or ".*", text, re.DOTALL | re.IGNORECASE)
    filled = dict(zip(names, m.groups(), strict=True)) if m else {}
    results: dict[str, bool] = {}
    if filled:
        for blank in answer.blanks:
            results[blank.name] = match_number(
                blank.value, blank.unit, blank.tolerance, filled.get(blank.name, "")
            ).correct
    else:  # the answer did not keep the template's wording: compare the numbers in order
        numbers = [n for n in parse_numbers(text) if not is_year(n)]
        order = [n for n in names if any(b.name == n for b in answer.blanks)]
        by_name = {b.name: b for b in answer.blanks}
        for i, name in enumerate(order):
            b = by_name[name]
            results[name] = i < len(numbers) and any(
                b.tolerance.accepts(b.value, c) for c in value_candidates(numbers[i], b.unit)
            )
    ok = bool(results) and all(results.values())
    wrong = [k for k, v in results.items() if not v]
    return AnswerCheck(ok, "all blanks match" if ok else f"blanks wrong: {', '.join(wrong)}", blanks=results)


def _number_value(answer: ExpectedAnswer) -> float | None:
    v = answer.value
    return float(v) if answer.kind == "number" and isinstance(v, int | float) and not isinstance(v, bool) else None


def read_answer(answer: ExpectedAnswer, reply: str, question: str | None = None) -> Reading:
    """How the matcher reads ``reply`` (a raw model reply or a recorded final answer) for ``answer``."""
    part, rule = answer_part(clean_reply(reply))
    expected = _number_value(answer)
    figure = None
    if expected is not None:
        year = is_year_answer(answer)
        figure, rule = read_figure(part, answer.unit, expected, rule=rule, question=question, year=year)
    return Reading(part, rule, figure, figure is None and declines(part))


def check_answer(answer: ExpectedAnswer, final_answer: str | None, *, question: str | None = None) -> AnswerCheck:
    """Compare a reply with the expected answer. ``final_answer`` may be the whole reply (the marker is found
    here) or the recorded final answer; ``question``, when known, lets a figure it gives be passed over and
    a stated decrease answer a question that asks how much something decreased."""
    if final_answer is None or not final_answer.strip():
        return AnswerCheck(False, "no answer")
    part, rule = answer_part(clean_reply(final_answer))
    if not part:
        return AnswerCheck(False, "no answer", rule=rule)
    expected = _number_value(answer)
    if expected is not None:
        exact = answer.exact or is_year_answer(answer)
        return match_number(
            expected, answer.unit, answer.tolerance, part, rule=rule, question=question, exact=exact,
            year=is_year_answer(answer),
        )  # fmt: skip
    declined = declines(part)
    if answer.kind == "text" and isinstance(answer.value, str):
        if is_decline(answer.value):  # the gold says the answer cannot be determined
            how = "declines, as the expected answer does" if declined else "does not decline"
            return AnswerCheck(declined, how, got=part, rule=rule, declined=declined)
        result = match_text(answer.value, part)
    elif answer.kind == "list" and isinstance(answer.value, tuple):
        result = match_list(answer.value, answer.ordered, part)
    elif answer.kind == "template":
        result = match_template(answer, part)
    else:
        return AnswerCheck(False, f"cannot compare an answer of kind {answer.kind}")
    if not result.correct and declined:
        return replace(result, reason="declined to answer", rule=rule, declined=True)
    return replace(result, rule=rule)


def stated_figures(text: str, question: str | None = None, answer: ExpectedAnswer | None = None) -> list[ParsedNumber]:
    """The numbers a reply states as facts, in its cleaned answer part: all but years, step and list numbers
    and numbers the question gives, plus the figure the matcher reads for ``answer`` (a lone year-like
    amount such as ``2050``, or the year of a year answer)."""
    part = answer_part(clean_reply(text))[0]
    given = given_numbers(question)
    out = [
        n for n in parse_numbers(part) if not is_year(n) and not is_label(part, n.start) and abs(n.value) not in given
    ]
    if answer is None:
        return out
    figure = read_answer(answer, text, question).figure
    new = figure is not None and all(n.start != figure.start for n in out)
    if figure is not None and new and (is_year_answer(answer) or abs(figure.value) not in given):
        out = sorted([*out, figure], key=lambda n: n.start)
    return out


def extract_final_answer(text: str) -> str:
    """The text after the last ``FINAL ANSWER:``, or the whole text when there is none."""
    idx = text.upper().rfind("FINAL ANSWER:")
    return text[idx + len("FINAL ANSWER:") :].strip() if idx >= 0 else text.strip()


def expected_text(task: TaskSpec, *, detail: bool = False) -> str:
    """The expected answer as text: as recorded with a sample (``Sample.expected``: ``1350 USD millions``,
    ``12.5%``, ``a, b``, ``rev=1500, chg=11.1``), or, with ``detail``, for a reader who judges an answer
    against it: a list says whether its order matters, a template gives its wording and each blank's unit."""
    return answer_text(task.answer, detail=detail)


def answer_text(a: ExpectedAnswer, *, detail: bool = False) -> str:
    """``expected_text`` of an answer on its own."""
    if a.kind == "list" and isinstance(a.value, tuple):
        order = (" (in this order)" if a.ordered else " (any order)") if detail else ""
        return ", ".join(a.value) + order
    if a.kind == "template":
        if not detail:
            return ", ".join(f"{b.name}={b.value:.12g}" for b in a.blanks)
        blanks = "; ".join(f"{b.name} = {_amount_text(b.value, b.unit)}" for b in a.blanks)
        return f"{a.template}\n(blanks: {blanks})" if blanks else str(a.template)
    if isinstance(a.value, float):
        return _amount_text(a.value, a.unit)
    return str(a.value)


def describe_answer(a: ExpectedAnswer) -> str:
    """The answer and how a reply is matched against it, for a person reading the task:
    ``2167.1 USD millions (within 0.5 % relative)``, ``2019 (exact)``, ``a, b (any order)``."""
    text = answer_text(a, detail=True)
    if a.kind != "number" or not isinstance(a.value, float):
        return text if a.kind in ("list", "template") else f"{text} ({a.kind})"
    if a.exact or is_year_answer(a):
        return f"{text} (exact)"
    rules = [f"± {a.tolerance.abs:g}"] if a.tolerance.abs is not None else []
    rules += [f"{a.tolerance.rel * 100:g} % relative"] if a.tolerance.rel is not None else []
    return f"{text} (within {' or '.join(rules)})" if rules else f"{text} (exact)"


def _amount_text(value: float, unit: str | None) -> str:
    """``12.5%``, ``3.2x``, ``1350 USD millions``, ``7``."""
    if unit in ("%", "x"):
        return f"{value:.12g}{unit}"
    return f"{value:.12g} {unit}" if unit else f"{value:.12g}"
