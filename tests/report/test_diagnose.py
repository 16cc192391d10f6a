"""Failure modes of wrong answers: each mode from the verdicts or trace facts that define it, in order."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.contracts.loader import load_suite
from evalkit.contracts.suite import ExpectedAnswer, TaskSpec, Tolerance
from evalkit.report.diagnose import SampleFacts, failed_checks, failure_mode, scale_slip
from evalkit.report.model import FAILURE_MODES
from tests.conftest import FIXTURES


def _task(kind: str = "number", value: object = 1350.0, unit: str | None = "USD millions") -> TaskSpec:
    base = load_suite(FIXTURES / "mini" / "suite").tasks[0]
    answer = ExpectedAnswer(kind=kind, value=value, unit=unit, tolerance=Tolerance(rel=0.005))  # type: ignore[arg-type]
    return dataclasses.replace(base, answer=answer)


def _facts(**kw: object) -> SampleFacts:
    base: dict[str, object] = {
        "stop_reason": "final_answer",
        "correct": False,
        "final_answer": "1400",
        "failed_checks": (),
        "error_types": (),
        "task": _task(),
    }
    base.update(kw)
    return SampleFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "mode"),
    [
        (_facts(correct=True), None),
        (_facts(correct=None), None),
        (_facts(stop_reason="max_turns", failed_checks={"valid_identifiers"}), "ran_out_of_turns"),
        (_facts(stop_reason="timeout"), "ran_out_of_turns"),
        (_facts(failed_checks={"valid_identifiers", "inspected_schema"}), "invented_identifier"),
        (_facts(error_types=("unknown_column",)), "invented_identifier"),
        (_facts(failed_checks={"no_unfounded_answer", "right_tables"}), "made_up_after_error"),
        (_facts(failed_checks={"recovered_after_error"}), "made_up_after_error"),
        (_facts(error_types=("sql_error",)), "made_up_after_error"),
        (_facts(failed_checks={"inspected_schema", "right_tables"}), "no_schema_inspection"),
        (_facts(failed_checks={"right_tables"}), "wrong_table"),
        (_facts(final_answer=None), "no_answer"),
        (_facts(final_answer="  "), "no_answer"),
        (_facts(final_answer="1.35"), "wrong_unit_or_scale"),  # billions for USD millions
        (_facts(final_answer="1,350,000"), "wrong_unit_or_scale"),  # thousands
        (_facts(final_answer="1400"), "arithmetic_error"),
        (_facts(final_answer="1400", task=None), "other"),
        (_facts(final_answer="ACME", task=_task("text", "Borealis", None)), "other"),
    ],
)
def test_each_failure_mode_from_its_facts(facts: SampleFacts, mode: str | None) -> None:
    assert failure_mode(facts) == mode


def test_scale_slips_for_percentages() -> None:
    task = _task(value=12.5, unit="%")
    assert scale_slip(task, "1250%")
    assert scale_slip(task, "0.00125")
    assert not scale_slip(task, "13.9%")
    assert not scale_slip(_task(value=0.0), "0")


def test_failed_checks_reads_verdicts_by_check_name() -> None:
    verdicts = {"tool-discipline.ids": "fail", "tool-discipline.schema": "pass", "custom.other": "fail"}
    assert failed_checks(verdicts, {"tool-discipline.ids": "valid_identifiers"}) == {"valid_identifiers", "other"}


CHECKS = ["valid_identifiers", "no_unfounded_answer", "recovered_after_error", "inspected_schema", "right_tables"]


@given(
    correct=st.one_of(st.none(), st.booleans()),
    stop=st.sampled_from(["final_answer", "max_turns", "timeout", "budget"]),
    failed=st.sets(st.sampled_from(CHECKS)),
    errors=st.lists(st.sampled_from(["unknown_table", "sql_error", "refused"]), max_size=3),
    answer=st.one_of(st.none(), st.text(max_size=30)),
)
def test_a_mode_exactly_when_the_answer_is_wrong(
    correct: bool | None, stop: str, failed: set[str], errors: list[str], answer: str | None
) -> None:
    mode = failure_mode(
        _facts(correct=correct, stop_reason=stop, failed_checks=failed, error_types=errors, final_answer=answer)
    )
    if correct is False:
        assert mode in FAILURE_MODES
    else:
        assert mode is None
