"""A decline states no figure, so answer_format does not ask it for a unit (it still asks for the marker)."""

from __future__ import annotations

import pytest

from evalkit.scoring.registry import Verdict
from tests.scoring import TraceBuilder
from tests.scoring.test_checks import INC, TASK, run


def _format_of(reply: str) -> Verdict:
    b = TraceBuilder(TASK.question)
    b.sql(f"SELECT net_income FROM {INC} WHERE fiscal_year = 2023", error="unknown_column", missing="net_income")
    b.final(reply)
    return run("answer_format", b.sample(), task=TASK)


@pytest.mark.parametrize("reply", ["FINAL ANSWER: unknown", "I cannot determine this from the data. FINAL ANSWER: N/A"])
def test_a_decline_is_not_asked_for_a_unit(reply: str) -> None:
    verdict = _format_of(reply)
    assert verdict.verdict == "pass", verdict.reason


def test_a_figure_without_the_unit_still_fails() -> None:
    verdict = _format_of("FINAL ANSWER: 1350")
    assert verdict.verdict == "fail" and "unit" in verdict.reason
