"""The shards of one run as Ray tasks (``evalkit run ... --ray [ADDRESS]``), merged into the run's store as
they finish.

Each task runs one ``--shard K/N`` slice into its own store under a shard folder (beside the store, or a
shared path on a cluster of several machines), so a task that fails or is cancelled loses nothing that
finished: the same command again resumes every shard's run, running only its missing samples, and merges
again (``runner.merge``: idempotent, the unsharded command's run). Each task reports its finished samples
(without their events) to one small actor, which the driver polls to feed the same progress display as a
local run. Ray is imported only here, inside functions: ``evalkit --help`` never pays for it.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evalkit.contracts.model_config import ModelConfig
from evalkit.errors import EvalkitError
from evalkit.runner.merge import MergeError, MergeResult, merge_shards
from evalkit.runner.options import RunOptions
from evalkit.runner.scheduler import Progress
from evalkit.trace.types import Sample

logger = logging.getLogger(__name__)

GRACE_S = 10.0
"""Seconds the cancelled tasks get to write what finished after Ctrl-C, before they are killed."""
POLL_S = 0.25
"""How often the driver collects the tasks' progress and finished shards."""
MERGE_S = 5.0
"""Shards that end within this many seconds of the last merge wait for the next one (or the last shard)."""
FLUSH_S = 0.5
"""How often a task sends its finished samples to the progress actor."""
FORWARDED = ("EVALKIT_", "LITELLM_")
"""Prefixes of the driver's variables a task runs with (the cache folder, the config); API keys are not sent:
the cluster's machines need them in their own environment."""


class RayUnavailable(EvalkitError):
    """Ray is not installed, or the cluster cannot be reached (exit code 2)."""


@dataclass(frozen=True)
class RayPlacement:
    """Where the shard tasks run: the cluster, and what each task asks of a machine."""

    address: str | None = None
    """A running cluster (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``); None starts a local instance."""
    num_cpus: int | None = None
    """CPUs of a local instance (None: the machine's)."""
    resources: Mapping[str, float] = field(default_factory=dict)
    """Custom resources each task needs (a machine that serves the model declares them: ``ray start
    --resources``), so the tasks run beside the model servers."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Node labels each task's machine must have (Ray's ``label_selector``, Ray 2.49 and later)."""


@dataclass(frozen=True)
class ShardJob:
    """One shard task: everything a Ray worker needs to run its slice, picklable."""

    shard: int
    count: int
    store: Path
    suite: str
    """The suite's folder (the same path on every machine, or a built-in suite)."""
    models: tuple[ModelConfig, ...]
    options: RunOptions
    name: str | None
    config: Any
    """The project configuration (``ProjectConfig``), without a judge: the driver judges the merged run."""
    env: Mapping[str, str]

    @property
    def label(self) -> str:
        return f"{self.shard}/{self.count}"


@dataclass(frozen=True)
class ShardOutcome:
    """What a shard task sends back: its run's status and what it ran."""

    status: str
    ran: int
    stopped_by_budget: bool = False
    halts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RayOutcome:
    """All the shards' tasks, ended: the last merge, each shard's outcome, and what failed."""

    merged: MergeResult | None
    outcomes: Mapping[int, ShardOutcome]
    failures: tuple[str, ...]
    """One line per shard whose task failed: which shard, and why."""
    interrupted: bool = False


def forwarded_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(FORWARDED)}


@contextlib.contextmanager
def task_environment(env: Mapping[str, str]) -> Iterator[None]:
    """The driver's evalkit variables for the duration of a task (a worker process runs many tasks)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def ray_module() -> Any:
    """Ray, or ``RayUnavailable`` saying how to install it."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise RayUnavailable("evalkit run --ray needs Ray: pip install 'evalkit[ray]'") from None


@contextlib.contextmanager
def connected(placement: RayPlacement) -> Iterator[Any]:
    """Ray, connected: to the cluster at ``placement.address``, or a local instance started here (and shut
    down at the end). A Ray the caller already initialised is used as it is, and left running."""
    ray = ray_module()
    if ray.is_initialized():
        yield ray
        return
    try:
        if placement.address is None:
            ray.init(
                num_cpus=placement.num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
            )
        else:
            ray.init(address=placement.address, log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = placement.address or "a local instance"
        raise RayUnavailable(f"could not start Ray ({where}): {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_cpus(ray: Any) -> float:
    return float(ray.cluster_resources().get("CPU", 1))


class ProgressBoard:
    """The actor the tasks report to: finished samples (without events) and each shard's spend so far."""

    def __init__(self) -> None:
        self._samples: list[Sample] = []
        self._spent: dict[int, float] = {}
        self._stopping = False

    def stop(self) -> None:
        """Ctrl-C at the driver: every task's watcher sees it and interrupts its run."""
        self._stopping = True

    def stopping(self) -> bool:
        return self._stopping

    def push(self, shard: int, samples: list[Sample], spent_usd: float) -> None:
        self._samples.extend(samples)
        self._spent[shard] = spent_usd

    def drain(self) -> tuple[list[Sample], float]:
        samples, self._samples = self._samples, []
        return samples, sum(self._spent.values())


class ShardReporter:
    """A shard's ``Progress``: its finished samples, sent to the board in batches (a Ray call per sample
    would cost more than a fast sample). Its watcher thread interrupts the task's run, as Ctrl-C interrupts a
    local one (it writes what finished), once the board says the driver stops: gentler than ``ray.cancel``,
    whose interrupt of a running task raced with the task's own end in the driver (a Ray core abort)."""

    def __init__(self, board: Any, shard: int) -> None:
        import threading

        self._board = board
        self._shard = shard
        self._buffer: list[Sample] = []
        self._spent = 0.0
        self._last = time.monotonic()
        self._done = threading.Event()
        threading.Thread(target=self._watch, name="evalkit-ray-watch", daemon=True).start()

    def _watch(self) -> None:
        import _thread

        ray = ray_module()
        while not self._done.wait(FLUSH_S):
            with contextlib.suppress(Exception):
                if ray.get(self._board.stopping.remote(), timeout=5):
                    if not self._done.is_set():
                        _thread.interrupt_main()  # a KeyboardInterrupt in the run, as a local Ctrl-C
                    return

    def close(self) -> None:
        """The task's run ended: the watcher stops."""
        self._done.set()

    def start(self, total: int, done: int) -> None:
        pass

    def advance(self, sample: Sample, spent_usd: float) -> None:
        self._buffer.append(replace(sample, events=()))
        self._spent = spent_usd
        if time.monotonic() - self._last >= FLUSH_S:
            self.flush()

    def stop(self) -> None:
        self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._board.push.remote(self._shard, self._buffer, self._spent)
            self._buffer = []
        self._last = time.monotonic()


RunShard = Callable[[ShardJob, Any], ShardOutcome]
"""Runs one shard's job in a Ray worker, reporting to the board (the API's; the runner does not run suites)."""


def run_shards(
    ray: Any,
    jobs: Sequence[ShardJob],
    run_shard: RunShard,
    target: Path,
    placement: RayPlacement,
    progress: Progress,
    totals: tuple[int, int, Mapping[str, tuple[int, int]]],
) -> RayOutcome:
    """Run ``jobs`` as Ray tasks, merge the shards into ``target`` as each ends, and feed ``progress`` from
    the board. ``totals``: the run's samples, those already finished, and per model (total, finished).
    Ctrl-C cancels the tasks (they keep what finished) and merges what they wrote (``interrupted``)."""
    total, done, per_model = totals
    options: dict[str, Any] = {"num_cpus": 1, "max_retries": 3}  # a worker that dies is retried: it resumes
    if placement.resources:
        options["resources"] = dict(placement.resources)
    if placement.labels:
        options["label_selector"] = dict(placement.labels)
    board = ray.remote(num_cpus=0)(ProgressBoard).remote()
    task = ray.remote(run_shard).options(**options)
    pending = {task.remote(job, board): job for job in jobs}
    progress.start(total, done)
    split = getattr(progress, "split", None)
    if split is not None and len(per_model) > 1:
        split(dict(per_model))
    outcomes: dict[int, ShardOutcome] = {}
    failures: list[str] = []
    ended: list[ShardJob] = []
    merged: MergeResult | None = None
    interrupted = False
    unmerged, last_merge = False, time.monotonic()
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=POLL_S)
            _feed(ray, board, progress)
            for ref in ready:
                job = pending.pop(ref)
                ended.append(job)
                unmerged = True
                try:
                    outcomes[job.shard] = ray.get(ref)
                except Exception as exc:  # the task's error, or its worker lost past the retries
                    failures.append(f"shard {job.label} failed: {_cause(exc)}")
            # each merge rebuilds the run from every ended shard: at most one per MERGE_S while tasks run
            if unmerged and (not pending or time.monotonic() - last_merge >= MERGE_S):
                merged = _merge(ended, target) or merged
                unmerged, last_merge = False, time.monotonic()
    except KeyboardInterrupt:
        interrupted = True
        _cancel(ray, board, list(pending))
        ended += pending.values()
    finally:
        with contextlib.suppress(Exception):
            _feed(ray, board, progress)
        progress.stop()
    if interrupted:
        try:  # a killed task's store may not open until its next run recovers it
            merged = _merge(ended, target) or merged
        except EvalkitError:
            logger.warning("could not merge the shards after the interruption", exc_info=True)
    return RayOutcome(merged=merged, outcomes=outcomes, failures=tuple(failures), interrupted=interrupted)


def _feed(ray: Any, board: Any, progress: Progress) -> None:
    samples, spent = ray.get(board.drain.remote())
    for sample in samples:
        progress.advance(sample, spent)


def _cancel(ray: Any, board: Any, refs: list[Any]) -> None:
    """Ctrl-C: the board tells every running task to stop (its run writes what finished and ends, as a local
    run does); tasks not yet started never start; those still running after ``GRACE_S``, or at a second
    Ctrl-C, are killed (a kill loses at most a second's samples: they are re-run on resume)."""
    with contextlib.suppress(Exception):
        ray.get(board.stop.remote(), timeout=5)
    with contextlib.suppress(KeyboardInterrupt):
        ray.wait(refs, num_returns=len(refs), timeout=GRACE_S)
    for ref in refs:
        with contextlib.suppress(Exception):
            ray.cancel(ref, force=True)


def _merge(ended: Sequence[ShardJob], target: Path) -> MergeResult | None:
    """The shards whose tasks ended, merged into ``target`` (None while none wrote a sample)."""
    stores = [job.store for job in ended if job.store.is_file()]
    if not stores:
        return None
    try:
        return merge_shards(stores, target)
    except MergeError as exc:
        if "no shard runs" in str(exc):
            return None
        raise


def _cause(exc: BaseException) -> str:
    """The original error of a failed task (Ray wraps it), as one line."""
    cause = getattr(exc, "cause", None)
    inner = cause if isinstance(cause, BaseException) else exc
    lines = [line for line in str(inner).strip().splitlines() if line.strip()]
    message = lines[0] if lines else type(inner).__name__
    return message if isinstance(inner, EvalkitError) else f"{type(inner).__name__}: {message}"
