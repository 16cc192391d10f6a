"""``evalkit suite``: list, show, validate suites."""

from __future__ import annotations

import typer

from evalkit.cli.state import console

app = typer.Typer(no_args_is_help=True, help="Describe, validate, verify, explore and import suites.")


@app.command("list")
def list_command() -> None:
    """List the suites on the search path ($EVALKIT_SUITES_PATH, ./suites, the built-in suites)."""
    from rich.table import Table

    from evalkit.spec.loader import list_suites, load_suite

    table = Table(show_edge=False, pad_edge=False)
    for col in ("suite", "version", "tasks", "path", "description"):
        table.add_column(col)
    for name, folder in list_suites():
        spec = load_suite(folder)
        table.add_row(name, spec.version, str(len(spec.tasks)), str(folder), spec.description[:60])
    console().print(table)


@app.command("validate")
def validate_command(suite: str = typer.Argument(..., help="Suite name or folder.")) -> None:
    """Check a suite's files against the suite JSON Schema; problems are listed as file:line key.path: message."""
    from evalkit.spec.loader import load_suite

    spec = load_suite(suite)
    console().print(f"{spec.name} {spec.version}: valid ({len(spec.tasks)} tasks)")


@app.command("show")
def show_command(
    suite: str = typer.Argument(..., help="Suite name or folder."),
    task: str = typer.Argument(None, help="Show one task in full."),
) -> None:
    """Describe a suite (settings and tasks), or one task with its reference solution."""
    from evalkit.spec.loader import load_suite

    spec = load_suite(suite)
    out = console()
    if task is None:
        out.print(f"[bold]{spec.name}[/] {spec.version} — {spec.description}")
        out.print(f"path {spec.path}\ndatabase {spec.database}\nsettings {spec.settings}")
        for t in spec.tasks:
            out.print(f"  {t.id:8} {t.kind:12} {t.difficulty:6} {t.question[:90]}")
        return
    t = spec.task(task)
    out.print(f"[bold]{t.id}[/] ({t.kind}, {t.difficulty}, tags: {', '.join(t.tags)})\n{t.question}")
    out.print(f"tables: {', '.join(t.tables)}\nanswer: {t.answer}")
    for step in t.reference.steps:
        out.print(f"  {step.bind} = {step.sql}")
    out.print(f"  compute: {t.reference.compute}")
