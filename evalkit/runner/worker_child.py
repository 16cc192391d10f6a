"""The worker processes of a ``--workers N`` run (``runner.workers``), and what runs in each.

They are started (``spawn``) as soon as a run knows it wants them, ahead of their jobs: a child's start-up is
mostly imports (litellm's alone takes seconds), and it overlaps the parent's own checks (the preflight, the
suite's database) instead of following them. Each then waits for its job, or for ``None`` when the run needs
fewer workers or failed before it started, and quits when the parent is gone.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import queue as queues
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.suite import SuiteSpec
from evalkit.runner.breaker import CircuitBreaker
from evalkit.runner.client import CostMeter
from evalkit.runner.options import DEFAULT_CONCURRENCY, RunOptions
from evalkit.runner.scheduler import ScheduleResult
from evalkit.trace.types import Sample, SampleKey, Score


@dataclass(frozen=True)
class WorkerJob:
    """What one child needs to run its slice (sent to it pickled)."""

    index: int
    run_id: str
    store_path: Path
    suite: SuiteSpec
    models: tuple[ModelConfig, ...]
    options: RunOptions
    keys: tuple[SampleKey, ...]
    gateway_options: dict[str, Any]
    sql_workers: int


class SharedMeter(CostMeter):
    """A child's cost meter: its own spend, and the run's spend of all children in one shared counter that
    the budget is checked against; ``stop`` (set by the parent on Ctrl-C) counts as a spent budget."""

    def __init__(self, budget_usd: float | None, shared: Any, stop: Any) -> None:
        super().__init__(budget_usd=budget_usd)
        self._shared = shared
        self._stop = stop

    def add(self, cost: float | None) -> None:
        super().add(cost)
        if cost is not None:
            with self._shared.get_lock():
                self._shared.value += cost

    def over_budget(self) -> bool:
        if self._stop.is_set():
            return True
        return self.budget_usd is not None and float(self._shared.value) >= self.budget_usd


class QueueSink:
    """A child's store: finished samples go to the parent, which writes them."""

    def __init__(self, index: int, out: Any) -> None:
        self.index = index
        self.out = out

    def write_samples(self, samples: Sequence[Sample]) -> None:
        self.out.put(("samples", self.index, list(samples)))

    def write_scores(self, scores: Sequence[Score]) -> None:  # children never score: the parent does
        pass


class Outbox:
    """A child's end of its own pipe to the parent (one pipe per child: a child killed mid-message spoils
    only its own), shared by the child's threads."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def put(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            self._connection.send(message)


def child_main(inbox: Any, connection: Any, shared: Any, stop: Any) -> None:
    """A worker process: import what a run needs, wait for the job, run the slice, then report how it ended
    (a failure as its traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from evalkit.env.isolation import WORKERS_ENV

    out = Outbox(connection)
    _warm()
    job = _wait_for_job(inbox)
    if job is None:
        return

    os.environ[WORKERS_ENV] = str(job.sql_workers)  # before this process's sandbox pool starts
    try:
        result, breaker = _run_slice(job, out, shared, stop)
        halts = [*([breaker.run_halt] if breaker.run_halt else []), *breaker.halts.values()]
        out.put(("done", job.index, result.written, result.stopped_by_budget, halts))
    except BaseException:
        out.put(("failed", job.index, traceback.format_exc()))
        raise SystemExit(1) from None


def _start_children(procs: Any) -> None:
    """Start the children with SIGINT ignored from their first instruction (an ignored signal survives
    ``exec``): a terminal's Ctrl-C reaches the whole process group, and only the parent should act on it.

    ``spawn`` would also import the parent's ``__main__`` script again in each child, which runs a script
    without an ``if __name__ == "__main__"`` guard a second time (another run of the same store). The children
    need nothing of it (their target and job are evalkit's), so it is hidden while they start."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    script = sys.modules["__main__"]
    hidden: dict[str, Any] = {
        name: script.__dict__.pop(name) for name in ("__file__", "__spec__") if name in script.__dict__
    }
    script.__spec__ = None
    try:
        for proc in procs:
            proc.start()
    finally:
        del script.__spec__
        script.__dict__.update(hidden)
        if main:
            signal.signal(signal.SIGINT, previous)


def _run_slice(job: WorkerJob, out: Any, shared: Any, stop: Any) -> tuple[ScheduleResult, CircuitBreaker[Sample]]:
    """The child's part of ``RunSession.execute``: the same environment, settings and scheduler."""
    import asyncio

    import jsonschema

    from evalkit.env.database import build_database
    from evalkit.env.profiles import profile_system_prompt
    from evalkit.env.tools import TOOL_SCHEMAS, EnvironmentPool
    from evalkit.models import scripts
    from evalkit.models.cache import ResponseCache, cache_path
    from evalkit.models.profile_adapter import register_catalog
    from evalkit.runner.loop import settings_maker
    from evalkit.runner.scheduler import Scheduler

    opts, suite = job.options, job.suite
    database = build_database(suite.database)  # built by the parent already: this finds its file
    settings = suite.settings
    validators = {name: jsonschema.Draft202012Validator(TOOL_SCHEMAS[name]) for name in settings.tools}
    scripts.register_suite(suite, [m.model for m in job.models])
    register_catalog(suite.content_hash, {t.name: t.company for t in database.catalog.tables},
                     [c.id for c in database.catalog.companies])  # fmt: skip
    meter = SharedMeter(opts.max_cost, shared, stop)
    prompt = profile_system_prompt(settings, opts.system_prompt_text)

    settings_for = settings_maker(settings, opts, prompt, meter.over_budget, validators)

    cache = ResponseCache(cache_path(job.store_path)) if opts.cache_replies else None
    environments = EnvironmentPool(database, settings)
    scheduler = Scheduler(
        run_id=job.run_id,
        suite=suite,
        models=list(job.models),
        make_env=environments,
        sink=QueueSink(job.index, out),
        settings_for=settings_for,
        seed=opts.seed,
        concurrency=opts.concurrency or DEFAULT_CONCURRENCY,
        cache=cache,
        meter=meter,
        gateway_options=job.gateway_options,
        flush_every_s=0.25,  # a batch here is one queue message, not a transaction: the display stays live
        flush_batch=16,
    )
    try:
        return asyncio.run(scheduler.run(list(job.keys))), scheduler.breaker
    finally:
        environments.close()
        if cache is not None:
            cache.close()


def _warm() -> None:
    """The imports of a run, made while the parent is still checking the models."""
    import jsonschema  # noqa: F401

    from evalkit.env import tools  # noqa: F401
    from evalkit.models.gateway import litellm_module
    from evalkit.runner import scheduler  # noqa: F401

    litellm_module()


def _wait_for_job(inbox: Any) -> WorkerJob | None:
    """The job, or None when there is none (or the parent died without sending one)."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            job: WorkerJob | None = inbox.get(timeout=1.0)
            return job
        except queues.Empty:
            if parent is not None and not parent.is_alive():
                return None


class Children:
    """Worker processes started ahead of their jobs, and the queue and shared counters they report through."""

    def __init__(self, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.spent: Any = ctx.Value("d", 0.0)
        self.stop: Any = ctx.Event()
        self._inboxes: list[Any] = [ctx.Queue() for _ in range(count)]
        pipes = [ctx.Pipe(duplex=False) for _ in range(count)]
        self.readers: dict[int, Any] = {i + 1: reader for i, (reader, _) in enumerate(pipes)}
        self.procs = {
            i + 1: ctx.Process(
                target=child_main, args=(inbox, pipes[i][1], self.spent, self.stop), name=f"evalkit-worker-{i + 1}",
                daemon=True,
            )
            for i, inbox in enumerate(self._inboxes)
        }  # fmt: skip
        _start_children(self.procs.values())
        for _, writer in pipes:
            writer.close()  # the child's copy alone: its exit is the reader's end of file
        self._sent = False
        self._idle: list[Any] = []

    def send(self, jobs: list[WorkerJob]) -> None:
        """Give worker ``i`` job ``i``; the workers beyond the jobs are told to quit."""
        self._sent = True
        for index, inbox in enumerate(self._inboxes):
            inbox.put(jobs[index] if index < len(jobs) else None)
        self._idle = [self.procs.pop(i) for i in range(len(jobs) + 1, len(self._inboxes) + 1)]  # they quit

    def close(self) -> None:
        """Stop the workers: those without a job quit; one still running after 5 s is terminated."""
        if not self._sent:
            self.send([])
        for proc in [*self.procs.values(), *self._idle]:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)


_READY: Children | None = None
_READY_LOCK = threading.Lock()


def prestart(count: int) -> None:
    """Start ``count`` workers for the run about to begin in this process (``take`` hands them over)."""
    global _READY
    with _READY_LOCK:
        if _READY is not None:
            _READY.close()
        _READY = Children(count)


def take(count: int) -> Children:
    """The started workers when there are ``count`` of them, alive; else new ones."""
    global _READY
    with _READY_LOCK:
        ready, _READY = _READY, None
    if ready is not None and len(ready.procs) == count and all(p.is_alive() for p in ready.procs.values()):
        return ready
    if ready is not None:
        ready.close()
    return Children(count)


def release() -> None:
    """Stop workers that were started but never given a job (the run failed before it started)."""
    global _READY
    with _READY_LOCK:
        ready, _READY = _READY, None
    if ready is not None:
        ready.close()


atexit.register(release)
