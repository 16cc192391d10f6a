"""Run tasks × models × epochs concurrently, write each finished sample, survive interruption.

Each model gets its own pool of workers (its connection limit). Finished samples are buffered and written
to the store in batches (one transaction per batch of ``flush_batch``, at most ``flush_every_s`` apart), so a
crash loses at most the samples finished in the last second, and those are simply run again on resume; an
interruption (Ctrl-C) or a budget stop writes everything finished. A write costs about 20 ms whatever its
size, so flushing every second rather than every quarter keeps the store under a few per cent of a fast
run's CPU. Writes and batch scoring run on one writer thread, in order, off the event loop: a slow write or
scorer (a judge calls ``asyncio.run`` of its own there) never holds the samples in flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.suite import SuiteSpec, TaskSpec
from evalkit.models.cache import ResponseCache
from evalkit.models.gateway import ModelGateway
from evalkit.models.types import ModelCallError
from evalkit.runner.breaker import CircuitBreaker
from evalkit.runner.client import CostMeter, EpisodeModel, RetryLog
from evalkit.runner.loop import Environment, Episode, EpisodeSettings
from evalkit.trace.types import Sample, SampleKey, Score

logger = logging.getLogger(__name__)


class SampleSink(Protocol):
    def write_samples(self, samples: Sequence[Sample]) -> None: ...

    def write_scores(self, scores: Sequence[Score]) -> None: ...


class Progress(Protocol):
    """What a run reports as it goes. ``phase`` (what happens before the first sample: the model checks,
    the suite's database) and ``split`` (each model's total and done, when there are several) are optional:
    an object without them gets only ``start``, ``advance`` and ``stop``."""

    def start(self, total: int, done: int) -> None: ...

    def advance(self, sample: Sample, spent_usd: float) -> None: ...

    def stop(self) -> None: ...


def report_phase(progress: Progress | None, text: str) -> None:
    """Tell ``progress`` what the run is doing before its first sample, if it listens."""
    phase = getattr(progress, "phase", None)
    if phase is not None:
        phase(text)


class NoProgress:
    def start(self, total: int, done: int) -> None:
        pass

    def advance(self, sample: Sample, spent_usd: float) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass
class ScheduleResult:
    written: int = 0
    infra_errors: int = 0
    stopped_by_budget: bool = False
    samples: list[Sample] = field(default_factory=list)


@dataclass
class Scheduler:
    run_id: str
    suite: SuiteSpec
    models: Sequence[ModelConfig]
    make_env: Callable[[], Environment]
    sink: SampleSink
    settings_for: Callable[[ModelConfig], EpisodeSettings]
    seed: int = 0
    concurrency: int = 8
    cache: ResponseCache | None = None
    meter: CostMeter = field(default_factory=CostMeter)
    progress: Progress = field(default_factory=NoProgress)
    gateway_options: dict[str, Any] = field(default_factory=dict)
    flush_every_s: float = 1.0
    flush_batch: int = 64
    keep_samples: bool = False
    scorer: Callable[[Sequence[Sample]], list[Score]] | None = None
    """Scores each batch of finished samples as it is written (rubric checks; judges run after the run)."""
    breaker: CircuitBreaker[Sample] = field(default_factory=CircuitBreaker)
    """Stops scheduling a model whose samples keep failing the same way, or the run on a refused key."""

    def __post_init__(self) -> None:
        self._buffer: list[Sample] = []
        self._last_flush = time.monotonic()
        self._result = ScheduleResult()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evalkit-writer")
        self._writes: list[Future[None]] = []
        self._writer_open = True

    async def run(self, pending: Sequence[SampleKey], already_done: int = 0) -> ScheduleResult:
        """Run the pending samples. On cancellation (Ctrl-C) finished samples are still written."""
        tasks = {t.id: t for t in self.suite.tasks}
        by_model: dict[str, list[SampleKey]] = {}
        for key in pending:
            by_model.setdefault(key.model, []).append(key)
        self.progress.start(len(pending) + already_done, already_done)
        split = getattr(self.progress, "split", None)
        if split is not None and len(self.models) > 1:
            each = (len(pending) + already_done) // len(self.models)  # every model runs the same samples
            split({m.name: (each, each - len(by_model.get(m.name, ()))) for m in self.models})
        # litellm runs part of every call on the loop's default executor; its default size (cores + 4)
        # would make samples beyond it queue for a thread even when the provider is idle.
        in_flight = sum(min(_per_model(m, self.concurrency), len(by_model.get(m.name, ()))) for m in self.models)
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=max(4, in_flight + 4), thread_name_prefix="evalkit-model")
        )
        workers = []
        gateways: list[ModelGateway] = []
        try:
            for config in self.models:
                queue: asyncio.Queue[SampleKey] = asyncio.Queue()
                for key in by_model.get(config.name, []):
                    queue.put_nowait(key)
                gateway = ModelGateway(config, **self.gateway_options)
                gateways.append(gateway)
                n = max(1, min(_per_model(config, self.concurrency), queue.qsize() or 1))
                workers += [asyncio.create_task(self._worker(queue, gateway, config, tasks)) for _ in range(n)]
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await asyncio.gather(*(g.aclose() for g in gateways), return_exceptions=True)
            try:
                self._flush()
            finally:
                self._writer.shutdown(wait=True)
                self._writer_open = False
                self.progress.stop()
        return self._result

    def partial_result(self) -> ScheduleResult:
        """What was done before an interruption (everything finished has been written)."""
        self._flush()
        return self._result

    async def _worker(
        self, queue: asyncio.Queue[SampleKey], gateway: ModelGateway, config: ModelConfig, tasks: dict[str, TaskSpec]
    ) -> None:
        settings = self.settings_for(config)
        while not queue.empty() and self.breaker.allows(config.name):
            if self.meter.over_budget():
                self._stop_by_budget()
                return
            key = queue.get_nowait()
            sample, failure = await self._run_one(key, tasks[key.task_id], gateway, config, settings)
            self._finished(sample)
            rejected = self.breaker.record(config.name, sample, failure)
            if rejected:
                self._record_again([_rejected(s) for s in rejected if s.stop_reason != "request_rejected"])
            if not self.breaker.allows(config.name) and (halt := self.breaker.halts.get(config.name)):
                logger.info("%s", halt.message)

    def _record_again(self, samples: list[Sample]) -> None:
        """Write ``samples`` again in their new form (a sample is upserted by its id): in place of the old
        form when that is still waiting in the buffer, else with the next batch."""
        for sample in samples:
            sid = sample.sample_id
            self._buffer = [b for b in self._buffer if b.sample_id != sid] + [sample]
            if self.keep_samples:
                self._result.samples = [sample if k.sample_id == sid else k for k in self._result.samples]

    async def _run_one(
        self, key: SampleKey, task: TaskSpec, gateway: ModelGateway, config: ModelConfig, settings: EpisodeSettings
    ) -> tuple[Sample, ModelCallError | None]:
        """The sample, and the call error that ended it (None when none did): an infrastructure error records
        its error class, and a request the provider refused is recorded as ``request_rejected``."""
        retries = RetryLog()
        model = EpisodeModel(
            gateway,
            cache=self.cache,
            meter=self.meter,
            seed=self.seed + key.epoch,
            epoch=key.epoch,
            context={"task_id": task.id, "suite_hash": self.suite.content_hash},
            retries=retries,
        )
        env = self.make_env()
        logger.debug("sample %s started", key.sample_id)
        try:
            episode = Episode(self.run_id, task, config.name, key.epoch, settings)
            sample = await episode.run(env, model)
        finally:
            close = getattr(env, "close", None)
            if close:
                close()
        if retries.entries:
            sample = _with_metadata(sample, retries=retries.entries)
        if model.endpoints.counts:
            sample = _with_metadata(sample, endpoints=model.endpoints.counts)
        failure = model.failure if sample.stop_reason == "infra_error" else None
        if failure is not None:
            status = {"http_status": failure.status} if failure.status is not None else {}
            sample = _with_metadata(sample, error_class=failure.error_class, **status)
            if failure.error_class == "request_rejected":
                sample = _rejected(sample)
        if sample.stop_reason == "budget":
            self._stop_by_budget()
            sample = _cancelled(sample)
        if sample.status == "infra_error":
            logger.debug("sample %s: infrastructure error (%s): %s", key.sample_id, sample.stop_reason, sample.error)
        else:
            logger.debug(
                "sample %s finished: %s, %s, %d turns in %.2fs",
                key.sample_id,
                sample.status,
                sample.stop_reason,
                sample.turns,
                sample.latency_s,
            )
        return sample, failure

    def _stop_by_budget(self) -> None:
        if not self._result.stopped_by_budget:
            logger.info(
                "the budget of %s USD is spent (%.4f USD): no new samples start",
                self.meter.budget_usd,
                self.meter.spent_usd,
            )
        self._result.stopped_by_budget = True

    def _finished(self, sample: Sample) -> None:
        self._buffer.append(sample)
        if sample.status == "infra_error":
            self._result.infra_errors += 1
        if self.keep_samples:
            self._result.samples.append(sample)
        self.progress.advance(sample, self.meter.spent_usd)
        if len(self._buffer) >= self.flush_batch or time.monotonic() - self._last_flush >= self.flush_every_s:
            self._submit()
        self._raise_failed_write()

    def _submit(self) -> None:
        """Hand the buffered samples to the writer thread (one batch, written after the earlier ones)."""
        if self._buffer:
            batch, self._buffer = self._buffer, []
            if self._writer_open:
                self._writes.append(self._writer.submit(self._write, batch))
            else:  # after the run: nothing else is in flight
                self._write(batch)
        self._last_flush = time.monotonic()

    def _write(self, batch: list[Sample]) -> None:
        self.sink.write_samples(batch)
        if self.scorer is not None:
            self.sink.write_scores(self.scorer([s for s in batch if s.status == "ok"]))
        self._result.written += len(batch)

    def _raise_failed_write(self) -> None:
        """A failed write ends the run as it did when writes ran on the loop."""
        pending = []
        for future in self._writes:
            if future.done():
                future.result()
            else:
                pending.append(future)
        self._writes = pending

    def _flush(self) -> None:
        """Write everything finished, and wait until it is written."""
        self._submit()
        writes, self._writes = self._writes, []
        for future in writes:
            future.result()


def _with_metadata(sample: Sample, **extra: Any) -> Sample:
    return replace(sample, metadata={**sample.metadata, **extra})


def _rejected(sample: Sample) -> Sample:
    """An infrastructure error that is the request's fault: kept out of resume (see ``runner.session``)."""
    metadata = {**sample.metadata, "error_class": "request_rejected"}
    return replace(sample, stop_reason="request_rejected", metadata=metadata)


def _cancelled(sample: Sample) -> Sample:
    return replace(sample, status="cancelled", correct=None)


def sample_keys(tasks: Sequence[TaskSpec], models: Sequence[ModelConfig], epochs: int) -> list[SampleKey]:
    """Every sample of a run, epochs interleaved so early results cover many tasks."""
    return [SampleKey(t.id, m.name, e) for e in range(epochs) for t in tasks for m in models]


def _per_model(config: ModelConfig, concurrency: int) -> int:
    """Samples in flight for one model: its concurrency (or the run's) at each of its endpoints."""
    return (config.concurrency or concurrency) * max(1, len(config.endpoints))
