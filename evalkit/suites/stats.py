"""Counts that describe a suite: tasks by kind, difficulty, tag, answer kind and unit, company and table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from evalkit.contracts.suite import SuiteSpec

NONE = "(none)"


@dataclass(frozen=True)
class SuiteStats:
    """Counts over a suite's tasks. Each mapping is ordered by count (highest first), then name."""

    suite: str
    version: str
    tasks: int
    kinds: dict[str, int]
    difficulties: dict[str, int]
    tags: dict[str, int]
    answer_kinds: dict[str, int]
    units: dict[str, int]  # of number answers and template blanks
    companies: dict[str, int]
    tables: dict[str, int]  # tasks that use each table
    with_reference: int
    mean_reference_steps: float  # over the tasks that have a reference

    def sections(self) -> list[tuple[str, dict[str, int]]]:
        """(title, counts) of every breakdown, in display order."""
        return [
            ("kind", self.kinds),
            ("difficulty", self.difficulties),
            ("tag", self.tags),
            ("answer kind", self.answer_kinds),
            ("unit", self.units),
            ("company", self.companies),
            ("table", self.tables),
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "version": self.version,
            "tasks": self.tasks,
            "kinds": self.kinds,
            "difficulties": self.difficulties,
            "tags": self.tags,
            "answer_kinds": self.answer_kinds,
            "units": self.units,
            "companies": self.companies,
            "tables": self.tables,
            "with_reference": self.with_reference,
            "mean_reference_steps": round(self.mean_reference_steps, 3),
        }


def _ordered(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def suite_stats(suite: SuiteSpec) -> SuiteStats:
    """Count a suite's tasks along every dimension (no database access)."""
    kinds: Counter[str] = Counter()
    difficulties: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    answer_kinds: Counter[str] = Counter()
    units: Counter[str] = Counter()
    companies: Counter[str] = Counter()
    tables: Counter[str] = Counter()
    steps: list[int] = []
    for t in suite.tasks:
        kinds[t.kind] += 1
        difficulties[t.difficulty] += 1
        tags.update(dict.fromkeys(t.tags, 1))
        answer_kinds[t.answer.kind] += 1
        if t.answer.kind == "number":
            units[t.answer.unit or NONE] += 1
        for blank in t.answer.blanks:
            units[blank.unit or NONE] += 1
        companies[t.company or NONE] += 1
        tables.update(dict.fromkeys(t.tables, 1))
        if t.reference.steps:
            steps.append(len(t.reference.steps))
    return SuiteStats(
        suite=suite.name,
        version=suite.version,
        tasks=len(suite.tasks),
        kinds=_ordered(kinds),
        difficulties=_ordered(difficulties),
        tags=_ordered(tags),
        answer_kinds=_ordered(answer_kinds),
        units=_ordered(units),
        companies=_ordered(companies),
        tables=_ordered(tables),
        with_reference=len(steps),
        mean_reference_steps=sum(steps) / len(steps) if steps else 0.0,
    )
