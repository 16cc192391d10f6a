"""Properties of the agent's calculator: it agrees with Python's arithmetic, fails only with
``CalculatorError``, and refuses expressions built to be expensive before computing them (the exponent is
checked first), so they cost no time. Hypothesis' per-example deadline is off: no test here depends on how
fast the machine is; ``bench/bench_tools.py`` prints the timings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from evalkit.env.calculator import MAX_LENGTH, CalculatorError, calculate, format_number

# ------------------------------------------------------------------------------------- expression trees


@dataclass(frozen=True)
class Expr:
    text: str  # what the calculator gets
    python: str  # the same expression for Python's eval


def _number(x: float | int) -> Expr:
    text = f"({x!r})" if x < 0 else repr(x)
    return Expr(text, text)


numbers = st.one_of(
    st.integers(min_value=-1000, max_value=1000),
    st.decimals(min_value=-1000, max_value=1000, places=3).map(float),
).map(_number)


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    def join(a: Expr, op: str, b: Expr, paren: bool) -> Expr:
        if paren:
            return Expr(f"({a.text} {op} {b.text})", f"({a.python} {op} {b.python})")
        return Expr(f"{a.text} {op} {b.text}", f"{a.python} {op} {b.python}")

    return st.builds(join, children, st.sampled_from(["+", "-", "*", "/"]), children, st.booleans())


expressions = st.recursive(numbers, _combine, max_leaves=12)


def _python(expr: Expr) -> float | None:
    try:
        value = float(eval(expr.python, {"__builtins__": {}}, {}))  # test oracle on generated arithmetic only
    except (ZeroDivisionError, OverflowError):
        return None
    return value if math.isfinite(value) and abs(value) <= 1e308 else None


@settings(max_examples=400, deadline=None)
@given(expr=expressions)
@example(expr=Expr("1 - -2", "1 - -2"))
@example(expr=Expr("(1000 / 3) * 3", "(1000 / 3) * 3"))
def test_agrees_with_python(expr: Expr) -> None:
    expected = _python(expr)
    if expected is None:
        with pytest.raises(CalculatorError):
            calculate(expr.text)
        return
    try:
        got = calculate(expr.text)
    except CalculatorError as e:  # only the size limits may refuse a valid expression
        assert "too" in str(e), (expr.text, e)
        return
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), expr.text


@settings(deadline=None)
@given(x=st.decimals(min_value=-(10**9), max_value=10**9, places=2).map(float))
def test_thousands_separators_currency_and_percent(x: float) -> None:
    sign = "-" if x < 0 else ""
    assert calculate(f"{sign}${abs(x):,.2f}") == pytest.approx(x)
    assert calculate(f"{x:.2f}% * 100") == pytest.approx(x)
    assert calculate(f"max({x:.2f}, 0) + 1") == pytest.approx(max(x, 0) + 1)


@settings(deadline=None)
@given(
    x=st.floats(
        allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15, exclude_min=True, exclude_max=True
    )
)
def test_format_number_round_trips_ten_digits(x: float) -> None:
    text = format_number(x)
    assert "e" not in text or abs(x) < 1e-6
    assert float(text) == pytest.approx(x, rel=1e-9, abs=1e-300)


# --------------------------------------------------------------------------------------------- robustness

TOKENS = st.sampled_from(
    [*"0123456789+-*/%^().,$€£ ", "**", "//", "e", "pi", "sqrt(", "log(", "round(", "max(", "abs(", "exp(",
     "1e308", "9" * 40, "_", "x", "'", '"', "[", "]", "{", "}", "lambda", "__import__", ":", ";", "\\", "\x00",
     "\n", "×", "÷", "−", "٣", "²", "1_000", "0x1f", "1j", "True", "None", "not", "if", "=", "<", "9**9",
     "ln(", "log10(", "floor(", "ceil(", "min(", "a", "b", "c"]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(text=st.one_of(st.text(max_size=80), st.lists(TOKENS, max_size=60).map("".join)))
@example(text="(" * 300 + "1" + ")" * 150)
@example(text="-" * 450 + "1")
@example(text="9" * 400)
@example(text="1" + "+1" * 240)
@example(text="round(1, 1e300)")
@example(text="log(0.5, 1)")
@example(text="((2**1023) * 2)")
@example(text="1e308 * 10")
@example(text="2 ** -1075")
@example(text="floor(1e308 * 1e308)")
@example(text="min()")
def test_never_raises_anything_but_calculator_error(text: str) -> None:
    try:
        value = calculate(text)
    except CalculatorError:
        return
    assert isinstance(value, float) and math.isfinite(value)


BIG = "result is too large (exponent too big)"
"""The refusal of ``**`` when the exponent is checked, before anything is computed."""


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("9**9**9**9", BIG),
        ("10**10**10", BIG),
        ("10 ** 400", BIG),
        ("2 ** 2 ** 2 ** 2 ** 2 ** 2", BIG),
        ("2**2**2**2**2**2**2", BIG),
        ("((((10**10)**10)**10)**10)**10", BIG),
        ("(-1.0000001)**(10**15)", BIG),
        ("0.5**-(10**6)", BIG),
        ("max(" + ",".join(["9**9**9"] * 20) + ")", BIG),
        ("10**308.1", BIG),
        ("(2**0.5)**2048", BIG),
        ("exp(exp(exp(10)))", "result is too large"),  # exp checks its argument first too
    ],
)
def test_huge_powers_are_refused_before_computing(text: str, refusal: str) -> None:
    with pytest.raises(CalculatorError, match=f"^{re.escape(refusal)}$"):
        calculate(text)


def test_a_huge_exponent_with_a_result_in_range_is_computed() -> None:
    assert calculate("1.0000000001**(10**12)") == pytest.approx(1.0000000001**1e12, rel=1e-9)


@settings(max_examples=150, deadline=None)
@given(bases=st.lists(st.integers(min_value=-20, max_value=20), min_size=2, max_size=8))
def test_random_power_towers_give_a_finite_number_or_a_calculator_error(bases: list[int]) -> None:
    text = "**".join(f"({b})" if b < 0 else str(b) for b in bases)
    assert len(text) <= MAX_LENGTH
    try:
        value = calculate(text)
    except CalculatorError:
        return
    assert math.isfinite(value)
