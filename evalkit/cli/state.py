"""Shared CLI state (the --debug flag) and the consoles commands print to."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported when a command first prints, not by ``evalkit --help``
    from rich.console import Console


@dataclass
class CliState:
    debug: bool = False


STATE = CliState()


@cache
def console() -> Console:
    """stdout. Written to a file or a CI log (not a terminal, no COLUMNS), tables get 160 columns rather than
    rich's 80, so the columns of a summary are not cut."""
    import os
    import sys

    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return Console(highlight=False, soft_wrap=False, width=width)


@cache
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def store_path(store: Path | None) -> Path:
    """The store a command uses: --store, else $EVALKIT_STORE / the config file / runs/evalkit.duckdb."""
    if store is not None:
        return store
    from evalkit.contracts.config import default_store, load_config

    return default_store(load_config())
