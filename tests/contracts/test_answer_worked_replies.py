"""Replies without a ``FINAL ANSWER:`` marker that show their working first: the figure read is the
conclusion (after "so", "therefore", "thus", "is", "was", "=", ...) or the last sentence's figure, not the
first number of the working, and the rule that read it is recorded."""

from __future__ import annotations

import pytest

from evalkit.contracts.answers import check_answer
from evalkit.contracts.suite import ExpectedAnswer, Tolerance

REVENUE = ExpectedAnswer("number", 1350.0, "USD millions", Tolerance(rel=0.001))
GROWTH = ExpectedAnswer("number", 12.5, "%", Tolerance(abs=0.05))
PER_EMPLOYEE = ExpectedAnswer("number", 250.0, "USD thousands", Tolerance(rel=0.005))
MARGIN_BPS = ExpectedAnswer("number", 125.7, "bps", Tolerance(abs=0.5))
NET_DEBT = ExpectedAnswer("number", -412.3, "USD millions", Tolerance(rel=0.005))
COVERAGE = ExpectedAnswer("number", 8.4, "x", Tolerance(abs=0.05))
HEADCOUNT = ExpectedAnswer("number", 5400.0, "count", Tolerance(rel=0.001))

WORKED: list[tuple[str, ExpectedAnswer, str, float, str]] = [
    (
        "growth-therefore",
        GROWTH,
        "<think>\nI need revenue for fiscal 2022 and 2023. The query returned 1,200 and 1,350.\n</think>\n"
        "Fiscal 2022 revenue was $1,200 million and fiscal 2023 revenue was $1,350 million. The change is "
        "1,350 - 1,200 = 150. Therefore, revenue grew by **12.5%**.",
        12.5,
        "conclusion",
    ),
    (
        "growth-equals",
        GROWTH,
        "Revenue FY2022: 1200\nRevenue FY2023: 1350\nGrowth = (1350 - 1200) / 1200 × 100 = 12.5%",
        12.5,
        "conclusion",
    ),
    (
        "growth-ratio-then-percent",
        GROWTH,
        "Using the two rows (1,200 in 2022 and 1,350 in 2023): 150 / 1,200 = 0.125, i.e. approximately 12.5%.",
        12.5,
        "conclusion",
    ),
    (
        "revenue-so",
        REVENUE,
        "I first listed the tables and found acme_income_statement, which has 4 rows. Querying it for fiscal "
        "2023 gave total_revenue = 1350.0 (the table is in USD millions). So total revenue for fiscal 2023 was "
        "$1,350 million.",
        1350.0,
        "conclusion",
    ),
    (
        "revenue-billions",
        REVENUE,
        "Looking at the income statement, revenue was $1.2 billion in FY2022. In FY2023 it was about $1.35 billion.",
        1350.0,
        "conclusion",
    ),
    (
        "revenue-up-from",
        REVENUE,
        "Step 1: find the income statement table.\nStep 2: query total_revenue for 2023.\n\n"
        "Total revenue in fiscal 2023 was **$1,350M**, up from $1,200M in fiscal 2022.",
        1350.0,
        "conclusion",
    ),
    (
        "revenue-last-sentence",
        REVENUE,
        "There are 3 tables for Acme. The income statement covers fiscal years 2020 to 2024.\n\n"
        "Acme Widgets reported 1,350 USD millions in total revenue for fiscal 2023.",
        1350.0,
        "last_sentence",
    ),
    (
        "per-employee-thus",
        PER_EMPLOYEE,
        "Revenue for fiscal 2024: $1,500 million. Employees at year end: 6,000. Revenue per employee = "
        "1,500,000 / 6,000 (in thousands). Thus revenue per employee was ≈ $250 thousand.",
        250.0,
        "conclusion",
    ),
    (
        "per-employee-k",
        PER_EMPLOYEE,
        "Dividing $1.5bn of revenue by the 6,000 employees gives $250k per employee.",
        250.0,
        "conclusion",
    ),
    (
        "bps-margin",
        MARGIN_BPS,
        "Operating margin was 14.2% in fiscal 2021 and 15.457% in fiscal 2022, so the margin moved by 125.7 bps.",
        125.7,
        "conclusion",
    ),
    (
        "net-debt-negative",
        NET_DEBT,
        "Debt principal outstanding: 1,200.0. Cash and equivalents: 1,312.3. Short-term investments: 300.0.\n"
        "Net debt = 1,200.0 - 1,312.3 - 300.0 = -412.3, so Acme has a net cash position: net debt is "
        "-$412.3 million.",
        -412.3,
        "conclusion",
    ),
    (
        "coverage-times",
        COVERAGE,
        "EBIT was 420 and interest expense was 50 (USD millions). The interest coverage ratio is therefore 8.4x.",
        8.4,
        "conclusion",
    ),
    (
        "headcount-was",
        HEADCOUNT,
        "The headcount table has one row per year. For 2021 it shows 5,100 and for 2022 it shows 5,400 "
        "employees. The year-end headcount in fiscal 2022 was 5,400.",
        5400.0,
        "conclusion",
    ),
    (
        "growth-think-and-bold-answer",
        GROWTH,
        "<think>1350/1200 = 1.125 so growth is 12.5%. Double-check: 1200 * 1.125 = 1350. ok</think>\n\n"
        "**Answer:** Revenue grew from $1,200 million to $1,350 million, a growth of 12.5%.",
        12.5,
        "only_number",  # the one figure written as a percentage
    ),
    (
        "revenue-answer-is",
        ExpectedAnswer("number", 1350.0, "USD millions", Tolerance(rel=0.001)),
        "Based on the query (which returned 1,200 for 2022 and 1,350 for 2023), the answer is 1,350 USD millions.",
        1350.0,
        "conclusion",
    ),
    (
        "growth-latex-boxed",
        GROWTH,
        "The growth rate is computed as \\(\\frac{1350 - 1200}{1200} \\times 100\\).\n\n\\[ \\boxed{12.5\\%} \\]",
        12.5,
        "boxed",
    ),
    (
        "revenue-answer-first",
        REVENUE,
        "$1,350 million. This is 12.5% more than the $1,200 million reported for fiscal 2022.",
        1350.0,
        "leading",
    ),
    (
        "ratio-with-its-inputs-in-an-aside",
        ExpectedAnswer("number", 1.54, None, Tolerance(abs=0.005)),
        "The current ratio at the end of 2023 was 1.54 (current assets of $947 million over current "
        "liabilities of $614 million).",
        1.54,
        "conclusion",
    ),
    (
        "margin-with-the-working-in-an-aside",
        GROWTH,
        "Operating margin improved to 12.5% in 2023 (operating income of $744 million on net revenues of "
        "$2,650 million, against 18.5% a year earlier).",
        12.5,
        "last_sentence",
    ),
]


@pytest.mark.parametrize(("name", "answer", "reply", "got", "rule"), WORKED, ids=[w[0] for w in WORKED])
def test_the_conclusion_of_a_worked_reply_is_read(
    name: str, answer: ExpectedAnswer, reply: str, got: float, rule: str
) -> None:
    result = check_answer(answer, reply)
    assert result.correct, f"{name}: {result.reason}"
    assert result.got == pytest.approx(got)
    assert result.rule == rule


def test_a_wrong_conclusion_after_right_working_is_wrong() -> None:
    reply = "Revenue was 1,350 in 2023 and 1,200 in 2022 (USD millions). So the growth is 11%."
    result = check_answer(GROWTH, reply)
    assert not result.correct and result.got == 11.0 and result.rule == "conclusion"


def test_an_aside_that_holds_the_answer_alone_is_no_aside() -> None:
    # an accounting negative is a figure in parentheses, not working shown beside one
    result = check_answer(NET_DEBT, "Net debt at year end was (412.3) million.")
    assert result.correct and result.got == pytest.approx(-412.3)
    # when every candidate sits in an aside, the aside is read rather than nothing
    assert check_answer(REVENUE, "Revenue for fiscal 2023 (1,350 USD millions, up from 1,200).").correct


def test_the_marker_rule_is_recorded() -> None:
    result = check_answer(REVENUE, "Revenue was 1,200 in 2022.\nFINAL ANSWER: 1,350 USD millions")
    assert result.correct and result.rule == "marker"
    assert check_answer(REVENUE, "1350").rule == "only_number"
