"""rLLM FinQA ground truths as evalkit answers, and the arithmetic that reproduces them from the cells used.

The dataset's answers are written as analysts write them (``$1.2 billion``, ``12.5%``, ``-3.4``, a JSON list,
a sentence). One figure with at most a few words around it is a number answer, its unit and scale read by
:mod:`evalkit.contracts.numbers` (``$1.2 billion`` -> 1.2 ``USD billions``), its tolerance half a unit of its
last stated digit and a little more (``1.2`` is right from 1.149 to 1.251: 1.15 is rounded up to it) or the
import's default, whichever is wider. A list
is a list answer. Anything else cannot be matched deterministically and is graded by a judge.

The rows give no formula, only the cells used (``columns_used`` x ``rows_used``). :func:`find_formula` tries
the arithmetic 10-K questions ask for (a cell, a difference, a sum, a ratio, a share, a growth rate, each
possibly rescaled to the answer's scale) over those cells; the first that reproduces the answer within its
tolerance becomes the reference solution's ``compute``, so ``suite verify`` checks the answer against the
tables.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from evalkit.contracts.numbers import is_year, parse_numbers
from evalkit.contracts.suite import Tolerance

DEFAULT_REL = 0.005
_SCALES = {1e3: "thousands", 1e6: "millions", 1e9: "billions"}
_WORD = re.compile(r"[A-Za-z]{2,}")
_FILLER = {"approximately", "about", "around", "roughly", "usd", "dollars", "million", "billion", "thousand",
           "millions", "billions", "thousands", "of", "percent", "per", "cent", "a", "an", "decrease", "increase",
           "times", "shares", "share"}  # fmt: skip
MAX_WORDS = 3
"""Words beside the figure (other than unit and scale words) that still make an answer a number answer."""


@dataclass(frozen=True)
class ParsedAnswer:
    """The evalkit answer entry of a ground truth (``tasks.yaml``'s ``answer``), or None when a judge grades it."""

    answer: dict[str, Any] | None
    value: float | None = None  # a number answer's value, for the formula search
    scale: float = 1.0  # the answer's scale relative to plain units (1e9 for billions)
    items: tuple[str, ...] = ()  # a list answer's items

    @property
    def judge_graded(self) -> bool:
        return self.answer is None


def _items(text: str) -> list[str] | None:
    s = text.strip()
    if not (s.startswith("[") and s.endswith("]")):
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(s)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, list) and value and all(isinstance(v, str | int | float) for v in value):
            return [str(v).strip() for v in value if str(v).strip()]
    return None


def _decimals(text: str) -> int:
    m = re.search(r"\d[\d,]*(?:\.(\d+))?", text)
    return len(m.group(1)) if m and m.group(1) else 0


def parse_ground_truth(value: Any, default_rel: float = DEFAULT_REL) -> ParsedAnswer:
    """The answer entry of a ground truth (see the module docstring)."""
    if isinstance(value, list):
        items = [str(v).strip() for v in value if str(v).strip()]
        return (
            ParsedAnswer({"kind": "list", "value": items, "ordered": False}, items=tuple(items))
            if items
            else ParsedAnswer(None)
        )
    if isinstance(value, bool) or value is None:
        return ParsedAnswer(None)
    text = str(value).strip()
    if not text:
        return ParsedAnswer(None)
    listed = _items(text)
    if listed:
        items = listed
        return ParsedAnswer({"kind": "list", "value": items, "ordered": False}, items=tuple(items))
    numbers = [n for n in parse_numbers(text) if not is_year(n)]
    if len(numbers) != 1:
        return ParsedAnswer(None)
    n = numbers[0]
    rest = text[: n.start] + " " + text[n.end :]
    words = [w for w in _WORD.findall(rest) if w.lower() not in _FILLER]
    if len(words) > MAX_WORDS:
        return ParsedAnswer(None)
    unit, scale = _unit(n.suffix, n.scale, n.currency_code or ("USD" if n.currency else None), text)
    half = round(0.51 * 10 ** -_decimals(n.text), 12)  # half a unit, and a little for floats' rounding
    tolerance = Tolerance(abs=half, rel=default_rel)
    entry: dict[str, Any] = {"kind": "number", "value": n.value}
    if unit:
        entry["unit"] = unit
    entry["tolerance"] = {"abs": tolerance.abs, "rel": tolerance.rel}
    return ParsedAnswer(entry, value=n.value, scale=scale)


def _unit(suffix: str | None, scale: float | None, currency: str | None, text: str) -> tuple[str | None, float]:
    if suffix in ("%", "bps", "x"):
        return suffix, 1.0
    word = _SCALES.get(scale or 0.0)
    if re.search(r"\bshares?\b", text, re.IGNORECASE):
        return (f"shares {word}" if word in ("thousands", "millions") else "shares"), scale or 1.0
    if currency == "USD":
        return (f"USD {word}" if word else "USD"), scale or 1.0
    return None, scale or 1.0


def _formulas(n: int) -> list[str]:
    """Candidate ``compute`` expressions over ``n`` cells ``c1..cn``, simplest first."""
    out = [f"c{i + 1}" for i in range(n)]
    for i, j in itertools.permutations(range(1, n + 1), 2):
        out += [f"c{i} - c{j}", f"(c{i} - c{j}) / c{j} * 100", f"c{i} / c{j}", f"c{i} / c{j} * 100"]
    if n >= 2:
        names = " + ".join(f"c{i + 1}" for i in range(n))
        out += [names, f"({names}) / {n}"]
    for i, j, k in itertools.permutations(range(1, n + 1), 3):
        if i < j:
            out += [f"(c{i} + c{j}) / c{k} * 100", f"(c{i} + c{j}) / c{k}"]
        out.append(f"(c{i} - c{j}) / c{k} * 100")
    return out


def _evaluate(expr: str, cells: list[float]) -> float | None:
    """``expr`` with the cells substituted, by the agent's calculator (as ``suite verify`` evaluates it)."""
    from evalkit.env.calculator import CalculatorError, calculate

    text = re.sub(r"\bc(\d+)\b", lambda m: f"({cells[int(m.group(1)) - 1]!r})", expr)
    try:
        return calculate(text)
    except (CalculatorError, ZeroDivisionError):
        return None


def find_formula(answer: ParsedAnswer, cells: list[float], cell_scale: float, max_cells: int = 5) -> str | None:
    """A ``compute`` expression over ``c1..cn`` that reproduces the number answer (negated and rescaled
    forms tried too), or None. ``cell_scale`` is the cells' unit in plain units (1e6 for USD millions)."""
    if answer.value is None or not cells or len(cells) > max_cells or not answer.answer:
        return None
    tol = answer.answer["tolerance"]
    tolerance = Tolerance(abs=tol.get("abs"), rel=tol.get("rel"))
    unit = answer.answer.get("unit")
    ratio = cell_scale / answer.scale
    factors = [ratio, 1.0] if unit and unit not in ("%", "x", "bps") and ratio != 1.0 else [1.0]
    for text in _formulas(len(cells)):
        raw = _evaluate(text, cells)
        if raw is None:
            continue
        for factor in factors:
            for sign in (1.0, -1.0):
                if tolerance.accepts(answer.value, sign * raw * factor):
                    expr = text if factor == 1.0 else f"({text}) * {_plain(factor)}"
                    return expr if sign > 0 else f"-({expr})"
    return None


def _plain(x: float) -> str:
    """``0.001``, ``1000000``: a factor as the calculator reads it (no exponent)."""
    return format(x, "f").rstrip("0").rstrip(".")
