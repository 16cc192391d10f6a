"""What can be done with a suite, as the public API offers it: list, validate, look up a task, verify, count,
look at the database through the agent's own tools, import one from the user's files.

Each function takes a suite name (on the search path) or folder and returns plain data for its caller to
render; problems raise :class:`evalkit.errors.EvalkitError` subclasses. DuckDB, sqlglot and jsonschema are
imported inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evalkit.contracts.suite import TaskSpec
    from evalkit.env.tools import ToolResult
    from evalkit.suites.importer import ImportResult
    from evalkit.suites.stats import SuiteStats
    from evalkit.suites.verify import VerifyReport


@dataclass(frozen=True)
class SuiteEntry:
    """A suite on the search path: its name and folder, and what it holds, or why it does not load."""

    suite: str
    path: Path
    version: str | None = None
    tasks: int | None = None
    description: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        head = {"suite": self.suite, "version": self.version, "tasks": self.tasks, "path": str(self.path)}
        return {**head, "error": self.error} if self.error is not None else {**head, "description": self.description}


@dataclass(frozen=True)
class SuiteCheck:
    """A suite that loaded and whose database was built: how many tasks (and how many lack a reference
    solution) and tables it has."""

    suite: str
    version: str
    tasks: int
    without_reference: int
    tables: int


def suite_list() -> list[SuiteEntry]:
    """The suites on the search path ($EVALKIT_SUITES_PATH, ./suites, the built-in suites), each loaded;
    a suite that does not load is listed with its problem."""
    from evalkit.contracts.loader import list_suites, load_suite
    from evalkit.errors import EvalkitError

    entries = []
    for name, folder in list_suites():
        try:
            spec = load_suite(folder)
        except EvalkitError as e:
            entries.append(SuiteEntry(name, folder, error=str(e)))
            continue
        entries.append(SuiteEntry(name, folder, spec.version, len(spec.tasks), spec.description))
    return entries


def suite_validate(suite: str | Path) -> SuiteCheck:
    """Check a suite's files against their JSON Schemas, build its database (its catalog against its
    tables) and check each task against the catalog: its tables and company, its reference SQL through the
    agent's static checks (nothing is run) and its compute expressions; raises ``SpecError`` listing every
    problem as ``file:line key.path: message``."""
    from evalkit.contracts.loader import load_suite_with_lines
    from evalkit.env.database import build_database
    from evalkit.errors import SpecError
    from evalkit.suites.static_checks import task_problems

    spec, lines = load_suite_with_lines(suite)
    db = build_database(spec.database)
    problems = task_problems(spec.tasks, lines, db.catalog, spec.settings)
    if problems:
        raise SpecError(f"{lines.file}: task list is not valid ({len(problems)} problem(s))", problems)
    without = sum(not t.reference.steps for t in spec.tasks)
    return SuiteCheck(spec.name, spec.version, len(spec.tasks), without, len(db.catalog.tables))


def suite_task(suite: str | Path, task_id: str) -> TaskSpec:
    """One task of a suite; an unknown id raises ``ConfigError`` naming the closest ids."""
    import difflib

    from evalkit.contracts.loader import load_suite
    from evalkit.errors import ConfigError

    spec = load_suite(suite)
    try:
        return spec.task(task_id)
    except KeyError:
        close = difflib.get_close_matches(task_id, [t.id for t in spec.tasks], n=3)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise ConfigError(f"suite {spec.name} has no task {task_id!r}{hint}") from None


def suite_verify(suite: str | Path) -> VerifyReport:
    """Re-run every task's reference solution through the agent's sandbox checks and compare the result
    with the task's answer."""
    from evalkit.contracts.loader import load_suite
    from evalkit.suites.verify import verify_suite

    return verify_suite(load_suite(suite))


def suite_stats(suite: str | Path) -> SuiteStats:
    """A suite's tasks counted by kind, difficulty, tag, answer kind, unit, company and table."""
    from evalkit.contracts.loader import load_suite
    from evalkit.suites.stats import suite_stats as stats

    return stats(load_suite(suite))


def _tool(suite: str | Path, name: str, arguments: dict[str, Any]) -> ToolResult:
    from evalkit.contracts.loader import load_suite
    from evalkit.env.database import build_database
    from evalkit.env.tools import FinanceEnvironment

    spec = load_suite(suite)
    with FinanceEnvironment(build_database(spec.database), spec.settings) as env:
        return env.call(name, arguments)


def suite_tables(suite: str | Path, company: str | None = None) -> ToolResult:
    """The agent's ``get_table_names`` over the suite's database (one company's tables: id, name or ticker)."""
    return _tool(suite, "get_table_names", {"company": company} if company is not None else {})


def suite_info(suite: str | Path, table: str) -> ToolResult:
    """The agent's ``get_table_info`` for one table of the suite's database."""
    return _tool(suite, "get_table_info", {"table": table})


def suite_sql(suite: str | Path, query: str) -> ToolResult:
    """The agent's ``sql_query`` over the suite's database, under the suite's sandbox settings."""
    return _tool(suite, "sql_query", {"query": query})


def suite_import_fields() -> dict[str, str]:
    """The fields of a question row that :func:`suite_import` reads, and what each means."""
    from evalkit.suites.questions import FIELDS

    return dict(FIELDS)


def suite_import(
    name: str,
    tables: str | Path,
    questions: str | Path,
    *,
    out: str | Path | None = None,
    description: str | None = None,
    force: bool = False,
    default_tolerance: str = "rel:0.005",
) -> ImportResult:
    """Write a suite folder (default ``suites/NAME``) from the user's tables (a folder of CSV/Parquet files,
    one such file, or a DuckDB file) and questions (JSONL or CSV, with :func:`suite_import_fields`).
    ``default_tolerance`` applies to number answers that give none (``rel:0.005``, ``abs:0.5``, ``1%``)."""
    from evalkit.errors import ConfigError
    from evalkit.suites.importer import import_suite
    from evalkit.suites.questions import parse_tolerance

    try:
        tolerance = parse_tolerance(default_tolerance)
    except ValueError as e:
        raise ConfigError(f"--default-tolerance: {e}") from None
    return import_suite(
        name,
        Path(tables),
        Path(questions),
        out=Path(out) if out is not None else None,
        description=description,
        force=force,
        default_tolerance=tolerance,
    )
