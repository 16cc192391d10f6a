"""The calculator on worked examples: arithmetic, money and percent notation, every error message, the limits
and number formatting. Its properties (agreement with Python, failing only with ``CalculatorError``, refusing
huge powers before computing them) are in ``tests/scoring/test_calculator_properties.py``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.env.calculator import MAX_LENGTH, CalculatorError, calculate, format_number


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("2 ** 10", 1024),
        ("2 ^ 10", 1024),
        ("-3 + +2", -1),
        ("abs(-4.5)", 4.5),
        ("round(2.71828, 2)", 2.72),
        ("round(1234.5)", 1234),
        ("min(3, 1, 2) + max(4, 9)", 10),
        ("sqrt(16)", 4),
        ("log(e)", 1),
        ("log(8, 2)", 3),
        ("log10(1000)", 3),
        ("exp(0)", 1),
        ("(1250.5 - 1100.25) / 1100.25 * 100", (1250.5 - 1100.25) / 1100.25 * 100),
    ],
)
def test_arithmetic(expression: str, expected: float) -> None:
    assert calculate(expression) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$1,234.5", 1234.5),
        ("€2,000 - £500", 1500),
        ("1,234,567.89 / 1,000", 1234.56789),
        ("(1,234 - 1,000) / 1,000", 0.234),
        ("12%", 0.12),
        ("12.5% * 200", 25),
        ("$1,200 * 15%", 180),
        ("10 % 3", 1),  # modulo, not a percentage
        ("max(1,234)", 234),  # inside a call, commas separate arguments
        ("3 × 4 ÷ 2 − 1", 5),
    ],
)
def test_money_thousands_and_percent(expression: str, expected: float) -> None:
    assert calculate(expression) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1 / 0", "division by zero"),
        ("5 // 0", "division by zero"),
        ("5 % 0", "modulo by zero"),
        ("0 ** -1", "division by zero"),
        ("sqrt(-1)", "sqrt of a negative number"),
        ("log(0)", "log of a number that is not positive"),
        ("log(8, 1)", "log base"),
        ("(-8) ** 0.5", "fractional power"),
        ("exp(1000)", "too large"),
        ("1e308 * 10", "too large"),
        ("__import__('os')", "unknown function '__import__'"),
        ("x + 1", "unknown name 'x'"),
        ("'a' * 3", "only numbers"),
        ("(1).real", "Attribute is not allowed"),
        ("[1, 2]", "List is not allowed"),
        ("1 if 2 else 3", "IfExp is not allowed"),
        ("round(1, 2, 3)", "round() takes 1 to 2 argument(s), got 3"),
        ("abs()", "abs() takes 1 argument(s), got 0"),
        ("max(x=1)", "plain positional arguments"),
        ("1 +", "not a valid arithmetic expression"),
        ("", "empty expression"),
        ("1 + " * 200 + "1", "too long"),
        ("-" * 300 + "1", "too complex"),
    ],
)
def test_errors(expression: str, message: str) -> None:
    with pytest.raises(CalculatorError, match=None) as info:
        calculate(expression)
    assert message in str(info.value)


def test_limits() -> None:
    with pytest.raises(CalculatorError, match="too long"):
        calculate("1" * (MAX_LENGTH + 1))
    with pytest.raises(CalculatorError, match="too large"):
        calculate("9" * 400)


def test_format_number() -> None:
    assert format_number(3.0) == "3"
    assert format_number(-0.0) == "0"
    assert format_number(1 / 3) == "0.3333333333"
    assert format_number(1234567.89) == "1234567.89"
    assert format_number(1234567890123.4) == "1234567890000"
    assert format_number(0.000012345) == "0.000012345"
    assert format_number(1e20) == "1e+20"


@settings(database=None, max_examples=300, deadline=None)
@given(st.integers(-(10**15), 10**15), st.integers(-(10**15), 10**15))
def test_integer_addition_is_exact(a: int, b: int) -> None:
    assert calculate(f"{a}+{b}") == a + b
    assert calculate(f"{a} - ({b})") == a - b


@settings(database=None, max_examples=200, deadline=None)
@given(st.floats(-1e6, 1e6, allow_nan=False), st.floats(0.001, 1e6))
def test_division_matches_python(a: float, b: float) -> None:
    assert calculate(f"{a!r} / {b!r}") == pytest.approx(a / b)
