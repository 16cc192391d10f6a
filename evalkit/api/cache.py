"""The response cache beside a store: what it holds, clearing and pruning it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.api.stores import resolve_store
from evalkit.errors import ConfigError

if TYPE_CHECKING:
    from evalkit.models.cache import CacheInfo


def cache_info(store: str | Path | None = None) -> CacheInfo:
    """What the response cache beside ``store`` holds (entries of this format and stale ones, size, ages)."""
    from evalkit.models.cache import cache_path, inspect_cache

    return inspect_cache(cache_path(resolve_store(store)))


def cache_clear(store: str | Path | None = None) -> int:
    """Remove every cached reply beside ``store``; return how many were removed."""
    from evalkit.models.cache import cache_path, remove_replies

    return remove_replies(cache_path(resolve_store(store)), everything=True)


def cache_prune(store: str | Path | None = None, *, older_than_days: float | None = None) -> int:
    """Remove cached replies of another cache format (never read) and, with ``older_than_days``, those written
    longer ago than that; return how many were removed."""
    from evalkit.models.cache import cache_path, remove_replies

    if older_than_days is not None and older_than_days < 0:
        raise ConfigError("--older-than must be 0 days or more")
    seconds = older_than_days * 86_400 if older_than_days is not None else None
    return remove_replies(cache_path(resolve_store(store)), older_than_s=seconds)
