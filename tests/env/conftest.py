"""A tiny finance catalog (2 companies, 3 tables, one amount stored as text), built fresh per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.contracts.suite import SuiteSettings
from evalkit.env.database import BuiltDatabase, build_database
from evalkit.env.tools import FinanceEnvironment

CATALOG = """\
name: finance
description: Tiny test catalog.
companies:
  - {id: northwind, name: Northwind Analytics Inc., ticker: NWA, sector: Software, fiscal_year_end: June 30}
  - {id: globex, name: Globex Corporation, ticker: GBX, sector: Industrials, fiscal_year_end: December 31}
tables:
  - name: northwind_income_statement
    company: northwind
    file: tables/northwind_income_statement.csv
    description: Consolidated statement of operations, FY2021-2023.
    columns:
      - {name: fiscal_year, type: INTEGER, description: Fiscal year}
      - {name: total_revenue, type: DOUBLE, unit: USD millions, description: Total net revenue}
      - name: net_income
        type: VARCHAR
        unit: USD millions
        description: "text like $1,234.5, negatives in parentheses"
  - name: northwind_balance_sheet
    company: northwind
    file: tables/northwind_balance_sheet.csv
    description: Balance sheet at fiscal year end.
    columns:
      - {name: fiscal_year, type: INTEGER, description: Fiscal year}
      - {name: cash, type: DOUBLE, unit: USD millions, description: Cash and equivalents}
  - name: globex_income_statement
    company: globex
    file: tables/globex_income_statement.csv
    description: Income statement, FY2021-2023.
    columns:
      - {name: fiscal_year, type: INTEGER, description: Fiscal year}
      - {name: segment, type: VARCHAR, description: Reporting segment}
      - {name: revenue, type: DOUBLE, unit: USD thousands, description: Segment revenue}
"""

FILES = {
    "northwind_income_statement.csv": (
        'fiscal_year,total_revenue,net_income\n2021,1000.0,"$120.5"\n2022,1200.0,"$1,234.5"\n2023,1100.0,"($45.0)"\n'
    ),
    "northwind_balance_sheet.csv": "fiscal_year,cash\n2021,300.0\n2022,350.5\n2023,410.25\n",
    "globex_income_statement.csv": (
        "fiscal_year,segment,revenue\n"
        "2021,Aerospace,5000\n2021,Energy,7000\n"
        "2022,Aerospace,5500\n2022,Energy,7100\n"
        "2023,Aerospace,6000\n2023,Energy,6900\n"
    ),
}


def write_catalog(root: Path, catalog: str = CATALOG, files: dict[str, str] | None = None) -> Path:
    (root / "tables").mkdir(parents=True, exist_ok=True)
    (root / "catalog.yaml").write_text(catalog, encoding="utf-8")
    for name, text in (FILES if files is None else files).items():
        (root / "tables" / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def source_dir(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "src")


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def built(source_dir: Path, cache_dir: Path) -> BuiltDatabase:
    return build_database(source_dir, cache_dir)


@pytest.fixture
def env(built: BuiltDatabase) -> Iterator[FinanceEnvironment]:
    e = FinanceEnvironment(built, SuiteSettings())
    yield e
    e.close()
