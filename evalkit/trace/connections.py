"""DuckDB connections to a trace store file: one writer per file, any number of readers.

Opening for write creates the file and applies the missing migrations; opening for read upgrades an older
store once (through a short write open), then reads. DuckDB's file lock lets one process write; a second
gets ``StoreLockedError`` naming the holder's pid. A read open of a file this process already writes reuses
a cursor of that connection (DuckDB refuses a read-only connection to a file the same process has open for
writing).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import duckdb

from evalkit.errors import StoreError, StoreLockedError
from evalkit.trace.migrations import migrate, needs_upgrade, read_version

logger = logging.getLogger(__name__)

_WRITERS: dict[Path, list[Any]] = {}
"""Write connections this process holds, by resolved path."""


def lock_message(label: str, error: str) -> str:
    m = re.search(r"PID (\d+)", error)
    who = f"pid {m.group(1)}" if m else "pid unknown"
    return f"the store {label} is in use by another evalkit process ({who}); wait for it to finish or use --store"


def _connect(path: Path, *, read_only: bool, label: str) -> Any:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreLockedError(lock_message(label, str(exc))) from exc
        raise StoreError(f"could not open the store {label}: {exc}") from exc
    except duckdb.ConnectionException as exc:
        raise StoreError(f"the store {label} is already open in this process in another mode: {exc}") from exc
    except duckdb.Error as exc:
        raise StoreError(f"could not open the store {label}: {exc}") from exc


def open_connection(path: Path, *, write: bool) -> Any:
    """A connection to the store at ``path``, its schema current; close it with ``close_connection``."""
    label = str(path)
    key = path.resolve()
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path, read_only=False, label=label)
        try:
            migrate(conn, label)
        except BaseException:
            conn.close()
            raise
        _WRITERS.setdefault(key, []).append(conn)
        logger.debug("opened the store %s for writing", label)
        return conn
    if not path.exists():
        raise StoreError(f"no runs have been recorded at {label} (the store does not exist)")
    writers = _WRITERS.get(key)
    conn = writers[-1].cursor() if writers else _connect(path, read_only=True, label=label)
    try:
        version = read_version(conn, label)
    except BaseException:
        conn.close()
        raise
    if version == 0:
        conn.close()
        raise StoreError(f"no runs have been recorded at {label} (the store is empty)")
    if needs_upgrade(version):  # an older store: upgrade it once, then read
        conn.close()
        close_connection(path, open_connection(path, write=True))
        conn = _connect(path, read_only=True, label=label)
    logger.debug("opened the store %s for reading", label)
    return conn


def close_connection(path: Path, conn: Any) -> None:
    writers = _WRITERS.get(path.resolve(), [])
    if conn in writers:
        writers.remove(conn)
    conn.close()
