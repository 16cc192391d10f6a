"""A run from start to finish: open the store, create or resume the run record, build the environment,
schedule the pending samples, write them, and mark the run finished or interrupted.

Whatever can fail before a model is called (the store's run lock, every model's gateway configuration such
as a missing API key, the tasks, the database, the scorer) is checked before the run record is written, and
a new run that ends before any sample was written is deleted again: no empty run is ever left to become
``latest``. The same command again resumes its unfinished run, or shows its finished one (``new``: another).
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.suite import SuiteSpec, TaskSpec
from evalkit.errors import ConfigError, EvalkitError, ProviderAuthError
from evalkit.models.preflight import preflight
from evalkit.runner.loop import settings_maker
from evalkit.runner.options import DEFAULT_CONCURRENCY, RunOptions, fingerprint, stored_config, with_concurrency
from evalkit.runner.resumable import outages, rejected_sample_ids
from evalkit.runner.scheduler import NoProgress, Progress, Scheduler, report_phase, sample_keys
from evalkit.runner.worker_child import prestart
from evalkit.runner.workers import ProcessScheduler
from evalkit.trace.types import RunRecord, Sample, Score, new_run_id, utc_now
from evalkit.version import __version__

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from evalkit.env.catalog import Catalog

BatchScorer = Callable[[Sequence[Sample]], list[Score]]
"""Scores a batch of finished samples as they are written (the rubric checks of ``--rubric``)."""
MakeScorer = Callable[[Sequence[TaskSpec], "Catalog"], BatchScorer | None]
"""Builds the batch scorer for the run's tasks and database catalog (the caller brings the scoring)."""


class RunInterrupted(EvalkitError):
    """The run was stopped (Ctrl-C); what finished is kept and ``evalkit run --resume`` completes it."""

    exit_code = 130


@dataclass(frozen=True)
class ModelSummary:
    model: str
    samples: int
    answered: int
    correct: int
    infra_errors: int
    cancelled: int
    accuracy: float | None
    tool_calls: int
    tool_errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    stop_reasons: dict[str, int]


@dataclass(frozen=True)
class RunOutcome:
    """What executing a run produced: the finished run record, per-model summaries, and what happened."""

    run: RunRecord
    store: Path
    summaries: tuple[ModelSummary, ...]
    resumed_from: int = 0
    ran: int = 0
    stopped_by_budget: bool = False
    interrupted: bool = False
    samples: tuple[Sample, ...] = field(default_factory=tuple)
    halts: tuple[str, ...] = ()
    """Why samples stopped being scheduled before all ran (``runner.breaker``): one line per model."""
    total: int = 0
    """The run's samples (tasks × models × epochs), run or not."""
    already_finished: bool = False
    """The same command's run had finished: it is shown, nothing ran (``new`` starts another)."""


def select_tasks(suite: SuiteSpec, tasks: str | None, limit: int | None) -> list[TaskSpec]:
    """Tasks whose id matches any of the comma-separated globs, then the first ``limit`` of them."""
    chosen = list(suite.tasks)
    if tasks:
        globs = [g.strip() for g in tasks.split(",") if g.strip()]
        chosen = [t for t in chosen if any(fnmatch.fnmatchcase(t.id, g) for g in globs)]
        if not chosen:
            raise ConfigError(f"--tasks {tasks!r} matches no task of suite {suite.name}")
    if limit is not None:
        if limit < 1:
            raise ConfigError("--limit must be at least 1")
        chosen = chosen[:limit]
    return chosen


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=2, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def summarise(samples: Sequence[Sample], models: Sequence[str]) -> tuple[ModelSummary, ...]:
    out = []
    for model in models:
        mine = [s for s in samples if s.model == model]
        ok = [s for s in mine if s.status == "ok"]
        graded = [s for s in ok if s.correct is not None]
        correct = sum(1 for s in graded if s.correct)
        costs = [s.cost_usd for s in mine]
        reasons: dict[str, int] = {}
        for s in mine:
            reasons[s.stop_reason] = reasons.get(s.stop_reason, 0) + 1
        out.append(
            ModelSummary(
                model=model,
                samples=len(mine),
                answered=sum(1 for s in ok if s.final_answer),
                correct=correct,
                infra_errors=sum(1 for s in mine if s.status == "infra_error"),
                cancelled=sum(1 for s in mine if s.status == "cancelled"),
                accuracy=correct / len(graded) if graded else None,
                tool_calls=sum(s.tool_calls for s in mine),
                tool_errors=sum(s.tool_errors for s in mine),
                prompt_tokens=sum(s.prompt_tokens for s in mine),
                completion_tokens=sum(s.completion_tokens for s in mine),
                cost_usd=None if any(c is None for c in costs) else float(sum(c for c in costs if c is not None)),
                stop_reasons=reasons,
            )
        )
    return tuple(out)


def _validators(tool_schemas: dict[str, dict[str, Any]], tools: Sequence[str]) -> dict[str, Any]:
    import jsonschema

    return {name: jsonschema.Draft202012Validator(tool_schemas[name]) for name in tools}


@dataclass
class RunSession:
    """One run being executed (new or resumed)."""

    store_path: Path
    suite: SuiteSpec
    models: list[ModelConfig]
    run: RunRecord
    resumed: bool = False
    recorded: bool = True
    """Whether the run record is in the store (a new run's is written once the checks have passed)."""
    already_finished: bool = False

    @classmethod
    def start(
        cls,
        store_path: Path,
        suite: SuiteSpec,
        models: list[ModelConfig],
        options: RunOptions,
        *,
        name: str | None,
        git_commit: str | None,
    ) -> RunSession:
        """A new run of ``suite`` × ``models``, or the run the same command made before: resumed when
        unfinished, shown when finished (``options.new``: a new run either way). Nothing is written yet; a
        store another run holds is refused here (``StoreLockedError``)."""
        from evalkit.trace.store import TraceStore

        fp = fingerprint(suite, models, options)
        whole = {"shard_of": fingerprint(suite, models, replace(options, shard=None))} if options.shard else {}
        with TraceStore.open(store_path, write=True, exclusive=True) as store:
            previous = None if options.new else _twin(store, fp, name)
        if previous is not None:
            done = previous.status == "finished"
            return cls(store_path, suite, models, previous, resumed=not done, already_finished=done)
        run = RunRecord(
            run_id=new_run_id(),
            name=name,
            suite=suite.name,
            suite_hash=suite.content_hash,
            suite_path=str(suite.path),
            models=tuple(stored_config(m) for m in models),
            options={**options.to_record(), "fingerprint": fp, **whole},
            evalkit_version=__version__,
            git_commit=git_commit,
            created_at=utc_now(),
        )
        return cls(store_path, suite, models, run, recorded=False)

    @classmethod
    def resume(cls, store_path: Path, ref: str) -> RunSession:
        from evalkit.contracts.loader import load_suite
        from evalkit.trace.store import TraceStore

        with TraceStore.open(store_path, write=False) as store:
            run = store.resolve_run(ref)
        suite = load_suite(run.suite_path)
        if suite.content_hash != run.suite_hash:
            raise ConfigError(
                f"run {run.run_id} was made with another version of suite {run.suite} "
                f"(hash {run.suite_hash}, now {suite.content_hash}); start a new run instead"
            )
        return cls(store_path, suite, list(run.models), run, resumed=True)

    def execute(
        self,
        *,
        progress: Progress | None = None,
        keep_samples: bool = False,
        make_scorer: MakeScorer | None = None,
    ) -> RunOutcome:
        from evalkit.env.database import build_database
        from evalkit.env.tools import TOOL_SCHEMAS, EnvironmentPool
        from evalkit.models import scripts
        from evalkit.models.cache import ResponseCache, cache_path
        from evalkit.models.profile_adapter import register_catalog
        from evalkit.runner.client import CostMeter
        from evalkit.trace.store import TraceStore

        if self.already_finished:
            return self._finished_outcome(keep_samples)
        opts = RunOptions.from_record(self.run.options)
        gateway_options = {"timeout_s": float(opts.call_timeout_s), "max_attempts": opts.max_attempts}
        if opts.workers > 1:
            prestart(opts.workers)  # the workers' start-up overlaps the checks below
        report_phase(progress, "checking the models" + (" (one preflight request each)" if opts.preflight else ""))
        preflight(self.models, gateway_options, request=opts.preflight)
        tasks = select_tasks(self.suite, opts.tasks, opts.limit)
        report_phase(progress, f"preparing the suite {self.suite.name}")
        database = build_database(self.suite.database)
        settings = self.suite.settings
        validators = _validators(TOOL_SCHEMAS, settings.tools)
        scripts.register_suite(self.suite, [m.model for m in self.models])
        register_catalog(self.suite.content_hash, {t.name: t.company for t in database.catalog.tables},
                         [c.id for c in database.catalog.companies])  # fmt: skip
        meter = CostMeter(budget_usd=opts.max_cost)
        from evalkit.env.profiles import profile_system_prompt

        prompt = profile_system_prompt(settings, opts.system_prompt_text)
        settings_for = settings_maker(settings, opts, prompt, meter.over_budget, validators)

        scorer = make_scorer(tasks, database.catalog) if make_scorer is not None else None
        interrupted = False
        with TraceStore.open(self.store_path, write=True, exclusive=True) as store:
            new = not self.recorded
            if new:
                store.create_run(self.run)
                self.recorded = True
            done = store.finished_sample_ids(self.run.run_id) | rejected_sample_ids(store, self.run.run_id)
            keys = sample_keys(tasks, self.models, opts.epochs)
            if opts.shard_slice is not None:  # every N-th sample from the K-th: the same slice on every machine
                shard, shards = opts.shard_slice
                keys = keys[shard - 1 :: shards]
            pending = [k for k in keys if k.sample_id not in done]
            cache = ResponseCache(cache_path(self.store_path)) if opts.cache_replies else None
            environments = None
            scheduler: Scheduler | ProcessScheduler
            if opts.workers > 1 and len(pending) > 1:  # the children run the samples; this process writes
                scheduler = ProcessScheduler(
                    run_id=self.run.run_id, suite=self.suite, models=with_concurrency(self.models, opts.concurrency),
                    options=opts, store_path=self.store_path, sink=store, workers=opts.workers,
                    gateway_options=gateway_options, progress=progress if progress is not None else NoProgress(),
                    scorer=scorer, keep_samples=keep_samples,
                )  # fmt: skip
            else:
                environments = EnvironmentPool(database, settings)
                scheduler = Scheduler(
                    run_id=self.run.run_id,
                    suite=self.suite,
                    models=with_concurrency(self.models, opts.concurrency),
                    make_env=environments,
                    sink=store,
                    settings_for=settings_for,
                    seed=opts.seed,
                    concurrency=opts.concurrency or DEFAULT_CONCURRENCY,
                    cache=cache,
                    meter=meter,
                    gateway_options=gateway_options,
                    keep_samples=keep_samples,
                    progress=progress if progress is not None else NoProgress(),
                    scorer=scorer,
                )
            try:
                if isinstance(scheduler, ProcessScheduler):
                    outcome = scheduler.run_blocking(pending, already_done=len(keys) - len(pending))
                else:
                    outcome = asyncio.run(scheduler.run(pending, already_done=len(keys) - len(pending)))
            except KeyboardInterrupt:
                interrupted = True
                outcome = scheduler.partial_result()
            except BaseException:
                if new:
                    self._forget_if_empty(store, scheduler)
                raise
            finally:
                if environments is not None:
                    environments.close()
                if cache is not None:
                    cache.close()
            if new and not outcome.written:
                self._forget_if_empty(store, scheduler)
                if interrupted:
                    raise RunInterrupted("the run was interrupted before any sample finished; no run was recorded")
                why = "the --max-cost budget was spent" if outcome.stopped_by_budget else "the run stopped"
                raise EvalkitError(f"{why} before any sample was written; no run was recorded")
            halts = tuple(scheduler.breaker.messages())
            stopped = interrupted or outcome.stopped_by_budget or bool(halts)
            finished = not stopped and not outages(store, self.run.run_id)
            status = "finished" if finished else "interrupted"
            store.finish_run(self.run.run_id, status, utc_now())
            run = store.get_run(self.run.run_id)
            samples = store.samples(run.run_id)
        result = RunOutcome(
            run=run,
            store=self.store_path,
            summaries=summarise(samples, [m.name for m in self.models]),
            resumed_from=len(keys) - len(pending),
            ran=outcome.written,
            stopped_by_budget=outcome.stopped_by_budget,
            interrupted=interrupted,
            samples=tuple(outcome.samples),
            halts=halts,
            total=len(keys),
        )
        if scheduler.breaker.run_halt is not None:
            raise ProviderAuthError(f"{scheduler.breaker.run_halt.message} (evalkit run --resume {run.run_id})")
        if interrupted:
            raise RunInterrupted(
                f"run {run.run_id} interrupted after {outcome.written} new sample(s); finished samples are kept. "
                f"Resume with: evalkit run --resume {run.run_id}"
            )
        return result

    def _forget_if_empty(self, store: Any, scheduler: Scheduler | ProcessScheduler) -> None:
        """Delete the new run's record when it ended before any sample was written (what finished is
        flushed first), so no empty run is left behind; a failure here never hides the run's own error."""
        try:
            if scheduler.partial_result().written:
                return
            store.delete_run(self.run.run_id)
            self.recorded = False
        except Exception:  # the store itself failing: the run's own error is the one to report
            logger.warning("could not remove the empty run %s from the store", self.run.run_id, exc_info=True)

    def _finished_outcome(self, keep_samples: bool) -> RunOutcome:
        """The finished run the same command made: shown as it is, nothing run."""
        from evalkit.trace.store import TraceStore

        with TraceStore.open(self.store_path, write=False) as store:
            samples = store.samples(self.run.run_id)
        return RunOutcome(
            run=self.run,
            store=self.store_path,
            summaries=summarise(samples, [m.name for m in self.models]),
            resumed_from=len(samples),
            already_finished=True,
            samples=tuple(samples) if keep_samples else (),
        )


def _twin(store: Any, fp: str, name: str | None) -> RunRecord | None:
    """The latest run made by the same command (the same fingerprint), if any. A ``name`` is part of the
    command: ``--name pr-123`` asks for a run called so, not for an earlier run of the same options."""
    named = "" if name is None else " AND name = ?"
    rows = store.query(
        f"SELECT run_id FROM runs WHERE json_extract_string(options, '$.fingerprint') = ?{named} "
        "ORDER BY created_at DESC, run_id DESC LIMIT 1",
        [fp] if name is None else [fp, name],
    )
    return store.get_run(rows[0][0]) if rows else None
