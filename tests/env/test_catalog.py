from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from evalkit.env.catalog import load_catalog
from evalkit.env.database import catalog_from_duckdb
from evalkit.errors import SpecError

from .conftest import CATALOG, write_catalog


def test_loads_typed_catalog(source_dir: Path) -> None:
    cat = load_catalog(source_dir / "catalog.yaml")
    assert cat.name == "finance"
    assert [c.id for c in cat.companies] == ["northwind", "globex"]
    assert cat.table_names == ("northwind_income_statement", "northwind_balance_sheet", "globex_income_statement")
    t = cat.table("northwind_income_statement")
    assert t.company == "northwind"
    assert t.file == source_dir / "tables" / "northwind_income_statement.csv"
    assert t.column("net_income").type == "VARCHAR"
    assert t.column("total_revenue").unit == "USD millions"
    assert t.columns[0].unit is None
    assert load_catalog(source_dir) == cat  # a folder means its catalog.yaml


def test_lookups_match_slug_name_and_ticker(source_dir: Path) -> None:
    cat = load_catalog(source_dir)
    for ref in ("northwind", "NORTHWIND", "Northwind Analytics Inc.", "northwind analytics inc", "nwa", "NWA"):
        assert cat.company(ref).id == "northwind"
    assert [t.name for t in cat.tables_of("GBX")] == ["globex_income_statement"]
    assert cat.table("NORTHWIND_BALANCE_SHEET").name == "northwind_balance_sheet"
    with pytest.raises(KeyError):
        cat.company("initech")
    with pytest.raises(KeyError):
        cat.table("northwind_cash_flow")
    with pytest.raises(KeyError):
        cat.tables_of("initech")


def _problems(tmp_path: Path, catalog: str) -> str:
    root = write_catalog(tmp_path / "bad", catalog)
    with pytest.raises(SpecError) as info:
        load_catalog(root / "catalog.yaml")
    return str(info.value)


def test_bad_column_type_names_file_line_and_key_path(tmp_path: Path) -> None:
    text = CATALOG.replace("{name: cash, type: DOUBLE", "{name: cash, type: FLOAT8")
    message = _problems(tmp_path, text)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "FLOAT8" in s)
    assert f"catalog.yaml:{line} tables[1].columns[1].type: 'FLOAT8' is not one of INTEGER, BIGINT" in message


def test_every_problem_is_reported_with_its_key_path(tmp_path: Path) -> None:
    text = (
        CATALOG.replace("company: globex\n", "company: initech\n")
        .replace("file: tables/northwind_balance_sheet.csv", "file: tables/missing.csv")
        .replace("description: Balance sheet at fiscal year end.", "descripton: typo")
        .replace("- {name: segment, type: VARCHAR, description: Reporting segment}", "- {type: VARCHAR}")
        .replace("{id: globex,", "{id: Globex Corp,")
    )
    message = _problems(tmp_path, text)
    assert "tables[2].company: unknown company 'initech'" in message
    assert "tables[1].file: 'tables/missing.csv' does not exist" in message
    assert "tables[1].descripton: unknown key 'descripton'" in message
    assert "tables[2].columns[1]: missing required key 'name'" in message
    assert "companies[1].id: 'Globex Corp' is not a valid company id" in message


def test_duplicates_and_bad_files(tmp_path: Path) -> None:
    text = CATALOG.replace("name: globex_income_statement", "name: northwind_income_statement").replace(
        "file: tables/globex_income_statement.csv", "file: /etc/passwd.csv"
    )
    message = _problems(tmp_path, text)
    assert "tables[2].name: duplicate table name 'northwind_income_statement'" in message
    assert "tables[2].file: '/etc/passwd.csv' must be a path inside the catalog's folder" in message
    message = _problems(tmp_path, CATALOG.replace("northwind_balance_sheet.csv", "northwind_balance_sheet.xlsx"))
    assert "tables[1].file: 'tables/northwind_balance_sheet.xlsx' must be a .csv or .parquet file" in message


def test_structure_and_yaml_errors(tmp_path: Path) -> None:
    assert "(top level): expected a mapping" in _problems(tmp_path, "- just\n- a list\n")
    empty = "name: x\ncompanies: [{id: a, name: A}]\ntables: []\n"
    assert "tables: expected a non-empty list" in _problems(tmp_path, empty)
    message = _problems(tmp_path, "name: [unclosed\n")
    assert "catalog.yaml:" in message and "invalid YAML" in message
    with pytest.raises(SpecError, match="cannot read catalog"):
        load_catalog(tmp_path / "nowhere" / "catalog.yaml")


def test_catalog_from_duckdb_groups_shared_prefixes(tmp_path: Path) -> None:
    path = tmp_path / "own.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE acme_income (fiscal_year INTEGER, revenue DOUBLE)")
    con.execute("CREATE TABLE acme_balance (fiscal_year INTEGER, cash DOUBLE)")
    con.execute("CREATE TABLE fx_rates (day DATE, rate DOUBLE)")
    con.close()
    cat = catalog_from_duckdb(path)
    assert {c.id for c in cat.companies} == {"acme", "default"}
    assert [t.name for t in cat.tables_of("acme")] == ["acme_balance", "acme_income"]
    assert cat.table("fx_rates").company == "default"
    assert cat.table("fx_rates").column_names == ("day", "rate")
    assert cat.table("acme_income").column("revenue").type == "DOUBLE"
    assert cat.table("acme_income").file is None and cat.table("acme_income").description == ""


def test_catalog_from_duckdb_single_pseudo_company(tmp_path: Path) -> None:
    path = tmp_path / "plain.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE income (y INTEGER)")
    con.execute("CREATE TABLE balance (y INTEGER)")
    con.close()
    cat = catalog_from_duckdb(path)
    assert [c.id for c in cat.companies] == ["default"]
    assert len(cat.tables_of("default")) == 2
