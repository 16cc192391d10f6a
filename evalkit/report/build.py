"""Build a ``Report`` from the trace store: figures per model and run, the diagnosis, the task table.

It reads the samples (without their events), the error types of their failed tool calls and the stored
rubric verdicts, and the suite's task metadata (kind, difficulty, tags) when the suite can be found. For
each rubric it uses one version of the scores: the one the current rubric file produces, else the version
with the most scores (and says so in the notes).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.report.diagnose import MODE_CHECKS, SampleFacts, failed_checks, failure_mode
from evalkit.report.model import (
    FAILURE_MODES,
    REPORT_SCHEMA_VERSION,
    BehaviourEffect,
    CriterionInfo,
    CriterionStat,
    FailureMode,
    ModelReport,
    Report,
    RunInfo,
    Slice,
    TaskRow,
    Usage,
)
from evalkit.stats.proportions import Rate, average_pass_at_k, percentile, wilson

if TYPE_CHECKING:
    from evalkit.spec.rubric import RubricSpec
    from evalkit.spec.suite import SuiteSpec, TaskSpec
    from evalkit.trace.store import TraceStore
    from evalkit.trace.types import RunRecord, Sample

OUTCOME_CHECKS = frozenset({"answer_correct"})
"""Checks that restate correctness; they are not behaviours to relate to it."""


@dataclass
class SampleRow:
    """One sample as the report sees it."""

    sample: Sample
    verdicts: dict[str, tuple[str, float | None]] = field(default_factory=dict)
    """``rubric.criterion`` → (verdict, value)."""
    error_types: tuple[str, ...] = ()
    task: TaskSpec | None = None
    mode: str | None = None


@dataclass
class RunData:
    run: RunRecord
    rows: list[SampleRow]
    suite: SuiteSpec | None


@dataclass
class Collected:
    """The runs of a report or comparison, sample by sample, with the criteria their scores use."""

    runs: list[RunData]
    infos: list[RunInfo]
    criteria: dict[str, CriterionInfo]
    """``rubric.criterion`` → what the criterion is, in rubric order."""
    notes: list[str]

    def labels(self) -> dict[tuple[str, str], str]:
        return _labels(self.runs)


def build_report(
    store: TraceStore, run_ids: Sequence[str], *, rubrics: Sequence[str | Path] = (), generated_at: str | None = None
) -> Report:
    """The report of the given runs (already resolved ids), from an open store."""
    return report_of(collect(store, run_ids, rubrics=rubrics), generated_at=generated_at)


def collect(store: TraceStore, run_ids: Sequence[str], *, rubrics: Sequence[str | Path] = ()) -> Collected:
    """Load the runs' samples (without events), tool error types, verdicts, task metadata and failure modes."""
    notes: list[str] = []
    wanted = _load_rubrics(rubrics)
    criteria: dict[str, CriterionInfo] = {}
    runs: list[RunData] = []
    infos: list[RunInfo] = []
    for run_id in dict.fromkeys(run_ids):
        run = store.get_run(run_id)
        suite = suite_of(run, notes)
        rows = [SampleRow(s) for s in store.samples(run_id)]
        by_id = {r.sample.sample_id: r for r in rows}
        for sample_id, types in _error_types(store, run_id).items():
            if sample_id in by_id:
                by_id[sample_id].error_types = types
        used = _attach_scores(store, run, by_id, wanted, criteria, notes)
        if suite is not None:
            tasks = {t.id: t for t in suite.tasks}
            for r in rows:
                r.task = tasks.get(r.sample.task_id)
        checks = {key: c.check for key, c in criteria.items()}
        for r in rows:
            if r.sample.status == "ok":
                failed = failed_checks({k: v for k, (v, _) in r.verdicts.items()}, checks)
                r.mode = failure_mode(
                    SampleFacts(
                        r.sample.stop_reason, r.sample.correct, r.sample.final_answer, failed, r.error_types, r.task
                    )
                )
        runs.append(RunData(run, rows, suite))
        infos.append(
            RunInfo(
                run_id=run.run_id,
                name=run.name,
                suite=run.suite,
                suite_hash=run.suite_hash,
                created_at=run.created_at,
                status=run.status,
                models=tuple(m.name for m in run.models),
                epochs=int(run.options.get("epochs") or 1),
                rubrics=used,
            )
        )
    notes.extend(f"run {r.run.run_id} has no samples" for r in runs if not r.rows)
    if not criteria:
        notes.append(
            "no rubric scores: the diagnosis uses tool errors only; score the runs with "
            "`evalkit score RUN --rubric tool-discipline --rubric answer` for behaviours"
        )
    return Collected(runs, infos, criteria, notes)


def report_of(c: Collected, *, generated_at: str | None = None) -> Report:
    """The report of collected runs."""
    from evalkit import __version__
    from evalkit.trace.types import utc_now

    runs, criteria = c.runs, c.criteria
    labels = c.labels()
    groups: list[ModelReport] = []
    task_rows: list[TaskRow] = []
    pooled = _passed_accuracy([r for d in runs for r in d.rows], criteria)
    for data in runs:
        by_model: dict[str, list[SampleRow]] = defaultdict(list)
        for r in data.rows:
            by_model[r.sample.model].append(r)
        for model in sorted(by_model):
            label = labels[(data.run.run_id, model)]
            rows = by_model[model]
            groups.append(_group(data.run, model, label, rows, criteria, pooled))
            task_rows.extend(_task_rows(data.run.run_id, label, rows))
    return Report(
        schema_version=REPORT_SCHEMA_VERSION,
        generated_at=generated_at or utc_now(),
        evalkit_version=__version__,
        runs=tuple(c.infos),
        criteria=tuple(criteria.values()),
        groups=tuple(groups),
        tasks=tuple(task_rows),
        failed_by_all=_failed_by_all(task_rows),
        notes=tuple(dict.fromkeys(c.notes)),
    )


def _load_rubrics(refs: Sequence[str | Path]) -> dict[str, RubricSpec]:
    from evalkit.spec.rubric import load_rubric

    out = {}
    for ref in refs:
        spec = load_rubric(ref)
        out[spec.name] = spec
    return out


def suite_of(run: RunRecord, notes: list[str]) -> SuiteSpec | None:
    """The run's suite, for task kinds, difficulties and tags: its folder, else a suite of the same name."""
    from evalkit.errors import EvalkitError
    from evalkit.spec.loader import load_suite

    for ref in (run.suite_path, run.suite):
        if not ref or (ref == run.suite_path and not Path(ref).exists()):
            continue
        try:
            spec = load_suite(ref)
        except EvalkitError:
            continue
        if spec.content_hash != run.suite_hash:
            notes.append(f"suite {spec.name} has changed since run {run.run_id} was made; task metadata is today's")
        return spec
    notes.append(f"suite {run.suite} of run {run.run_id} not found: tasks are shown without kind or difficulty")
    return None


def _error_types(store: TraceStore, run_id: str) -> dict[str, tuple[str, ...]]:
    rows = store.query(
        "SELECT sample_id, list(error_type ORDER BY seq) FROM events "
        "WHERE run_id = ? AND error_type IS NOT NULL GROUP BY sample_id",
        [run_id],
    )
    return {r[0]: tuple(r[1]) for r in rows}


def _attach_scores(
    store: TraceStore,
    run: RunRecord,
    rows: Mapping[str, SampleRow],
    wanted: Mapping[str, RubricSpec],
    criteria: dict[str, CriterionInfo],
    notes: list[str],
) -> tuple[tuple[str, str], ...]:
    """Put one version of each rubric's verdicts on the rows; return the (rubric, version) pairs used."""
    from evalkit.errors import EvalkitError
    from evalkit.spec.rubric import load_rubric

    counts = store.query(
        "SELECT rubric, rubric_version, count(*) FROM scores WHERE run_id = ? GROUP BY ALL ORDER BY ALL",
        [run.run_id],
    )
    versions: dict[str, dict[str, int]] = defaultdict(dict)
    for rubric, version, n in counts:
        versions[rubric][version] = n
    used = []
    for rubric, found in versions.items():
        if wanted and rubric not in wanted:
            continue
        spec: RubricSpec | None = wanted.get(rubric)
        if spec is None:
            try:
                spec = load_rubric(rubric)
            except EvalkitError:
                spec = None
        if spec is not None and spec.key in found:
            version = spec.key
        else:
            version = max(found, key=lambda v: (found[v], v))
            if len(found) > 1 or spec is not None:
                notes.append(
                    f"run {run.run_id}: rubric {rubric} scores of version {version} are used "
                    f"(the rubric file today is {spec.key if spec else 'not found'}); re-score to update"
                )
        used.append((rubric, version))
        for c in spec.criteria if spec is not None else ():
            criteria.setdefault(
                f"{rubric}.{c.id}",
                CriterionInfo(rubric, c.id, c.category, c.severity, c.weight, c.description.strip(), c.check),
            )
        for sample_id, criterion, verdict, value in store.query(
            "SELECT sample_id, criterion, verdict, value FROM scores WHERE run_id = ? AND rubric = ? "
            "AND rubric_version = ? ORDER BY sample_id, criterion",
            [run.run_id, rubric, version],
        ):
            key = f"{rubric}.{criterion}"
            if key not in criteria:
                criteria[key] = CriterionInfo(rubric, criterion, "", "normal", 1.0, "", criterion)
            row = rows.get(sample_id)
            if row is not None:
                row.verdicts[key] = (verdict, value)
    for name in wanted:
        if name not in versions:
            notes.append(f"run {run.run_id} has no scores of rubric {name}")
    return tuple(used)


def _labels(runs: Sequence[RunData]) -> dict[tuple[str, str], str]:
    """A model's label: its name, with the run's name or id when several runs hold the same model."""
    pairs = [(d.run, m) for d in runs for m in sorted({r.sample.model for r in d.rows})]
    seen = Counter(m for _, m in pairs)
    return {(run.run_id, m): m if seen[m] == 1 else f"{m} @ {run.name or run.run_id[:8]}" for run, m in pairs}


def _criterion_stats(rows: Sequence[SampleRow], criteria: Mapping[str, CriterionInfo]) -> tuple[CriterionStat, ...]:
    out = []
    for key, info in criteria.items():
        tally: Counter[str] = Counter()
        values: list[float] = []
        for r in rows:
            got = r.verdicts.get(key)
            if got is None:
                continue
            tally[got[0]] += 1
            if got[0] in ("pass", "fail", "value") and got[1] is not None:
                values.append(got[1])
        if not tally:
            continue
        out.append(
            CriterionStat(
                rubric=info.rubric,
                criterion=info.criterion,
                rate=wilson(tally["pass"], tally["pass"] + tally["fail"]),
                na=tally["na"],
                errors=tally["error"] + tally["skipped"],
                mean_value=sum(values) / len(values) if values else None,
            )
        )
    return tuple(out)


def _accuracy(rows: Iterable[SampleRow]) -> Rate:
    done = [r for r in rows if r.sample.status == "ok"]
    return wilson(sum(1 for r in done if r.sample.correct), len(done))


def sample_score(r: SampleRow, criteria: Mapping[str, CriterionInfo]) -> float | None:
    total = weight = 0.0
    for key, (verdict, value) in r.verdicts.items():
        if verdict not in ("pass", "fail", "value"):
            continue
        v = value if value is not None else (1.0 if verdict == "pass" else 0.0)
        w = criteria[key].weight if key in criteria else 1.0
        total += w * v
        weight += w
    return total / weight if weight else None


def _group(
    run: RunRecord,
    model: str,
    label: str,
    rows: list[SampleRow],
    criteria: Mapping[str, CriterionInfo],
    pooled: Mapping[str, Rate],
) -> ModelReport:
    done = [r for r in rows if r.sample.status == "ok"]
    accuracy = _accuracy(done)
    per_task: dict[str, tuple[int, int]] = {}
    for r in done:
        n, c = per_task.get(r.sample.task_id, (0, 0))
        per_task[r.sample.task_id] = (n + 1, c + int(bool(r.sample.correct)))
    epochs = max((n for n, _ in per_task.values()), default=1)
    pass_at: dict[str, float] = {}
    pass_hat: dict[str, float] = {}
    if epochs > 1:
        for k in range(1, epochs + 1):
            at = average_pass_at_k(per_task, k)
            hat = average_pass_at_k(per_task, k, hat=True)
            if at is not None and hat is not None:
                pass_at[str(k)] = at
                pass_hat[str(k)] = hat
    scores = [s for s in (sample_score(r, criteria) for r in done) if s is not None]
    wrong = [r for r in done if r.mode is not None]
    modes = Counter(r.mode for r in wrong)
    failure_modes = tuple(
        FailureMode(
            mode=mode,
            label=FAILURE_MODES[mode],
            count=modes[mode],
            share=modes[mode] / len(wrong),
            tasks=tuple(sorted({r.sample.task_id for r in wrong if r.mode == mode})),
        )
        for mode in FAILURE_MODES
        if modes.get(mode)
    )
    behaviours = _behaviours(done, criteria, pooled)
    return ModelReport(
        run_id=run.run_id,
        suite=run.suite,
        model=model,
        label=label,
        samples=len(rows),
        finished=len(done),
        infra_errors=sum(1 for r in rows if r.sample.status == "infra_error"),
        cancelled=sum(1 for r in rows if r.sample.status == "cancelled"),
        accuracy=accuracy,
        pass_at_k=pass_at,
        pass_hat_k=pass_hat,
        rubric_score=sum(scores) / len(scores) if scores else None,
        criteria=_criterion_stats(done, criteria),
        slices=_slices(done, criteria),
        stop_reasons=dict(Counter(r.sample.stop_reason for r in rows).most_common()),
        usage=_usage(rows, accuracy.k),
        failure_modes=failure_modes,
        behaviours=behaviours,
        train_next=tuple(
            sorted((b for b in behaviours if b.cost > 0), key=lambda b: (-b.cost, -b.explains, b.criterion))
        ),
    )


def _slices(done: Sequence[SampleRow], criteria: Mapping[str, CriterionInfo]) -> tuple[Slice, ...]:
    buckets: dict[tuple[str, str], list[SampleRow]] = defaultdict(list)
    for r in done:
        if r.task is None:
            continue
        buckets[("kind", r.task.kind)].append(r)
        buckets[("difficulty", r.task.difficulty)].append(r)
        for tag in r.task.tags:
            buckets[("tag", tag)].append(r)
    order = {"kind": 0, "difficulty": 1, "tag": 2}
    rank = {"easy": 0, "medium": 1, "hard": 2}
    keys = sorted(buckets, key=lambda k: (order[k[0]], rank.get(k[1], 9), k[1]))
    return tuple(
        Slice(dim, value, _accuracy(buckets[(dim, value)]), _criterion_stats(buckets[(dim, value)], criteria))
        for dim, value in keys
    )


def _usage(rows: Sequence[SampleRow], correct: int) -> Usage:
    samples = [r.sample for r in rows if r.sample.status != "cancelled"]
    prompt = sum(s.prompt_tokens for s in samples)
    completion = sum(s.completion_tokens for s in samples)
    latencies = [s.latency_s for s in samples]
    known = [s.cost_usd for s in samples if s.cost_usd is not None]
    cost = sum(known) if known else None
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        tokens_per_sample=(prompt + completion) / len(samples) if samples else None,
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        cost_usd=cost,
        cost_unknown=len(samples) - len(known),
        cost_per_sample_usd=cost / len(known) if cost is not None else None,
        cost_per_correct_usd=cost / correct if cost is not None and correct else None,
    )


def _passed_accuracy(rows: Sequence[SampleRow], criteria: Mapping[str, CriterionInfo]) -> dict[str, Rate]:
    """Accuracy of the finished samples that passed each criterion, over every group."""
    done = [r for r in rows if r.sample.status == "ok"]
    return {key: _accuracy(r for r in done if r.verdicts.get(key, ("",))[0] == "pass") for key in criteria}


def _behaviours(
    done: Sequence[SampleRow], criteria: Mapping[str, CriterionInfo], pooled: Mapping[str, Rate]
) -> tuple[BehaviourEffect, ...]:
    out = []
    for key, info in criteria.items():
        if (info.check or info.criterion) in OUTCOME_CHECKS:
            continue
        passed = [r for r in done if r.verdicts.get(key, ("",))[0] == "pass"]
        failed = [r for r in done if r.verdicts.get(key, ("",))[0] == "fail"]
        if not passed and not failed:
            continue
        when_passed, when_failed = _accuracy(passed), _accuracy(failed)
        use_pooled = not passed and key in pooled and pooled[key].n > 0
        if use_pooled:
            when_passed = pooled[key]
        gap = (
            when_passed.rate - when_failed.rate
            if when_passed.rate is not None and when_failed.rate is not None
            else None
        )
        cost = gap * len(failed) / len(done) if gap is not None and done else 0.0
        check = info.check or info.criterion
        explains = sum(1 for r in failed if r.mode is not None and check in MODE_CHECKS.get(r.mode, ()))
        out.append(
            BehaviourEffect(info.rubric, info.criterion, when_passed, when_failed, gap, cost, explains, use_pooled)
        )
    return tuple(out)


def _task_rows(run_id: str, label: str, rows: Sequence[SampleRow]) -> list[TaskRow]:
    by_task: dict[str, list[SampleRow]] = defaultdict(list)
    for r in rows:
        by_task[r.sample.task_id].append(r)
    out = []
    for task_id in sorted(by_task):
        group = sorted(by_task[task_id], key=lambda r: r.sample.epoch)
        done = [r for r in group if r.sample.status == "ok"]
        task = group[0].task
        costs = [r.sample.cost_usd for r in group if r.sample.cost_usd is not None]
        failed = sorted({k for r in done for k, (v, _) in r.verdicts.items() if v == "fail"})
        out.append(
            TaskRow(
                run_id=run_id,
                label=label,
                task_id=task_id,
                kind=task.kind if task else "",
                difficulty=task.difficulty if task else "",
                tags=task.tags if task else (),
                finished=len(done),
                correct=sum(1 for r in done if r.sample.correct),
                infra_errors=sum(1 for r in group if r.sample.status == "infra_error"),
                failed_criteria=tuple(failed),
                failure_mode=next((r.mode for r in done if r.mode is not None), None),
                tokens=sum(r.sample.prompt_tokens + r.sample.completion_tokens for r in group),
                cost_usd=sum(costs) if costs else None,
                sample_ids=tuple(r.sample.sample_id for r in group),
            )
        )
    return out


def _failed_by_all(rows: Sequence[TaskRow]) -> tuple[str, ...]:
    groups = {(r.run_id, r.label) for r in rows}
    if len(groups) == 0:
        return ()
    finished: dict[str, int] = Counter()
    correct: dict[str, int] = Counter()
    seen_by: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in rows:
        finished[r.task_id] += r.finished
        correct[r.task_id] += r.correct
        if r.finished:
            seen_by[r.task_id].add((r.run_id, r.label))
    return tuple(t for t in sorted(finished) if finished[t] and not correct[t] and seen_by[t] == groups)
