from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from evalkit.env import database
from evalkit.env.database import BuiltDatabase, build_database, open_readonly
from evalkit.errors import DatabaseError

from .conftest import CATALOG, FILES, write_catalog


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = open_readonly(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_build_creates_typed_tables(built: BuiltDatabase, cache_dir: Path) -> None:
    assert built.path.parent == cache_dir
    assert built.path.name.startswith("finance-") and built.path.suffix == ".duckdb"
    assert built.catalog.name == "finance"
    rows = _query(
        built.path, "SELECT fiscal_year, total_revenue, net_income FROM northwind_income_statement ORDER BY 1"
    )
    assert rows == [(2021, 1000.0, "$120.5"), (2022, 1200.0, "$1,234.5"), (2023, 1100.0, "($45.0)")]
    types = _query(
        built.path,
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'globex_income_statement' ORDER BY ordinal_position",
    )
    assert types == [("fiscal_year", "INTEGER"), ("segment", "VARCHAR"), ("revenue", "DOUBLE")]
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_second_build_reuses_the_cached_file(
    source_dir: Path, cache_dir: Path, built: BuiltDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = built.path.stat()

    def no_rebuild(*args: object) -> None:
        raise AssertionError("the database was rebuilt")

    monkeypatch.setattr(database, "_build_into", no_rebuild)
    again = build_database(source_dir, cache_dir)
    assert again.path == built.path
    assert again.path.stat().st_mtime_ns == before.st_mtime_ns and again.path.stat().st_ino == before.st_ino


def test_changed_csv_rebuilds(source_dir: Path, cache_dir: Path, built: BuiltDatabase) -> None:
    csv = source_dir / "tables" / "northwind_balance_sheet.csv"
    csv.write_text(csv.read_text() + "2024,999.0\n")
    rebuilt = build_database(source_dir, cache_dir)
    assert rebuilt.path != built.path
    assert _query(rebuilt.path, "SELECT cash FROM northwind_balance_sheet WHERE fiscal_year = 2024") == [(999.0,)]
    assert _query(built.path, "SELECT count(*) FROM northwind_balance_sheet") == [(3,)]  # old file untouched


def test_changed_catalog_rebuilds(source_dir: Path, cache_dir: Path, built: BuiltDatabase) -> None:
    (source_dir / "catalog.yaml").write_text(CATALOG.replace("Tiny test catalog.", "Changed."))
    assert build_database(source_dir, cache_dir).path != built.path


def test_default_cache_dir_from_environment(source_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "envcache"))
    assert build_database(source_dir).path.parent == tmp_path / "envcache"


def test_header_mismatch_names_file_and_column(tmp_path: Path) -> None:
    files = dict(FILES)
    files["northwind_balance_sheet.csv"] = "fiscal_year,cash_eq\n2021,1.0\n"
    root = write_catalog(tmp_path / "src", files=files)
    with pytest.raises(DatabaseError) as info:
        build_database(root, tmp_path / "cache")
    message = str(info.value)
    assert "tables/northwind_balance_sheet.csv: column 'cash_eq' is in the file but not in the catalog" in message
    assert "(did you mean 'cash'?)" in message
    assert "catalog column 'cash' is missing from the file's header" in message
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-built left behind


def test_bad_value_names_column_and_value(tmp_path: Path) -> None:
    files = dict(FILES)
    files["northwind_balance_sheet.csv"] = 'fiscal_year,cash\n2021,300.0\n2022,"1,234.5"\n'
    root = write_catalog(tmp_path / "src", files=files)
    expected = r"northwind_balance_sheet.csv:3 cash: value '1,234.5' is not a valid DOUBLE"
    with pytest.raises(DatabaseError, match=expected):
        build_database(root, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_crash_mid_build_leaves_no_file(source_dir: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = database._load_table
    calls: list[str] = []

    def flaky(con: duckdb.DuckDBPyConnection, table: object, root: Path) -> None:
        calls.append("x")
        if len(calls) == 2:
            raise OSError("disk full")
        real(con, table, root)  # type: ignore[arg-type]

    monkeypatch.setattr(database, "_load_table", flaky)
    with pytest.raises(DatabaseError, match="disk full"):
        build_database(source_dir, cache_dir)
    assert list(cache_dir.iterdir()) == []
    monkeypatch.setattr(database, "_load_table", real)
    assert build_database(source_dir, cache_dir).path.is_file()


def test_parquet_date_and_boolean_sources(tmp_path: Path) -> None:
    root = tmp_path / "src"
    (root / "tables").mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT DATE '2024-06-30' AS period_end, true AS audited, 12.5 AS amount) "
        f"TO '{root / 'tables' / 'facts.parquet'}' (FORMAT parquet)"
    )
    con.close()
    (root / "catalog.yaml").write_text(
        "name: pq\ncompanies: [{id: acme, name: Acme}]\ntables:\n"
        "  - name: acme_facts\n    company: acme\n    file: tables/facts.parquet\n    columns:\n"
        "      - {name: period_end, type: DATE}\n      - {name: audited, type: BOOLEAN}\n"
        "      - {name: amount, type: DOUBLE}\n"
    )
    built = build_database(root, tmp_path / "cache")
    assert _query(built.path, "SELECT period_end, audited, amount FROM acme_facts") == [
        (dt.date(2024, 6, 30), True, 12.5)
    ]


def test_existing_duckdb_file_is_used_as_is(tmp_path: Path) -> None:
    path = tmp_path / "mine.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE acme_income AS SELECT 2024 AS fiscal_year, 1.5 AS revenue")
    con.close()
    built = build_database(path, tmp_path / "cache")
    assert built.path == path
    assert built.catalog.table("acme_income").column_names == ("fiscal_year", "revenue")


def test_open_readonly_cannot_write(built: BuiltDatabase) -> None:
    con = open_readonly(built.path)
    try:
        with pytest.raises(duckdb.Error):
            con.execute("DELETE FROM northwind_balance_sheet")
        assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
    finally:
        con.close()
    with pytest.raises(DatabaseError, match="does not exist"):
        open_readonly(built.path.with_name("nope.duckdb"))
