"""What a comparison of runs says, as plain data (``CompareReport.to_dict()`` is the JSON output).

Runs are compared *paired*: the same task (and epoch) in two runs is one pair, so a difference is judged on
the tasks where the runs disagree. ``MetricChange`` carries one metric's paired comparison (accuracy, the
rubric score, or one criterion's pass rate); ``PairComparison`` all of them for two runs (one model in each);
``CompareReport`` a leaderboard of every run and the comparison of each run with the reference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from evalkit.report.model import RunInfo
from evalkit.stats.proportions import Rate

COMPARE_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class MetricChange:
    """One metric, run A → run B, over the pairs where both have a value.

    ``metric`` is ``accuracy``, ``rubric_score`` or ``<rubric>.<criterion>``. ``diff`` is B − A with its
    ``[low, high]`` interval; ``p_value`` comes from ``test`` (exact McNemar on the discordant pairs, or the
    paired cluster bootstrap when tasks have several epochs or the metric is a score); ``mde`` is the smallest
    difference this many pairs could detect (80% power). ``a_only``/``b_only`` count pairs that passed in
    only one run.
    """

    metric: str
    kind: str
    """``binary`` (pass/fail per pair) or ``score`` (a value in 0..1 per pair)."""
    severity: str
    n: int
    n_tasks: int
    mean_a: float
    mean_b: float
    diff: float
    low: float
    high: float
    p_value: float
    test: str
    a_only: int
    b_only: int
    mde: float | None
    significant: bool
    """p < alpha."""


@dataclass(frozen=True)
class FlippedTask:
    """A task whose accuracy moved between the runs (over its paired epochs)."""

    task_id: str
    correct_a: int
    correct_b: int
    epochs: int
    show_a: str
    """The command that shows run A's trace of the task (``evalkit show RUN TASK``)."""
    show_b: str
    side_by_side: str
    """The command that shows both runs' traces of the task side by side (``evalkit show A TASK --vs B``)."""


@dataclass(frozen=True)
class PairComparison:
    run_a: str
    run_b: str
    model_a: str
    model_b: str
    label_a: str
    label_b: str
    pairs: int
    """Pairs where both samples finished (infrastructure errors and cancelled samples are left out)."""
    tasks: int
    only_a: int
    """Samples (task, epoch) of run A with no counterpart in run B, and the other way round."""
    only_b: int
    unfinished: int
    """Matched samples left out because one of the two did not finish."""
    alpha: float
    metrics: tuple[MetricChange, ...]
    fixed: tuple[FlippedTask, ...]
    broken: tuple[FlippedTask, ...]
    notes: tuple[str, ...] = ()

    def metric(self, name: str) -> MetricChange | None:
        return next((m for m in self.metrics if m.metric == name), None)

    def behaviours_by_change(self) -> list[MetricChange]:
        """Criteria ordered by how much they changed: significant changes first, then by size."""
        crit = [m for m in self.metrics if m.metric not in ("accuracy", "rubric_score")]
        return sorted(crit, key=lambda m: (not m.significant, -abs(m.diff), m.metric))


@dataclass(frozen=True)
class LeaderRow:
    run_id: str
    label: str
    model: str
    finished: int
    accuracy: Rate
    rubric_score: float | None
    cost_per_sample_usd: float | None
    tokens_per_sample: float | None
    criteria: dict[str, float | None]
    """``rubric.criterion`` → pass rate."""


@dataclass(frozen=True)
class CompareReport:
    schema_version: int
    generated_at: str
    evalkit_version: str
    runs: tuple[RunInfo, ...]
    reference: str
    """The run every other run is compared with (the first, unless chosen)."""
    leaderboard: tuple[LeaderRow, ...]
    """Every model of every run, best accuracy first."""
    comparisons: tuple[PairComparison, ...]
    """The reference against each other run (per paired model), in the order the runs were given."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
