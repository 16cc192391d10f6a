"""DuckDB connections to a trace store file, held only while they are used, so readers and a writer take turns.

DuckDB locks its file per process: one process may have it open for writing, or any number of processes for
reading, never both at once. A run lasts minutes or hours and users watch it, so nothing holds the file for
long: a writer opens it for one batch (one transaction) and closes it (which checkpoints), a reader for one
query or a few grouped ones. Whoever finds the file locked retries with a growing, jittered pause, a reader
for up to ``READ_WAIT_S``, a writer for up to ``WRITE_WAIT_S``, then gives up with ``StoreLockedError``.

``prepare`` is the first open of a store: it creates and migrates it for a writer, and for a reader checks it
exists and upgrades an older one once (through a short write open). Later opens skip those checks.

Within one process DuckDB refuses a read-only connection to a file the process has open for writing (and the
reverse), so while this process has a store open for writing its reads use read-write connections too, which
DuckDB shares. evalkit's own rule, one run per store at a time, is ``RunLock``.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

from evalkit.errors import StoreError, StoreLockedError
from evalkit.trace.migrations import migrate, needs_upgrade, read_version

logger = logging.getLogger(__name__)

READ_WAIT_S = 10.0
"""How long a reader keeps retrying a file another process is writing (a flush takes tens of ms)."""
WRITE_WAIT_S = 60.0
"""How long a writer keeps retrying a file readers hold (a large report's query can take seconds)."""
_FIRST_PAUSE_S = 0.005
_MAX_PAUSE_S = 0.2

_WRITING: Counter[Path] = Counter()
"""Stores this process has open for writing, by resolved path (see the module docstring)."""
_WRITING_LOCK = threading.Lock()
OPEN_STATS: Counter[str] = Counter()
"""Connections opened by this process (``read``, ``write``) and the retries that found the file locked
(``busy``): what reopening per batch costs, for benchmarks and tests."""


def lock_message(label: str, error: str) -> str:
    m = re.search(r"PID (\d+)", error)
    who = _describe(int(m.group(1))) if m else "pid unknown"
    return f"the store {label} is in use by another evalkit process ({who}); wait for it to finish or use --store"


class _Busy(Exception):
    """The file is locked by another process (or by a connection of this one in the other mode)."""


def _connect_once(path: Path, *, read_only: bool, label: str) -> Any:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise _Busy(str(exc)) from exc
        raise StoreError(f"could not open the store {label}: {exc}") from exc
    except duckdb.ConnectionException as exc:  # this process has it open in the other mode, briefly
        raise _Busy(str(exc)) from exc
    except duckdb.Error as exc:
        raise StoreError(f"could not open the store {label}: {exc}") from exc


def connect(path: Path, *, write: bool, wait_s: float | None = None) -> Any:
    """A connection to the store file, retried while another process holds it; close it soon. A waiting
    writer holds the store's turnstile, so readers arriving meanwhile wait and the writer gets its turn."""
    label = str(path)
    read_only = not write and not writing_here(path)
    wait = wait_s if wait_s is not None else (WRITE_WAIT_S if write else READ_WAIT_S)
    deadline = time.monotonic() + wait
    pause = _FIRST_PAUSE_S
    turnstile = _Turnstile(path, writer=not read_only)
    try:
        while True:
            try:
                if read_only and turnstile.writer_waiting():
                    raise _Busy("a writer is waiting for the store")
                conn = _connect_once(path, read_only=read_only, label=label)
            except _Busy as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    logger.debug("the store %s stayed locked for %.1f s: %s", label, wait, exc)
                    raise StoreLockedError(lock_message(label, str(exc))) from exc
                OPEN_STATS["busy"] += 1
                time.sleep(min(left, pause * random.uniform(0.5, 1.0)))
                pause = min(pause * 2, _MAX_PAUSE_S)
                continue
            OPEN_STATS["read" if read_only else "write"] += 1
            return conn
    finally:
        turnstile.close()


class _Turnstile:
    """``<store>.turn``, locked (``flock``) by a writer while it waits for the file: a stream of readers, each
    holding the file for a moment, would otherwise keep a writer out for good (DuckDB's lock is not fair). A
    reader only looks: it waits while the turnstile is locked. Where the file cannot be made (a read-only
    folder) there is no turnstile and readers and writers retry as before."""

    def __init__(self, store: Path, *, writer: bool) -> None:
        import fcntl

        path = store.with_name(store.name + ".turn")
        self._fd: int | None = None
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if writer else os.open(path, os.O_RDONLY)
        except OSError:
            return
        if writer:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # another writer is already waiting: take turns with it as before
                self.close()

    def writer_waiting(self) -> bool:
        import fcntl

        if self._fd is None:
            return False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing drops a lock it holds


def prepare(path: Path, *, write: bool) -> None:
    """The first open of a store: create and migrate it (write), or check it and upgrade an older one (read)."""
    label = str(path)
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path, write=True)
        try:
            migrate(conn, label)
        finally:
            conn.close()
        return
    if not path.exists():
        raise StoreError(f"no runs have been recorded at {label} (the store does not exist)")
    conn = connect(path, write=False)
    try:
        version = read_version(conn, label)
    finally:
        conn.close()
    if version == 0:
        raise StoreError(f"no runs have been recorded at {label} (the store is empty)")
    if needs_upgrade(version):  # an older store: upgrade it once, then read
        prepare(path, write=True)


def writing_here(path: Path) -> bool:
    with _WRITING_LOCK:
        return _WRITING[path.resolve()] > 0


def register_writer(path: Path, *, add: bool) -> None:
    """Count (``add``) or uncount a store this process has open for writing."""
    key = path.resolve()
    with _WRITING_LOCK:
        _WRITING[key] += 1 if add else -1
        if _WRITING[key] <= 0:
            del _WRITING[key]


class RunLock:
    """One run per store at a time: ``<store>.lock`` beside the store, locked with ``fcntl.flock`` for as
    long as the run's writer is open, the holder's pid written in it. The kernel drops the lock when the
    process dies, so a crashed run never leaves the store locked; the file itself stays (removing a lock
    file races with the next taker). A second run, in another process or this one, gets ``StoreLockedError``."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, store: Path) -> RunLock:
        import fcntl

        store.parent.mkdir(parents=True, exist_ok=True)
        path = store.with_name(store.name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = "another run in this process" if holder == os.getpid() else _describe(holder)
            raise StoreLockedError(
                f"the store {store} is in use by another evalkit process ({who}); wait for it to finish or use --store"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(fd, path)

    def release(self) -> None:
        if self._fd is None:
            return
        import fcntl

        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _describe(pid: int | None) -> str:
    """``pid N`` and, where ``/proc`` shows it, the holder's command line (which run holds the store)."""
    if pid is None:
        return "pid unknown"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    shown = " ".join(a.decode("utf-8", "replace") for a in argv if a)
    return f"pid {pid}: {shown[:200]}" if shown else f"pid {pid}"


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
