"""Agent SQL in worker processes whose bounds the operating system enforces.

Some DuckDB expressions ignore both its memory limit and its interrupt (``len(range(10**8))`` ran 93 s at
7 GB in-process). A :class:`WorkerPool` keeps a few ``env.sqlworker`` processes, each with an address-space
limit (``RLIMIT_AS``, ``memory_mb``; DuckDB's own ``memory_limit`` stays well below it). The parent waits for
a reply until the query's time limit plus ``slack_s``, then kills the worker (SIGKILL); a worker that dies or
runs out of memory is dropped and a fresh one takes its place on the next query. Workers start lazily, up
to ``max_workers``, and stay for the life of the pool, so start-up is paid once per worker, not per query.

:func:`shared_pool` is the process's pool (environments, ``suite sql`` and ``suite verify`` share it);
:func:`runner_for` gives a sandbox the runner for one database file, or ``None`` where the platform has no
``resource`` module (then queries run in-process, as logged).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from evalkit.env.sandbox import OUT_OF_MEMORY, Fetched, SqlOutcome, resource_outcome, timeout_outcome
from evalkit.env.sqlworker import ACKED, HEADER, MAX_FRAME, MAX_OPEN, decode_value, write_frame

logger = logging.getLogger(__name__)

MEMORY_ENV = "EVALKIT_SQL_MEMORY_MB"
WORKERS_ENV = "EVALKIT_SQL_WORKERS"
DEFAULT_MEMORY_MB = 2048
DEFAULT_WORKERS = 4
START_TIMEOUT_S = 60.0
DIED = "the query's sandbox process died (it exhausted a resource limit) and was replaced"


class WorkerDied(Exception):
    """The worker closed its pipe or sent garbage: it is gone."""


class WorkerKilled(Exception):
    """The worker outlived the deadline and was killed."""


class _DiedIdle(Exception):
    """The worker was already dead when the query reached it."""


class _Worker:
    """One ``env.sqlworker`` process and its pipes; used by one thread at a time."""

    def __init__(self, memory_mb: int) -> None:
        root = str(Path(__file__).resolve().parents[2])
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")}
        env["PYTHONPATH"] = os.pathsep.join([root, *sys.path[1:]])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "evalkit.env.sqlworker", str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in, self._out = self.proc.stdin, self.proc.stdout.fileno()
        self.ready = False
        self.write_failed = False
        # the databases this worker has open (opened outside any query's clock), least recently used first,
        # as the worker keeps them (``sqlworker.MAX_OPEN``)
        self.opened: OrderedDict[tuple[Any, ...], None] = OrderedDict()

    def wait_ready(self) -> None:
        if not self.ready:
            self._receive(time.monotonic() + START_TIMEOUT_S)
            self.ready = True

    def request(self, message: dict[str, Any], deadline: float) -> dict[str, Any]:
        self.wait_ready()
        try:
            write_frame(self._in, message)
        except OSError as e:
            self.write_failed = True
            raise WorkerDied(str(e)) from None
        if message.get("op") in ACKED:
            try:
                self._receive(deadline)  # the worker read it (see ``sqlworker.ACKED``)
            except WorkerDied:
                self.write_failed = True
                raise
        return self._receive(deadline)

    def _receive(self, deadline: float) -> dict[str, Any]:
        import json

        (size,) = HEADER.unpack(self._read(HEADER.size, deadline))
        if size > MAX_FRAME:
            raise WorkerDied(f"reply of {size} bytes")
        try:
            reply: dict[str, Any] = json.loads(self._read(size, deadline))
        except ValueError as e:
            raise WorkerDied(str(e)) from None
        return reply

    def _read(self, n: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while n:
            left = deadline - time.monotonic()
            ready = select.select([self._out], [], [], max(0.0, left))[0] if left > 0 else []
            if not ready:
                self.kill()
                raise WorkerKilled()
            chunk = os.read(self._out, n)
            if not chunk:
                raise WorkerDied("end of output")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def died_before_reading(self) -> bool:
        """Whether the worker was dead before it could read the last request (the pipe never took it, or it
        died before acknowledging a query)."""
        return self.write_failed

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class WorkerPool:
    """Up to ``max_workers`` sandbox processes, each limited to ``memory_mb`` of address space."""

    def __init__(
        self, *, memory_mb: int = DEFAULT_MEMORY_MB, max_workers: int = DEFAULT_WORKERS, slack_s: float = 1.0
    ) -> None:
        self.memory_mb = memory_mb
        self.max_workers = max(1, max_workers)
        self.slack_s = slack_s
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False
        self.started = 0  # workers started over the pool's life (replacements included)

    @property
    def duckdb_memory_limit(self) -> str:
        """DuckDB's own limit, well below the address-space bound, so it usually fails first and cleanly."""
        return f"{max(64, min(512, self.memory_mb // 4))}MB"

    def warm(self) -> None:
        """Start one worker now (in the background), so the first query does not wait for it."""
        with self._cond:
            if self._count == 0 and not self._closed:
                self._idle.append(self._spawn())

    def _spawn(self) -> _Worker:
        self._count += 1
        self.started += 1
        try:
            return _Worker(self.memory_mb)
        except BaseException:
            self._count -= 1
            raise

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise RuntimeError("the SQL worker pool is closed")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._count -= 1
                    worker.kill()
                if self._count < self.max_workers:
                    return self._spawn()
                self._cond.wait()

    def _release(self, worker: _Worker, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed and worker.alive():
                self._idle.append(worker)
            else:
                self._count -= 1
                worker.kill()
            self._cond.notify()

    def request(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send one request to a free worker; the reply, or ``WorkerKilled`` / ``WorkerDied``.

        A worker found dead on a query's first step (it died while idle, and the process was not yet reaped
        when it was handed out) is replaced and the query sent again, once: only a death during the query
        is the query's doing."""
        try:
            return self._request_once(message, timeout_s)
        except _DiedIdle:
            return self._request_once(message, timeout_s)

    def _request_once(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        worker = self._acquire()
        healthy = False
        started = False
        try:
            worker.wait_ready()
            key = (message.get("path"), message.get("memory_limit"), message.get("threads"))
            if key in worker.opened:
                worker.opened.move_to_end(key)
            else:
                opened = worker.request({**message, "op": "open"}, time.monotonic() + START_TIMEOUT_S)
                if not opened.get("ok"):
                    healthy = True
                    return opened
                while len(worker.opened) >= MAX_OPEN:
                    worker.opened.popitem(last=False)
                worker.opened[key] = None
            started = True
            reply = worker.request(message, time.monotonic() + timeout_s + self.slack_s)
            healthy = reply.get("error_kind") != "resource_limit"  # a worker that ran out of memory is retired
            return reply
        except WorkerKilled:
            raise
        except (WorkerDied, OSError) as e:
            if not started or worker.died_before_reading():
                raise _DiedIdle() from None
            raise WorkerDied(str(e)) from None
        finally:
            self._release(worker, healthy)

    def kill_all(self) -> None:
        """Kill the idle workers (for tests of a worker's death; busy ones finish first)."""
        with self._cond:
            for worker in self._idle:
                worker.proc.send_signal(signal.SIGKILL)
                worker.proc.wait()

    def pids(self) -> list[int]:
        with self._cond:
            return [w.proc.pid for w in self._idle if w.alive()]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.kill()


class IsolatedRunner:
    """A sandbox's ``QueryRunner`` for one database file, through a :class:`WorkerPool`."""

    def __init__(self, pool: WorkerPool, path: Path, *, threads: int = 1) -> None:
        self.pool = pool
        self._base = {"path": str(Path(path).resolve()), "memory_limit": pool.duckdb_memory_limit, "threads": threads}

    def run(self, text: str, tables: tuple[str, ...], *, row_cap: int, char_cap: int, timeout_s: float) -> SqlOutcome:
        message = {
            **self._base,
            "op": "run",
            "sql": text,
            "tables": list(tables),
            "row_cap": row_cap,
            "char_cap": char_cap,
            "timeout_s": timeout_s,
        }
        try:
            reply = self.pool.request(message, timeout_s)
        except WorkerKilled:
            return timeout_outcome(timeout_s, tables, "WorkerKilled")
        except WorkerDied:
            return resource_outcome(DIED, tables, "WorkerDied")
        if "columns" not in reply:  # the worker's own failure report (out of memory, broken request)
            if reply.get("error_kind") == "resource_limit":
                return resource_outcome(OUT_OF_MEMORY, tables, reply.get("error_class"))
            return SqlOutcome(False, str(reply.get("text")), error_kind="error", error_class=reply.get("error_class"))
        return SqlOutcome(
            ok=bool(reply["ok"]),
            text=str(reply["text"]),
            columns=tuple(reply["columns"]),
            rows=int(reply["rows"]),
            total_rows=reply["total_rows"],
            truncated=bool(reply["truncated"]),
            error_kind=reply["error_kind"],
            error_class=reply["error_class"],
            tables=tuple(reply["tables"]),
        )

    def fetch(self, text: str, *, max_rows: int, timeout_s: float) -> Fetched:
        message = {**self._base, "op": "fetch", "sql": text, "max_rows": max_rows, "timeout_s": timeout_s}
        try:
            reply = self.pool.request(message, timeout_s)
        except WorkerKilled:
            return Fetched(False, error_kind="timeout", text=f"the query ran longer than {timeout_s:g} s")
        except WorkerDied:
            return Fetched(False, error_kind="resource_limit", text=DIED)
        return Fetched(
            ok=bool(reply.get("ok")),
            width=int(reply.get("width", 0)),
            values=tuple(decode_value(v) for v in reply.get("values", ())),
            error_kind=reply.get("error_kind"),
            text=str(reply.get("text", "")),
        )


_SHARED: WorkerPool | None = None
_SHARED_LOCK = threading.Lock()


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        logger.warning("%s=%r is not a whole number; using %d", name, os.environ.get(name), default)
        return default


def isolation_available() -> bool:
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


def shared_pool() -> WorkerPool | None:
    """The process's worker pool (created on first use), or ``None`` without OS limits on this platform."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            if not isolation_available():
                logger.warning("no resource limits on this platform: agent SQL runs in-process")
                return None
            _SHARED = WorkerPool(
                memory_mb=_env_int(MEMORY_ENV, DEFAULT_MEMORY_MB), max_workers=_env_int(WORKERS_ENV, DEFAULT_WORKERS)
            )
            atexit.register(_SHARED.close)
        return _SHARED


def runner_for(path: Path, *, threads: int = 1) -> IsolatedRunner | None:
    """The isolated runner for queries on the database at ``path`` (``None``: run in-process)."""
    pool = shared_pool()
    return IsolatedRunner(pool, path, threads=threads) if pool is not None else None
