"""Deterministic, unit-aware comparison of a model's final answer with a task's expected answer.

Handles thousands / millions / billions (words and k, m, bn, B suffixes), $, %, bps, ``x`` ratios, a ratio
given for a percentage (``0.2`` for ``20%``) and the reverse, negatives in parentheses, signs implied by
phrases ("a decrease of 10%"), the task's absolute or relative tolerance, and normalised text and lists.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from evalkit.spec.suite import ExpectedAnswer, Tolerance

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
    r"(?P<neg>-|−|\()?\s*(?P<cur>[$€£])?\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*\)?"
    r"\s*(?P<suffix>%|percent\b|per cent\b|bps\b|basis points\b|x\b|×|times\b)?"
    r"\s*(?P<scale>thousands?\b|millions?\b|billions?\b|trillions?\b|bn\b|mn\b|mm\b|tn\b|k\b|m\b|b\b)?",
    re.IGNORECASE,
)
_NEGATIVE_PHRASE = re.compile(
    r"\b(decrease|decline|declined|fell|fall|drop|dropped|down|lower|loss|negative|shrank)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class ParsedNumber:
    value: float
    scale: float | None  # an explicit scale word, if any
    suffix: str | None  # "%", "bps", "x"
    start: int


@dataclass(frozen=True)
class AnswerCheck:
    correct: bool
    reason: str
    got: float | str | None = None
    blanks: dict[str, bool] = field(default_factory=dict)


def parse_numbers(text: str) -> list[ParsedNumber]:
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group("num").replace(",", "")
        value = float(raw)
        neg = m.group("neg")
        if neg in ("-", "−") or (neg == "(" and m.group(0).rstrip().endswith(")")):
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
        if scale_word == "m" and m.group("cur") is None and suffix is None:
            scale = 1e6
        out.append(ParsedNumber(value, scale, suffix, m.start()))
    return out


def _candidates(p: ParsedNumber, unit: str | None) -> list[float]:
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
        if p.scale is None:
            return [v]
        return [v * p.scale / _UNIT_SCALE[unit]]
    if p.scale is not None:
        return [v * p.scale, v]
    return [v]


def match_number(expected: float, unit: str | None, tolerance: Tolerance, text: str) -> AnswerCheck:
    numbers = [n for n in parse_numbers(text) if not _is_year(n, expected)]
    if not numbers:
        return AnswerCheck(False, "no number in the answer")
    first = numbers[0]
    flips = [1.0]
    if _NEGATIVE_PHRASE.search(text) and first.value > 0:
        flips.append(-1.0)
    for sign in flips:
        for cand in _candidates(first, unit):
            if tolerance.accepts(expected, sign * cand):
                return AnswerCheck(True, f"{sign * cand:g} matches {expected:g}", got=sign * cand)
    got = _candidates(first, unit)[0]
    return AnswerCheck(False, f"{got:g} does not match {expected:g} {unit or ''}".rstrip(), got=got)


def _is_year(n: ParsedNumber, expected: float) -> bool:
    """Fiscal years mentioned in the answer text ("in FY2023, 12.5%") are not the answer."""
    return (
        n.suffix is None
        and n.scale is None
        and 1990 <= n.value <= 2100
        and float(n.value).is_integer()
        and not (1990 <= expected <= 2100)
    )


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[^\w\s%.-]", " ", text)
    text = re.sub(r"\b(the|inc|corp|corporation|ltd|plc|co|segment|region)\b\.?", " ", text)
    return " ".join(text.replace(".", " ").split())


def match_text(expected: str, text: str) -> AnswerCheck:
    e, g = normalise_text(expected), normalise_text(text)
    if e == g or (e and re.search(rf"(^|\s){re.escape(e)}(\s|$)", g)):
        return AnswerCheck(True, f"{text.strip()!r} matches {expected!r}", got=text.strip())
    return AnswerCheck(False, f"{text.strip()!r} does not match {expected!r}", got=text.strip())


def split_list(text: str) -> list[str]:
    parts = re.split(r"\s*(?:,|;|\n|\band\b|>|→)\s*", text)
    return [normalise_text(re.sub(r"^\s*(\d+[.)]|[-*•])\s*", "", p)) for p in parts if p.strip()]


def match_list(expected: tuple[str, ...], ordered: bool, text: str) -> AnswerCheck:
    want = [normalise_text(x) for x in expected]
    got = [g for g in split_list(text) if g]
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
        numbers = [n for n in parse_numbers(text) if not _is_year(n, 0.0)]
        order = [n for n in names if any(b.name == n for b in answer.blanks)]
        by_name = {b.name: b for b in answer.blanks}
        for i, name in enumerate(order):
            b = by_name[name]
            results[name] = i < len(numbers) and any(
                b.tolerance.accepts(b.value, c) for c in _candidates(numbers[i], b.unit)
            )
    ok = bool(results) and all(results.values())
    wrong = [k for k, v in results.items() if not v]
    return AnswerCheck(ok, "all blanks match" if ok else f"blanks wrong: {', '.join(wrong)}", blanks=results)


def check_answer(answer: ExpectedAnswer, final_answer: str | None) -> AnswerCheck:
    """Compare a final answer with the expected one."""
    if final_answer is None or not final_answer.strip():
        return AnswerCheck(False, "no answer")
    if answer.kind == "number" and isinstance(answer.value, float):
        return match_number(answer.value, answer.unit, answer.tolerance, final_answer)
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
