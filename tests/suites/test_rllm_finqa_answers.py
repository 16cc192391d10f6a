"""rLLM FinQA ground truths read as evalkit answers, and the arithmetic found over the cells used."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.contracts.answers import check_answer
from evalkit.contracts.suite import ExpectedAnswer, Tolerance
from evalkit.env.calculator import calculate
from evalkit.suites.rllm_finqa_answers import find_formula, parse_ground_truth


def _expected(entry: dict[str, object]) -> ExpectedAnswer:
    tol = entry["tolerance"]
    assert isinstance(tol, dict)
    return ExpectedAnswer(
        kind="number",
        value=float(entry["value"]),  # type: ignore[arg-type]
        unit=entry.get("unit"),  # type: ignore[arg-type]
        tolerance=Tolerance(abs=tol.get("abs"), rel=tol.get("rel")),
    )


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("$1.2 billion", 1.2, "USD billions"),
        ("12.5%", 12.5, "%"),
        ("-3.4", -3.4, None),
        ("(1,234)", -1234.0, None),
        ("$450 million", 450.0, "USD millions"),
        ("approximately $2.8 billion", 2.8, "USD billions"),
        ("1.5x", 1.5, "x"),
        ("3.2 million shares", 3.2, "shares millions"),
    ],
)
def test_answers_as_analysts_write_them(text: str, value: float, unit: str | None) -> None:
    parsed = parse_ground_truth(text)
    assert parsed.answer is not None and parsed.answer["value"] == value and parsed.answer.get("unit") == unit


@pytest.mark.parametrize(
    "text",
    [
        "Operating margin improved, driven by lower cost of revenues.",
        "Revenue grew 3.4% while costs grew 5.1%",  # two figures: which one is the answer is for a judge
        "The company does not disclose this figure in its 10-K filing",
        "",
    ],
)
def test_answers_that_are_no_figure_go_to_a_judge(text: str) -> None:
    assert parse_ground_truth(text).judge_graded


def test_lists_from_json_or_python_text() -> None:
    for text in ('["Americas", "EMEA"]', "['Americas', 'EMEA']", ["Americas", "EMEA"]):
        assert parse_ground_truth(text).answer == {"kind": "list", "value": ["Americas", "EMEA"], "ordered": False}


def _round(v: float, d: int) -> Decimal:
    return Decimal(repr(v)).quantize(Decimal(1).scaleb(-d), ROUND_HALF_UP)


@settings(max_examples=150, deadline=None)
@given(
    v=st.floats(min_value=0.01, max_value=99_999, allow_nan=False),
    d=st.integers(min_value=0, max_value=3),
    negative=st.booleans(),
    form=st.sampled_from(["plain", "paren", "pct", "usd_b", "usd_m"]),
)
def test_a_written_figure_round_trips_through_evalkits_matcher(v: float, d: int, negative: bool, form: str) -> None:
    number = _round(v, d)
    if number == 0:
        return
    body = f"{number:,.{d}f}"
    text = {
        "plain": f"{'-' if negative else ''}{body}",
        "paren": f"({body})" if negative else body,
        "pct": f"{'-' if negative else ''}{body}%",
        "usd_b": f"{'-' if negative else ''}${body} billion",
        "usd_m": f"{'-' if negative else ''}${body} million",
    }[form]
    sign = -1 if negative else 1
    parsed = parse_ground_truth(text)
    assert parsed.answer is not None, text
    assert parsed.answer["value"] == pytest.approx(sign * float(number)), text
    expected = _expected(parsed.answer)
    assert check_answer(expected, f"FINAL ANSWER: {text}").correct, (text, parsed.answer)
    assert expected.tolerance.accepts(float(expected.value), sign * float(number))  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(
    new=st.integers(min_value=100, max_value=90_000),
    old=st.integers(min_value=100, max_value=90_000),
    d=st.integers(min_value=1, max_value=2),
)
def test_a_growth_rate_is_reproduced_from_its_two_cells(new: int, old: int, d: int) -> None:
    growth = (new - old) / old * 100
    text = f"{_round(growth, d)}%"
    parsed = parse_ground_truth(text)
    formula = find_formula(parsed, [float(new), float(old)], 1e6)
    assert formula is not None, text
    got = calculate(formula.replace("c1", f"({new})").replace("c2", f"({old})"))
    tol = parsed.answer["tolerance"]  # type: ignore[index]
    assert Tolerance(abs=tol["abs"], rel=tol["rel"]).accepts(parsed.value, got)  # type: ignore[arg-type]


def test_a_billions_answer_from_a_millions_cell_is_rescaled() -> None:
    assert find_formula(parse_ground_truth("$2.7 billion"), [2650.0], 1e6) == "(c1) * 0.001"
    assert find_formula(parse_ground_truth("$2,650 million"), [2650.0], 1e6) == "c1"
    assert find_formula(parse_ground_truth("17.5%"), [2650.0, 412.0], 1e6) is None  # nothing gives it
