"""The response cache: a model reply keyed by the whole request.

The key covers the model and its parameters, every message, the tools, the seed and the epoch, so a
repeated epoch is a new request and never a cache hit of the previous one. The key of a conversation is
extended incrementally (one hash update per new message) rather than re-serialising the whole history.
Entries live in a small SQLite file beside the trace store; writes are committed at once so a crash
loses nothing already paid for.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evalkit.models.types import ModelReply
from evalkit.trace.types import ToolCall, Usage


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()


class RequestKey:
    """An incremental hash of a request: parameters first, then messages as they are appended."""

    def __init__(self, params: dict[str, Any], tools: list[dict[str, Any]], seed: int | None, epoch: int) -> None:
        self._h = hashlib.sha256(_dump({"params": params, "tools": tools, "seed": seed, "epoch": epoch}))
        self._seen = 0

    def key(self, messages: list[dict[str, Any]]) -> str:
        for m in messages[self._seen :]:
            self._h.update(_dump(m))
        self._seen = len(messages)
        return self._h.copy().hexdigest()


class ResponseCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL)")
        self._lock = threading.Lock()

    def get(self, key: str) -> ModelReply | None:
        with self._lock:
            row = self._con.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        d = json.loads(row[0])
        return ModelReply(
            content=d["content"],
            tool_calls=tuple(ToolCall(**tc) for tc in d["tool_calls"]),
            usage=Usage(**d["usage"]),
            latency_s=d["latency_s"],
            cost_usd=d["cost_usd"],
            cached=True,
            raw_message=d.get("raw_message"),
        )

    def put(self, key: str, reply: ModelReply) -> None:
        d = asdict(reply)
        d.pop("cached", None)
        with self._lock:
            self._con.execute("INSERT OR REPLACE INTO replies VALUES (?, ?)", (key, json.dumps(d, default=str)))

    def close(self) -> None:
        self._con.close()
