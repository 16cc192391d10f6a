"""The figures of a report, from collected runs: per model and run, per slice, the diagnosis, the tasks.

``report_of`` turns a ``Collected`` (``evalkit.report.build``) into a ``Report``: accuracy and its interval,
pass@k and pass^k, the rubric score, each criterion's pass rate overall and per task kind, difficulty and tag,
usage, failure modes, how each behaviour relates to correctness and what to train next, and the task table.
Infrastructure errors and cancelled samples are counted but never enter accuracy, nor do samples whose
correctness was not scored (imported traces without an expected answer): they are counted as ``not_scored``.
Tokens and latency a sample did not record (its ``metadata["unknown"]``) are counted as unknown, never as 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from evalkit.report.build import OUTCOME_CHECKS, Collected, SampleRow
from evalkit.report.diagnose import MODE_CHECKS
from evalkit.report.model import (
    COMPETENT_ACCURACY,
    FAILURE_MODES,
    REPORT_SCHEMA_VERSION,
    BehaviourEffect,
    CriterionInfo,
    CriterionStat,
    EndpointStat,
    FailureMode,
    ModelReport,
    Report,
    Slice,
    TaskRow,
    Usage,
)
from evalkit.report.train_commands import export_commands
from evalkit.stats.proportions import Rate, average_pass_at_k, percentile, wilson
from evalkit.trace.types import RunRecord, Sample


def report_of(c: Collected, *, generated_at: str | None = None) -> Report:
    """The report of collected runs."""
    from evalkit.trace.types import utc_now
    from evalkit.version import __version__

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
    done = [r for r in rows if r.sample.status == "ok" and r.sample.correct is not None]
    return wilson(sum(1 for r in done if r.sample.correct), len(done))


def _unknown(r: SampleRow, what: str) -> bool:
    """Whether the sample did not record ``what`` (``tokens``, ``latency``), as imported traces do not."""
    return what in (r.sample.metadata.get("unknown") or ())


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
    for r in (r for r in done if r.sample.correct is not None):
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
    train_next = tuple(sorted((b for b in behaviours if b.cost > 0), key=lambda b: (-b.cost, -b.explains, b.criterion)))
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
        train_next=train_next,
        not_scored=sum(1 for r in done if r.sample.correct is None),
        first_error=_first_error(rows),
        endpoints=_endpoints(rows),
        export_commands=export_commands(run, model, done, train_next, criteria),
    )


def _endpoints(rows: Sequence[SampleRow]) -> tuple[EndpointStat, ...]:
    """The samples' ``endpoints`` metadata (recorded with replicas), summed per endpoint."""
    totals: dict[str, list[float]] = {}
    for r in rows:
        for url, c in (r.sample.metadata.get("endpoints") or {}).items():
            t = totals.setdefault(url, [0, 0, 0.0])
            t[0], t[1], t[2] = t[0] + c["calls"], t[1] + c["failures"], t[2] + c["latency_s"]
    return tuple(
        EndpointStat(url, int(calls), int(failed), latency / (calls - failed) if calls > failed else None)
        for url, (calls, failed, latency) in totals.items()
    )


def _first_error(rows: Sequence[SampleRow]) -> str | None:
    """The message of the group's first infrastructure error (by start time), on one line."""
    failed = sorted((r.sample for r in rows if r.sample.status == "infra_error"), key=lambda s: s.started_at)
    message = next((s.error for s in failed if s.error), None)
    return " ".join(message.split()) if message else None


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
    kept = [r for r in rows if r.sample.status != "cancelled"]
    samples = [r.sample for r in kept]
    counted = [r.sample for r in kept if not _unknown(r, "tokens")]
    prompt = sum(s.prompt_tokens for s in counted)
    completion = sum(s.completion_tokens for s in counted)
    latencies = [r.sample.latency_s for r in kept if not _unknown(r, "latency")]
    known = [s.cost_usd for s in samples if s.cost_usd is not None and not _no_reply(s)]
    cost = sum(known) if known else None
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        tokens_per_sample=(prompt + completion) / len(counted) if counted else None,
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        cost_usd=cost,
        cost_unknown=len(samples) - len(known),
        cost_per_sample_usd=cost / len(known) if cost is not None else None,
        cost_per_correct_usd=cost / correct if cost is not None and correct else None,
        tokens_unknown=len(samples) - len(counted),
        latency_unknown=len(samples) - len(latencies),
    )


def _no_reply(s: Sample) -> bool:
    """An infrastructure error before any reply (no token came back): its call's price is unknown, not 0."""
    return s.status == "infra_error" and s.prompt_tokens == 0 and s.completion_tokens == 0


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
        counted = [r.sample for r in group if not _unknown(r, "tokens")]
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
                tokens=sum(s.prompt_tokens + s.completion_tokens for s in counted) if counted else None,
                cost_usd=sum(costs) if costs else None,
                sample_ids=tuple(r.sample.sample_id for r in group),
                not_scored=sum(1 for r in done if r.sample.correct is None),
            )
        )
    return out


def _failed_by_all(rows: Sequence[TaskRow]) -> tuple[str, ...]:
    """Suspect tasks: every group failed every scored epoch, and at least one group is otherwise competent
    (``COMPETENT_ACCURACY`` of its scored epochs of the other tasks right). When every model is weak,
    failing a task says nothing about the task."""
    groups = {(r.run_id, r.label) for r in rows}
    if len(groups) == 0:
        return ()
    finished: dict[str, int] = Counter()
    correct: dict[str, int] = Counter()
    seen_by: dict[str, set[tuple[str, str]]] = defaultdict(set)
    totals: dict[tuple[str, str], tuple[int, int]] = defaultdict(lambda: (0, 0))  # group -> (scored, right)
    per_task: dict[tuple[tuple[str, str], str], tuple[int, int]] = defaultdict(lambda: (0, 0))
    for r in rows:
        finished[r.task_id] += r.scored
        correct[r.task_id] += r.correct
        g = (r.run_id, r.label)
        totals[g] = (totals[g][0] + r.scored, totals[g][1] + r.correct)
        per_task[(g, r.task_id)] = (per_task[(g, r.task_id)][0] + r.scored, per_task[(g, r.task_id)][1] + r.correct)
        if r.scored:
            seen_by[r.task_id].add(g)

    def competent_elsewhere(task_id: str) -> bool:
        for g, (scored, right) in totals.items():
            own_scored, own_right = per_task[(g, task_id)]
            others = scored - own_scored
            if others and right - own_right >= COMPETENT_ACCURACY * others:
                return True
        return False

    return tuple(
        t
        for t in sorted(finished)
        if finished[t] and not correct[t] and seen_by[t] == groups and competent_elsewhere(t)
    )
