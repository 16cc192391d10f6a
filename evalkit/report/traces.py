"""The traces behind a report, for the HTML drill-down: events, verdicts and the failure mode of each."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from evalkit.report.build import suite_of
from evalkit.report.model import Report, TaskRow, Trace, Verdict

if TYPE_CHECKING:
    from evalkit.trace.store import TraceStore


def load_traces(store: TraceStore, report: Report, *, limit: int = 2000) -> tuple[list[Trace], int]:
    """The traces of the report's samples for the drill-down, wrong answers first, at most ``limit``; also
    returns how many were left out."""
    right = {
        (run.run_id, sid)
        for run in report.runs
        for (sid,) in store.query("SELECT sample_id FROM samples WHERE run_id = ? AND correct", [run.run_id])
    }
    wanted = [(row, sid) for row in report.tasks for sid in row.sample_ids]
    wanted.sort(key=lambda item: (item[0].run_id, item[1]) in right)  # stable: wrong answers first
    kept = wanted[:limit]
    by_run: dict[str, list[tuple[TaskRow, str]]] = defaultdict(list)
    for row, sid in kept:
        by_run[row.run_id].append((row, sid))
    labels = {(row.run_id, sid): row.label for row, sid in kept}
    out: list[Trace] = []
    for run_id, items in by_run.items():
        suite = suite_of(store.get_run(run_id), [])
        tasks = {t.id: t for t in suite.tasks} if suite else {}
        ids = [sid for _, sid in items]
        verdicts = _verdicts(store, run_id, ids, report)
        modes = {sid: row.failure_mode for row, sid in items}
        for s in store.samples(run_id, with_events=True, sample_ids=ids):
            task = tasks.get(s.task_id)
            out.append(
                Trace(
                    run_id=run_id,
                    label=labels.get((run_id, s.sample_id), s.model),
                    sample_id=s.sample_id,
                    task_id=s.task_id,
                    epoch=s.epoch,
                    status=s.status,
                    stop_reason=s.stop_reason,
                    correct=s.correct,
                    final_answer=s.final_answer,
                    expected=s.expected,
                    question=task.question if task else None,
                    failure_mode=modes.get(s.sample_id) if not s.correct else None,
                    events=tuple(e.to_dict() for e in s.events),
                    verdicts=tuple(verdicts.get(s.sample_id, ())),
                )
            )
    order = {sid: i for i, (_, sid) in enumerate(kept)}
    out.sort(key=lambda t: order.get(t.sample_id, 0))
    return out, len(wanted) - len(kept)


def _verdicts(store: TraceStore, run_id: str, sample_ids: Sequence[str], report: Report) -> dict[str, list[Verdict]]:
    used = next((r.rubrics for r in report.runs if r.run_id == run_id), ())
    out: dict[str, list[Verdict]] = defaultdict(list)
    for rubric, version in used:
        for sid, criterion, verdict, value, reason, evidence in store.query(
            "SELECT sample_id, criterion, verdict, value, reason, evidence FROM scores WHERE run_id = ? "
            "AND rubric = ? AND rubric_version = ? AND sample_id IN (SELECT unnest(?::VARCHAR[])) "
            "ORDER BY sample_id, criterion",
            [run_id, rubric, version, list(sample_ids)],
        ):
            out[sid].append(Verdict(rubric, criterion, verdict, value, reason, tuple(json.loads(evidence))))
    return out
