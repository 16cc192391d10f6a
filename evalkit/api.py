"""The public API: everything the CLI does, callable from Python.

>>> import evalkit
>>> result = evalkit.run_suite("finance-single", ["scripted/disciplined"], limit=5, store="runs/demo.duckdb")
>>> result.run.run_id
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.contracts.config import DEFAULT_STORE, ProjectConfig, default_store, load_config, resolve_model
from evalkit.contracts.loader import load_suite
from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.suite import SuiteSpec
from evalkit.errors import ConfigError
from evalkit.runner.scheduler import Progress
from evalkit.runner.session import ModelSummary, RunResult, fingerprint, git_commit, select_tasks, summarise
from evalkit.trace.types import RunRecord, Sample, SampleKey, Score

if TYPE_CHECKING:
    from evalkit.compare.gate_model import GateResult
    from evalkit.compare.model import CompareReport
    from evalkit.compare.policy import GatePolicy
    from evalkit.report.model import Report
    from evalkit.scoring.service import ScoreResult
    from evalkit.trace.store import RunSummary


def run_suite(
    suite: str | Path | SuiteSpec,
    models: Sequence[str | ModelConfig],
    *,
    epochs: int = 1,
    limit: int | None = None,
    tasks: str | None = None,
    concurrency: int = 8,
    max_turns: int | None = None,
    seed: int = 0,
    store: str | Path | None = None,
    name: str | None = None,
    use_cache: bool = True,
    max_cost: float | None = None,
    api_base: str | None = None,
    resume: str | None = None,
    config: ProjectConfig | None = None,
    progress: Progress | None = None,
    call_timeout_s: float = 120.0,
    sample_timeout_s: float | None = 900.0,
    max_attempts: int = 5,
    keep_samples: bool = False,
    rubrics: Sequence[str] = (),
    judge: str | None = None,
) -> RunResult:
    """Run a suite's tasks × models × epochs and record every step in the store.

    Running the same command again resumes the last unfinished run with the same suite, models and
    options (only samples not yet finished are run); ``resume`` names a run to resume explicitly.
    With ``rubrics`` every finished sample is scored as it is written; judge criteria are then graded by
    ``judge`` (a model) once the run is done, or recorded as skipped without one.
    """
    from evalkit.runner.session import RunSession

    config = config if config is not None else load_config()
    store_path = Path(store) if store is not None else default_store(config)
    if resume is not None:
        session = RunSession.resume(store_path, resume)
    else:
        if epochs < 1:
            raise ConfigError("--epochs must be at least 1")
        if concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        if not models:
            raise ConfigError("give at least one --model")
        spec = suite if isinstance(suite, SuiteSpec) else load_suite(suite)
        resolved = [m if isinstance(m, ModelConfig) else resolve_model(m, config, api_base=api_base) for m in models]
        if len({m.name for m in resolved}) != len(resolved):
            raise ConfigError("the same model is given twice")
        options = {
            "epochs": epochs,
            "limit": limit,
            "tasks": tasks,
            "max_turns": max_turns,
            "seed": seed,
            "concurrency": concurrency,
            "use_cache": use_cache,
            "max_cost": max_cost,
            "call_timeout_s": call_timeout_s,
            "rubrics": [str(r) for r in rubrics],
            "sample_timeout_s": sample_timeout_s,
            "max_attempts": max_attempts,
        }
        options["fingerprint"] = fingerprint(spec, resolved, options)
        session = RunSession.start(store_path, spec, resolved, options, name=name, git_commit=git_commit())
    if rubrics:
        from evalkit.contracts.rubric import load_rubric

        for ref in rubrics:
            load_rubric(ref)  # a bad rubric fails before any model is called
    result = session.execute(progress=progress, keep_samples=keep_samples)
    refs = result.run.options.get("rubrics") or []
    if refs:
        from dataclasses import replace

        from evalkit.scoring.service import score_run, stored_result

        has_judge = judge is not None or (config.judge is not None)
        if has_judge and _has_judge_criteria(refs):
            scored = score_run(store_path, result.run.run_id, refs, judge_model=judge, config=config)
        else:
            scored = stored_result(store_path, result.run.run_id, refs)
        result = replace(result, score=scored)
    return result


def _has_judge_criteria(refs: Sequence[str]) -> bool:
    from evalkit.contracts.rubric import load_rubric

    return any(c.judge is not None for ref in refs for c in load_rubric(ref).criteria)


def _store(store: str | Path | None) -> Path:
    return Path(store) if store else default_store(load_config())


def list_runs(store: str | Path | None = None) -> list[RunSummary]:
    """Runs in the store, newest first."""
    from evalkit.trace.store import TraceStore

    with TraceStore.open(_store(store), write=False) as st:
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

    with open_runs(_store(store), [run]) as (st, ids):
        record = st.get_run(ids[0])
        return record, st.samples(record.run_id, task_id=task_id, model=model, with_events=with_events)


def get_scores(store: str | Path | None, run: str, *, rubric: str | None = None) -> tuple[RunRecord, list[Score]]:
    """A run's stored rubric scores (every rubric and version, or one rubric's); the run may be a file."""
    from evalkit.trace.sources import open_runs

    with open_runs(_store(store), [run]) as (st, ids):
        record = st.get_run(ids[0])
        return record, st.scores(record.run_id, rubric=rubric)


def export_run(store: str | Path | None, run: str, output: str | Path) -> tuple[Path, RunRecord]:
    """Write a run's traces and scores to a portable JSON Lines file (gzip when it ends in .gz)."""
    from evalkit.trace import portable
    from evalkit.trace.store import TraceStore

    with TraceStore.open(_store(store), write=False) as st:
        record = st.resolve_run(run)
        return portable.export_run(st, record.run_id, Path(output)), record


def import_run(store: str | Path | None, file: str | Path, *, replace: bool = False) -> RunRecord:
    """Load a run written by ``export_run`` into the store."""
    from evalkit.trace import portable
    from evalkit.trace.store import TraceStore

    with TraceStore.open(_store(store), write=True) as st:
        return portable.import_run(st, Path(file), replace=replace)


def score_run(store: str | Path | None, run: str, rubrics: Sequence[str | Path], **kwargs: Any) -> ScoreResult:
    """Score a stored run against rubrics without calling the agent's model (see ``evalkit.scoring.service``)."""
    from evalkit.scoring import service

    return service.score_run(store, run, rubrics, **kwargs)


def score_traces(traces: str | Path, rubrics: Sequence[str | Path], **kwargs: Any) -> ScoreResult:
    """Import episodes recorded elsewhere (OpenAI-style message lists, JSONL) and score them."""
    from evalkit.scoring import service

    kwargs.setdefault("suite", None)
    kwargs.setdefault("store_path", None)
    return service.score_traces(traces, rubrics, **kwargs)


def build_report(store: str | Path | None, runs: Sequence[str], *, rubrics: Sequence[str | Path] = ()) -> Report:
    """The diagnostic report of one or more runs (ids, prefixes, names, ``latest`` or exported run files):
    figures per model, the diagnosis of wrong answers, the task table. ``rubrics`` picks which rubrics'
    stored scores to use (default: every rubric scored)."""
    from evalkit.report.build import build_report as build
    from evalkit.trace.sources import open_runs

    if not runs:
        raise ConfigError("give at least one RUN to report on")
    with open_runs(_store(store), runs) as (st, ids):
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
    with open_runs(_store(store), runs) as (st, ids):
        report = build(st, ids, rubrics=rubrics)
        paths = target_paths(report, formats, Path(output) if output is not None else None)
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
    with open_runs(_store(store), runs) as (st, ids):
        if len(set(ids)) < 2:
            raise ConfigError(f"compare needs two different runs; all of {', '.join(runs)} are run {ids[0]}")
        ref = None
        if reference is not None:
            ref = reference if reference in ids else st.resolve_run(reference).run_id
            if ref not in ids:
                raise ConfigError(f"the reference {reference!r} must be one of the runs compared")
        return compare(st, ids, reference=ref, rubrics=rubrics, alpha=alpha)


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
    with open_runs(_store(store), refs) as (st, ids):
        if baseline is not None and ids[0] == ids[1]:
            raise ConfigError(f"the candidate and the baseline are the same run ({ids[0]})")
        return run_gate(st, ids[0], ids[1] if baseline is not None else None, rules, rubrics=rubrics)


__all__ = [
    "DEFAULT_STORE",
    "ModelSummary",
    "RunResult",
    "SampleKey",
    "build_report",
    "compare_runs",
    "default_store",
    "export_run",
    "gate",
    "get_samples",
    "get_scores",
    "import_run",
    "list_runs",
    "run_suite",
    "score_run",
    "score_traces",
    "select_tasks",
    "summarise",
    "write_report",
]
