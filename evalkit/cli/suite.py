"""``evalkit suite``: list, validate, show, verify, stats, explore (sql / tables / info) and import suites.

Heavy modules (DuckDB, sqlglot, jsonschema) are imported inside the commands, so ``evalkit --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from evalkit.cli.state import console, err_console
from evalkit.suites.questions import FIELDS

if TYPE_CHECKING:
    from evalkit.contracts.suite import SuiteSpec
    from evalkit.env.tools import ToolResult

app = typer.Typer(no_args_is_help=True, help="Describe, validate, verify, explore and import suites.")

SUITE_ARG = typer.Argument(..., help="Suite name (on the search path) or folder.", show_default=False)
JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON instead of text.")


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@app.command("list")
def list_command(json_out: bool = JSON_OPT) -> None:
    """List the suites on the search path ($EVALKIT_SUITES_PATH, ./suites, the built-in suites).

    A suite that does not load is listed as [bold]invalid[/] with its first problem.
    """
    from rich.markup import escape
    from rich.table import Table

    from evalkit.contracts.loader import list_suites, load_suite
    from evalkit.errors import EvalkitError

    rows: list[dict[str, Any]] = []
    for name, folder in list_suites():
        try:
            spec = load_suite(folder)
        except EvalkitError as e:
            rows.append({"suite": name, "version": None, "tasks": None, "path": str(folder), "error": str(e)})
            continue
        rows.append(
            {"suite": name, "version": spec.version, "tasks": len(spec.tasks), "path": str(folder),
             "description": spec.description}
        )  # fmt: skip
    if json_out:
        _print_json(rows)
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("suite", "version", "tasks", "path", "description"):
        table.add_column(col)
    for r in rows:
        if "error" in r:
            first = str(r["error"]).splitlines()[0]
            table.add_row(r["suite"], "[red]invalid[/]", "", r["path"], escape(first[:80]))
        else:
            table.add_row(r["suite"], r["version"], str(r["tasks"]), r["path"], escape(r["description"][:60]))
    console().print(table)


@app.command("validate")
def validate_command(suite: str = SUITE_ARG) -> None:
    """Check a suite's files against the JSON Schemas and its database catalog.

    Problems are listed as file:line key.path: message (exit code 2).
    """
    from evalkit.contracts.loader import load_suite
    from evalkit.env.database import build_database

    spec = load_suite(suite)
    db = build_database(spec.database)
    without = sum(not t.reference.steps for t in spec.tasks)
    extra = f", {without} without a reference solution" if without else ""
    console().print(
        f"{spec.name} {spec.version}: valid ({len(spec.tasks)} tasks{extra}; {len(db.catalog.tables)} tables)",
        markup=False,
    )


def _find_task(spec: SuiteSpec, task_id: str) -> Any:
    import difflib

    from evalkit.errors import ConfigError

    try:
        return spec.task(task_id)
    except KeyError:
        close = difflib.get_close_matches(task_id, [t.id for t in spec.tasks], n=3)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise ConfigError(f"suite {spec.name} has no task {task_id!r}{hint}") from None


@app.command("show")
def show_command(
    suite: str = SUITE_ARG,
    task: str | None = typer.Argument(None, help="A task id: show that task in full, with its reference solution."),
) -> None:
    """Describe a suite (settings and tasks), or one task with its answer and reference solution."""
    from evalkit.contracts.loader import load_suite

    spec = load_suite(suite)
    out = console()
    if task is None:
        out.print(f"{spec.name} {spec.version} — {spec.description}", markup=False, style="bold")
        out.print(f"path {spec.path}\ndatabase {spec.database}\nsettings {spec.settings}", markup=False)
        for t in spec.tasks:
            out.print(f"  {t.id:8} {t.kind:12} {t.difficulty:6} {t.question[:90]}", markup=False)
        return
    t = _find_task(spec, task)
    out.print(f"{t.id} ({t.kind}, {t.difficulty}, tags: {', '.join(t.tags)})", markup=False, style="bold")
    out.print(f"{t.question}\ntables: {', '.join(t.tables)}\nanswer: {t.answer}", markup=False)
    if not t.reference.steps:
        out.print("reference: none (the task cannot be verified)")
        return
    for step in t.reference.steps:
        out.print(f"  {step.bind} = {step.sql}", markup=False)
    out.print(f"  compute: {t.reference.compute}", markup=False)


@app.command("verify")
def verify_command(suite: str = SUITE_ARG, json_out: bool = JSON_OPT) -> None:
    """Re-run every task's reference solution and compare it with the stored answer.

    Each query must pass the agent's own sandbox checks (a reference the agent could not run fails), then
    runs read-only; compute is evaluated with the agent's calculator; numbers are compared with the task's
    tolerance, text and lists after normalisation, templates blank by blank. Prints one line per task that
    disagrees and a summary. Exit code 1 when any task disagrees; tasks without a reference are reported
    as unverifiable and do not fail.
    """
    from evalkit.contracts.loader import load_suite
    from evalkit.errors import GateFailed
    from evalkit.suites.verify import verify_suite

    report = verify_suite(load_suite(suite))
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


@app.command("stats")
def stats_command(suite: str = SUITE_ARG, json_out: bool = JSON_OPT) -> None:
    """Count a suite's tasks by kind, difficulty, tag, answer kind, unit, company and table; mean reference steps."""
    from rich.markup import escape
    from rich.table import Table

    from evalkit.contracts.loader import load_suite
    from evalkit.suites.stats import suite_stats

    stats = suite_stats(load_suite(suite))
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


def _tool(suite: str, name: str, arguments: dict[str, Any]) -> ToolResult:
    from evalkit.contracts.loader import load_suite
    from evalkit.env.database import build_database
    from evalkit.env.tools import FinanceEnvironment

    spec = load_suite(suite)
    with FinanceEnvironment(build_database(spec.database), spec.settings) as env:
        return env.call(name, arguments)


def _show_tool(name: str, result: ToolResult, json_out: bool) -> None:
    """Print exactly what the agent would see; exit code 2 (with a note on stderr) when the tool failed."""
    from evalkit.errors import EvalkitError

    if json_out:
        _print_json({"ok": result.ok, "error_type": result.error_type, "content": result.content, "data": result.data})
    else:
        typer.echo(result.content)
    if not result.ok:
        raise EvalkitError(f"{name} returned an error ({result.error_type}); above is what the agent would see")


@app.command("sql")
def sql_command(
    suite: str = SUITE_ARG,
    query: str = typer.Argument(..., help="One SQL SELECT statement (quote it).", show_default=False),
    json_out: bool = typer.Option(False, "--json", help="Print the tool result (ok, error_type, content, data)."),
) -> None:
    """Run a query through the agent's own sql_query tool and print exactly what the agent would see.

    The suite's sandbox settings apply (SELECT * and unfiltered scans refused, row and character caps,
    time limit). Exit code 0 when the tool succeeded, 2 when it returned an error (refusal, SQL error
    with the closest names, timeout): the error text is printed on stdout, a short note on stderr.
    """
    _show_tool("sql_query", _tool(suite, "sql_query", {"query": query}), json_out)


@app.command("tables")
def tables_command(
    suite: str = SUITE_ARG,
    company: str | None = typer.Option(
        None, "--company", "-c", help="Only this company's tables (id, name or ticker)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the tool result (ok, error_type, content, data)."),
) -> None:
    """List the suite's tables through the agent's get_table_names tool, exactly as the agent sees them."""
    args = {"company": company} if company is not None else {}
    _show_tool("get_table_names", _tool(suite, "get_table_names", args), json_out)


@app.command("info")
def info_command(
    suite: str = SUITE_ARG,
    table: str = typer.Argument(..., help="Table name, as listed by 'evalkit suite tables'.", show_default=False),
    json_out: bool = typer.Option(False, "--json", help="Print the tool result (ok, error_type, content, data)."),
) -> None:
    """Describe one table through the agent's get_table_info tool, exactly as the agent sees it."""
    _show_tool("get_table_info", _tool(suite, "get_table_info", {"table": table}), json_out)


# -------------------------------------------------------------------------------------------- import

_FIELDS_HELP = "\n\n".join(f"[bold]{k}[/]: {v}" for k, v in FIELDS.items())


@app.command(
    "import",
    help=f"""Make a suite from your own tables and questions.

--tables is a folder of .csv/.parquet files (one table per file, named after the file), one such file, or
a DuckDB file (.duckdb/.db). CSV/Parquet files are copied into DIR/data/tables (CSV normalised to
comma-separated; columns that are not SQL identifiers renamed) and described in DIR/data/catalog.yaml,
with column types inferred by DuckDB; a DuckDB file is copied to DIR/data.

--questions is JSONL (one object per line) or CSV (a header row) with these fields:

{_FIELDS_HELP}

Questions with sql are verified against their answer; questions without one are imported without a
reference solution ('suite verify' reports them as unverifiable). Every bad row is reported by line and
field, and nothing is written unless everything is valid; the suite is built in a temporary folder next
to DIR and renamed into place.""",
)
def import_command(
    name: str = typer.Argument(
        ..., help="Name of the new suite (lowercase letters, digits, _ . -).", show_default=False
    ),
    tables: Path = typer.Option(
        ...,
        "--tables",
        "-t",
        help="Folder of .csv/.parquet files, one such file, or a .duckdb file.",
        show_default=False,
    ),
    questions: Path = typer.Option(
        ..., "--questions", "-q", help="Questions as .jsonl or .csv (fields: see above).", show_default=False
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", metavar="DIR", help="Suite folder to write.  \\[default: suites/NAME]"
    ),
    description: str | None = typer.Option(None, "--description", "-d", help="The suite's description."),
    force: bool = typer.Option(False, "--force", help="Replace DIR if it already holds a suite."),
    default_tolerance: str = typer.Option(
        "rel:0.005", "--default-tolerance", help="Tolerance of number answers that give none (same forms as the field)."
    ),
) -> None:
    from evalkit.errors import ConfigError
    from evalkit.suites.importer import import_suite
    from evalkit.suites.questions import parse_tolerance

    try:
        tolerance = parse_tolerance(default_tolerance)
    except ValueError as e:
        raise ConfigError(f"--default-tolerance: {e}") from None
    result = import_suite(
        name, tables, questions, out=out, description=description, force=force, default_tolerance=tolerance
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
