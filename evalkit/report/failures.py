"""Which tasks a behaviour failed on in a run: the selection behind ``evalkit export-failures``.

The run is read as a report reads it (``evalkit.report.build.collect``: one version of each rubric's scores,
the suite's task specs), so the tasks exported are the ones the report counts as failing the criterion. The
unit is the task, not the sample: each selected task says how many of its finished samples failed the
criterion, of how many, and per model. Every way the request cannot be met is an ``EvalkitError`` that says
what to run instead: an unknown criterion, a run never scored with the criterion's rubric, a criterion that
never failed (after the ``--kind`` / ``--model`` filters).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.errors import ConfigError, EvalkitError

if TYPE_CHECKING:
    from evalkit.contracts.rubric import RubricSpec
    from evalkit.contracts.suite import SuiteSpec, TaskSpec
    from evalkit.report.build import Collected, SampleRow
    from evalkit.trace.store import TraceStore
    from evalkit.trace.types import RunRecord


@dataclass(frozen=True)
class FailedTask:
    """One task the criterion failed on: how many of its finished samples failed it, of how many."""

    task: TaskSpec
    failed: int
    samples: int
    by_model: dict[str, tuple[int, int]]
    """model → (samples that failed, finished samples) for the models that failed it."""
    sample_ids: tuple[str, ...]
    """The samples that failed."""


@dataclass(frozen=True)
class FailureSelection:
    run: RunRecord
    suite: SuiteSpec
    rubric: str
    criterion: str
    kind: str | None
    model: str | None
    tasks: tuple[FailedTask, ...]
    notes: tuple[str, ...]

    @property
    def key(self) -> str:
        """``rubric.criterion``."""
        return f"{self.rubric}.{self.criterion}"


def select_failures(
    store: TraceStore,
    run_id: str,
    *,
    criterion: str,
    rubric: str | None = None,
    kind: str | None = None,
    model: str | None = None,
) -> FailureSelection:
    """The tasks whose samples failed ``criterion`` (an id, or ``rubric.criterion``) in the run."""
    from evalkit.report.build import collect

    if "." in criterion and rubric is None:
        rubric, criterion = criterion.rsplit(".", 1)
    collected = collect(store, [run_id], rubrics=[rubric] if rubric else ())
    data = collected.runs[0]
    ref = data.run.name or data.run.run_id
    key = _criterion_key(collected, ref, criterion, rubric)
    if data.suite is None:
        raise EvalkitError(
            f"the suite {data.run.suite!r} of run {ref} is not found: exporting needs its tasks (questions, "
            "tables, reference solutions); run from the folder the run was made in, or set EVALKIT_SUITES_PATH"
        )
    rows = [r for r in data.rows if r.sample.status == "ok"]
    models = sorted({r.sample.model for r in rows})
    if model is not None and model not in models:
        raise ConfigError(f"--model {model!r}: run {ref} has no finished sample of it (models: {', '.join(models)})")
    rows = [r for r in rows if (model is None or r.sample.model == model) and (kind is None or _kind(r) == kind)]
    notes = [n for n in collected.notes if "has changed since run" in n]
    missing = sorted({r.sample.task_id for r in rows if r.task is None})
    if missing:
        notes.append(
            f"{len(missing)} task(s) of the run are no longer in the suite and are left out: {', '.join(missing)}"
        )
    tasks = _failed_tasks([r for r in rows if r.task is not None], key)
    if not tasks:
        raise EvalkitError(_no_failures(ref, key, rows, kind, model))
    rubric_name, criterion_id = key.rsplit(".", 1)
    return FailureSelection(data.run, data.suite, rubric_name, criterion_id, kind, model, tasks, tuple(notes))


def _kind(row: SampleRow) -> str | None:
    return row.task.kind if row.task is not None else None


def _criterion_key(collected: Collected, ref: str, criterion: str, rubric: str | None) -> str:
    """``rubric.criterion`` of the scored criterion asked for, or the error that says why there is none."""
    scored = list(collected.criteria)
    found = [
        k for k in scored if k.rsplit(".", 1)[1] == criterion and (rubric is None or k.rsplit(".", 1)[0] == rubric)
    ]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        choices = ", ".join(k.rsplit(".", 1)[0] for k in found)
        raise ConfigError(
            f"criterion {criterion!r} is in several rubrics scored on run {ref} ({choices}): pass --rubric"
        )
    owner = _rubric_defining(criterion, rubric)
    if owner is not None:
        raise EvalkitError(
            f"run {ref} was not scored with rubric {owner} (which has criterion {criterion!r}): "
            f"run `evalkit score {ref} --rubric {owner}` first"
        )
    known = ", ".join(dict.fromkeys(k.rsplit(".", 1)[1] for k in scored))
    known = known or (f"none (the run has no scores of rubric {rubric})" if rubric else "none (the run has no scores)")
    where = f"rubric {rubric}" if rubric else "any built-in rubric or in the rubrics scored on the run"
    raise ConfigError(f"unknown criterion {criterion!r}: it is not in {where}; the run's scored criteria: {known}")


def _rubric_defining(criterion: str, rubric: str | None) -> str | None:
    """The rubric (the one given, else a built-in one) that defines ``criterion``, if any."""
    for spec in _rubrics(rubric):
        if any(c.id == criterion for c in spec.criteria):
            return spec.name
    return None


def _rubrics(rubric: str | None) -> list[RubricSpec]:
    from evalkit.contracts.builtin import builtin_dir
    from evalkit.contracts.rubric import load_rubric

    refs: list[str | Path] = [rubric] if rubric else sorted(builtin_dir("rubrics").glob("*.yaml"))
    out = []
    for ref in refs:
        try:
            out.append(load_rubric(ref))
        except EvalkitError:
            continue
    return out


def _failed_tasks(rows: list[SampleRow], key: str) -> tuple[FailedTask, ...]:
    by_task: dict[str, list[SampleRow]] = defaultdict(list)
    for r in rows:
        by_task[r.sample.task_id].append(r)
    out = []
    for task_id in sorted(by_task):
        group = by_task[task_id]
        failing = [r for r in group if r.verdicts.get(key, ("",))[0] == "fail"]
        if not failing:
            continue
        per_model: dict[str, tuple[int, int]] = {}
        for m in sorted({r.sample.model for r in failing}):
            mine = [r for r in group if r.sample.model == m]
            per_model[m] = (sum(1 for r in failing if r.sample.model == m), len(mine))
        task = group[0].task
        assert task is not None
        ids = tuple(sorted(r.sample.sample_id for r in failing))
        out.append(FailedTask(task, len(failing), len(group), per_model, ids))
    return tuple(out)


def _no_failures(ref: str, key: str, rows: list[SampleRow], kind: str | None, model: str | None) -> str:
    tally: dict[str, int] = defaultdict(int)
    for r in rows:
        tally[r.verdicts.get(key, ("not scored",))[0]] += 1
    counts = ", ".join(f"{n} {v}" for v, n in sorted(tally.items())) or "no finished sample"
    scope = "".join((f" on {kind} tasks" if kind else "", f" for {model}" if model else ""))
    failing: dict[str, int] = defaultdict(int)
    for r in rows:
        for k, (verdict, _) in r.verdicts.items():
            failing[k] += verdict == "fail"
    others = sorted((k for k, n in failing.items() if n), key=lambda k: (-failing[k], k))
    hint = (
        "; criteria that did fail there: " + ", ".join(f"{k} ({failing[k]})" for k in others[:6])
        if others
        else "; no criterion failed there"
    )
    return f"criterion {key} did not fail in run {ref}{scope} ({counts}): nothing to export{hint}"
