"""The public API: everything the CLI does, callable from Python.

>>> import evalkit
>>> result = evalkit.run_suite("finance-single", ["scripted/disciplined"], limit=5, store="runs/demo.duckdb")
>>> result.run.run_id
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.api.cache import cache_clear, cache_info, cache_prune
from evalkit.api.failures import export_failures
from evalkit.api.ray import run_suite_on_ray
from evalkit.api.rllm_data import suite_import_rllm_finqa
from evalkit.api.stores import resolve_store
from evalkit.api.sweeps import SweepResult, SweepRun, print_sweep, render_sweep, sweep, write_sweep
from evalkit.compare.output import render_comparison, write_comparison
from evalkit.contracts.config import DEFAULT_STORE, ProjectConfig, default_store, load_config, resolve_model
from evalkit.contracts.loader import load_suite
from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.rubric import load_rubric
from evalkit.contracts.suite import SuiteSpec
from evalkit.errors import ConfigError
from evalkit.report.write import FORMATS as REPORT_FORMATS
from evalkit.runner.merge import MergeResult, merge_shards  # noqa: F401  (public: shards → one run)
from evalkit.runner.options import RunOptions
from evalkit.runner.scheduler import Progress
from evalkit.runner.session import ModelSummary, RunOutcome, git_commit, select_tasks, summarise
from evalkit.scoring.validation import RubricValidation, persona_design
from evalkit.suites.service import (
    SuiteCheck,
    SuiteEntry,
    suite_import,
    suite_import_fields,
    suite_info,
    suite_list,
    suite_sql,
    suite_stats,
    suite_tables,
    suite_task,
    suite_validate,
    suite_verify,
)
from evalkit.trace.types import RunRecord, Sample, SampleKey, Score

if TYPE_CHECKING:
    from evalkit.compare.gate_model import GateResult
    from evalkit.compare.model import CompareReport
    from evalkit.compare.policy import GatePolicy
    from evalkit.env.tools import ToolResult as ToolResult
    from evalkit.report.model import Report
    from evalkit.scoring.calibration import Calibration as Calibration  # the result of judge_calibrate
    from evalkit.scoring.service import CriterionSummary as CriterionSummary  # a row of ScoreResult.criteria
    from evalkit.scoring.service import ScoreResult
    from evalkit.trace.store import RunSummary


@dataclass(frozen=True)
class RunResult(RunOutcome):
    """A finished (or budget-stopped) run: its record, per-model summaries, and rubric results when scored."""

    score: ScoreResult | None = None
    """Rubric results when the run was scored (``rubrics``)."""


def run_suite(
    suite: str | Path | SuiteSpec,
    models: Sequence[str | ModelConfig],
    *,
    options: RunOptions | None = None,
    store: str | Path | None = None,
    name: str | None = None,
    api_base: str | Sequence[str] | None = None,
    resume: str | None = None,
    config: ProjectConfig | None = None,
    progress: Progress | None = None,
    keep_samples: bool = False,
    judge: str | None = None,
    **overrides: Any,
) -> RunResult:
    """Run a suite's tasks × models × epochs and record every step in the store.

    How the run is run comes from ``options`` (a ``RunOptions``; the defaults when left out) with any of its
    fields given as keywords taking precedence: ``run_suite(suite, models, limit=5, rubrics=["answer"])``.
    Running the same command again resumes the last unfinished run with the same suite, models and
    options (only samples not yet finished are run); ``resume`` names a run to resume explicitly.
    With ``rubrics`` every finished sample is scored as it is written; judge criteria are then graded by
    ``judge`` (a model) once the run is done, or recorded as skipped without one.
    """
    from evalkit.runner.session import RunSession
    from evalkit.scoring.service import batch_scorer, check_judge

    config = config if config is not None else load_config()
    store_path = Path(store) if store is not None else default_store(config)
    if resume is not None:
        session = RunSession.resume(store_path, resume)
    else:
        opts = RunOptions.of(options, **overrides)
        if not models:
            raise ConfigError("give at least one --model")
        spec = suite if isinstance(suite, SuiteSpec) else load_suite(suite)
        resolved = [m if isinstance(m, ModelConfig) else resolve_model(m, config, api_base=api_base) for m in models]
        if len({m.name for m in resolved}) != len(resolved):
            raise ConfigError("the same model is given twice")
        session = RunSession.start(store_path, spec, resolved, opts, name=name, git_commit=git_commit())
    # the rubrics asked for now (a finished twin is scored with them), a resumed run's own otherwise
    stored = RunOptions.from_record(session.run.options)
    refs = list(stored.rubrics if resume is not None else opts.rubrics)
    for ref in refs:
        load_rubric(ref)  # a bad rubric fails before any model is called, and so does a judge that cannot work
    if refs and (judge is not None or config.judge is not None) and not session.already_finished:
        check_judge(refs, judge, config, stored.preflight)
    outcome = session.execute(
        progress=progress,
        keep_samples=keep_samples,
        make_scorer=lambda tasks, catalog: batch_scorer(refs, tasks, catalog),
    )
    scored: ScoreResult | None = None
    if refs:
        from evalkit.scoring.service import score_run, stored_result

        has_judge = judge is not None or config.judge is not None
        judged = has_judge and any(c.judge is not None for ref in refs for c in load_rubric(ref).criteria)
        if judged or outcome.already_finished:
            scored = score_run(store_path, outcome.run.run_id, refs, judge_model=judge, config=config)
        else:
            scored = stored_result(store_path, outcome.run.run_id, refs)
    return RunResult(**{f.name: getattr(outcome, f.name) for f in fields(outcome)}, score=scored)


def validate_rubric(rubrics: Sequence[str | Path], suites: Sequence[str | Path] = (), **kw: Any) -> RubricValidation:
    """Measure ``rubrics``' verdicts against the fault-injection personas' labels (``report.validation.validate``)."""
    from evalkit.report.validation import validate

    return validate(rubrics, suites, lambda s, m, **o: run_suite(s, m, **o).run.run_id, **kw)


def judge_calibrate(rubric: str | Path, labels: str | Path, judge: str | None, **kw: Any) -> Calibration:
    """Cohen's κ (with an interval), accuracy and confusion of ``judge`` against ``labels`` (scoring.calibration)."""
    from evalkit.scoring.calibration import calibrate
    from evalkit.stats.agreement import agreement

    return calibrate(rubric, labels, judge, agreement, **kw)


def list_runs(store: str | Path | None = None) -> list[RunSummary]:
    """Runs in the store, newest first."""
    from evalkit.trace.store import TraceStore

    with TraceStore.open(resolve_store(store), write=False) as st:
        return st.list_runs()


def get_samples(
    store: str | Path | None,
    run: str,
    *,
    task_id: str | None = None,
    model: str | None = None,
    with_events: bool = True,
) -> tuple[RunRecord, list[Sample]]:
    """A run (by id, unique prefix, name, ``latest`` or an exported run file) and its samples, optionally
    with their events."""
    from evalkit.trace.sources import open_runs

    with open_runs(resolve_store(store), [run]) as (st, ids):
        record = st.get_run(ids[0])
        return record, st.samples(record.run_id, task_id=task_id, model=model, with_events=with_events)


def get_scores(store: str | Path | None, run: str, *, rubric: str | None = None) -> tuple[RunRecord, list[Score]]:
    """A run's stored rubric scores (every rubric and version, or one rubric's); the run may be a file."""
    from evalkit.trace.sources import open_runs

    with open_runs(resolve_store(store), [run]) as (st, ids):
        record = st.get_run(ids[0])
        return record, st.scores(record.run_id, rubric=rubric)


def export_run(store: str | Path | None, run: str, output: str | Path) -> tuple[Path, RunRecord]:
    """Write a run's traces and scores to a portable JSON Lines file (gzip when it ends in .gz)."""
    from evalkit.trace import portable
    from evalkit.trace.store import TraceStore

    with TraceStore.open(resolve_store(store), write=False) as st:
        record = st.resolve_run(run)
        return portable.export_run(st, record.run_id, Path(output)), record


def import_run(store: str | Path | None, file: str | Path, *, replace: bool = False) -> RunRecord:
    """Load a run written by ``export_run`` into the store."""
    from evalkit.trace import portable
    from evalkit.trace.store import TraceStore

    with TraceStore.open(resolve_store(store), write=True) as st:
        return portable.import_run(st, Path(file), replace=replace)


def score_run(store: str | Path | None, run: str, rubrics: Sequence[str | Path], **kwargs: Any) -> ScoreResult:
    """Score a stored run against rubrics without calling the agent's model (see ``evalkit.scoring.service``)."""
    from evalkit.scoring import service

    return service.score_run(store, run, rubrics, **kwargs)


def score_traces(traces: str | Path, rubrics: Sequence[str | Path], **kwargs: Any) -> ScoreResult:
    """Import episodes recorded elsewhere (OpenAI-style JSONL, rLLM's saved episodes or an Inspect AI log;
    ``traces_format`` names one, default ``auto``) and score them; ``correct_from`` names a signal."""
    from evalkit.scoring import service

    return service.score_traces(traces, rubrics, **{"suite": None, "store_path": None, **kwargs})


def build_report(store: str | Path | None, runs: Sequence[str], *, rubrics: Sequence[str | Path] = ()) -> Report:
    """The diagnostic report of one or more runs (ids, prefixes, names, ``latest`` or exported run files):
    figures per model, the diagnosis of wrong answers, the task table. ``rubrics`` picks which rubrics'
    stored scores to use (default: every rubric scored)."""
    from evalkit.report.build import build_report as build
    from evalkit.trace.sources import open_runs

    if not runs:
        raise ConfigError("give at least one RUN to report on")
    with open_runs(resolve_store(store), runs) as (st, ids):
        return build(st, ids, rubrics=rubrics)


def write_report(
    store: str | Path | None,
    runs: Sequence[str],
    formats: Sequence[str] = ("md", "html"),
    *,
    output: str | Path | None = None,
    rubrics: Sequence[str | Path] = (),
    trace_limit: int | None = None,
) -> tuple[Report, dict[str, Path]]:
    """Build the report of ``runs`` and write it in each file format (``md``, ``html``, ``json``, ``junit``)
    under ``reports/`` (or ``$EVALKIT_REPORTS_DIR``), or to ``output`` (a file for one format, a folder for
    several). Returns the report and the path of each file written."""
    from evalkit.report.build import build_report as build
    from evalkit.report.write import DEFAULT_TRACE_LIMIT, render, target_paths, write_text
    from evalkit.trace.sources import open_runs

    if not runs:
        raise ConfigError("give at least one RUN to report on")
    with open_runs(resolve_store(store), runs) as (st, ids):
        report = build(st, ids, rubrics=rubrics)
        paths = target_paths(report, formats, output)  # as given: a trailing separator means a folder
        limit = DEFAULT_TRACE_LIMIT if trace_limit is None else trace_limit
        texts = {fmt: render(report, fmt, st, trace_limit=limit) for fmt in paths}
    return report, {fmt: write_text(path, texts[fmt]) for fmt, path in paths.items()}


def compare_runs(
    store: str | Path | None,
    runs: Sequence[str],
    *,
    reference: str | None = None,
    rubrics: Sequence[str | Path] = (),
    alpha: float = 0.05,
) -> CompareReport:
    """Compare runs (checkpoints) sample by sample: a leaderboard, and the reference run (the first unless
    named) against each other run with paired statistics for accuracy, the rubric score and every criterion.
    Runs are references in the store or exported run files."""
    from evalkit.compare.pairing import compare_runs as compare
    from evalkit.trace.sources import open_runs

    if len(runs) < 2:
        raise ConfigError("compare needs at least two runs")
    with open_runs(resolve_store(store), runs) as (st, ids):
        if len(set(ids)) < 2:
            raise ConfigError(f"compare needs two different runs; all of {', '.join(runs)} are run {ids[0]}")
        ref = None
        if reference is not None:
            ref = ids[list(runs).index(reference)] if reference in runs else st.resolve_run(reference).run_id
            if ref not in ids:
                raise ConfigError(f"the reference {reference!r} must be one of the runs compared")
        return compare(st, ids, reference=ref, rubrics=rubrics, alpha=alpha)


def gate_policy(
    path: str | Path | None = None,
    *,
    min_accuracy: float | None = None,
    min_rubric_score: float | None = None,
    min_criteria: Mapping[str, float] | Sequence[str] | None = None,
    max_cost_per_sample: float | None = None,
    max_invented_tables: int | None = None,
    max_critical_failures: int | None = None,
    alpha: float | None = None,
    margin: float | None = None,
    min_samples: int | None = None,
) -> GatePolicy:
    """The rules of a gate: the ``gate.yaml`` at ``path`` (or the defaults), with every rule given here taking
    precedence. ``min_criteria`` maps a ``rubric.criterion`` (or a bare criterion id) to its lowest pass rate,
    or lists ``ID=RATE`` strings as ``--min-criterion`` takes them (a rate as 0.9 or 90%)."""
    flags = {k: v for k, v in locals().items() if k != "path"}  # every rule, as given
    from evalkit.compare.policy import load_policy, parse_criterion_flags

    flags["min_criteria"] = parse_criterion_flags(min_criteria)
    return load_policy(Path(path) if path is not None else None).with_flags(**flags)


def gate(
    store: str | Path | None,
    candidate: str,
    *,
    baseline: str | None = None,
    policy: GatePolicy | str | Path | None = None,
    rubrics: Sequence[str | Path] = (),
) -> GateResult:
    """Judge a candidate run against a policy (a ``GatePolicy``, a ``gate.yaml`` path, or the defaults) and,
    when given, a baseline run or exported run file. Raises ``CannotEvaluate`` when it cannot judge; the
    result says whether the gate passed and why."""
    from evalkit.compare.gate import run_gate
    from evalkit.compare.policy import GatePolicy, load_policy
    from evalkit.trace.sources import open_runs

    rules = policy if isinstance(policy, GatePolicy) else load_policy(Path(policy) if policy is not None else None)
    refs = [candidate] if baseline is None else [candidate, baseline]
    with open_runs(resolve_store(store), refs) as (st, ids):
        if baseline is not None and ids[0] == ids[1]:
            raise ConfigError(f"the candidate and the baseline are the same run ({ids[0]})")
        return run_gate(st, ids[0], ids[1] if baseline is not None else None, rules, rubrics=rubrics)


__all__ = [
    "DEFAULT_STORE",
    "REPORT_FORMATS",
    "ModelSummary",
    "RunOptions",
    "RunResult",
    "SampleKey",
    "SuiteCheck",
    "SuiteEntry",
    "SweepResult",
    "SweepRun",
    "build_report",
    "cache_clear",
    "cache_info",
    "cache_prune",
    "compare_runs",
    "default_store",
    "export_failures",
    "export_run",
    "gate",
    "gate_policy",
    "get_samples",
    "get_scores",
    "import_run",
    "judge_calibrate",
    "list_runs",
    "load_suite",
    "persona_design",
    "print_sweep",
    "render_comparison",
    "render_sweep",
    "resolve_store",
    "run_suite",
    "run_suite_on_ray",
    "score_run",
    "score_traces",
    "select_tasks",
    "suite_import",
    "suite_import_fields",
    "suite_import_rllm_finqa",
    "suite_info",
    "suite_list",
    "suite_sql",
    "suite_stats",
    "suite_tables",
    "suite_task",
    "suite_validate",
    "suite_verify",
    "summarise",
    "sweep",
    "validate_rubric",
    "write_comparison",
    "write_report",
    "write_sweep",
]
