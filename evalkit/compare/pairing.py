"""Pair the samples of two runs by task and epoch, and compare every metric on the pairs.

Within a run each model is compared with the same model in the other run; two runs of one model each (a
checkpoint against the next) are paired whatever the models are called. Only pairs where both samples
finished count: an infrastructure error is not a wrong answer in either run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.compare.model import (
    COMPARE_SCHEMA_VERSION,
    CompareReport,
    FlippedTask,
    LeaderRow,
    MetricChange,
    PairComparison,
)
from evalkit.errors import ConfigError
from evalkit.report.build import OUTCOME_CHECKS, Collected, RunData, SampleRow, collect
from evalkit.report.figures import report_of, sample_score
from evalkit.report.model import CriterionInfo, Report
from evalkit.stats.paired import PairedComparison, compare_binary, compare_scores

if TYPE_CHECKING:
    from evalkit.trace.store import TraceStore

_JUDGED = ("pass", "fail")


def compare_runs(
    store: TraceStore,
    run_ids: Sequence[str],
    *,
    reference: str | None = None,
    rubrics: Sequence[str | Path] = (),
    alpha: float = 0.05,
    seed: int = 0,
    generated_at: str | None = None,
) -> CompareReport:
    """Compare runs (resolved ids): the reference (default the first) against each of the others."""
    if len(run_ids) < 2:
        raise ConfigError("compare needs at least two runs")
    collected = collect(store, run_ids, rubrics=rubrics)
    report = report_of(collected, generated_at=generated_at)
    ref = reference or collected.runs[0].run.run_id
    by_id = {d.run.run_id: d for d in collected.runs}
    if ref not in by_id:
        raise ConfigError(f"the reference run {reference} is not among the runs compared")
    comparisons = []
    for data in collected.runs:
        if data.run.run_id == ref:
            continue
        for model_a, model_b in pair_models(by_id[ref], data):
            comparisons.append(compare_pair(collected, by_id[ref], data, model_a, model_b, alpha=alpha, seed=seed))
    notes = list(report.notes)
    suites = {d.run.suite for d in collected.runs}
    if len(suites) > 1:
        notes.append(f"the runs are of different suites ({', '.join(sorted(suites))}): compared on shared task ids")
    return CompareReport(
        schema_version=COMPARE_SCHEMA_VERSION,
        generated_at=report.generated_at,
        evalkit_version=report.evalkit_version,
        runs=report.runs,
        reference=ref,
        leaderboard=_leaderboard(report),
        comparisons=tuple(comparisons),
        notes=tuple(dict.fromkeys(notes)),
    )


def pair_models(a: RunData, b: RunData) -> list[tuple[str, str]]:
    """Which model of run A is compared with which of run B: the same names, or the only model of each."""
    models_a = sorted({r.sample.model for r in a.rows})
    models_b = sorted({r.sample.model for r in b.rows})
    shared = [m for m in models_a if m in models_b]
    if shared:
        return [(m, m) for m in shared]
    if len(models_a) == 1 and len(models_b) == 1:
        return [(models_a[0], models_b[0])]
    raise ConfigError(
        f"runs {a.run.run_id} and {b.run.run_id} share no model ({', '.join(models_a)} vs {', '.join(models_b)}); "
        "compare runs of one model each, or runs of the same models"
    )


def compare_pair(
    collected: Collected,
    a: RunData,
    b: RunData,
    model_a: str,
    model_b: str,
    *,
    alpha: float = 0.05,
    seed: int = 0,
) -> PairComparison:
    """Every metric of ``model_a`` in run A against ``model_b`` in run B, on their paired samples."""
    rows_a = _by_key(a.rows, model_a)
    rows_b = _by_key(b.rows, model_b)
    common = sorted(rows_a.keys() & rows_b.keys())
    done = [k for k in common if rows_a[k].sample.status == "ok" and rows_b[k].sample.status == "ok"]
    pairs = [(rows_a[k], rows_b[k]) for k in done]
    labels = collected.labels()
    notes = []
    if not pairs:
        notes.append("no task was finished in both runs: nothing to compare")
    metrics = _metrics(pairs, collected.criteria, alpha=alpha, seed=seed)
    fixed, broken = _flips(pairs, a.run.run_id, b.run.run_id)
    return PairComparison(
        run_a=a.run.run_id,
        run_b=b.run.run_id,
        model_a=model_a,
        model_b=model_b,
        label_a=labels[(a.run.run_id, model_a)],
        label_b=labels[(b.run.run_id, model_b)],
        pairs=len(pairs),
        tasks=len({k[0] for k in done}),
        only_a=len(rows_a.keys() - rows_b.keys()),
        only_b=len(rows_b.keys() - rows_a.keys()),
        unfinished=len(common) - len(done),
        alpha=alpha,
        metrics=metrics,
        fixed=fixed,
        broken=broken,
        notes=tuple(notes),
    )


def _by_key(rows: Sequence[SampleRow], model: str) -> dict[tuple[str, int], SampleRow]:
    return {(r.sample.task_id, r.sample.epoch): r for r in rows if r.sample.model == model}


def _change(metric: str, kind: str, severity: str, c: PairedComparison, alpha: float) -> MetricChange:
    return MetricChange(
        metric=metric,
        kind=kind,
        severity=severity,
        n=c.n,
        n_tasks=c.n_clusters,
        mean_a=c.mean_a,
        mean_b=c.mean_b,
        diff=c.diff,
        low=c.low,
        high=c.high,
        p_value=c.p_value,
        test=c.test,
        a_only=c.a_only,
        b_only=c.b_only,
        mde=c.mde,
        significant=c.p_value < alpha,
    )


def _metrics(
    pairs: Sequence[tuple[SampleRow, SampleRow]], criteria: Mapping[str, CriterionInfo], *, alpha: float, seed: int
) -> tuple[MetricChange, ...]:
    if not pairs:
        return ()
    out = []
    graded = _graded(pairs)  # correctness not scored (traces without gold) is never a wrong answer
    if graded:
        acc = compare_binary(
            [bool(ra.sample.correct) for ra, _ in graded],
            [bool(rb.sample.correct) for _, rb in graded],
            [ra.sample.task_id for ra, _ in graded],
            alpha=alpha,
            seed=seed,
        )
        out.append(_change("accuracy", "binary", "critical", acc, alpha))
    scored = [(sample_score(ra, criteria), sample_score(rb, criteria), ra.sample.task_id) for ra, rb in pairs]
    both = [(x, y, t) for x, y, t in scored if x is not None and y is not None]
    if both:
        c = compare_scores(
            [x for x, _, _ in both], [y for _, y, _ in both], [t for _, _, t in both], alpha=alpha, seed=seed
        )
        out.append(_change("rubric_score", "score", "normal", c, alpha))
    for key, info in criteria.items():
        if (info.check or info.criterion) in OUTCOME_CHECKS:
            continue  # it restates accuracy: compared above, and a second test of it would only dilute Holm
        judged = [
            (ra.verdicts[key][0] == "pass", rb.verdicts[key][0] == "pass", ra.sample.task_id)
            for ra, rb in pairs
            if ra.verdicts.get(key, ("",))[0] in _JUDGED and rb.verdicts.get(key, ("",))[0] in _JUDGED
        ]
        if not judged:
            continue
        c = compare_binary(
            [x for x, _, _ in judged], [y for _, y, _ in judged], [t for _, _, t in judged], alpha=alpha, seed=seed
        )
        out.append(_change(key, "binary", info.severity, c, alpha))
    return tuple(out)


def _graded(pairs: Sequence[tuple[SampleRow, SampleRow]]) -> list[tuple[SampleRow, SampleRow]]:
    """The pairs whose correctness was scored in both runs."""
    return [(ra, rb) for ra, rb in pairs if ra.sample.correct is not None and rb.sample.correct is not None]


def _flips(
    pairs: Sequence[tuple[SampleRow, SampleRow]], run_a: str, run_b: str
) -> tuple[tuple[FlippedTask, ...], tuple[FlippedTask, ...]]:
    per_task: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for ra, rb in _graded(pairs):
        tally = per_task[ra.sample.task_id]
        tally[0] += int(bool(ra.sample.correct))
        tally[1] += int(bool(rb.sample.correct))
        tally[2] += 1
    fixed: list[FlippedTask] = []
    broken: list[FlippedTask] = []
    for task, (ca, cb, n) in sorted(per_task.items()):
        if ca == cb:
            continue
        flip = FlippedTask(
            task,
            ca,
            cb,
            n,
            f"evalkit show {run_a} {task}",
            f"evalkit show {run_b} {task}",
            f"evalkit show {run_a} {task} --vs {run_b}",
        )
        (fixed if cb > ca else broken).append(flip)
    return tuple(fixed), tuple(broken)


def _leaderboard(report: Report) -> tuple[LeaderRow, ...]:
    rows = [
        LeaderRow(
            run_id=g.run_id,
            label=g.label,
            model=g.model,
            finished=g.finished,
            accuracy=g.accuracy,
            rubric_score=g.rubric_score,
            cost_per_sample_usd=g.usage.cost_per_sample_usd,
            tokens_per_sample=g.usage.tokens_per_sample,
            criteria={f"{c.rubric}.{c.criterion}": c.rate.rate for c in g.criteria},
        )
        for g in report.groups
    ]
    return tuple(sorted(rows, key=lambda r: (-(r.accuracy.rate or 0.0), r.label)))
