"""The response cache: a model reply keyed by everything that decides it.

The key covers the cache format, the model and its parameters, every message, the tools, the seed and the
epoch (a repeated epoch is a new request, never a hit of the previous one), and what else decides the reply
(``decides``): for the scripted agents the task, the suite's content hash (its questions, answers and
reference solutions) and the hash of their policy code, so a re-imported suite or an edited agent never
replays old replies. The key of a conversation is extended incrementally (one hash update per new message)
rather than re-serialising the whole history.

Entries live in a small SQLite file beside the trace store (``<store>.cache.sqlite``), each with its format
version and the time it was written; writes are committed at once so a crash loses nothing already paid for.
Entries of another format are never read; ``prune`` removes them and entries older than a cut-off,
``clear`` removes everything (``evalkit cache info|clear|prune``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import StoreError
from evalkit.models.types import ModelReply
from evalkit.trace.types import ToolCall, Usage

logger = logging.getLogger(__name__)

FORMAT_VERSION = 3
"""The format of keys and entries. 1: keyed by the request only (before the task, suite and policy code);
2: without the reply's reasoning (an entry of 2 would replay a reasoning model's reply with it lost)."""


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()


def cache_path(store: Path) -> Path:
    """The cache file of a trace store: ``runs/evalkit.duckdb`` → ``runs/evalkit.cache.sqlite``."""
    return Path(store).with_suffix(".cache.sqlite")


class RequestKey:
    """An incremental hash of a request: parameters first, then messages as they are appended."""

    def __init__(
        self,
        params: dict[str, Any],
        tools: list[dict[str, Any]],
        seed: int | None,
        epoch: int,
        decides: Mapping[str, Any] | None = None,
    ) -> None:
        head = {
            "format": FORMAT_VERSION,
            "params": params,
            "tools": tools,
            "seed": seed,
            "epoch": epoch,
            "decides": dict(decides or {}),
        }
        self._h = hashlib.sha256(_dump(head))
        self._seen = 0

    def key(self, messages: list[dict[str, Any]]) -> str:
        for m in messages[self._seen :]:
            self._h.update(_dump(m))
        self._seen = len(messages)
        return self._h.copy().hexdigest()


@dataclass(frozen=True)
class CacheInfo:
    """What a cache file holds: entries of this format (``current``) and of others (``stale``, never read)."""

    path: Path
    exists: bool
    current: int = 0
    stale: int = 0
    size_bytes: int = 0
    oldest: float | None = None
    """Unix time of the oldest entry that records one (format 1 entries do not)."""
    newest: float | None = None

    @property
    def entries(self) -> int:
        return self.current + self.stale

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path), "entries": self.entries, "format": FORMAT_VERSION}


_COLUMNS = {"key": "TEXT PRIMARY KEY", "reply": "TEXT NOT NULL", "format": "INTEGER", "created_at": "REAL"}


class ResponseCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())
            self._con.execute(f"CREATE TABLE IF NOT EXISTS replies ({columns})")
            have = {row[1] for row in self._con.execute("PRAGMA table_info(replies)")}
            for name, kind in _COLUMNS.items():
                if name not in have:  # a format-1 file: its entries keep format NULL and are never read
                    self._con.execute(f"ALTER TABLE replies ADD COLUMN {name} {kind}")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the response cache {path} cannot be read ({exc}); remove it or use --no-cache") from exc
        self._lock = threading.Lock()
        logger.debug("opened the response cache %s", path)

    def get(self, key: str) -> ModelReply | None:
        with self._lock:
            row = self._con.execute(
                "SELECT reply FROM replies WHERE key = ? AND format = ?", (key, FORMAT_VERSION)
            ).fetchone()
        if row is None:
            logger.debug("response cache miss %s", key[:16])
            return None
        logger.debug("response cache hit %s", key[:16])
        d = json.loads(row[0])
        return ModelReply(
            content=d["content"],
            tool_calls=tuple(ToolCall(**tc) for tc in d["tool_calls"]),
            usage=Usage(**d["usage"]),
            latency_s=d["latency_s"],
            cost_usd=d["cost_usd"],
            cached=True,
            raw_message=d.get("raw_message"),
            finish_reason=d.get("finish_reason"),
            reasoning=d.get("reasoning"),
            reasoning_tokens=d.get("reasoning_tokens"),
        )

    def put(self, key: str, reply: ModelReply) -> None:
        d = asdict(reply)
        d.pop("cached", None)
        row = (key, json.dumps(d, default=str), FORMAT_VERSION, time.time())
        with self._lock:
            self._con.execute(
                "INSERT OR REPLACE INTO replies (key, reply, format, created_at) VALUES (?, ?, ?, ?)", row
            )

    def info(self) -> CacheInfo:
        with self._lock:
            current, stale, oldest, newest = self._con.execute(
                "SELECT count(*) FILTER (WHERE format = ?), count(*) FILTER (WHERE format IS NOT ?), "
                "min(created_at), max(created_at) FROM replies",
                (FORMAT_VERSION, FORMAT_VERSION),
            ).fetchone()
        size = sum(p.stat().st_size for p in _files(self.path))
        return CacheInfo(self.path, True, int(current), int(stale), size, oldest, newest)

    def prune(self, older_than_s: float | None = None) -> int:
        """Remove the entries of another format and, given ``older_than_s``, those written longer ago than
        that; return how many were removed."""
        sql = "DELETE FROM replies WHERE format IS NOT ?"
        params: list[Any] = [FORMAT_VERSION]
        if older_than_s is not None:
            sql += " OR created_at IS NULL OR created_at < ?"
            params.append(time.time() - older_than_s)
        return self._delete(sql, params)

    def clear(self) -> int:
        """Remove every entry; return how many were removed."""
        return self._delete("DELETE FROM replies", [])

    def _delete(self, sql: str, params: list[Any]) -> int:
        with self._lock:
            removed = self._con.execute(sql, params).rowcount
            self._con.execute("VACUUM")
        logger.debug("removed %d entries from the response cache %s", removed, self.path)
        return int(removed)

    def close(self) -> None:
        self._con.close()
        logger.debug("closed the response cache %s", self.path)


def inspect_cache(path: Path) -> CacheInfo:
    """What the cache file at ``path`` holds; a missing file is reported as such, not created."""
    if not path.exists():
        return CacheInfo(path, exists=False)
    cache = ResponseCache(path)
    try:
        return cache.info()
    finally:
        cache.close()


def remove_replies(path: Path, *, older_than_s: float | None = None, everything: bool = False) -> int:
    """``clear`` (``everything``) or ``prune`` the cache file at ``path``; 0 when there is none."""
    if not path.exists():
        return 0
    cache = ResponseCache(path)
    try:
        return cache.clear() if everything else cache.prune(older_than_s)
    finally:
        cache.close()


def _files(path: Path) -> list[Path]:
    """The cache file and its SQLite write-ahead log files, those that exist."""
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
