"""Why a wrong answer was wrong: one failure mode per wrong sample, from its rubric verdicts and its trace.

The modes are tried in the order of ``evalkit.report.model.FAILURE_MODES`` and the first that fits wins,
because the earlier ones are causes of the later ones: a model that invented a column and then got a wrong
number failed at the column, not at the arithmetic. Verdicts are read by *check* (``valid_identifiers``,
``inspected_schema``, ...), so a rubric that gives a check another criterion id keeps its meaning. Without
rubric scores the diagnosis falls back on the recorded tool errors and the answer itself.

An agent that never queried is told apart before the verdicts about queries are read: no tool call at all on a
task that needs data is "never used the tools" (whatever it answered), a decline without a SQL query is "gave
up without querying" and a figure stated without one is "answered without querying", never "used the wrong
table" (none was queried) or "after an error" (none happened).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from evalkit.contracts.answers import is_decline, parse_numbers, stated_figures, value_candidates
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
    tool_calls: int | None = None
    """Tool calls the sample made (None when unknown: the no-tool modes are then not tried)."""
    queries: int | None = None
    """``sql_query`` calls among them (None when unknown)."""


MODE_CHECKS: dict[str, frozenset[str]] = {
    "never_used_tools": frozenset({"right_tables", "no_unfounded_answer", "efficiency"}),
    "invented_identifier": frozenset({"valid_identifiers"}),
    "made_up_after_error": frozenset({"no_unfounded_answer", "recovered_after_error"}),
    "gave_up_without_query": frozenset({"right_tables"}),
    "answered_without_query": frozenset({"right_tables", "no_unfounded_answer"}),
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
    needs_data = f.task is None or bool(f.task.tables or f.task.reference.steps)
    if f.tool_calls == 0 and needs_data:
        return "never_used_tools"
    if "valid_identifiers" in failed or (not failed and _IDENTIFIER_ERRORS & set(f.error_types)):
        return "invented_identifier"
    errored = bool(f.error_types) or "recovered_after_error" in failed
    unqueried = f.queries == 0 and needs_data
    if (failed & {"no_unfounded_answer", "recovered_after_error"} and (errored or not unqueried)) or (
        not failed and f.error_types and "answer_grounded" not in failed and _answered(f)
    ):
        return "made_up_after_error"
    if unqueried:
        return "gave_up_without_query" if not _answered(f) or _declined(f) else "answered_without_query"
    if "inspected_schema" in failed:
        return "no_schema_inspection"
    if "right_tables" in failed:
        return "wrong_table"
    if not _answered(f) or _declined(f):
        return "no_answer"
    if f.task is not None and scale_slip(f.task, f.final_answer or ""):
        return "wrong_unit_or_scale"
    if f.task is not None and f.task.answer.kind in ("number", "template"):
        return "arithmetic_error"
    return "other"


def _answered(f: SampleFacts) -> bool:
    return bool(f.final_answer and f.final_answer.strip())


def _declined(f: SampleFacts) -> bool:
    """The answer gives up and states no figure of its own (years and the question's numbers aside): a
    decline as the matcher reads one ("I cannot determine the 2023 revenue"), or, for a task whose answer is
    a number, a reply with no figure at all ("I don't have access to that data")."""
    text = f.final_answer or ""
    task = f.task
    if stated_figures(text, task.question if task else None, task.answer if task else None):
        return False
    return is_decline(text) or (task is not None and task.answer.kind in ("number", "template"))


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
