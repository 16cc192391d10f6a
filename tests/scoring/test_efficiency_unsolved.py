"""``efficiency`` credits only solutions: it never passes an agent that made no tool call on a task that needs
data, nor one whose answer is wrong or missing.

The traces are written as real models behave (no ``FINAL ANSWER:`` marker, prose around the figure) and
their correctness comes from evalkit's own matcher, as the runner records it.
"""

from __future__ import annotations

import dataclasses

import pytest

from evalkit.contracts.answers import check_answer
from evalkit.contracts.loader import load_suite
from evalkit.contracts.suite import TaskSpec
from evalkit.scoring.registry import CheckContext, Verdict, get_check
from evalkit.scoring.trace_view import TraceView
from evalkit.trace.types import Sample
from tests.conftest import FIXTURES
from tests.scoring import TraceBuilder

TASK: TaskSpec = load_suite(FIXTURES / "mini" / "suite").task("t1")  # total revenue 2023, from one table
SQL = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"
RUBRIC_ARGS = {"relative_to_reference": True, "factor": 2}  # as rubrics/tool-discipline.yaml sets them


def _graded(b: TraceBuilder, **kw: object) -> Sample:
    sample = b.sample(**kw)  # type: ignore[arg-type]
    return dataclasses.replace(sample, correct=check_answer(TASK.answer, sample.final_answer).correct)


def _efficiency(sample: Sample, **args: object) -> Verdict:
    ctx = CheckContext(sample=sample, view=TraceView(sample), task=TASK, args=args or RUBRIC_ARGS)
    return get_check("efficiency")(ctx)


def _careful(answer: str) -> TraceBuilder:
    b = TraceBuilder(TASK.question)
    b.names("acme", ("acme_income_statement", "acme_headcount"))
    b.info("acme_income_statement")
    b.sql(SQL, "total_revenue\n1350.0")
    b.final(answer)
    return b


def test_prose_without_any_tool_call_fails() -> None:
    b = TraceBuilder(TASK.question)
    b.final("Acme Widgets' total revenue in fiscal 2023 was roughly $1.2 billion.")
    v = _efficiency(_graded(b))
    assert v.verdict == "fail" and v.value == 0.0
    assert "no tool call" in v.reason


def test_a_right_answer_from_memory_without_any_tool_call_fails() -> None:
    b = TraceBuilder(TASK.question)
    b.final("<think>I remember this one.</think>Acme's total revenue for fiscal 2023 was $1,350 million.")
    sample = _graded(b)
    assert sample.correct is True
    v = _efficiency(sample)
    assert v.verdict == "fail" and "no tool call" in v.reason


def test_a_wrong_answer_within_budget_is_not_applicable() -> None:
    sample = _graded(_careful("So total revenue was about 1,530 USD millions in fiscal 2023."))
    assert sample.correct is False
    v = _efficiency(sample)
    assert v.verdict == "na" and "wrong" in v.reason


def test_a_decline_within_budget_is_not_applicable() -> None:
    sample = _graded(_careful("I don't have access to that figure in this table, so I cannot determine it."))
    assert sample.correct is False
    assert _efficiency(sample).verdict == "na"


def test_no_answer_within_budget_is_not_applicable() -> None:
    b = TraceBuilder(TASK.question)
    b.names("acme", ("acme_income_statement",))
    sample = _graded(b, stop_reason="max_turns")
    assert sample.final_answer is None
    v = _efficiency(sample)
    assert v.verdict == "na" and "no answer" in v.reason


def test_an_unsolved_task_over_budget_still_fails() -> None:
    b = TraceBuilder(TASK.question)
    for _ in range(9):  # budget: 2 × (1 step + 1 table + 2) = 8 calls
        b.sql(SQL.replace("2023", "2033"), "total_revenue\n")
    sample = _graded(b, stop_reason="max_turns")
    v = _efficiency(sample)
    assert v.verdict == "fail" and v.value == pytest.approx(8 / 9)


def test_a_solved_task_within_budget_passes() -> None:
    sample = _graded(_careful("Total revenue in fiscal 2023 was $1,350 million."))
    assert sample.correct is True
    assert _efficiency(sample).verdict == "pass"
