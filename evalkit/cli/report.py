"""``evalkit report``: the diagnostic report of one or more runs, in the terminal or as files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evalkit.cli.state import console, err_console, store_path

if TYPE_CHECKING:
    from evalkit.report.model import Report


def report_command(
    runs: list[str] = typer.Argument(
        ..., metavar="RUN...", help="Runs: id, unique prefix, name, 'latest', or a file from 'evalkit export'."
    ),
    fmt: list[str] = typer.Option(
        ["term"],
        "--format",
        "-f",
        help="term, md, html, json or junit; repeat for several. Files go under reports/ unless -o is given.",
    ),
    output: Path = typer.Option(
        None, "--output", "-o", help="The file to write (one format) or a folder (several formats)."
    ),
    rubric: list[str] = typer.Option(
        None, "--rubric", "-r", help="Use only these rubrics' stored scores (default: every rubric scored)."
    ),
    trace_limit: int = typer.Option(
        2000, "--trace-limit", help="Most traces the HTML report embeds (wrong answers first).", min=0
    ),
    store: Path = typer.Option(None, "--store", help="Trace store (default: $EVALKIT_STORE or runs/evalkit.duckdb)."),
) -> None:
    """Report what the models did wrong, how often, on which tasks, and what to train next.

    Per model: accuracy with a 95% interval, pass@k and pass^k over epochs, each rubric criterion's pass
    rate, the split by task kind, difficulty and tag, stop reasons, tokens, latency and cost. The diagnosis
    puts each wrong answer down to a failure mode and ranks the behaviours whose failures cost the most
    accuracy.
    """
    from evalkit.api import build_report, write_report
    from evalkit.report.write import FORMATS

    formats = list(dict.fromkeys(fmt or ["term"]))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise typer.BadParameter(f"unknown format {unknown[0]!r} (known: {', '.join(FORMATS)})", param_hint="--format")
    files = [f for f in formats if f != "term"]
    if files:
        report, paths = write_report(
            store_path(store), runs, files, output=output, rubrics=rubric or (), trace_limit=trace_limit
        )
    else:
        if output is not None:
            raise typer.BadParameter("the terminal format writes no file: add --format md, html, json or junit")
        report, paths = build_report(store_path(store), runs, rubrics=rubric or ()), {}
    if "term" in formats:
        _print_terminal(report)
    for fmt_name, path in paths.items():
        err_console().print(f"{fmt_name} report: {path}", soft_wrap=True, markup=False)


def _print_terminal(report: Report) -> None:
    from evalkit.report.terminal import render_terminal

    render_terminal(report, console())
