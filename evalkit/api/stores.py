"""Which store a call uses."""

from __future__ import annotations

from pathlib import Path

from evalkit.contracts.config import default_store, load_config


def resolve_store(store: str | Path | None = None) -> Path:
    """The store a call uses: ``store``, else $EVALKIT_STORE, else evalkit.yaml's ``store:``, else DEFAULT_STORE."""
    return Path(store) if store else default_store(load_config())
