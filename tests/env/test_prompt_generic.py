"""The default system prompt names no column a suite may not have: imported tables seldom have a
``fiscal_year`` column (a wide income statement has ``line_item`` and one column per year)."""

from __future__ import annotations

from evalkit.env.catalog import Catalog, ColumnInfo, Company, TableInfo
from evalkit.env.prompt import system_prompt


def _catalog(*columns: str) -> Catalog:
    cols = tuple(ColumnInfo(c, "INTEGER" if "year" in c else "VARCHAR") for c in columns)
    table = TableInfo("acme_income_statement", "acme", None, "", cols)
    return Catalog("t", "", (Company("acme", "Acme"),), (table,))


def test_the_default_prompt_assumes_no_fiscal_year_column() -> None:
    text = system_prompt(None)
    assert "fiscal_year" not in text and "10-K" not in text
    assert "FINAL ANSWER:" in text and "get_table_info" in text  # the workflow itself stays


def test_a_filter_example_names_a_column_the_suite_has() -> None:
    assert "for example on fiscal_year" in system_prompt(None, _catalog("fiscal_year", "revenue"))
    wide = system_prompt(None, _catalog("line_item", "fiscal_year_2023"))
    assert "fiscal_year" not in wide.replace("fiscal_year_2023", "")
    assert "for example on line_item" in wide


def test_a_suite_prompt_is_used_as_it_is() -> None:
    assert system_prompt("Answer in one word.", _catalog("fiscal_year")) == "Answer in one word."
