"""``evalkit suite``: list, validate, show, verify, stats, explore (sql / tables / info) and import suites.

Every command calls the public API (``evalkit.suite_*``) and renders what it returns. DuckDB, sqlglot and
jsonschema are imported by those functions, so ``evalkit --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from evalkit.cli.help import HelpCommand
from evalkit.cli.state import console, err_console
from evalkit.cli.suite_rllm import SPLIT_HELP, import_rllm_command, run_import

if TYPE_CHECKING:
    from evalkit.api import ToolResult

app = typer.Typer(no_args_is_help=True)

SUITE_ARG = typer.Argument(..., help="Suite name (on the search path) or folder.", show_default=False)
JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")
TOOL_JSON_OPT = typer.Option(False, "--json", help="Print the tool result (ok, error_type, content, data).")


@app.callback()
def suite_group() -> None:
    """Describe, validate, verify, explore and import suites.

    A suite is a folder: suite.yaml (its database and settings) and tasks.yaml (questions, answers and
    reference solutions). SUITE is a folder, or the name of one on the search path ($EVALKIT_SUITES_PATH,
    ./suites, then the built-in finance-single and finance-multi).

    [bold]Examples[/]

      evalkit suite list
      evalkit suite verify finance-single
      evalkit suite tables finance-single -c northwind
    """


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command("list", cls=HelpCommand)
def list_command(json_out: bool = JSON_OPT) -> None:
    """List the suites on the search path ($EVALKIT_SUITES_PATH, ./suites, the built-in suites).

    A suite that does not load is listed as [bold]invalid[/] with its first problem.

    [bold]Examples[/]

      evalkit suite list
      evalkit suite list --json
    """
    from rich.markup import escape
    from rich.table import Table

    from evalkit.api import suite_list

    entries = suite_list()
    if json_out:
        _print_json([e.to_dict() for e in entries])
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("suite", "version", "tasks", "path", "description"):
        table.add_column(col)
    for e in entries:
        if e.error is not None:
            first = e.error.splitlines()[0]
            table.add_row(e.suite, "[red]invalid[/]", "", str(e.path), escape(first[:80]))
        else:
            table.add_row(e.suite, e.version, str(e.tasks), str(e.path), escape(e.description[:60]))
    console().print(table)


@app.command("validate", cls=HelpCommand)
def validate_command(suite: str = SUITE_ARG) -> None:
    """Check a suite's files against the JSON Schemas and its database catalog.

    The database is built (once per content hash) so the catalog is checked against its tables. Problems
    are listed as file:line key.path: message (exit code 2).

    [bold]Examples[/]

      evalkit suite validate finance-single
      evalkit suite validate path/to/my-suite
    """
    from evalkit.api import suite_validate

    check = suite_validate(suite)
    extra = f", {check.without_reference} without a reference solution" if check.without_reference else ""
    console().print(
        f"{check.suite} {check.version}: valid ({check.tasks} tasks{extra}; {check.tables} tables)", markup=False
    )


@app.command("show", cls=HelpCommand)
def show_command(
    suite: str = SUITE_ARG,
    task: str | None = typer.Argument(None, help="A task id: show that task in full, with its reference solution."),
) -> None:
    """Describe a suite (settings and tasks), or one task with its answer and reference solution.

    [bold]Examples[/]

      evalkit suite show finance-single
      evalkit suite show finance-single fs-003
    """
    from evalkit.api import load_suite, suite_task

    out = console()
    if task is None:
        spec = load_suite(suite)
        out.print(f"{spec.name} {spec.version} — {spec.description}", markup=False, style="bold")
        out.print(f"path {spec.path}\ndatabase {spec.database}\nsettings {spec.settings}", markup=False)
        for t in spec.tasks:
            out.print(f"  {t.id:8} {t.kind:12} {t.difficulty:6} {t.question[:90]}", markup=False)
        return
    t = suite_task(suite, task)
    out.print(f"{t.id} ({t.kind}, {t.difficulty}, tags: {', '.join(t.tags)})", markup=False, style="bold")
    out.print(f"{t.question}\ntables: {', '.join(t.tables)}\nanswer: {t.answer}", markup=False)
    if not t.reference.steps:
        out.print("reference: none (the task cannot be verified)")
        return
    for step in t.reference.steps:
        out.print(f"  {step.bind} = {step.sql}", markup=False)
    out.print(f"  compute: {t.reference.compute}", markup=False)


@app.command("verify", cls=HelpCommand)
def verify_command(suite: str = SUITE_ARG, json_out: bool = JSON_OPT) -> None:
    """Re-run every task's reference solution and compare it with the stored answer.

    Each query must pass the agent's own sandbox checks (a reference the agent could not run fails), then
    runs read-only; compute is evaluated with the agent's calculator; numbers are compared with the task's
    tolerance, text and lists after normalisation, templates blank by blank. Prints one line per task that
    disagrees and a summary. Exit code 1 when any task disagrees; tasks without a reference are reported
    as unverifiable and do not fail.

    [bold]Examples[/]

      evalkit suite verify finance-multi
      evalkit suite verify path/to/my-suite --json
    """
    from evalkit.api import suite_verify
    from evalkit.errors import GateFailed

    report = suite_verify(suite)
    if json_out:
        _print_json(report.to_dict())
    else:
        out = console()
        width = max((len(r.task_id) for r in report.failures), default=0)
        for r in report.failures:
            got = r.got if r.got is not None else "nothing"
            out.print(f"{r.task_id:{width}}  expected {r.expected}, got {got}: {r.reason}", markup=False, style="red")
        style = "green" if report.passed else "bold red"
        out.print(f"{report.suite} {report.version}: {report.summary()} in {report.elapsed_s:.2f} s", style=style)
    if not report.passed:
        raise GateFailed(f"{len(report.failures)} task(s) of {report.suite} disagree with their reference solution")


@app.command("stats", cls=HelpCommand)
def stats_command(suite: str = SUITE_ARG, json_out: bool = JSON_OPT) -> None:
    """Count a suite's tasks by kind, difficulty, tag, answer kind, unit, company and table; mean reference steps.

    [bold]Examples[/]

      evalkit suite stats finance-single
      evalkit suite stats finance-multi --json
    """
    from rich.markup import escape
    from rich.table import Table

    from evalkit.api import suite_stats

    stats = suite_stats(suite)
    if json_out:
        _print_json(stats.to_dict())
        return
    table = Table(title=f"{stats.suite} {stats.version}: {stats.tasks} tasks", show_edge=False, pad_edge=False)
    for col, justify in (("by", "left"), ("value", "left"), ("tasks", "right"), ("share", "right")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for title, counts in stats.sections():
        for i, (value, n) in enumerate(counts.items()):
            table.add_row(title if i == 0 else "", escape(value), str(n), f"{n / max(1, stats.tasks):.0%}")
        table.add_section()
    table.add_row("reference", "tasks with one", str(stats.with_reference), "")
    table.add_row("", "mean steps", f"{stats.mean_reference_steps:.2f}", "")
    console().print(table)


# ---------------------------------------------------------------------------------- the agent's tools


def _show_tool(name: str, result: ToolResult, json_out: bool) -> None:
    """Print exactly what the agent would see; exit code 2 (with a note on stderr) when the tool failed."""
    from evalkit.errors import EvalkitError

    if json_out:
        _print_json({"ok": result.ok, "error_type": result.error_type, "content": result.content, "data": result.data})
    else:
        typer.echo(result.content)
    if not result.ok:
        raise EvalkitError(f"{name} returned an error ({result.error_type}); above is what the agent would see")


@app.command("sql", cls=HelpCommand)
def sql_command(
    suite: str = SUITE_ARG,
    query: str = typer.Argument(..., help="One SQL SELECT statement (quote it).", show_default=False),
    json_out: bool = TOOL_JSON_OPT,
) -> None:
    """Run a query through the agent's own sql_query tool and print exactly what the agent would see.

    The suite's sandbox settings apply (SELECT * and unfiltered scans refused, row and character caps,
    time limit). Exit code 0 when the tool succeeded, 2 when it returned an error (refusal, SQL error
    with the closest names, timeout): the error text is printed on stdout, a short note on stderr.

    [bold]Examples[/]

      evalkit suite sql finance-single "SELECT total_revenue FROM northwind_income_statement WHERE fiscal_year = 2024"
      evalkit suite sql finance-single "SELECT fiscal_year FROM northwind_balance_sheet WHERE fiscal_year > 2022" --json
    """
    from evalkit.api import suite_sql

    _show_tool("sql_query", suite_sql(suite, query), json_out)


@app.command("tables", cls=HelpCommand)
def tables_command(
    suite: str = SUITE_ARG,
    company: str | None = typer.Option(
        None, "--company", "-c", help="Only this company's tables (id, name or ticker)."
    ),
    json_out: bool = TOOL_JSON_OPT,
) -> None:
    """List the suite's tables through the agent's get_table_names tool, exactly as the agent sees them.

    [bold]Examples[/]

      evalkit suite tables finance-single
      evalkit suite tables finance-single -c northwind
    """
    from evalkit.api import suite_tables

    _show_tool("get_table_names", suite_tables(suite, company), json_out)


@app.command("info", cls=HelpCommand)
def info_command(
    suite: str = SUITE_ARG,
    table: str = typer.Argument(..., help="Table name, as listed by 'evalkit suite tables'.", show_default=False),
    json_out: bool = TOOL_JSON_OPT,
) -> None:
    """Describe one table through the agent's get_table_info tool, exactly as the agent sees it.

    [bold]Examples[/]

      evalkit suite info finance-single northwind_cash_flow
      evalkit suite info finance-single northwind_cash_flow --json
    """
    from evalkit.api import suite_info

    _show_tool("get_table_info", suite_info(suite, table), json_out)


# -------------------------------------------------------------------------------------------- import

QUESTION_FIELDS = "{question fields}"
"""Where ``suite import``'s help lists the fields of a question row."""


class _ImportCommand(HelpCommand):
    """``suite import``, whose help lists the question fields the importer reads. They are looked up when the
    help is shown, so starting the CLI does not import the importer."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        if self.help and QUESTION_FIELDS in self.help:
            from evalkit.api import suite_import_fields

            fields = "\n\n".join(f"[bold]{k}[/]: {v}" for k, v in suite_import_fields().items())
            self.help = self.help.replace(QUESTION_FIELDS, fields)
        super().format_help(ctx, formatter)


@app.command("import", cls=_ImportCommand)
def import_command(
    name: str = typer.Argument(
        ..., help="Name of the new suite (lowercase letters, digits, _ . -).", show_default=False
    ),
    tables: Path | None = typer.Option(
        None,
        "--tables",
        "-t",
        help="Folder of .csv/.parquet files, one such file, or a .duckdb file.",
        show_default=False,
    ),
    questions: Path | None = typer.Option(
        None, "--questions", "-q", help="Questions as .jsonl or .csv (fields: see above).", show_default=False
    ),
    fmt: str = typer.Option("evalkit", "--format", help="evalkit, or rllm-finqa: NAME is then rLLM's FinQA folder."),
    split: str = typer.Option("all", "--split", help=f"With --format rllm-finqa: {SPLIT_HELP}"),
    out: Path | None = typer.Option(
        None, "--out", "-o", metavar="DIR", help="Suite folder to write.  \\[default: suites/NAME]"
    ),
    description: str | None = typer.Option(None, "--description", "-d", help="The suite's description."),
    force: bool = typer.Option(False, "--force", help="Replace DIR if it already holds a suite."),
    default_tolerance: str = typer.Option(
        "rel:0.005", "--default-tolerance", help="Tolerance of number answers that give none (same forms as the field)."
    ),
) -> None:
    """Make a suite from your own tables and questions.

    --tables is a folder of .csv/.parquet files (one table per file, named after the file), one such file, or
    a DuckDB file (.duckdb/.db). CSV/Parquet files are copied into DIR/data/tables (CSV normalised to
    comma-separated; columns that are not SQL identifiers renamed) and described in DIR/data/catalog.yaml,
    with column types inferred by DuckDB; a DuckDB file is copied to DIR/data.

    CSV files may be tables as reports print them: a title line above the header becomes the table's
    caption (a unit in it, 'in EUR millions', the unit of its amount columns); a header of several rows is
    joined per column (',Fiscal year,' above 'Item,2022,2023' gives fiscal_year_2022); footnote marks
    ('Revenue (1)', 'Net income*', '¹') are stripped from names and values and footnote lines under the
    table kept in the caption; a unit in a label ('Total assets (USD m)', '(in thousands)', "('000)", '(€)',
    'Margin %') becomes the column's unit. A column whose cells are all numbers as reports print them
    ('(1,234)', '−45', '$40.00', '12.5%', 'FY2022') or nil marks is cleaned into numbers: a dash alone
    ('—', '–', '-') is 0, a dash with % ('- - %') and 'n/a', 'n.m.' are empty; its description names the raw
    forms ('suite info' shows them). Lines starting with # before the header set what a file cannot show:

      # caption: Consolidated income statement, FY2022-2024
      # unit: EUR millions       (of the amount columns that state none)
      # column backlog: Orders not yet delivered
      # column lead_time: unit=days; Average time from order to delivery

    --questions is JSONL (one object per line) or CSV (a header row) with these fields:

    {question fields}

    Questions with sql are verified against their answer; questions without one are imported without a
    reference solution ('suite verify' reports them as unverifiable). Every bad row is reported by line and
    field, and nothing is written unless everything is valid; the suite is built in a temporary folder next
    to DIR and renamed into place.

    [bold]Examples[/]

      evalkit suite import my-suite --tables tables/ --questions questions.jsonl
      evalkit suite import filings -t filings.duckdb -q questions.csv --force
    """
    if fmt == "rllm-finqa":  # the same as 'suite import-rllm-finqa NAME -o DIR'
        if out is None:
            raise typer.BadParameter("--format rllm-finqa needs --out DIR", param_hint="--out")
        return run_import(Path(name), out, split=split, name="rllm-finqa", force=force, tools_profile=True)
    if fmt != "evalkit" or tables is None or questions is None:
        raise typer.BadParameter("give --tables and --questions (or --format rllm-finqa)", param_hint="--format")
    from evalkit.api import suite_import

    result = suite_import(
        name,
        tables,
        questions,
        out=out,
        description=description,
        force=force,
        default_tolerance=default_tolerance,
    )
    spec = result.suite
    verified = sum(bool(t.reference.steps) for t in spec.tasks)
    for note in result.notes:
        err_console().print(f"note: {note}", markup=False)
    console().print(
        f"wrote suite {spec.name} to {result.path} ({len(spec.tasks)} task(s), {verified} with a verified reference)",
        markup=False,
    )
    console().print(f"try it: evalkit run {result.path} --model scripted/reckless", markup=False)


app.command("import-rllm-finqa", cls=HelpCommand)(import_rllm_command)
