"""The one number parser: the numbers in a text with their sign, currency, scale word and unit suffix.

``1,234.5``, ``$1.2bn``, ``(12.5%)`` (negative), ``−3`` (U+2212), ``1.2e+09``, ``125 bps``, ``3.2x``; digits
glued to letters (``Q4``, ``FY2023``) are labels; a bare whole number from 1990 to 2100 is a year unless it is
written as an amount (:func:`is_year`). Answers, checks, trace import and suite import all read numbers here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

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
_CURRENCY_AFTER = re.compile(
    r"\s*(?P<code>USD|US dollars?|dollars?|EUR|euros?|GBP|pounds?(?: sterling)?|JPY|yen|CHF|CAD|AUD|CNY|INR)\b"
    r"(?:\s*(?P<scale>thousands?|millions?|billions?|trillions?|bn|mn|mm|tn|k|m|b)\b)?",
    re.IGNORECASE,
)
"""A currency written after a number, with the scale after it (``696 USD millions``, ``2.1 EUR bn``)."""
_CURRENCY_CODES = {
    "$": "USD", "us$": "USD", "usd": "USD", "us dollar": "USD", "us dollars": "USD", "dollar": "USD",
    "dollars": "USD", "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP",
    "pound": "GBP", "pounds": "GBP", "pound sterling": "GBP", "pounds sterling": "GBP", "jpy": "JPY", "yen": "JPY",
    "chf": "CHF", "cad": "CAD", "aud": "AUD", "cny": "CNY", "inr": "INR",
}  # fmt: skip
"""The ISO code of each way of writing a currency."""
_UNIT_AFTER = re.compile(r"\s*(?:USD|EUR|GBP|dollars?|euros?|pounds?|shares?|employees?|days?|years?)\b", re.IGNORECASE)
"""A unit word right after a number (``2,050 USD millions``, ``2000 shares``): the number is an amount."""
_AMOUNT_UNIT = re.compile(r"%|[A-Za-z][A-Za-z%]*(?: [A-Za-z%]+){0,2}")
"""What may follow the one number of an amount (:func:`parse_amount`): ``%`` or up to three words."""
_FISCAL_YEAR = re.compile(r"(?<![\w.])(?:FY|CY)'?(\d{4}|\d{2})(?![\w.])", re.IGNORECASE)
"""A year glued to a fiscal label (``FY2018``, ``FY18``, ``CY2020``): a label elsewhere, the year for a year answer."""


@dataclass(frozen=True)
class ParsedNumber:
    """A number found in a text, with its sign applied; ``scale`` is not applied to ``value``."""

    value: float
    scale: float | None  # an explicit scale word, if any
    suffix: str | None  # "%", "bps", "x"
    start: int
    text: str = ""  # as written, e.g. "($1,234.5 million)"
    figure: bool = False  # written as an amount: see ``is_year``
    end: int = 0
    currency: bool = False  # written with $, US$, USD, €, £
    currency_code: str | None = None  # the currency it is stated in: "USD", "EUR", "GBP", ... (before or after)


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
    code = _CURRENCY_CODES.get((m.group("cur") or "").lower())
    after = _CURRENCY_AFTER.match(text, m.end())
    if after is not None:
        code = code or _CURRENCY_CODES.get(" ".join(after.group("code").lower().split()))
        if scale is None and after.group("scale"):  # "696 USD millions": the scale follows the currency
            scale_word = after.group("scale").lower()
            scale = _SCALE_WORDS.get(scale_word)
    written_as_amount = m.group("cur") or m.group("exp") or suffix or scale_word or "," in num or "." in num
    figure = bool(written_as_amount or _UNIT_AFTER.match(text, m.end()))
    written = m.group(0)
    start = m.start() + len(written) - len(written.lstrip())
    end = m.start() + len(written.rstrip())
    return ParsedNumber(value, scale, suffix, start, written.strip(), figure, end, bool(m.group("cur")), code)


def fiscal_years(text: str) -> list[ParsedNumber]:
    """The years written as ``FY2018``, ``FY18`` or ``CY2020`` (two digits: 90-99 are 19xx, else 20xx)."""
    out = []
    for m in _FISCAL_YEAR.finditer(text):
        digits = m.group(1)
        year = int(digits) if len(digits) == 4 else (1900 if int(digits) >= 90 else 2000) + int(digits)
        out.append(ParsedNumber(float(year), None, None, m.start(), m.group(0), False, m.end()))
    return out


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


def unit_scale(unit: str | None) -> float | None:
    """The scale a task's unit asks for (``USD millions`` → 1e6, ``shares thousands`` → 1e3); None for a unit
    without one (``USD``, ``%``, a count)."""
    scale = _UNIT_SCALE.get(unit or "")
    return scale if scale is not None and scale != 1.0 else None


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
