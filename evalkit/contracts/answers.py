"""Deterministic, unit-aware comparison of a model's final answer with a task's expected answer.

Handles thousands / millions / billions (words and k, m, bn, B suffixes), $, %, bps, ``x`` ratios, a ratio
given for a percentage (``0.2`` for ``20%``) and the reverse, negatives in parentheses, signs implied by
phrases ("a decrease of 10%"), the task's absolute or relative tolerance, and normalised text and lists.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field

from evalkit.contracts.suite import ExpectedAnswer, TaskSpec, Tolerance

_SCALE_WORDS = {
    "thousand": 1e3,
    "thousands": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "mm": 1e6,
    "billion": 1e9,
    "billions": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "trillions": 1e12,
    "tn": 1e12,
}
_UNIT_SCALE = {
    "USD": 1.0,
    "USD thousands": 1e3,
    "USD millions": 1e6,
    "USD billions": 1e9,
    "shares": 1.0,
    "shares thousands": 1e3,
    "shares millions": 1e6,
}
_NUMBER = re.compile(
    r"(?<![\w.])(?P<neg>-|−|\()?\s*(?P<cur>US\$|USD\b|[$€£])?\s*"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?P<exp>[eE][-+]?\d{1,3}(?!\w))?"
    r"\s*(?P<close>\))?"
    r"\s*(?P<suffix>%|percent\b|per cent\b|bps\b|basis points\b|x\b|×|times\b)?"
    r"\s*(?P<scale>thousands?\b|millions?\b|billions?\b|trillions?\b|bn\b|mn\b|mm\b|tn\b|k\b|m\b|b\b)?"
    r"(?P<close2>\s*\))?",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(r"\s*(?:USD|EUR|GBP|dollars?|euros?|pounds?|shares?|employees?|days?|years?)\b", re.IGNORECASE)
"""A unit word right after a number (``2,050 USD millions``, ``2000 shares``): the number is an amount."""
_AMOUNT_UNIT = re.compile(r"%|[A-Za-z][A-Za-z%]*(?: [A-Za-z%]+){0,2}")
"""What may follow the one number of an amount (:func:`parse_amount`): ``%`` or up to three words."""
_NEGATIVE_PHRASE = re.compile(
    r"\b(decrease|decline|declined|fell|fall|drop|dropped|down|lower|loss|negative|shrank)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class ParsedNumber:
    """A number found in a text, with its sign applied; ``scale`` is not applied to ``value``."""

    value: float
    scale: float | None  # an explicit scale word, if any
    suffix: str | None  # "%", "bps", "x"
    start: int
    text: str = ""  # as written, e.g. "($1,234.5 million)"
    figure: bool = False  # written as an amount: see ``is_year``


@dataclass(frozen=True)
class AnswerCheck:
    correct: bool
    reason: str
    got: float | str | None = None
    blanks: dict[str, bool] = field(default_factory=dict)


def parse_numbers(text: str) -> list[ParsedNumber]:
    """The numbers in ``text`` with their sign, scale word and unit suffix. Digits glued to letters
    (``Q4``, ``FY2023``) are labels, not numbers; ``(12.5%)`` and ``($1.2 million)`` are negative."""
    return [_parsed(m, text) for m in _NUMBER.finditer(text)]


def _parsed(m: re.Match[str], text: str) -> ParsedNumber:
    num = m.group("num")
    value = float(num.replace(",", "") + (m.group("exp") or ""))
    neg = m.group("neg")
    if neg in ("-", "−") or (neg == "(" and (m.group("close") or m.group("close2"))):
        value = -value
    suffix = (m.group("suffix") or "").lower() or None
    if suffix in ("percent", "per cent"):
        suffix = "%"
    elif suffix in ("basis points",):
        suffix = "bps"
    elif suffix in ("×", "times"):
        suffix = "x"
    scale_word = (m.group("scale") or "").lower()
    scale = _SCALE_WORDS.get(scale_word) if scale_word else None
    written_as_amount = m.group("cur") or m.group("exp") or suffix or scale_word or "," in num or "." in num
    figure = bool(written_as_amount or _UNIT_AFTER.match(text, m.end()))
    return ParsedNumber(value, scale, suffix, m.start(), m.group(0).strip(), figure)


def is_year(n: ParsedNumber) -> bool:
    """Whether a number in a text is a year ("in FY2023, 12.5%", "from 2019 to 2023"): a whole number from
    1990 to 2100 written as bare digits. A number written with a currency sign, a thousands separator, a
    decimal part or exponent, a unit suffix or a scale word, or followed by a unit word (``$2000``, ``2,050``,
    ``2050.0``, ``2050%``, ``2050 million``, ``2050 USD millions``, ``2000 shares``) is a figure."""
    return not n.figure and 1990 <= n.value <= 2100 and float(n.value).is_integer()


def parse_amount(text: str) -> tuple[float, str | None] | None:
    """``(value, unit)`` of a text that is one number and, after it, at most a unit: ``%`` or up to three
    words (``"1,350 USD millions"`` → ``(1350.0, "USD millions")``, ``"11.1%"``, ``"12.5 percent"`` → unit
    ``%``, ``"$12"`` and ``"(3.5)"`` → no unit, ``"+5"``); None for anything else or a value that is not
    finite. The number is read by the same rules as :func:`parse_numbers`."""
    body = text.strip()
    body = body[1:].lstrip() if body.startswith("+") else body
    m = _NUMBER.match(body)
    if m is None:
        return None
    n = _parsed(m, body)
    tail = body[m.end("exp") if m.group("exp") else m.end("num") :]
    if m.group("neg") == "(" and (m.group("close") or m.group("close2")):  # the parentheses of a negative
        tail = tail.replace(")", "", 1)
    unit = tail.strip() or None
    if unit is not None and not _AMOUNT_UNIT.fullmatch(unit):
        return None
    if unit is not None and unit.lower() in ("percent", "per cent"):
        unit = "%"
    return (n.value, unit) if math.isfinite(n.value) else None


def value_candidates(p: ParsedNumber, unit: str | None) -> list[float]:
    """The values the parsed number may stand for, expressed in the expected unit."""
    v = p.value
    if unit == "%":
        if p.suffix == "%":
            return [v]
        if p.suffix == "bps":
            return [v / 100]
        return [v, v * 100]  # a bare number: either percent points or a ratio
    if unit == "bps":
        if p.suffix == "%":
            return [v * 100]
        return [v]
    if unit == "x":
        if p.suffix == "%":
            return [v / 100]
        return [v]
    if unit in _UNIT_SCALE:
        if p.scale is None:  # in the unit asked for, or a raw amount ($1,350,000,000 for 1,350 USD millions)
            return [v, v / _UNIT_SCALE[unit]]
        return [v * p.scale / _UNIT_SCALE[unit]]
    if p.scale is not None:
        return [v * p.scale, v]
    return [v]


def match_number(expected: float, unit: str | None, tolerance: Tolerance, text: str) -> AnswerCheck:
    year_expected = 1990 <= expected <= 2100
    numbers = [n for n in parse_numbers(text) if year_expected or not is_year(n)]
    if not numbers:
        return AnswerCheck(False, "no number in the answer")
    first = numbers[0]
    flips = [1.0]
    if _NEGATIVE_PHRASE.search(text) and first.value > 0:
        flips.append(-1.0)
    for sign in flips:
        for cand in value_candidates(first, unit):
            if tolerance.accepts(expected, sign * cand):
                return AnswerCheck(True, f"{sign * cand:g} matches {expected:g}", got=sign * cand)
    got = value_candidates(first, unit)[0]
    return AnswerCheck(False, f"{got:g} does not match {expected:g} {unit or ''}".rstrip(), got=got)


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


def check_answer(answer: ExpectedAnswer, final_answer: str | None) -> AnswerCheck:
    """Compare a final answer with the expected one."""
    if final_answer is None or not final_answer.strip():
        return AnswerCheck(False, "no answer")
    value = answer.value
    if answer.kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return match_number(float(value), answer.unit, answer.tolerance, final_answer)
    if answer.kind == "text" and isinstance(answer.value, str):
        return match_text(answer.value, final_answer)
    if answer.kind == "list" and isinstance(answer.value, tuple):
        return match_list(answer.value, answer.ordered, final_answer)
    if answer.kind == "template":
        return match_template(answer, final_answer)
    return AnswerCheck(False, f"cannot compare an answer of kind {answer.kind}")


def extract_final_answer(text: str) -> str:
    """The text after the last ``FINAL ANSWER:``, or the whole text when there is none."""
    idx = text.upper().rfind("FINAL ANSWER:")
    return text[idx + len("FINAL ANSWER:") :].strip() if idx >= 0 else text.strip()


def expected_text(task: TaskSpec, *, detail: bool = False) -> str:
    """The expected answer as text: as recorded with a sample (``Sample.expected``: ``1350 USD millions``,
    ``12.5%``, ``a, b``, ``rev=1500, chg=11.1``), or, with ``detail``, for a reader who judges an answer
    against it: a list says whether its order matters, a template gives its wording and each blank's unit."""
    a = task.answer
    if a.kind == "list" and isinstance(a.value, tuple):
        order = (" (in this order)" if a.ordered else " (any order)") if detail else ""
        return ", ".join(a.value) + order
    if a.kind == "template":
        if not detail:
            return ", ".join(f"{b.name}={b.value:g}" for b in a.blanks)
        blanks = "; ".join(f"{b.name} = {_amount_text(b.value, b.unit)}" for b in a.blanks)
        return f"{a.template}\n(blanks: {blanks})" if blanks else str(a.template)
    if isinstance(a.value, float):
        return _amount_text(a.value, a.unit)
    return str(a.value)


def _amount_text(value: float, unit: str | None) -> str:
    """``12.5%``, ``3.2x``, ``1350 USD millions``, ``7``."""
    if unit in ("%", "x"):
        return f"{value:g}{unit}"
    return f"{value:g} {unit}" if unit else f"{value:g}"
