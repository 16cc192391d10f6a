"""What a ``--ray`` run is made of before any task starts: the address and the resources as given on the
command line, the shard folder and each shard's store, how many shards, and what earlier attempts left (the
shards' finished samples, the merged run in the store)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.contracts.suite import SuiteSpec
from evalkit.errors import ConfigError
from evalkit.runner.options import fingerprint
from evalkit.trace.types import RunRecord

if TYPE_CHECKING:
    from evalkit.runner.ray_shards import ShardJob


def parse_address(text: str | None) -> str | None:
    """``--ray-address`` → the address ``ray.init`` connects to, None for a local instance (``local``, or no
    address). A value that is no address (a suite name, a typo) is refused before anything starts."""
    if text is None or text.strip() in ("", "local"):
        return None
    text = text.strip()
    if text == "auto" or ":" in text:
        return text
    raise ConfigError(
        f"--ray-address {text!r} is not a Ray address (auto, HOST:PORT or ray://HOST:PORT; local, or no "
        "--ray-address, for a local instance)"
    )


def parse_pairs(values: Sequence[str], option: str, number: bool) -> dict[str, Any]:
    """``NAME=VALUE`` items (repeated or comma-separated) → a dict; amounts are numbers when ``number``."""
    out: dict[str, Any] = {}
    for item in (p.strip() for v in values for p in v.split(",")):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise ConfigError(f"{option} takes NAME=VALUE (got {item!r})")
        if number:
            try:
                out[key.strip()] = float(value)
            except ValueError:
                raise ConfigError(f"{option} {item}: the amount must be a number") from None
            if not out[key.strip()] > 0:
                raise ConfigError(f"{option} {item}: the amount must be more than 0")
        else:
            out[key.strip()] = value.strip()
    return out


def default_storage(store: Path) -> Path:
    """The shard folder of a store: ``<store>.shards/`` beside it."""
    return store.with_name(store.name + ".shards")


def shard_store(storage: Path, fingerprint: str, shard: int, count: int) -> Path:
    """The store shard ``shard/count`` of the run with ``fingerprint`` (the unsharded command's) writes."""
    return storage / fingerprint / f"shard-{shard}-of-{count}.duckdb"


_SHARD_FILE = re.compile(r"shard-(\d+)-of-(\d+)\.duckdb")


def shard_count(requested: int | None, storage: Path, fingerprint: str, cpus: float, total: int) -> int:
    """How many shards: ``requested``; else as many as an earlier attempt of this run used (so its shards
    resume); else one per CPU of the cluster. Never more than the run's samples (a shard has at least one)."""
    if requested is not None and requested < 1:
        raise ConfigError("--shards must be at least 1")
    if requested is None:
        folder = storage / fingerprint
        counts = sorted(
            {int(m.group(2)) for p in folder.glob("shard-*-of-*.duckdb") if (m := _SHARD_FILE.fullmatch(p.name))}
        )
        requested = counts[-1] if counts else max(1, int(cpus))
    return max(1, min(requested, total))


def finished_before(jobs: Sequence[ShardJob], suite: SuiteSpec) -> dict[str, int]:
    """Per model, the samples the shards' stores already hold as finished (what their runs will not run
    again): where the progress display starts."""
    from evalkit.trace.store import TraceStore

    counts: dict[str, int] = {}
    for job in jobs:
        if not job.store.is_file():
            continue
        fp = fingerprint(suite, job.models, job.options)
        with TraceStore.open(job.store, write=False) as store:
            runs = store.query(
                "SELECT run_id FROM runs WHERE json_extract_string(options, '$.fingerprint') = ? "
                "ORDER BY created_at DESC LIMIT 1",
                [fp],
            )
            if not runs:
                continue
            rows = store.query(
                "SELECT model, count(*) FROM samples WHERE run_id = ? "
                "AND (status = 'ok' OR stop_reason = 'request_rejected') GROUP BY model",
                [runs[0][0]],
            )
        for model, n in rows:
            counts[str(model)] = counts.get(str(model), 0) + int(n)
    return counts


def whole_run(store: Path, fp: str) -> RunRecord | None:
    """The latest run of the unsharded command (``fp``) in ``store``, if any."""
    from evalkit.trace.store import TraceStore

    if not store.exists():
        return None
    with TraceStore.open(store, write=False) as st:
        rows = st.query(
            "SELECT run_id FROM runs WHERE json_extract_string(options, '$.fingerprint') = ? "
            "ORDER BY created_at DESC LIMIT 1",
            [fp],
        )
        return st.get_run(rows[0][0]) if rows else None
