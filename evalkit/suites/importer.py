"""Make a suite from a user's own tables and questions: ``evalkit suite import``.

Tables: a folder of ``.csv`` / ``.parquet`` files (or one such file), or a DuckDB file. Files are copied
into ``data/tables`` (CSV normalised to comma-separated UTF-8 with a header; columns that are not SQL
identifiers renamed) and described in ``data/catalog.yaml`` with column types inferred by DuckDB (the
narrowest of INTEGER, BIGINT, DOUBLE, DATE, BOOLEAN that every value converts to, else VARCHAR). A CSV
file is first cleaned as reports print tables (title line, headers of several rows, footnote marks, units
in labels, numbers stored as text; see :mod:`evalkit.suites.tabletext`), and what cleaning found goes into
the catalog: the caption, each column's unit and a description naming the raw forms. A DuckDB file is
copied to ``data/`` as it is.

Questions: JSONL (one object per line) or CSV (a header row), with the fields of :data:`FIELDS`; see
:func:`evalkit.suites.questions.parse_questions`. Every problem is reported at once as one ``SpecError``
(``questions.jsonl:7 answer: not a number: 'abc'``); nothing is written unless the whole import is valid,
and the suite is built in a temporary folder next to the target, checked (``load_suite``, and
``verify_suite`` for questions with ``sql``), then renamed into place.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import yaml

from evalkit.contracts.suite import SuiteSpec, Tolerance
from evalkit.errors import ConfigError, DatabaseError, SpecError
from evalkit.suites.questions import DEFAULT_TOLERANCE, Question, fill_tables, parse_questions, slug
from evalkit.suites.tabletext import SourceTable, catalog_column, stage_table

if TYPE_CHECKING:
    import duckdb

DUCKDB_SUFFIXES = (".duckdb", ".db", ".ddb")
TABLE_SUFFIXES = (".csv", ".parquet")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SUITE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_CANDIDATES = {  # DuckDB's type of a column -> catalog types to try, narrowest first
    "TINYINT": ("INTEGER",),
    "SMALLINT": ("INTEGER",),
    "INTEGER": ("INTEGER",),
    "UTINYINT": ("INTEGER",),
    "USMALLINT": ("INTEGER",),
    "UINTEGER": ("BIGINT",),
    "BIGINT": ("INTEGER", "BIGINT", "DOUBLE"),
    "UBIGINT": ("BIGINT", "DOUBLE"),
    "HUGEINT": ("BIGINT", "DOUBLE"),
    "UHUGEINT": ("BIGINT", "DOUBLE"),
    "FLOAT": ("DOUBLE",),
    "DECIMAL": ("DOUBLE",),
    "DOUBLE": ("DOUBLE",),
    "DATE": ("DATE",),
    "BOOLEAN": ("BOOLEAN",),
}


@dataclass(frozen=True)
class ImportResult:
    path: Path
    suite: SuiteSpec
    notes: tuple[str, ...]


def import_suite(
    name: str,
    tables: Path,
    questions: Path,
    *,
    out: Path | None = None,
    description: str | None = None,
    force: bool = False,
    default_tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> ImportResult:
    """Write a suite folder (``suite.yaml``, ``tasks.yaml``, ``data/``) from tables and questions."""
    tables, questions = Path(tables), Path(questions)
    target = Path(out) if out is not None else Path("suites") / name
    _check_target(name, tables, questions, target, force)
    is_duckdb = tables.is_file() and tables.suffix.lower() in DUCKDB_SUFFIXES
    stage = Path(tempfile.mkdtemp(prefix="evalkit-import-"))
    try:
        return _import(name, tables, questions, target, description, default_tolerance, is_duckdb, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _import(
    name: str,
    tables: Path,
    questions: Path,
    target: Path,
    description: str | None,
    default_tolerance: Tolerance,
    is_duckdb: bool,
    stage: Path,
) -> ImportResult:
    problems: list[str] = []
    notes: list[str] = []
    if is_duckdb:
        from evalkit.env.database import catalog_from_duckdb

        catalog = catalog_from_duckdb(tables)
        names = list(catalog.table_names)
        owners = {t.name: t.company for t in catalog.tables}
        sources: list[SourceTable] = []
    else:
        sources = _scan_tables(tables, problems, notes, stage)
        names = [t.name for t in sources]
        owners = {}
    if problems:  # the tables cannot be read: nothing to check the questions against
        raise SpecError(f"cannot import {tables} ({len(problems)} problem(s))", problems)
    parsed = parse_questions(questions, names, owners if is_duckdb else None, problems, default_tolerance)
    company_names = {} if is_duckdb else _assign_companies(sources, parsed, problems)
    fill_tables(parsed, owners or {t.name: t.company for t in sources}, names)
    valid = [q for q in parsed if q.valid]
    if not valid:
        _fail(questions, tables, problems)
    desc = description or f"Imported from {questions.name} and {tables.name}."
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.import-{secrets.token_hex(4)}"
    try:
        tmp.mkdir()
        if is_duckdb:
            (tmp / "data").mkdir()
            shutil.copy2(tables, tmp / "data" / tables.name)
            database = f"data/{tables.name}"
        else:
            _write_tables(tmp / "data", name, desc, sources, company_names)
            database = "data"
        _write_suite(tmp, name, desc, database, valid, f"{questions.name} and {tables.name}")
        problems += _check_built(tmp, valid)  # the sql of valid rows, so every problem is reported at once
        if problems:
            _fail(questions, tables, problems)
        _move_into_place(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    from evalkit.contracts.loader import load_suite

    return ImportResult(target, load_suite(target), tuple(notes))


def _fail(questions: Path, tables: Path, problems: list[str]) -> NoReturn:
    def line(problem: str) -> int:
        m = re.match(rf"{re.escape(str(questions))}:(\d+)", problem)
        return int(m.group(1)) if m else 0

    problems = sorted(problems, key=line)
    raise SpecError(f"cannot import {questions} with {tables} ({len(problems)} problem(s))", problems)


def _check_target(name: str, tables: Path, questions: Path, target: Path, force: bool) -> None:
    if not _SUITE_NAME.match(name):
        raise ConfigError(f"suite name {name!r}: use lowercase letters, digits, '_', '.', '-' (e.g. my-suite)")
    if not tables.exists():
        raise ConfigError(f"--tables: {tables} does not exist")
    if not questions.is_file():
        raise ConfigError(f"--questions: {questions} is not a file")
    if target.exists():
        if not force:
            raise ConfigError(f"{target} already exists; pass --force to replace it")
        if not target.is_dir() or (any(target.iterdir()) and not (target / "suite.yaml").is_file()):
            raise ConfigError(f"{target} exists and is not a suite folder; refusing to replace it even with --force")


# -------------------------------------------------------------------------------------------- tables


def _column_name(raw: str, index: int, taken: set[str]) -> str:
    name = raw.strip()
    if not _IDENT.match(name):
        name = re.sub(r"\W+", "_", name).strip("_").lower() or f"column_{index + 1}"
        if name[0].isdigit():
            name = "c_" + name
    base, n = name, 2
    while name.lower() in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name.lower())
    return name


def _scan_tables(path: Path, problems: list[str], notes: list[str], stage: Path) -> list[SourceTable]:
    """The tables of a folder of CSV/Parquet files (or of one file), with inferred column types."""
    import duckdb

    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    files = [f for f in files if f.suffix.lower() in TABLE_SUFFIXES and not f.name.startswith(".")]
    if not files:
        problems.append(f"{path}: no .csv or .parquet files (or give a .duckdb file)")
        return []
    out: list[SourceTable] = []
    seen: dict[str, Path] = {}
    con = duckdb.connect()
    try:
        for f in files:
            name = f.stem if _IDENT.match(f.stem) else slug(f.stem, "_") or "table"
            name = "t_" + name if name[0].isdigit() else name
            if name.lower() in seen:
                problems.append(f"{f}: table name {name!r} is also the name of {seen[name.lower()].name}")
                continue
            seen[name.lower()] = f
            if name != f.stem:
                notes.append(f"{f.name}: table named {name}")
            table = SourceTable(name, f)
            try:
                if f.suffix.lower() == ".csv":
                    stage_table(table, stage, notes)
                _infer_columns(con, table, notes)
            except (duckdb.Error, ValueError, OSError) as e:
                problems.append(f"{f}: cannot read: {str(e).splitlines()[0]}")
                continue
            out.append(table)
    finally:
        con.close()
    return out


def reader(file: Path, *, all_varchar: bool = True) -> str:
    """The DuckDB table function reading a user file (CSV values as text, as the database build reads them)."""
    quoted = "'" + str(file).replace("'", "''") + "'"
    if file.suffix.lower() == ".parquet":
        return f"read_parquet({quoted})"
    return f"read_csv({quoted}, header = true{', all_varchar = true' if all_varchar else ''})"


def _infer_columns(con: duckdb.DuckDBPyConnection, table: SourceTable, notes: list[str]) -> None:
    from evalkit.env.database import quote_ident

    described = con.execute(f"DESCRIBE SELECT * FROM {reader(table.source, all_varchar=False)}").fetchall()
    taken: set[str] = set()
    renamed: list[str] = []
    tries: list[tuple[int, str]] = []
    for i, row in enumerate(described):
        raw, dtype = str(row[0]), str(row[1]).upper()
        candidates = _CANDIDATES.get(dtype.split("(")[0], ())
        tries.extend((i, c) for c in candidates)
        new = _column_name(raw, i, taken)
        if new != table.labels.get(raw, raw):
            renamed.append(f"{table.labels.get(raw, raw)!r} renamed to {new}")
        table.columns.append((new, raw, "VARCHAR"))
    if renamed:  # one note per file
        notes.append(f"{table.source.name}: column {', '.join(renamed)}")
    if tries:
        checks = ", ".join(
            f"count_if({quote_ident(table.columns[i][1])} IS NOT NULL AND "
            f"TRY_CAST({quote_ident(table.columns[i][1])} AS {t}) IS NULL)"
            for i, t in tries
        )
        failures = con.execute(f"SELECT {checks} FROM {reader(table.source)}").fetchone() or ()
        for (i, ctype), bad in reversed(list(zip(tries, failures, strict=True))):
            if bad == 0:  # reversed: the narrowest type that fits is set last
                new, raw, _ = table.columns[i]
                table.columns[i] = (new, raw, ctype)


def _assign_companies(tables: list[SourceTable], questions: list[Question], problems: list[str]) -> dict[str, str]:
    """A table belongs to the company of the questions that use it (with one company, every table does;
    a table no question uses belongs to the company of the other tables with its name's prefix, else to
    ``default``). Returns company id -> name."""
    names = {"default": "default"}
    for q in questions:
        if q.company and q.company not in names:
            names[q.company] = q.company_name or q.company
    by_name = {t.name: t for t in tables}
    first: dict[str, Question] = {}
    for q in questions:
        for t in q.tables if q.company and len(names) > 2 else ():
            if t in first and first[t].company != q.company:
                problems.append(
                    f"{q.where} company: table {t} is also used by a question about {first[t].company_name!r} "
                    f"({first[t].where}); a table belongs to one company"
                )
                continue
            first[t] = q
            by_name[t].company = q.company or "default"
    prefixes: dict[str, set[str]] = {}  # a file-name prefix (``kestrel_``) -> the companies of its tables
    for table in tables:
        if table.company != "default":
            prefixes.setdefault(table.name.split("_", 1)[0], set()).add(table.company)
    for table in tables:
        owners = prefixes.get(table.name.split("_", 1)[0], set()) if "_" in table.name else set()
        if table.company == "default" and len(owners) == 1 and len(names) > 2:
            table.company = next(iter(owners))
    if len(names) == 2:
        only = next(c for c in names if c != "default")
        for table in tables:
            table.company = only
    return names


def _write_tables(
    folder: Path, name: str, description: str, tables: list[SourceTable], company_names: dict[str, str]
) -> None:
    import duckdb

    from evalkit.env.database import quote_ident

    (folder / "tables").mkdir(parents=True)
    con = duckdb.connect()
    try:
        for t in tables:
            rel = f"tables/{t.name}{t.source.suffix.lower()}"
            dest = folder / rel
            renamed = any(new != raw for new, raw, _ in t.columns)
            if t.source.suffix.lower() == ".parquet" and not renamed:
                shutil.copy2(t.source, dest)
                continue
            cols = ", ".join(f"{quote_ident(raw)} AS {quote_ident(new)}" for new, raw, _ in t.columns)
            fmt = "FORMAT parquet" if dest.suffix == ".parquet" else "FORMAT csv, HEADER true, DELIMITER ','"
            target = "'" + str(dest).replace("'", "''") + "'"
            con.execute(f"COPY (SELECT {cols} FROM {reader(t.source)}) TO {target} ({fmt})")
    except duckdb.Error as e:
        raise DatabaseError(f"cannot copy the tables: {e}") from e
    finally:
        con.close()
    companies = sorted({t.company for t in tables} | (set(company_names) - {"default"}))
    catalog = {
        "name": name,
        "description": description,
        "companies": [{"id": c, "name": company_names.get(c, c)} for c in companies],
        "tables": [
            {
                "name": t.name,
                "company": t.company,
                "file": f"tables/{t.name}{t.source.suffix.lower()}",
                "description": f"{t.caption} (imported from {(t.origin or t.source).name})"
                if t.caption
                else f"Imported from {(t.origin or t.source).name}.",
                "columns": [
                    catalog_column(new, t.labels.get(raw, raw), ctype, *t.meta.get(raw, (None, "")))
                    | ({"source_name": t.source_names[raw]} if t.source_names.get(raw, new) != new else {})
                    for new, raw, ctype in t.columns
                ],
            }
            for t in tables
        ],
    }
    _dump(folder / "catalog.yaml", catalog, "Written by evalkit suite import.")


# --------------------------------------------------------------------------------------------- suite


def _dump(path: Path, data: Any, header: str) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=False)
    path.write_text(f"# {header}\n{text}", encoding="utf-8")


def _write_suite(folder: Path, name: str, desc: str, database: str, questions: list[Question], src: str) -> None:
    suite = {"name": name, "version": "1.0", "description": desc, "database": database, "tasks": "tasks.yaml"}
    _dump(folder / "suite.yaml", suite, f"Written by evalkit suite import from {src}.")
    _dump(folder / "tasks.yaml", {"tasks": [q.task for q in questions]}, f"Written by evalkit suite import from {src}.")


def _check_built(folder: Path, questions: list[Question]) -> list[str]:
    """Load the new suite and verify the questions that came with SQL; the problems, by row."""
    from evalkit.contracts.loader import load_suite
    from evalkit.suites.verify import verify_suite

    suite = load_suite(folder)
    if not any(q.sql for q in questions):
        return []
    where = {q.task["id"]: q.where for q in questions}
    report = verify_suite(suite)
    return [
        f"{where[r.task_id]} sql: the query gives {r.got}, not the answer {r.expected} ({r.reason})"
        if r.status == "mismatch"
        else f"{where[r.task_id]} sql: {r.reason.removeprefix('step 1 (answer): ')}"
        for r in report.failures
    ]


def _move_into_place(tmp: Path, target: Path) -> None:
    """Rename the built folder into place; an existing suite is moved aside first and removed after."""
    if not target.exists():
        os.replace(tmp, target)
        return
    old = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except OSError:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
