"""``evalkit cache``: what the response cache holds, and removing old or all of its replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from evalkit.cli.help import HelpCommand
from evalkit.cli.state import StoreOption, console, store_path

app = typer.Typer(no_args_is_help=True)


@app.callback()
def cache_group() -> None:
    """Inspect and empty the response cache.

    Model replies are cached beside the store (runs/evalkit.duckdb → runs/evalkit.cache.sqlite), keyed by
    everything that decides a reply: the request, the seed and epoch and, for the scripted agents, the task,
    the suite's content and their code. Replies of an older cache format are never read: prune removes them.
    evalkit run --no-cache neither reads nor writes the cache.

    [bold]Examples[/]

      evalkit cache info
      evalkit cache prune --older-than 30
      evalkit cache clear --store runs/ci.duckdb
    """


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "unknown"
    return datetime.fromtimestamp(stamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command("info", cls=HelpCommand)
def info_command(
    store: StoreOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON instead of text."),
) -> None:
    """Where the cache is, how many replies it holds (of this format, and stale ones never read), its size.

    [bold]Examples[/]

      evalkit cache info
      evalkit cache info --store runs/ci.duckdb --json
    """
    from evalkit.api import cache_info

    info = cache_info(store_path(store))
    if as_json:
        typer.echo(json.dumps(info.to_dict(), indent=2))
        return
    out = console()
    if not info.exists:
        out.print(f"no response cache at {info.path}", soft_wrap=True, markup=False)
        return
    out.print(f"cache: {info.path}", soft_wrap=True, markup=False)
    out.print(f"replies: {info.current:,} (stale, of an older format: {info.stale:,})", markup=False)
    out.print(f"size: {info.size_bytes / 1e6:.1f} MB", markup=False)
    out.print(f"written: {_when(info.oldest)} to {_when(info.newest)}", markup=False)


@app.command("clear", cls=HelpCommand)
def clear_command(store: StoreOption = None) -> None:
    """Remove every cached reply: the next run calls its models again.

    [bold]Examples[/]

      evalkit cache clear
    """
    from evalkit.api import cache_clear

    removed = cache_clear(store_path(store))
    console().print(f"removed {removed:,} cached replies", markup=False)


@app.command("prune", cls=HelpCommand)
def prune_command(
    store: StoreOption = None,
    older_than: float = typer.Option(
        None, "--older-than", help="Also remove replies written more than this many days ago.", show_default=False
    ),
) -> None:
    """Remove the replies of an older cache format (never read) and, with --older-than DAYS, old replies.

    [bold]Examples[/]

      evalkit cache prune
      evalkit cache prune --older-than 30
    """
    from evalkit.api import cache_prune

    removed = cache_prune(store_path(store), older_than_days=older_than)
    console().print(f"removed {removed:,} cached replies", markup=False)
