"""A checkpoint sweep's series comparison: each suite's leaderboard and trend over the checkpoints in order,
and the single→multi-table transfer view across them.

Per suite the runs of the checkpoints are compared as ``evalkit compare`` compares them (the first checkpoint
is the reference, the trend follows the series order). The transfer view asks what RL on one kind of task
does to the other: per checkpoint, accuracy (and each rubric criterion's pass rate) on the single-table and on
the multi-table tasks of every suite swept, with 95% Wilson intervals, and the change of each against the
first checkpoint in points. A task's kind is its ``kind`` in the suite (``single_table`` / ``multi_table``),
so a suite that mixes both kinds counts on both sides. Only finished samples count (an infrastructure error
is not a wrong answer); the changes against the first checkpoint are differences of rates over each
checkpoint's own finished samples, not paired tests (those are in the per-suite comparisons).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.compare.model import CompareReport
from evalkit.compare.pairing import compare_runs
from evalkit.report.build import OUTCOME_CHECKS, collect
from evalkit.stats.proportions import Rate, wilson
from evalkit.trace.types import utc_now
from evalkit.version import __version__

if TYPE_CHECKING:
    from evalkit.trace.store import TraceStore

SWEEP_SCHEMA_VERSION = 1
KINDS = ("single_table", "multi_table")
"""The task kinds the transfer view sets side by side, in that order."""


@dataclass(frozen=True)
class KindFigures:
    """One checkpoint on one kind of task: accuracy and each criterion's pass rate, and their change in
    points against the first checkpoint (None for the first itself, or when either has no figure)."""

    kind: str
    accuracy: Rate
    accuracy_change: float | None
    criteria: dict[str, Rate]
    """``rubric.criterion`` → pass rate over the samples judged pass or fail."""
    criteria_change: dict[str, float | None]


@dataclass(frozen=True)
class TransferRow:
    checkpoint: str
    single: KindFigures
    multi: KindFigures

    @property
    def gap(self) -> float | None:
        """Multi-table minus single-table accuracy (a fraction), when both have one."""
        a, b = self.single.accuracy.rate, self.multi.accuracy.rate
        return None if a is None or b is None else b - a


@dataclass(frozen=True)
class TransferView:
    """Per checkpoint, in series order, the single-table and multi-table figures."""

    rows: tuple[TransferRow, ...]
    criteria: tuple[str, ...]
    """Every criterion with a figure on either side, in rubric order."""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for row, data in zip(self.rows, out["rows"], strict=True):
            data["gap"] = row.gap
        return out


@dataclass(frozen=True)
class SuiteSeries:
    """One suite's runs over the checkpoints, and their comparison (None with fewer than two runs)."""

    suite: str
    checkpoints: tuple[str, ...]
    run_ids: tuple[str, ...]
    comparison: CompareReport | None
    note: str | None = None


@dataclass(frozen=True)
class SweepComparison:
    schema_version: int
    generated_at: str
    evalkit_version: str
    name: str
    """The sweep's name: the first part of its run names."""
    checkpoints: tuple[str, ...]
    """Every checkpoint of the series, in order (some may have no run: see ``notes``)."""
    suites: tuple[SuiteSeries, ...]
    transfer: TransferView | None
    """None unless the runs hold both single-table and multi-table tasks."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "generated_at": self.generated_at,
            "evalkit_version": self.evalkit_version,
            "name": self.name,
            "checkpoints": list(self.checkpoints),
            "suites": [
                {
                    "suite": s.suite,
                    "checkpoints": list(s.checkpoints),
                    "run_ids": list(s.run_ids),
                    "comparison": s.comparison.to_dict() if s.comparison is not None else None,
                    "note": s.note,
                }
                for s in self.suites
            ],
            "transfer": self.transfer.to_dict() if self.transfer is not None else None,
            "notes": list(self.notes),
        }


def sweep_comparison(
    store: TraceStore,
    name: str,
    checkpoints: Sequence[str],
    series: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    *,
    rubrics: Sequence[str | Path] = (),
    alpha: float = 0.05,
    notes: Sequence[str] = (),
) -> SweepComparison:
    """The comparison of a sweep: ``series`` holds, per suite, its (checkpoint, run id) pairs in series order."""
    suites = []
    for suite, runs in series:
        labels = tuple(label for label, _ in runs)
        ids = tuple(run_id for _, run_id in runs)
        if len(ids) < 2:
            note = f"suite {suite}: {len(ids)} checkpoint run, nothing to compare it with"
            suites.append(SuiteSeries(suite, labels, ids, None, note))
            continue
        report = compare_runs(store, ids, reference=ids[0], rubrics=rubrics, alpha=alpha)
        suites.append(SuiteSeries(suite, labels, ids, report))
    per_checkpoint = {
        label: [run_id for _, runs in series for lab, run_id in runs if lab == label] for label in checkpoints
    }
    transfer = transfer_view(store, [(c, per_checkpoint[c]) for c in checkpoints if per_checkpoint[c]], rubrics=rubrics)
    return SweepComparison(
        schema_version=SWEEP_SCHEMA_VERSION,
        generated_at=utc_now(),
        evalkit_version=__version__,
        name=name,
        checkpoints=tuple(checkpoints),
        suites=tuple(suites),
        transfer=transfer,
        notes=tuple(notes),
    )


def transfer_view(
    store: TraceStore, checkpoints: Sequence[tuple[str, Sequence[str]]], *, rubrics: Sequence[str | Path] = ()
) -> TransferView | None:
    """Per checkpoint (its label and its runs' ids), single- against multi-table figures; None unless the
    finished samples hold both kinds of task."""
    ids = [run_id for _, runs in checkpoints for run_id in runs]
    if not ids:
        return None
    collected = collect(store, ids, rubrics=rubrics)
    by_run = {d.run.run_id: d for d in collected.runs}
    criteria = [k for k, info in collected.criteria.items() if (info.check or info.criterion) not in OUTCOME_CHECKS]
    tallies: list[tuple[str, dict[str, _Tally]]] = []
    for label, runs in checkpoints:
        kinds = {kind: _Tally() for kind in KINDS}
        for run_id in runs:
            for row in by_run[run_id].rows:
                kind = row.task.kind if row.task is not None else None
                if kind in kinds and row.sample.status == "ok":
                    kinds[kind].add(row.sample.correct, row.verdicts, criteria)
        tallies.append((label, kinds))
    if not all(any(t[kind].graded for _, t in tallies) for kind in KINDS):
        return None
    shown = tuple(k for k in criteria if any(k in t[kind].judged for _, t in tallies for kind in KINDS))
    first = {kind: tallies[0][1][kind].figures(kind, shown, None) for kind in KINDS}
    rows = []
    for i, (label, kinds) in enumerate(tallies):
        single, multi = (kinds[kind].figures(kind, shown, first[kind] if i else None) for kind in KINDS)
        rows.append(TransferRow(label, single, multi))
    return TransferView(tuple(rows), shown)


class _Tally:
    """Counts of one checkpoint on one kind of task."""

    def __init__(self) -> None:
        self.graded = 0
        self.correct = 0
        self.judged: dict[str, list[int]] = {}
        """criterion → [passed, judged]."""

    def add(self, correct: bool | None, verdicts: dict[str, tuple[str, float | None]], criteria: list[str]) -> None:
        if correct is not None:
            self.graded += 1
            self.correct += int(bool(correct))
        for key in criteria:
            verdict = verdicts.get(key, ("",))[0]
            if verdict in ("pass", "fail"):
                counts = self.judged.setdefault(key, [0, 0])
                counts[0] += int(verdict == "pass")
                counts[1] += 1

    def figures(self, kind: str, criteria: Sequence[str], first: KindFigures | None) -> KindFigures:
        accuracy = wilson(self.correct, self.graded)
        rates = {k: wilson(*self.judged[k]) for k in criteria if k in self.judged}
        changes = {k: _change(rates.get(k), first.criteria.get(k)) for k in criteria} if first is not None else {}
        acc_change = _change(accuracy, first.accuracy) if first is not None else None
        return KindFigures(kind, accuracy, acc_change, rates, changes)


def _change(rate: Rate | None, first: Rate | None) -> float | None:
    if rate is None or first is None or rate.rate is None or first.rate is None:
        return None
    return rate.rate - first.rate
