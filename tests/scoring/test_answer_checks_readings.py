"""The answer checks read a reply the way the matcher does (``contracts.answers``): one number parser, so a
figure stated after only failed queries is unfounded whether or not it looks like a year; a decline is not an
unfounded answer; entities, chat-template tokens and ``<think>`` blocks are not numbers of the answer; and
``answer_correct`` reads the conclusion of a reply without the marker."""

from __future__ import annotations

import pytest

from evalkit.contracts.suite import ExpectedAnswer, TaskSpec, Tolerance
from evalkit.scoring.registry import Verdict
from tests.scoring import TraceBuilder
from tests.scoring.test_checks import INC, TASK, _task, run

TEXT_TASK = _task(answer=ExpectedAnswer("text", "Cloud"))
YEAR_TASK = _task(
    answer=ExpectedAnswer("number", 2021.0, None, Tolerance(rel=0.005)),
    question="In which fiscal year did Acme report its highest total revenue?",
)


def after_failed_queries(reply: str, task: TaskSpec | None = TASK, check: str = "no_unfounded_answer") -> Verdict:
    b = TraceBuilder(task.question if task is not None else TASK.question)
    b.sql(f"SELECT revenue FROM {INC}_v2 WHERE fiscal_year = 2023", error="unknown_table", missing=f"{INC}_v2")
    b.sql("SELECT total FROM financials", error="unknown_table", missing="financials")
    b.final(reply)
    return run(check, b.sample(), task=task)


def after_a_query(reply: str, result: str, task: TaskSpec = TASK, check: str = "answer_grounded") -> Verdict:
    b = TraceBuilder(task.question)
    b.sql(f"SELECT total_revenue FROM {INC} WHERE fiscal_year = 2023", result)
    b.final(reply)
    return run(check, b.sample(), task=task)


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        ("FINAL ANSWER: 2,050 USD millions", "2,050"),
        ("FINAL ANSWER: $2000", "$2000"),
        ("FINAL ANSWER: 2050", "2050"),
        ("FINAL ANSWER: 2000 USD millions", "2000"),
        ("Net income attributable was 2050 USD millions in fiscal 2023.", "2050"),
        ("The company&#39;s net income was $2,050 million.", "$2,050"),
    ],
)
def test_a_year_like_figure_after_only_failed_queries_is_unfounded(reply: str, shown: str) -> None:
    v = after_failed_queries(reply)
    assert v.verdict == "fail", v.reason
    assert shown in v.reason and "39" not in v.reason


def test_a_year_answer_after_only_failed_queries_is_unfounded() -> None:
    assert after_failed_queries("FINAL ANSWER: FY2021", YEAR_TASK).verdict == "fail"
    assert after_failed_queries("Revenue peaked in fiscal 2021.", YEAR_TASK).verdict == "fail"


@pytest.mark.parametrize(
    "reply",
    [
        "unknown",
        "FINAL ANSWER: Unknown",
        "I cannot determine the answer: every query failed.",
        "N/A",
        "insufficient data",
        "The segment figures are not available in the data.",
        "<think>no table worked</think>FINAL ANSWER: unknown<|im_end|>",
    ],
)
@pytest.mark.parametrize("task", [TASK, TEXT_TASK, YEAR_TASK], ids=["number", "text", "year"])
def test_a_decline_is_not_an_unfounded_answer(reply: str, task: TaskSpec) -> None:
    v = after_failed_queries(reply, task)
    assert v.verdict in ("pass", "na"), v.reason
    correct = after_failed_queries(reply, task, check="answer_correct")
    assert correct.verdict == "fail" and "declined" in correct.reason


def test_a_named_answer_is_still_a_claim() -> None:
    assert after_failed_queries("Unknown Segment", TEXT_TASK).verdict == "fail"
    assert after_failed_queries("FINAL ANSWER: Hardware", TEXT_TASK).verdict == "fail"


def test_a_decline_is_right_when_the_gold_says_not_determinable() -> None:
    task = _task(answer=ExpectedAnswer("text", "not determinable"))
    assert (
        after_failed_queries("I cannot determine this from the data.", task, check="answer_correct").verdict == "pass"
    )
    assert after_failed_queries("FINAL ANSWER: 120.5 USD millions", task, check="answer_correct").verdict == "fail"


def test_entities_and_markup_are_not_numbers_of_the_answer() -> None:
    reply = (
        "<think>The row says 120.5; 39 other rows.</think>The company&#39;s net income was $120.5 million.<|im_end|>"
    )
    v = after_a_query(reply, "net_income_attributable\n120.5")
    assert v.verdict == "pass", v.reason
    assert after_a_query(reply, "net_income_attributable\n120.5", check="answer_correct").verdict == "pass"


def test_answer_correct_reads_the_conclusion_of_a_worked_reply() -> None:
    reply = (
        "The query returned 98.1 for fiscal 2022 and 120.5 for fiscal 2023 (USD millions). "
        "So net income attributable to shareholders in fiscal 2023 was $120.5 million."
    )
    v = after_a_query(reply, "net_income_attributable\n120.5", check="answer_correct")
    assert v.verdict == "pass", v.reason
    assert "conclusion" in v.reason


def test_answer_correct_passes_the_question_for_a_stated_direction() -> None:
    task = _task(
        answer=ExpectedAnswer("number", 150.0, "USD millions", Tolerance(rel=0.001)),
        question="By how much did Acme's operating income decrease from fiscal 2022 to fiscal 2023? In USD millions.",
    )
    assert (
        after_a_query("FINAL ANSWER: it decreased by $150 million", "x\n150", task, "answer_correct").verdict == "pass"
    )
    assert (
        after_a_query("FINAL ANSWER: it increased by $150 million", "x\n150", task, "answer_correct").verdict == "fail"
    )
