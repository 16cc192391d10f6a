"""``evalkit report``: the diagnostic report of one or more runs, in the terminal or as files."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from evalkit.cli.state import StoreOption, console, err_console, store_path

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
    output: str = typer.Option(
        None,
        "--output",
        "-o",
        help="The file to write (one format), or a folder (a trailing /, or several formats or runs): created.",
    ),
    rubric: list[str] = typer.Option(
        None, "--rubric", "-r", help="Use only these rubrics' stored scores (default: every rubric scored)."
    ),
    trace_limit: int = typer.Option(
        2000, "--trace-limit", help="Most traces the HTML report embeds (wrong answers first).", min=0
    ),
    store: StoreOption = None,
) -> None:
    """Report why models fail: figures, diagnosis and traces.

    What the models did wrong, how often, on which tasks, and what to train next. Per model (a model in a run; several
    runs or models side by side): accuracy with a 95% interval, pass@k and pass^k over epochs, the rubric score and each
    criterion's pass rate, the split by task kind, difficulty and tag, stop reasons, tokens, latency and cost. The
    diagnosis puts each wrong answer down to a failure mode (invented a table or column, queried without reading the
    schema, wrong unit or scale, ...) and ranks the behaviours whose failures cost the most accuracy: what to train
    next. Then the tasks every model fails, and notes.

    Formats: term prints the summary; md and html carry the full detail (the html embeds the traces, wrong
    answers first, up to --trace-limit); json is the report as data (its schema is
    evalkit/contracts/schemas/report.schema.json); junit has one test case per task and model, failing with
    the failure mode. Files go to reports/RUNS.EXT (the folder is $EVALKIT_REPORTS_DIR when set), or to -o.

    [bold]Examples[/]

      evalkit report latest
      evalkit report latest -f md -f html
      evalkit report ckpt-a ckpt-b -f md -f json -o out/
      evalkit report nightly -f junit -o junit.xml
    """
    from evalkit.api import REPORT_FORMATS, build_report, write_report

    formats = list(dict.fromkeys(fmt or ["term"]))
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown:
        known = ", ".join(REPORT_FORMATS)
        raise typer.BadParameter(f"unknown format {unknown[0]!r} (known: {known})", param_hint="--format")
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
