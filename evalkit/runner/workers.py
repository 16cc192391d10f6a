"""``--workers N``: a run's samples in N worker processes, the parent the one writer of the store.

One process runs one event loop, and a CPU-bound run (scripted agents, a fast local server) fills one core.
The parent plans the samples as a single-process run does, deals them to N children in a fixed order (all
models of a task to one child, tasks in turn), and each child runs the ordinary ``Scheduler`` over its slice
with its own event loop, model clients, response-cache connection and sandbox pool; it sends its finished
samples back over a queue. The parent writes them in batches, scores them (``--rubric``), drives the progress
display, and holds the budget: the spend of all children is one shared counter, and a child stops starting
samples once it reaches ``--max-cost``. Ctrl-C reaches the parent alone: it tells the children to stop, writes
what they finished (in-flight samples end ``cancelled``) and the run is resumable. A child that dies leaves its
unfinished samples unwritten: the run ends ``interrupted`` with a line naming the worker, and a resume runs
exactly those. Children start by ``spawn``, never ``fork``: the parent holds threads.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.suite import SuiteSpec
from evalkit.runner.breaker import CircuitBreaker, Halt
from evalkit.runner.options import DEFAULT_CONCURRENCY, RunOptions
from evalkit.runner.scheduler import NoProgress, Progress, SampleSink, ScheduleResult
from evalkit.runner.worker_child import WorkerJob, take
from evalkit.trace.types import Sample, SampleKey, Score

logger = logging.getLogger(__name__)

POLL_S = 0.2
"""How often the parent looks for a dead child while no sample arrives."""
STOP_GRACE_S = 60.0
"""How long stopped children may take to finish their in-flight samples before they are terminated."""


def deal(pending: Sequence[SampleKey], workers: int) -> list[list[SampleKey]]:
    """The samples of each worker, the same on every run: all models of one task × epoch go to one worker
    (the same task's samples share what they cache), and the tasks go round the workers in turn."""
    slices: list[list[SampleKey]] = [[] for _ in range(workers)]
    turn: dict[tuple[str, int], int] = {}
    for key in pending:
        group = (key.task_id, key.epoch)
        if group not in turn:
            turn[group] = len(turn) % workers
        slices[turn[group]].append(key)
    return [s for s in slices if s]


def share_concurrency(models: Sequence[ModelConfig], concurrency: int, workers: int) -> list[ModelConfig]:
    """Each child's models: a model's samples in flight divided among the workers (rounded up), so a server
    sees about as many requests at once as with one process."""
    return [replace(m, concurrency=max(1, -(-(m.concurrency or concurrency) // workers))) for m in models]


@dataclass
class ProcessScheduler:
    """The parent of a ``--workers N`` run: what ``Scheduler`` is to one process (same result, same
    ``breaker`` and ``partial_result``), its samples run by child processes."""

    run_id: str
    suite: SuiteSpec
    models: Sequence[ModelConfig]
    options: RunOptions
    store_path: Path
    sink: SampleSink
    workers: int
    gateway_options: dict[str, Any] = field(default_factory=dict)
    progress: Progress = field(default_factory=NoProgress)
    scorer: Callable[[Sequence[Sample]], list[Score]] | None = None
    keep_samples: bool = False
    flush_every_s: float = 1.0
    flush_batch: int = 64
    breaker: CircuitBreaker[Sample] = field(default_factory=CircuitBreaker)
    """The children's halts, gathered, and a line per worker that died."""

    def __post_init__(self) -> None:
        self._result = ScheduleResult()
        self._buffer: list[Sample] = []
        self._last_flush = time.monotonic()
        self._spent: Any = None

    def run_blocking(self, pending: Sequence[SampleKey], already_done: int = 0) -> ScheduleResult:
        """Run ``pending`` in the children; Ctrl-C stops them and is raised again once what they finished is
        written (``KeyboardInterrupt``, as ``Scheduler.run`` under ``asyncio.run``)."""
        from evalkit.env.isolation import DEFAULT_WORKERS, WORKERS_ENV

        slices = deal(pending, self.workers)
        children = take(self.workers)
        self._spent = children.spent
        concurrency = self.options.concurrency or DEFAULT_CONCURRENCY
        models = tuple(share_concurrency(self.models, concurrency, len(slices)))
        sql_total = int(os.environ.get(WORKERS_ENV, DEFAULT_WORKERS) or DEFAULT_WORKERS)
        sql_each = max(1, sql_total // len(slices))  # the run's sandbox processes shared, not multiplied
        jobs = [
            WorkerJob(i + 1, self.run_id, self.store_path, self.suite, models, self.options, tuple(keys),
                      self.gateway_options, sql_each)
            for i, keys in enumerate(slices)
        ]  # fmt: skip
        children.send(jobs)
        procs, readers, stop = children.procs, children.readers, children.stop
        self._start_progress(pending, already_done)
        logger.info("%d samples in %d worker processes", len(pending), len(procs))
        left = set(procs)
        try:
            try:
                self._receive(readers, procs, left, deadline=None)
            except KeyboardInterrupt:
                stop.set()
                logger.info("interrupted: the workers finish their samples in flight (cancelled) and stop")
                self._receive(readers, procs, left, deadline=time.monotonic() + STOP_GRACE_S)
                raise
        finally:
            children.close()
            self._flush()
            self.progress.stop()
        return self._result

    def partial_result(self) -> ScheduleResult:
        """What was done before an interruption (everything received has been written)."""
        self._flush()
        return self._result

    def _start_progress(self, pending: Sequence[SampleKey], already_done: int) -> None:
        total = len(pending) + already_done
        self.progress.start(total, already_done)
        split = getattr(self.progress, "split", None)
        if split is not None and len(self.models) > 1:
            each = total // len(self.models)
            split({m.name: (each, each - sum(1 for k in pending if k.model == m.name)) for m in self.models})

    def _receive(self, readers: dict[int, Any], procs: dict[int, Any], left: set[int], deadline: float | None) -> None:
        """Take the children's messages until each has said it is done or has died (or ``deadline``). A child
        that exits closes its pipe: what it sent comes first, then the end of file."""
        from multiprocessing.connection import wait

        while left:
            if deadline is not None and time.monotonic() > deadline:
                logger.warning("worker(s) %s did not stop in time: terminated", ", ".join(map(str, sorted(left))))
                return
            by_reader = {readers[i]: i for i in left}
            ready: list[Any] = wait(list(by_reader), timeout=POLL_S)
            for reader in ready:
                index = by_reader[reader]
                try:
                    message = reader.recv()
                except (EOFError, OSError):  # gone without saying it was done
                    procs[index].join(5)
                    self._died(index, procs[index], "")
                    left.discard(index)
                    continue
                if message[0] == "samples":
                    self._add(message[2])
                elif message[0] == "done":
                    _, _, _written, by_budget, halts = message
                    self._result.stopped_by_budget |= by_budget
                    self._halted(halts)
                    left.discard(index)
                else:  # "failed": its traceback
                    self._died(index, procs[index], message[2])
                    left.discard(index)
            self._flush_if_due()

    def _add(self, samples: list[Sample]) -> None:
        spent = float(self._spent.value) if self._spent is not None else 0.0
        self._buffer.extend(samples)  # first: a Ctrl-C in the display below loses none of them
        self._result.infra_errors += sum(1 for s in samples if s.status == "infra_error")
        if self.keep_samples:
            self._result.samples.extend(samples)
        for sample in samples:
            self.progress.advance(sample, spent)
        self._flush_if_due()

    def _halted(self, halts: list[Halt]) -> None:
        for halt in halts:
            if halt.model is None:
                self.breaker.run_halt = self.breaker.run_halt or halt
            else:
                self.breaker.halts.setdefault(halt.model, halt)

    def _died(self, index: int, proc: Any, failure: str) -> None:
        last = failure.strip().splitlines()[-1] if failure.strip() else f"exit code {proc.exitcode}"
        message = (
            f"worker {index} (pid {proc.pid}) stopped before finishing its samples ({last}); "
            f"its unfinished samples run again on resume"
        )
        logger.error("%s", message)
        if failure:
            logger.debug("worker %d failed:\n%s", index, failure)
        self.breaker.halts[f"worker {index}"] = Halt(None, "worker_died", message)

    def _flush_if_due(self) -> None:
        if len(self._buffer) >= self.flush_batch or time.monotonic() - self._last_flush >= self.flush_every_s:
            self._flush()

    def _flush(self) -> None:
        """Write the received samples (and their scores) in one batch."""
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self.sink.write_samples(batch)
            if self.scorer is not None:
                self.sink.write_scores(self.scorer([s for s in batch if s.status == "ok"]))
            self._result.written += len(batch)
        self._last_flush = time.monotonic()
