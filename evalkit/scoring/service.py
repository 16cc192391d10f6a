"""Scoring as a library: score a stored run, or traces recorded elsewhere, against rubrics.

>>> from evalkit.scoring.service import score_run
>>> result = score_run("runs/evalkit.duckdb", "latest", "rubrics/discipline.yaml")
>>> [(c.criterion, c.pass_rate) for c in result.criteria]

Scoring reads the samples (with their events) from the store and never calls the agent's model. The suite
(its tasks and catalog) comes from ``suite`` when given, else from the run's ``suite_path`` when that still
loads; without it, criteria that need the task or the catalog are N/A. Judge criteria are graded by an
``LLMJudge`` when a judge model is known (``judge_model``, ``judge:`` in evalkit.yaml, or a criterion's own
``judge.model``) and are ``skipped`` otherwise. Scores are written with ``TraceStore.write_scores``, keyed by
the rubric's version (its content hash), so scores of an edited rubric sit beside the old ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from evalkit.errors import EvalkitError

if TYPE_CHECKING:
    from evalkit.contracts.config import ProjectConfig
    from evalkit.contracts.rubric import RubricSpec
    from evalkit.contracts.suite import SuiteSpec, TaskSpec
    from evalkit.env.catalog import Catalog
    from evalkit.scoring.judge import JudgeUsage, LLMJudge
    from evalkit.trace.types import RunRecord, Sample, Score

RubricRefs = str | Path | Sequence[str | Path]


@dataclass(frozen=True)
class CriterionSummary:
    """How one criterion went over the run's samples. ``mean_value`` averages the values of the scored
    verdicts (pass, fail and value); N/A, skipped and errors are never counted as scores."""

    rubric: str
    criterion: str
    category: str
    severity: str
    kind: Literal["check", "judge"]
    passed: int = 0
    failed: int = 0
    value: int = 0
    na: int = 0
    skipped: int = 0
    error: int = 0
    mean_value: float | None = None

    @property
    def pass_rate(self) -> float | None:
        """passed / (passed + failed), or None when nothing was judged pass or fail."""
        judged = self.passed + self.failed
        return self.passed / judged if judged else None


@dataclass(frozen=True)
class ScoreResult:
    run: RunRecord
    store: Path
    rubrics: tuple[tuple[str, str], ...]
    """(name, version key) of each rubric scored."""
    samples: int
    criteria: tuple[CriterionSummary, ...]
    scores: tuple[Score, ...]
    suite: str | None = None
    """The suite folder whose tasks and catalog were used, or None."""
    judge_model: str | None = None
    judge_usage: JudgeUsage | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _rubric_list(rubric_ref: RubricRefs) -> list[RubricSpec]:
    from evalkit.contracts.rubric import load_rubric
    from evalkit.errors import ConfigError

    refs = [rubric_ref] if isinstance(rubric_ref, str | Path) else list(rubric_ref)
    if not refs:
        raise ConfigError("give at least one --rubric")
    return [load_rubric(r) for r in refs]


def score_run(
    store_path: str | Path | None,
    run_ref: str,
    rubric_ref: RubricRefs,
    *,
    judge_model: str | None = None,
    suite: str | Path | None = None,
    config: ProjectConfig | None = None,
    use_cache: bool = True,
) -> ScoreResult:
    """Score the run ``run_ref`` (id, prefix, name or ``latest``) against one or more rubrics."""
    from evalkit.contracts.config import default_store, load_config
    from evalkit.trace.store import TraceStore

    config = config if config is not None else load_config()
    path = Path(store_path) if store_path is not None else default_store(config)
    rubrics = _rubric_list(rubric_ref)
    with TraceStore.open(path, write=False) as st:
        run = st.resolve_run(run_ref)
    spec, notes = _suite_for(run, suite)
    judge = _make_judge(rubrics, judge_model, config, path, use_cache)
    return _score(path, run, None, rubrics, spec, {}, judge, notes)


def score_traces(
    traces_file: str | Path,
    rubric_ref: RubricRefs,
    *,
    suite: str | Path | None,
    store_path: str | Path | None,
    judge_model: str | None = None,
    model_name: str | None = None,
    name: str | None = None,
    config: ProjectConfig | None = None,
    use_cache: bool = True,
    correct_from: str | None = None,
    traces_format: str = "auto",
) -> ScoreResult:
    """Import traces recorded elsewhere as a new finished run in the store, then score it: an OpenAI-format
    JSONL file (``evalkit.trace.external``), rLLM's saved episodes (a folder or an episode file,
    ``evalkit.trace.rllm_episodes``) or an Inspect AI log (``evalkit.trace.inspect_log``), told apart by
    ``evalkit.trace.trace_formats`` unless ``traces_format`` names one. ``model_name`` names the agent when the
    traces do not (or overrides them); ``correct_from`` (``metadata.reward>=1``) names the recorded signal that
    decides correctness. Episodes whose correctness is not scored (no expected answer, or no signal) are
    counted in the notes, with what the reader skipped."""
    from evalkit.contracts.config import default_store, load_config
    from evalkit.contracts.loader import load_suite
    from evalkit.scoring.imported_run import imported_run
    from evalkit.trace.store import TraceStore

    config = config if config is not None else load_config()
    path = Path(store_path) if store_path is not None else default_store(config)
    rubrics = _rubric_list(rubric_ref)
    spec = load_suite(suite) if suite is not None else None
    run, traces, notes = imported_run(
        Path(traces_file), traces_format, spec, model_name=model_name, name=name, correct_from=correct_from
    )
    samples = [t.sample for t in traces]
    judge = _make_judge(rubrics, judge_model, config, path, use_cache)  # before the import: fails early
    try:
        with TraceStore.open(path, write=True) as st:
            run = st.add_run(run, samples)  # read back: every episode stored as a sample of its own
    except BaseException:
        _close(judge)
        raise
    tasks = {t.sample.task_id: t.task for t in traces if t.task is not None}
    return _score(path, run, samples, rubrics, spec, tasks, judge, notes)


def _suite_for(run: RunRecord, suite: str | Path | None) -> tuple[SuiteSpec | None, tuple[str, ...]]:
    """The suite to score with, and notes on why there is none or why it may not match the run."""
    from evalkit.contracts.loader import load_suite

    if suite is not None:
        spec = load_suite(suite)
        if run.suite_hash and spec.content_hash != run.suite_hash:
            return spec, (f"suite {spec.name} has changed since run {run.run_id} was made",)
        return spec, ()
    if not run.suite_path:
        return None, ()
    if not Path(run.suite_path).exists():
        return None, (f"the run's suite {run.suite_path} no longer exists; give --suite to score tasks and catalog",)
    try:
        spec = load_suite(run.suite_path)
    except EvalkitError as exc:
        return None, (f"the run's suite {run.suite_path} cannot be loaded ({exc}); give --suite",)
    if spec.content_hash != run.suite_hash:
        return spec, (f"suite {spec.name} has changed since run {run.run_id} was made",)
    return spec, ()


def _tasks(spec: SuiteSpec | None, samples: Sequence[Sample], known: dict[str, TaskSpec]) -> dict[str, TaskSpec]:
    """The suite's tasks, the tasks given, and minimal tasks of imported traces that carried ``expected``."""
    from evalkit.scoring.render import question_of
    from evalkit.trace.external import minimal_task

    tasks = {t.id: t for t in spec.tasks} if spec is not None else {}
    tasks.update(known)
    for s in samples:
        if s.task_id not in tasks and "expected" in s.metadata:
            extra = s.metadata.get("external")
            task = minimal_task(
                s.task_id, question_of(s, None), s.metadata["expected"], extra if isinstance(extra, dict) else {}
            )
            if task is not None:
                tasks[s.task_id] = task
    return tasks


def _catalog(spec: SuiteSpec | None) -> Catalog | None:
    if spec is None:
        return None
    from evalkit.env.database import build_database

    return build_database(spec.database).catalog


def _close(judge: LLMJudge | None) -> None:
    if judge is not None and judge.cache is not None:
        judge.cache.close()


def check_judge(rubric_ref: RubricRefs, judge_model: str | None, config: ProjectConfig, request: bool) -> None:
    """Before a run whose rubrics have judge criteria: the judge is set up and preflighted, or fails now."""
    _close(_make_judge(_rubric_list(rubric_ref), judge_model, config, Path("."), False, request=request))


def _make_judge(
    rubrics: Sequence[RubricSpec],
    judge_model: str | None,
    config: ProjectConfig,
    store: Path,
    use_cache: bool,
    request: bool = True,
) -> LLMJudge | None:
    """A judge when some judge criterion has a model to use; None (judge criteria skipped) otherwise."""
    criteria = [c for r in rubrics for c in r.criteria if c.judge is not None]
    ref = judge_model or config.judge
    if not criteria or (ref is None and not any(c.judge is not None and c.judge.model for c in criteria)):
        return None
    from evalkit.contracts.config import resolve_model
    from evalkit.models.cache import ResponseCache, cache_path
    from evalkit.scoring.judge import LLMJudge

    default = resolve_model(ref, config) if ref else None
    judge = LLMJudge(
        default,
        resolve=lambda m: resolve_model(m, config),
        cache=ResponseCache(cache_path(store)) if use_cache else None,
    )
    try:
        judge.prepare(criteria, request=request)
    except BaseException:
        _close(judge)
        raise
    return judge


def _score(
    path: Path,
    run: RunRecord,
    samples: Sequence[Sample] | None,
    rubrics: Sequence[RubricSpec],
    spec: SuiteSpec | None,
    known_tasks: dict[str, TaskSpec],
    judge: LLMJudge | None,
    notes: tuple[str, ...],
) -> ScoreResult:
    """Score the samples (``None``: the run's stored samples, batch by batch) with each rubric, writing the
    scores of each batch as it is done, and close the judge's cache."""
    from evalkit.scoring.engine import RubricEngine
    from evalkit.trace.store import TraceStore

    scores: list[Score] = []
    count = 0
    try:
        catalog = _catalog(spec)
        with TraceStore.open(path, write=True) as st:
            # A stored run is read in batches so a large one is never held in memory whole.
            batches = [list(samples)] if samples is not None else st.iter_samples(run.run_id, with_events=True)
            for batch in batches:
                count += len(batch)
                tasks = _tasks(spec, batch, known_tasks)
                got_batch: list[Score] = []
                for rubric in rubrics:
                    engine = RubricEngine(rubric, tasks=tasks, catalog=catalog, judge=judge)
                    got = engine.score_samples(batch)
                    details = judge.take_details() if judge is not None else {}
                    if details:
                        got = [replace(s, detail=details.get((s.sample_id, s.criterion), s.detail)) for s in got]
                    got_batch += got
                st.write_scores(got_batch)
                scores += got_batch
    finally:
        _close(judge)
    return ScoreResult(
        run=run,
        store=path,
        rubrics=tuple((r.name, r.key) for r in rubrics),
        samples=count,
        criteria=summarise(rubrics, scores),
        scores=tuple(scores),
        suite=str(spec.path) if spec is not None else None,
        judge_model=judge.model.model if judge is not None and judge.model is not None else None,
        judge_usage=judge.usage if judge is not None else None,
        notes=notes,
    )


def stored_result(store_path: str | Path, run_ref: str, rubric_ref: RubricRefs) -> ScoreResult:
    """The scores already in the store for a run and rubrics (as written while the run went), summarised."""
    from evalkit.trace.store import TraceStore

    rubrics = _rubric_list(rubric_ref)
    path = Path(store_path)
    with TraceStore.open(path, write=False) as st:
        run = st.resolve_run(run_ref)
        keys = {(r.name, r.key) for r in rubrics}
        scores = [s for s in st.scores(run.run_id) if (s.rubric, s.rubric_version) in keys]
        samples = len({s.sample_id for s in scores})
    return ScoreResult(
        run=run,
        store=path,
        rubrics=tuple((r.name, r.key) for r in rubrics),
        samples=samples,
        criteria=summarise(rubrics, scores),
        scores=tuple(scores),
        suite=run.suite_path,
    )


def summarise(rubrics: Sequence[RubricSpec], scores: Sequence[Score]) -> tuple[CriterionSummary, ...]:
    """One summary per rubric criterion, in rubric order (one pass over the scores)."""
    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    values: dict[tuple[str, str, str], list[float]] = {}
    for s in scores:
        key = (s.rubric, s.rubric_version, s.criterion)
        tally = counts.setdefault(key, {})
        tally[s.verdict] = tally.get(s.verdict, 0) + 1
        if s.verdict in ("pass", "fail", "value") and s.value is not None:
            values.setdefault(key, []).append(s.value)
    out = []
    for rubric in rubrics:
        for c in rubric.criteria:
            key = (rubric.name, rubric.key, c.id)
            tally = counts.get(key, {})
            got = values.get(key, [])
            out.append(
                CriterionSummary(
                    rubric=rubric.name,
                    criterion=c.id,
                    category=c.category,
                    severity=c.severity,
                    kind="judge" if c.judge is not None else "check",
                    passed=tally.get("pass", 0),
                    failed=tally.get("fail", 0),
                    value=tally.get("value", 0),
                    na=tally.get("na", 0),
                    skipped=tally.get("skipped", 0),
                    error=tally.get("error", 0),
                    mean_value=sum(got) / len(got) if got else None,
                )
            )
    return tuple(out)


def batch_scorer(
    rubric_refs: Sequence[str], tasks: Sequence[TaskSpec], catalog: Catalog
) -> Callable[[Sequence[Sample]], list[Score]] | None:
    """The rubric checks a run applies to each batch of finished samples as it writes them (``run --rubric``);
    judge criteria are left for ``score_run`` once the run is done. ``None`` when there is nothing to score."""
    if not rubric_refs:
        return None
    from evalkit.contracts.rubric import load_rubric
    from evalkit.scoring.engine import RubricEngine

    by_id = {t.id: t for t in tasks}
    engines = [RubricEngine(load_rubric(ref), tasks=by_id, catalog=catalog) for ref in rubric_refs]

    def score(samples: Sequence[Sample]) -> list[Score]:
        return [score for engine in engines for score in engine.score_samples(samples)]

    return score
