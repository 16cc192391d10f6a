"""Build a suite's DuckDB file from its catalog and data files; open it read-only inside the sandbox.

``build_database`` is cached: the file is named after a content hash of the catalog and every data file,
so it is built once and rebuilt whenever a source changes. A build writes a temporary file and renames it
into place (``evalkit.fileio.atomic_path``), so a crash or a concurrent build never leaves a half-built file
in use.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from evalkit.env.catalog import CATALOG_FILE, Catalog, ColumnInfo, Company, TableInfo, load_catalog
from evalkit.errors import DatabaseError, ImportFormatError
from evalkit.fileio import atomic_path, check_csv, csv_line_of

#: Bump when the way tables are built changes, so cached files are rebuilt.
BUILD_FORMAT = "1"
CACHE_ENV = "EVALKIT_CACHE_DIR"
DUCKDB_SUFFIXES = (".duckdb", ".db", ".ddb")

#: Settings of every sandboxed connection (``lock_configuration`` last: nothing can change them afterwards).
SANDBOX_SETTINGS: dict[str, Any] = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,
}


@dataclass(frozen=True)
class BuiltDatabase:
    path: Path
    catalog: Catalog


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "evalkit"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def source_hash(catalog_path: Path, catalog: Catalog) -> str:
    """SHA-256 over the build format, DuckDB's version, the catalog file and every data file."""
    h = hashlib.sha256()
    h.update(f"evalkit-db {BUILD_FORMAT} duckdb {duckdb.__version__}\0".encode())
    h.update(catalog_path.read_bytes())
    for t in catalog.tables:
        if t.file is None:
            continue
        h.update(f"\0{t.name}\0{t.file.name}\0".encode())
        with t.file.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def build_database(source_dir: Path, cache_dir: Path | None = None) -> BuiltDatabase:
    """The DuckDB file of the catalog in ``source_dir`` (a folder with ``catalog.yaml``, or that file).

    A ``.duckdb`` / ``.db`` file is used as it is, with a catalog derived by :func:`catalog_from_duckdb`.
    """
    source = Path(source_dir)
    if source.is_file() and source.suffix.lower() in DUCKDB_SUFFIXES:
        return BuiltDatabase(source, catalog_from_duckdb(source))
    catalog_path = source / CATALOG_FILE if source.is_dir() else source
    catalog = load_catalog(catalog_path)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    try:
        digest = source_hash(catalog_path, catalog)
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatabaseError(f"cannot prepare database for {catalog_path}: {e}") from e
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", catalog.name) or "catalog"
    final = cache / f"{safe}-{digest[:20]}.duckdb"
    if not final.is_file():
        try:
            with atomic_path(final) as tmp:
                try:
                    _build_into(tmp, catalog, catalog_path)
                finally:
                    tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        except OSError as e:
            raise DatabaseError(f"cannot write database {final}: {e}") from e
    return BuiltDatabase(final, catalog)


def _build_into(path: Path, catalog: Catalog, catalog_path: Path) -> None:
    config: dict[str, Any] = {"autoinstall_known_extensions": False, "autoload_known_extensions": True}
    try:
        con = duckdb.connect(str(path), config=config)
    except duckdb.Error as e:
        raise DatabaseError(f"cannot create database {path}: {e}") from e
    try:
        for table in catalog.tables:
            _load_table(con, table, catalog_path.parent)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _reader(file: Path) -> str:
    if file.suffix.lower() == ".parquet":
        return f"read_parquet({_quote_str(str(file))})"
    return f"read_csv({_quote_str(str(file))}, header = true, all_varchar = true, delim = ',', quote = '\"')"


def _load_table(con: duckdb.DuckDBPyConnection, table: TableInfo, root: Path) -> None:
    if table.file is None:
        raise DatabaseError(f"table {table.name}: no data file")
    shown = table.file.relative_to(root) if table.file.is_relative_to(root) else table.file
    if table.file.suffix.lower() == ".csv":  # DuckDB's sniffer guesses around a malformed row: check first
        try:
            check_csv(table.file, str(shown))
        except ImportFormatError as e:
            raise DatabaseError(str(e)) from None
    reader = _reader(table.file)
    try:
        header = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error as e:
        raise DatabaseError(f"{shown}: cannot read {table.name}: {e}") from e
    _check_header(shown, header, table.columns)
    cols = ", ".join(quote_ident(c.name) for c in table.columns)
    defs = ", ".join(f"{quote_ident(c.name)} {c.type}" for c in table.columns)
    casts = ", ".join(f"CAST({quote_ident(c.name)} AS {c.type})" for c in table.columns)
    try:
        con.execute(f"CREATE TABLE {quote_ident(table.name)} ({defs})")
        con.execute(f"INSERT INTO {quote_ident(table.name)} ({cols}) SELECT {casts} FROM {reader}")
    except duckdb.Error as e:
        raise DatabaseError(_diagnose(con, shown, table, reader) or f"{shown}: cannot load {table.name}: {e}") from e


def _check_header(shown: Path, header: list[str], columns: tuple[ColumnInfo, ...]) -> None:
    expected = [c.name for c in columns]
    problems: list[str] = []
    for name in header:
        if name not in expected:
            close = difflib.get_close_matches(name, expected, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{shown}: column {name!r} is in the file but not in the catalog{hint}")
    for name in expected:
        if name not in header:
            problems.append(f"{shown}: catalog column {name!r} is missing from the file's header")
    for name, n in Counter(header).items():
        if n > 1:
            problems.append(f"{shown}: column {name!r} appears {n} times in the header")
    if problems:
        raise DatabaseError("\n".join(problems))


def _diagnose(con: duckdb.DuckDBPyConnection, shown: Path, table: TableInfo, reader: str) -> str | None:
    """Which column holds a value that does not convert to its catalog type (after a failed load)."""
    for c in table.columns:
        if c.type == "VARCHAR":
            continue
        col = quote_ident(c.name)
        try:
            bad = con.execute(
                f"SELECT {col} FROM {reader} WHERE {col} IS NOT NULL AND TRY_CAST({col} AS {c.type}) IS NULL LIMIT 1"
            ).fetchone()
        except duckdb.Error:
            continue
        if bad is not None:
            line = csv_line_of(table.file, c.name, str(bad[0])) if table.file and table.file.suffix == ".csv" else None
            where = f"{shown}:{line} {c.name}" if line else f"{shown}: column {c.name!r}"
            return f"{where}: value {str(bad[0])!r} is not a valid {c.type}"
    return None


def open_readonly(path: Path, *, memory_limit: str = "512MB", threads: int = 2) -> duckdb.DuckDBPyConnection:
    """A read-only connection with the sandbox settings applied and the configuration locked.

    File, network and extension access are disabled, so even a query the sandbox's checks missed cannot
    read or write files, attach databases, load extensions or change settings.
    """
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"database file {path} does not exist")
    config: dict[str, Any] = {
        **SANDBOX_SETTINGS,
        "memory_limit": memory_limit,
        "threads": threads,
        "lock_configuration": True,
    }
    try:
        return duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error as e:
        raise DatabaseError(f"cannot open database {path} read-only: {e}") from e


def catalog_from_duckdb(path: Path) -> Catalog:
    """A catalog derived from an existing DuckDB file (no descriptions or units).

    Tables whose names share a prefix before the first ``_`` with another table form a company named by
    that prefix; all other tables belong to the pseudo-company ``default``.
    """
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"database file {path} does not exist")
    try:
        con = duckdb.connect(str(path), read_only=True, config={"autoload_known_extensions": False})
    except duckdb.Error as e:
        raise DatabaseError(f"cannot open database {path}: {e}") from e
    try:
        rows = con.execute(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type "
            "FROM information_schema.columns c JOIN information_schema.tables t "
            "ON t.table_catalog = c.table_catalog AND t.table_schema = c.table_schema "
            "AND t.table_name = c.table_name "
            "WHERE c.table_catalog = current_database() "
            "AND c.table_schema NOT IN ('information_schema', 'pg_catalog') "
            "ORDER BY c.table_schema, c.table_name, c.ordinal_position"
        ).fetchall()
    except duckdb.Error as e:
        raise DatabaseError(f"cannot read the schema of {path}: {e}") from e
    finally:
        con.close()
    columns: dict[str, list[ColumnInfo]] = {}
    for schema, table, column, dtype in rows:
        name = table if schema == "main" else f"{schema}.{table}"
        columns.setdefault(name, []).append(ColumnInfo(column, str(dtype)))
    if not columns:
        raise DatabaseError(f"database {path} has no tables")
    prefixes = Counter(n.split("_", 1)[0] for n in columns if "_" in n)

    def owner(name: str) -> str:
        prefix = name.split("_", 1)[0]
        return prefix if "_" in name and prefixes[prefix] > 1 else "default"

    tables = tuple(TableInfo(n, owner(n), None, "", tuple(cols)) for n, cols in columns.items())
    ids = sorted({t.company for t in tables})
    companies = tuple(Company(id=i, name=i) for i in ids)
    return Catalog(name=path.stem, description=f"Tables of {path.name}", companies=companies, tables=tables)
