"""Which figure of a reply is its answer, and the sign its words give it.

A reply that shows its working states many numbers; the answer is the one a reader would take: after the
marker, the only figure in the unit asked for, the figure a reply opens with, the conclusion ("so", "therefore",
"thus", ``=``, or "is"/"was" in the last sentence) or the last sentence's figure. Years, step and list numbers,
figures the question gives, reference values ("up from $1,200M") and the working in a parenthetical aside
("1.54 (947 over 614)") are passed over.
"""

from __future__ import annotations

import bisect
import re

from evalkit.contracts.numbers import ParsedNumber, fiscal_years, is_year, parse_amount, parse_numbers
from evalkit.contracts.reply import (
    aside_spans,
    asks_for_decrease,
    cue_ends,
    is_label,
    is_reference,
    sentence_spans,
    stated_direction,
)
from evalkit.contracts.suite import ExpectedAnswer

_LEAD = re.compile(
    r"^\s*(?:(?:the\s+)?(?:final\s+)?answer\s*(?:is\b)?\s*[:\-]?\s*)?"
    r"(?:approximately|approx\.?|about|around|roughly|≈|~)?\s*",
    re.IGNORECASE,
)
"""Words that may open an answer that is one amount ("Answer: about 2,050")."""
_WORDS_BEFORE_CUE = 6


def is_year_answer(answer: ExpectedAnswer) -> bool:
    """Whether a number answer is a year: a whole number from 1990 to 2100 with no unit. It matches exactly."""
    v = answer.value
    return (
        answer.kind == "number"
        and answer.unit is None
        and isinstance(v, int | float)
        and float(v).is_integer()
        and 1990 <= v <= 2100
    )


def _fits(n: ParsedNumber, unit: str | None) -> bool:
    """Whether a figure is written in a form the unit allows: no currency or scale for ``%``/``bps``/``x``,
    and no ``%``/``bps``/``x`` for an amount or a count."""
    if unit in ("%", "bps"):
        return n.suffix != "x" and not n.currency and n.scale is None
    if unit == "x":
        return n.suffix in (None, "x") and not n.currency and n.scale is None
    return n.suffix is None


def given_numbers(question: str | None) -> set[float]:
    return {abs(n.value) for n in parse_numbers(question)} if question else set()


def _lone(text: str) -> bool:
    """Whether ``text`` is one amount and nothing else ("2050", "$2000", "Answer: 2,050 USD millions.")."""
    return parse_amount(_LEAD.sub("", text).rstrip(" .!;")) is not None


def read_figure(
    text: str,
    unit: str | None,
    expected: float,
    *,
    rule: str | None = None,
    question: str | None = None,
    year: bool = False,
) -> tuple[ParsedNumber | None, str | None]:
    """The figure of an answer part that is compared with ``expected``, and the rule that read it (see the
    module docstring). A year-like whole number is a year unless the part is that number alone or nothing
    else is left for an expected value in the year range; for a year answer only years are read."""
    numbers = [n for n in parse_numbers(text) if not is_label(text, n.start)]
    if year:
        years = [n for n in numbers if is_year(n)] + fiscal_years(text)
        cands = sorted(years, key=lambda n: n.start) or numbers
    else:
        lone = len(numbers) == 1 and _lone(text)
        cands = numbers if lone else [n for n in numbers if not is_year(n)]
        if not cands and 1990 <= abs(expected) <= 2100:
            cands = numbers
        given = given_numbers(question)
        cands = [c for c in cands if abs(c.value) not in given] or cands
        cands = [c for c in cands if _fits(c, unit)] or cands
    if not cands:
        return None, rule
    if len(cands) == 1:
        return cands[0], rule or "only_number"
    if rule is not None:
        return cands[0], rule
    first = sentence_spans(text)[0]
    if cands[0].start < first[1] and _lone(text[first[0] : first[1]]):
        return cands[0], "leading"
    return _conclusion(text, cands)


def _conclusion(text: str, cands: list[ParsedNumber]) -> tuple[ParsedNumber, str]:
    """The last figure right after a strong cue anywhere or a weak cue in the last sentence with a figure
    (``conclusion``), else that sentence's first figure (``last_sentence``); reference values and figures in
    a parenthetical aside (the working shown beside the answer) only when nothing else is left. A cue counts
    for the figure it precedes by at most a few words, in the same sentence, with no other candidate in
    between."""
    spans = sentence_spans(text)
    starts = [a for a, _ in spans]

    def sentence(pos: int) -> int:
        return max(0, bisect.bisect_right(starts, pos) - 1)

    last = sentence(cands[-1].start)
    references = {c.start for c in cands if is_reference(text, c.start)}
    asides = aside_spans(text)
    references |= {c.start for c in cands if any(a <= c.start and c.end <= b for a, b in asides)}
    pool = [c for c in cands if c.start not in references] or cands
    cues = cue_ends(text)
    cue_pos = [end for end, _ in cues]
    floors = {}  # the end of the candidate before each one: a cue before it belongs to that one
    floor = 0
    for c in cands:
        floors[c.start] = floor
        floor = max(floor, c.end)
    picked = []
    for c in pool:
        here = sentence(c.start)
        lo = bisect.bisect_left(cue_pos, max(floors[c.start], spans[here][0] if spans else 0))
        hi = bisect.bisect_right(cue_pos, c.start)
        near = [strong for end, strong in cues[lo:hi] if len(text[end : c.start].split()) <= _WORDS_BEFORE_CUE]
        if near and (any(near) or here == last):
            picked.append(c)
    if picked:
        return picked[-1], "conclusion"
    in_last = [c for c in pool if sentence(c.start) == last] or [c for c in cands if sentence(c.start) == last]
    return in_last[0], "last_sentence"


def signed_values(text: str, n: ParsedNumber, expected: float, question: str | None) -> list[float]:
    """The values a figure may stand for given the direction its phrase states: a stated decrease is
    negative and a stated increase positive (the reverse when the question asks how much something
    decreased and the gold, positive, is the size of the decrease), a loss either sign, a bare magnitude
    as written."""
    previous = max([p.end for p in parse_numbers(text) if p.end <= n.start], default=0)
    direction = stated_direction(text, n.start, n.end, previous)
    v = n.value
    decrease_frame = asks_for_decrease(question) and expected > 0
    if direction == "down":
        return [abs(v)] if decrease_frame else [-abs(v)]
    if direction == "up":
        return [-abs(v)] if decrease_frame else [v] if v < 0 else [abs(v)]
    if direction == "either":
        return [v, -v]
    return [v]
