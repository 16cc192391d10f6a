"""Year answers (and integer identifiers a task marks ``exact``) match exactly: the relative tolerance of an
amount must not let 2019 stand for 2018. ``FY2018`` and ``fiscal 2018`` both read as 2018."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.contracts.answers import check_answer
from evalkit.contracts.loader import load_suite
from evalkit.contracts.suite import ExpectedAnswer, Tolerance

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mini"
YEAR_2018 = ExpectedAnswer("number", 2018.0, None, Tolerance(rel=0.005))


@pytest.mark.parametrize(
    "reply",
    [
        "2019",
        "2017",
        "FINAL ANSWER: 2020",
        "FY2019",
        "fiscal 2017",
        "Revenue peaked in fiscal year 2019, at $1,350 million.",
        "<think>2018 or 2019? The 2019 row is larger.</think>The highest revenue was in FY2019.",
    ],
)
def test_a_neighbouring_year_does_not_match(reply: str) -> None:
    result = check_answer(YEAR_2018, reply)
    assert not result.correct, result.reason


@pytest.mark.parametrize(
    "reply",
    [
        "2018",
        "FY2018",
        "FY 2018",
        "fiscal 2018",
        "FINAL ANSWER: fiscal year 2018",
        "In FY2018, revenue peaked at $1,350 million.",
        "Revenue was highest in FY2018 ($1,350 million), compared with FY2016 ($1,100 million).",
        "Revenue: FY2016 1,100; FY2017 1,250; FY2018 1,350. So the peak year is FY2018.",
    ],
)
def test_year_forms_read_as_the_year(reply: str) -> None:
    result = check_answer(YEAR_2018, reply)
    assert result.correct, result.reason
    assert result.got == 2018


def test_an_amount_near_the_year_range_is_still_an_amount() -> None:
    # a USD amount whose value lies in 1990-2100 keeps its tolerance; the year in the sentence is not the answer
    amount = ExpectedAnswer("number", 2075.1, "USD millions", Tolerance(rel=0.005))
    assert check_answer(amount, "In 2023, Solano reported $2,075.1 million more revenue than Helix.").correct
    assert check_answer(amount, "FINAL ANSWER: 2,070 USD millions").correct  # within 0.5 %
    assert not check_answer(amount, "FINAL ANSWER: 2023").correct


def test_exact_integer_identifiers_ignore_the_tolerance() -> None:
    quarter = ExpectedAnswer("number", 3.0, "count", Tolerance(rel=0.5), exact=True)
    assert check_answer(quarter, "FINAL ANSWER: 3").correct
    assert not check_answer(quarter, "FINAL ANSWER: 4").correct
    assert not check_answer(quarter, "FINAL ANSWER: 2").correct
    loose = ExpectedAnswer("number", 3.0, "count", Tolerance(rel=0.5))
    assert check_answer(loose, "FINAL ANSWER: 4").correct  # without the flag the tolerance applies


def test_exact_flag_is_read_from_tasks_yaml(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "mini")
    tasks = tmp_path / "mini" / "suite" / "tasks.yaml"
    text = tasks.read_text()
    old = "answer: {kind: number, value: 1350.0, unit: USD millions, tolerance: {rel: 0.001}}"
    assert old in text
    tasks.write_text(text.replace(old, "answer: {kind: number, value: 1350.0, unit: count, exact: true}"))
    suite = load_suite(tmp_path / "mini" / "suite")
    assert suite.task("t1").answer.exact
    assert not suite.task("t2").answer.exact


YEARS = st.integers(min_value=1990, max_value=2100)
YEAR_FORMS = st.sampled_from(["{}", "FY{}", "FY {}", "fiscal {}", "fiscal year {}", "In FY{}, it peaked."])


@given(year=YEARS, off=st.sampled_from([-1, 1]), form=YEAR_FORMS, rel=st.sampled_from([None, 0.001, 0.005, 0.01]))
def test_a_year_never_matches_its_neighbour(year: int, off: int, form: str, rel: float | None) -> None:
    gold = ExpectedAnswer("number", float(year), None, Tolerance(rel=rel))
    assert check_answer(gold, form.format(year)).correct
    assert not check_answer(gold, form.format(year + off)).correct


def test_describe_answer_says_how_a_reply_is_matched() -> None:
    """What ``suite show`` prints for an answer: the value, its unit and the matching rule, not a repr."""
    from evalkit.contracts.suite import ExpectedAnswer, Tolerance

    assert str(ExpectedAnswer("number", 2167.1, "USD millions", Tolerance(rel=0.005))) == (
        "2167.1 USD millions (within 0.5 % relative)"
    )
    assert str(ExpectedAnswer("number", 2019.0)) == "2019 (exact)"
    assert (
        str(ExpectedAnswer("number", 3.0, "x", Tolerance(abs=0.05, rel=0.01))) == "3x (within ± 0.05 or 1 % relative)"
    )
    assert str(ExpectedAnswer("list", ("a", "b"), ordered=False)) == "a, b (any order)"
    assert str(ExpectedAnswer("text", "Acme")) == "Acme (text)"
