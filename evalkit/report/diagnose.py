"""Why a wrong answer was wrong: one failure mode per wrong sample, from its rubric verdicts and its trace.

The modes are tried in the order of ``evalkit.report.model.FAILURE_MODES`` and the first that fits wins,
because the earlier ones are causes of the later ones: a model that invented a column and then got a wrong
number failed at the column, not at the arithmetic. Verdicts are read by *check* (``valid_identifiers``,
``inspected_schema``, ...), so a rubric that gives a check another criterion id keeps its meaning. Without
rubric scores the diagnosis falls back on the recorded tool errors and the answer itself.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from evalkit.contracts.answers import parse_numbers, value_candidates
from evalkit.contracts.suite import TaskSpec

_IDENTIFIER_ERRORS = frozenset({"unknown_table", "unknown_column"})
_OUT_OF_STEPS = frozenset({"max_turns", "timeout", "budget"})


@dataclass(frozen=True)
class SampleFacts:
    """What the diagnosis needs of one finished sample."""

    stop_reason: str
    correct: bool | None
    final_answer: str | None
    failed_checks: Collection[str]
    """Checks (by check name) whose verdict on this sample was ``fail``."""
    error_types: Collection[str]
    """The ``error_type`` of every failed tool call of the sample."""
    task: TaskSpec | None


MODE_CHECKS: dict[str, frozenset[str]] = {
    "invented_identifier": frozenset({"valid_identifiers"}),
    "made_up_after_error": frozenset({"no_unfounded_answer", "recovered_after_error"}),
    "no_schema_inspection": frozenset({"inspected_schema"}),
    "wrong_table": frozenset({"right_tables"}),
}
"""The checks whose failure each failure mode stands for."""


def failure_mode(f: SampleFacts) -> str | None:
    """The failure mode of a wrong answer, or None when the answer was right or not judged."""
    if f.correct is None or f.correct:
        return None
    failed = set(f.failed_checks)
    if f.stop_reason in _OUT_OF_STEPS:
        return "ran_out_of_turns"
    if "valid_identifiers" in failed or (not failed and _IDENTIFIER_ERRORS & set(f.error_types)):
        return "invented_identifier"
    if failed & {"no_unfounded_answer", "recovered_after_error"} or (
        not failed and f.error_types and "answer_grounded" not in failed and _answered(f)
    ):
        return "made_up_after_error"
    if "inspected_schema" in failed:
        return "no_schema_inspection"
    if "right_tables" in failed:
        return "wrong_table"
    if not _answered(f):
        return "no_answer"
    if f.task is not None and scale_slip(f.task, f.final_answer or ""):
        return "wrong_unit_or_scale"
    if f.task is not None and f.task.answer.kind in ("number", "template"):
        return "arithmetic_error"
    return "other"


def _answered(f: SampleFacts) -> bool:
    return bool(f.final_answer and f.final_answer.strip())


_SCALES = (1e-9, 1e-6, 1e-3, 1e-2, 1e2, 1e3, 1e6, 1e9)


def scale_slip(task: TaskSpec, answer: str) -> bool:
    """True when the answer's number is right up to a power of ten (thousands for millions, a ratio for a
    percentage): the model had the right figure and stated it in the wrong unit or scale."""
    expected = task.answer.value
    if task.answer.kind != "number" or not isinstance(expected, int | float) or expected == 0:
        return False
    numbers = parse_numbers(answer)
    if not numbers:
        return False
    tolerance = task.answer.tolerance
    for candidate in value_candidates(numbers[0], task.answer.unit):
        if candidate == 0 or not math.isfinite(candidate):
            continue
        for factor in _SCALES:
            if tolerance.accepts(float(expected), candidate * factor):
                return True
    return False


def failed_checks(verdicts: Mapping[str, str], checks: Mapping[str, str | None]) -> set[str]:
    """The check names of the criteria (``rubric.criterion`` → verdict) that failed."""
    return {checks.get(key) or key.split(".", 1)[-1] for key, verdict in verdicts.items() if verdict == "fail"}
