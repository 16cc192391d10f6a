"""Collect runs from the trace store, sample by sample, for a report, a comparison or a gate.

``collect`` reads the samples (without their events), the error types of their failed tool calls and the
stored rubric verdicts, and the suite's task metadata (kind, difficulty, tags) when the suite can be found. For
each rubric it uses one version of the scores: the one the current rubric file produces, else the version
with the most scores (and says so in the notes). Each finished sample gets its failure mode
(``evalkit.report.diagnose``). ``build_report`` is ``collect`` then ``evalkit.report.figures.report_of``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.report.diagnose import SampleFacts, failed_checks, failure_mode
from evalkit.report.model import (
    CriterionInfo,
    Report,
    RunInfo,
)

if TYPE_CHECKING:
    from evalkit.contracts.rubric import RubricSpec
    from evalkit.contracts.suite import SuiteSpec, TaskSpec
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
    from evalkit.report.figures import report_of

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
        queries = _query_counts(store, run_id)
        for r in rows:
            if r.sample.status == "ok":
                failed = failed_checks({k: v for k, (v, _) in r.verdicts.items()}, checks)
                r.mode = failure_mode(
                    SampleFacts(
                        r.sample.stop_reason,
                        r.sample.correct,
                        r.sample.final_answer,
                        failed,
                        r.error_types,
                        r.task,
                        tool_calls=r.sample.tool_calls,
                        queries=queries.get(r.sample.sample_id, 0),
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
    from evalkit.scoring.validation import persona_design  # what a fault-injection persona was designed to do

    notes.extend(f"{m.name}: a persona that {d}" for r in runs for m in r.run.models if (d := persona_design(m.model)))
    if not criteria:
        notes.append(
            "no rubric scores: the diagnosis uses tool errors only; score the runs with "
            "`evalkit score RUN --rubric tool-discipline --rubric answer` for behaviours"
        )
    return Collected(runs, infos, criteria, notes)


def _load_rubrics(refs: Sequence[str | Path]) -> dict[str, RubricSpec]:
    from evalkit.contracts.rubric import load_rubric

    out = {}
    for ref in refs:
        spec = load_rubric(ref)
        out[spec.name] = spec
    return out


def suite_of(run: RunRecord, notes: list[str]) -> SuiteSpec | None:
    """The run's suite, for task kinds, difficulties and tags: its folder, else a suite of the same name."""
    from evalkit.contracts.loader import load_suite
    from evalkit.errors import EvalkitError

    if run.options.get("source") == "external" and not run.suite_path:
        notes.append(f"run {run.run_id} holds imported traces scored without a suite: tasks have no kind or difficulty")
        return None
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


def _query_counts(store: TraceStore, run_id: str) -> dict[str, int]:
    """``sql_query`` calls per sample (samples without one are left out)."""
    rows = store.query(
        "SELECT sample_id, count(*) FROM events WHERE run_id = ? AND kind = 'tool' AND tool = 'sql_query' "
        "GROUP BY sample_id",
        [run_id],
    )
    return {r[0]: int(r[1]) for r in rows}


def _attach_scores(
    store: TraceStore,
    run: RunRecord,
    rows: Mapping[str, SampleRow],
    wanted: Mapping[str, RubricSpec],
    criteria: dict[str, CriterionInfo],
    notes: list[str],
) -> tuple[tuple[str, str], ...]:
    """Put one version of each rubric's verdicts on the rows; return the (rubric, version) pairs used."""
    from evalkit.contracts.rubric import load_rubric
    from evalkit.errors import EvalkitError

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
