"""The public API: everything the CLI does, callable from Python.

>>> import evalkit
>>> result = evalkit.run_suite("finance-single", ["scripted/disciplined"], limit=5, store="runs/demo.duckdb")
>>> result.run.run_id
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError
from evalkit.runner.scheduler import Progress
from evalkit.runner.session import ModelSummary, RunResult, fingerprint, git_commit, select_tasks, summarise
from evalkit.spec.config import DEFAULT_STORE, ProjectConfig, default_store, load_config, resolve_model
from evalkit.spec.loader import load_suite
from evalkit.spec.suite import SuiteSpec
from evalkit.trace.types import ModelConfig, RunRecord, Sample, SampleKey, Score

if TYPE_CHECKING:
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
        from evalkit.spec.rubric import load_rubric

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
    from evalkit.spec.rubric import load_rubric

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
    """A run (by id, unique prefix, name or ``latest``) and its samples, optionally with their events."""
    from evalkit.trace.store import TraceStore

    with TraceStore.open(_store(store), write=False) as st:
        record = st.resolve_run(run)
        return record, st.samples(record.run_id, task_id=task_id, model=model, with_events=with_events)


def get_scores(store: str | Path | None, run: str, *, rubric: str | None = None) -> tuple[RunRecord, list[Score]]:
    """A run's stored rubric scores (every rubric and version, or one rubric's)."""
    from evalkit.trace.store import TraceStore

    with TraceStore.open(_store(store), write=False) as st:
        record = st.resolve_run(run)
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


__all__ = [
    "DEFAULT_STORE",
    "ModelSummary",
    "RunResult",
    "SampleKey",
    "default_store",
    "export_run",
    "get_samples",
    "get_scores",
    "import_run",
    "list_runs",
    "run_suite",
    "score_run",
    "score_traces",
    "select_tasks",
    "summarise",
]
