"""Properties of the agent's calculator: it agrees with Python's arithmetic, fails only with
``CalculatorError``, and stays fast on expressions built to be expensive."""

from __future__ import annotations

import contextlib
import math
import time
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


@settings(max_examples=400)
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


@given(x=st.decimals(min_value=-(10**9), max_value=10**9, places=2).map(float))
def test_thousands_separators_currency_and_percent(x: float) -> None:
    sign = "-" if x < 0 else ""
    assert calculate(f"{sign}${abs(x):,.2f}") == pytest.approx(x)
    assert calculate(f"{x:.2f}% * 100") == pytest.approx(x)
    assert calculate(f"max({x:.2f}, 0) + 1") == pytest.approx(max(x, 0) + 1)


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
     "\n", "×", "÷", "−", "٣", "²", "1_000", "0x1f", "1j", "True", "None", "not", "if", "=", "<"]
)  # fmt: skip


@settings(max_examples=600)
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


@pytest.mark.parametrize(
    "text",
    [
        "9**9**9**9",
        "2**2**2**2**2**2**2",
        "((((10**10)**10)**10)**10)**10",
        "(-1.0000001)**(10**15)",
        "1.0000000001**(10**12)",
        "0.5**-(10**6)",
        "exp(exp(exp(10)))",
        "max(" + ",".join(["9**9**9"] * 20) + ")",
        "10**308.1",
        "(2**0.5)**2048",
    ],
)
def test_fast_on_nested_powers(text: str) -> None:
    start = time.perf_counter()
    with contextlib.suppress(CalculatorError):
        calculate(text)
    assert time.perf_counter() - start < 0.5, text


@settings(max_examples=150, deadline=500)
@given(bases=st.lists(st.integers(min_value=-20, max_value=20), min_size=2, max_size=8))
def test_fast_on_random_power_towers(bases: list[int]) -> None:
    text = "**".join(f"({b})" if b < 0 else str(b) for b in bases)
    assert len(text) <= MAX_LENGTH
    try:
        value = calculate(text)
    except CalculatorError:
        return
    assert math.isfinite(value)
