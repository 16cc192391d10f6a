"""Shared CLI state (the --debug flag), the consoles commands print to, and the ``--store`` option."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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


StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Trace store file (default: $EVALKIT_STORE, else store: in evalkit.yaml, else runs/evalkit.duckdb).",
        show_default=False,
    ),
]
"""The ``--store`` option of every command that reads or writes the store: ``store: StoreOption = None``."""


def store_path(store: Path | None) -> Path:
    """The store a command uses: --store, else $EVALKIT_STORE / the config file / runs/evalkit.duckdb."""
    if store is not None:
        return store
    from evalkit.api import resolve_store

    return resolve_store()
