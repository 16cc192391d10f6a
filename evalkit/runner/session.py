"""A run from start to finish: open the store, create or resume the run record, build the environment,
schedule the pending samples, write them, and mark the run finished or interrupted."""

from __future__ import annotations

import asyncio
import fnmatch
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.suite import SuiteSpec, TaskSpec
from evalkit.errors import ConfigError, EvalkitError
from evalkit.runner.loop import EpisodeSettings
from evalkit.runner.options import RunOptions, fingerprint
from evalkit.runner.scheduler import NoProgress, Progress, Scheduler, sample_keys
from evalkit.trace.types import RunRecord, Sample, Score, new_run_id, utc_now
from evalkit.version import __version__

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
        """A new run of ``suite`` × ``models``, or the unfinished run the same command started before."""
        from evalkit.trace.store import TraceStore

        fp = fingerprint(suite, models, options)
        with TraceStore.open(store_path, write=True) as store:
            previous = _unfinished_twin(store, fp)
            if previous is not None:
                return cls(store_path, suite, models, previous, resumed=True)
            run = RunRecord(
                run_id=new_run_id(),
                name=name,
                suite=suite.name,
                suite_hash=suite.content_hash,
                suite_path=str(suite.path),
                models=tuple(models),
                options={**options.to_record(), "fingerprint": fp},
                evalkit_version=__version__,
                git_commit=git_commit,
                created_at=utc_now(),
            )
            store.create_run(run)
        return cls(store_path, suite, models, run)

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
        from evalkit.runner.client import CostMeter
        from evalkit.trace.store import TraceStore

        opts = RunOptions.from_record(self.run.options)
        tasks = select_tasks(self.suite, opts.tasks, opts.limit)
        database = build_database(self.suite.database)
        settings = self.suite.settings
        validators = _validators(TOOL_SCHEMAS, settings.tools)
        scripts.register_suite(self.suite, [m.model for m in self.models])
        meter = CostMeter(budget_usd=opts.max_cost)
        cache = ResponseCache(cache_path(self.store_path)) if opts.use_cache else None
        from evalkit.env.prompt import system_prompt

        def settings_for(config: ModelConfig) -> EpisodeSettings:
            return EpisodeSettings(
                max_turns=opts.max_turns or settings.max_turns,
                system_prompt=system_prompt(settings.system_prompt),
                tool_protocol=config.tool_protocol,
                sample_timeout_s=opts.sample_timeout_s,
                over_budget=meter.over_budget,
                validators=validators,
            )

        scorer = make_scorer(tasks, database.catalog) if make_scorer is not None else None
        interrupted = False
        environments = EnvironmentPool(database, settings)
        with TraceStore.open(self.store_path, write=True) as store:
            done = store.finished_sample_ids(self.run.run_id)
            keys = sample_keys(tasks, self.models, opts.epochs)
            pending = [k for k in keys if k.sample_id not in done]
            scheduler = Scheduler(
                run_id=self.run.run_id,
                suite=self.suite,
                models=self.models,
                make_env=environments,
                sink=store,
                settings_for=settings_for,
                seed=opts.seed,
                concurrency=opts.concurrency,
                cache=cache,
                meter=meter,
                gateway_options={
                    "timeout_s": float(opts.call_timeout_s),
                    "max_attempts": opts.max_attempts,
                },
                keep_samples=keep_samples,
                progress=progress if progress is not None else NoProgress(),
                scorer=scorer,
            )
            try:
                outcome = asyncio.run(scheduler.run(pending, already_done=len(keys) - len(pending)))
            except KeyboardInterrupt:
                interrupted = True
                outcome = scheduler.partial_result()
            finally:
                environments.close()
                if cache is not None:
                    cache.close()
            finished = not interrupted and not outcome.stopped_by_budget and outcome.infra_errors == 0
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
        )
        if interrupted:
            raise RunInterrupted(
                f"run {run.run_id} interrupted after {outcome.written} new sample(s); finished samples are kept. "
                f"Resume with: evalkit run --resume {run.run_id}"
            )
        return result


def _unfinished_twin(store: Any, fp: str) -> RunRecord | None:
    """The latest unfinished run made by the same command, if any (the same command resumes it)."""
    for summary in store.list_runs():  # newest first
        run: RunRecord = store.get_run(summary.run_id)
        if run.options.get("fingerprint") == fp:
            return run if run.status != "finished" else None
    return None
