"""``suite import`` of tables as annual reports print them (tests/fixtures/messy): 24 CSV files with title
lines, headers of two rows, footnote marks, parenthesised and U+2212 negatives, dashes for nil, units and
scales in the labels, EUR/GBP/JPY amounts, share counts and numeric columns stored as text because of a few
``n/a`` or ``- - %`` cells. The expected values are the figures the tables print, read by hand."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

from evalkit.contracts.loader import load_suite
from evalkit.env.database import build_database
from evalkit.suites.importer import ImportResult, import_suite
from evalkit.suites.verify import verify_suite

MESSY = Path(__file__).resolve().parents[1] / "fixtures" / "messy"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> ImportResult:
    out = tmp_path_factory.mktemp("messy") / "suite"
    return import_suite("messy", MESSY / "tables", MESSY / "questions.jsonl", out=out)


def _table(result: ImportResult, name: str) -> dict[str, object]:
    catalog = yaml.safe_load((result.path / "data" / "catalog.yaml").read_text(encoding="utf-8"))
    return next(t for t in catalog["tables"] if t["name"] == name)


def _columns(result: ImportResult, name: str) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in _table(result, name)["columns"]}  # type: ignore[attr-defined]


def _query(result: ImportResult, sql: str, tmp_path: Path) -> list[tuple[object, ...]]:
    db = build_database(result.suite.database, tmp_path / "cache")
    con = duckdb.connect(str(db.path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_fixture_has_two_dozen_tables_and_fifteen_questions() -> None:
    assert len(list((MESSY / "tables").glob("*.csv"))) >= 24
    assert len((MESSY / "questions.jsonl").read_text(encoding="utf-8").splitlines()) >= 15


def test_unicode_minus_dashes_and_parentheses_become_numbers(imported: ImportResult, tmp_path: Path) -> None:
    cols = _columns(imported, "brightwater_income_statement")
    assert cols["fiscal_year_2023"]["type"] == "INTEGER" and cols["line_item"]["type"] == "VARCHAR"
    rows = dict(
        _query(imported, "SELECT line_item, fiscal_year_2023 FROM brightwater_income_statement", tmp_path)  # type: ignore[arg-type]
    )
    assert rows["Net income"] == -45  # printed '−45' (U+2212)
    assert rows["Cost of sales"] == -3084  # '−3,084'
    got = _query(imported, "SELECT fiscal_year_2022 FROM brightwater_income_statement WHERE line_item = "
                 "'Restructuring'", tmp_path)  # fmt: skip
    assert got == [(0,)]  # '–' (en dash) is nil
    got = _query(imported, "SELECT operating_profit_2024 FROM hoshino_segments WHERE segment = 'Services'", tmp_path)
    assert got == [(-7,)]  # '(7)'


def test_multi_row_headers_are_joined_and_footnote_marks_stripped(imported: ImportResult) -> None:
    cols = _columns(imported, "kestrel_segments")
    assert list(cols) == ["segment", "revenue_2023", "revenue_2024", "operating_profit_2023", "operating_profit_2024"]
    assert "'Revenue (EUR m) 2023' in the source file" in cols["revenue_2023"]["description"]
    table = _table(imported, "kestrel_income_statement")
    assert "Consolidated income statement of Kestrel AG" in str(table["description"])
    assert "(1) Revenue from contracts with customers." in str(table["description"])  # the footnote is kept
    equity = _columns(imported, "kestrel_balance_sheet")["equity"]
    assert "'Equity (EUR m) (2)' in the source file" in equity["description"]
    assert any("footnote marks removed from 'Equity (EUR m) (2)'" in n for n in imported.notes)


def test_units_and_scales_come_from_labels_and_captions(imported: ImportResult) -> None:
    balance = _columns(imported, "cardinal_balance_sheet")
    assert balance["total_assets"]["unit"] == "USD millions"
    assert balance["provisions"]["unit"] == "USD thousands"  # a column in thousands beside ones in millions
    assert balance["fiscal_year"]["type"] == "INTEGER" and "unit" not in balance["fiscal_year"]  # 'FY2022'
    shares = _columns(imported, "hoshino_share_data")
    assert shares["shares_outstanding"]["unit"] == "shares millions"
    assert shares["weighted_average_shares"]["unit"] == "shares thousands"  # "('000)"
    assert shares["dividend_per_share"]["unit"] == "JPY" and shares["buy_back"]["unit"] == "shares"
    assert _columns(imported, "hoshino_income_statement")["fiscal_year_2024"]["unit"] == "JPY billions"  # caption
    assert _columns(imported, "brightwater_segments")["revenue_2024"]["unit"] == "GBP millions"
    assert _columns(imported, "kestrel_cash_flow")["fy_2024"]["unit"] == "EUR millions"  # '# unit:' line


def test_numbers_stored_as_text_are_cleaned_and_the_raw_text_kept(imported: ImportResult, tmp_path: Path) -> None:
    cols = _columns(imported, "kestrel_headcount")
    assert cols["change"]["type"] == "DOUBLE" and cols["change"]["unit"] == "%"
    assert "'- - %'" in cols["change"]["description"] and "'0.5%'" in cols["change"]["description"]
    assert cols["share_of_women"]["type"] == "DOUBLE" and "'n/a'" in cols["share_of_women"]["description"]
    got = _query(imported, "SELECT fiscal_year, change, attrition_rate FROM kestrel_headcount ORDER BY 1", tmp_path)
    assert got[0] == (2020, None, None) and got[-1] == (2024, 0.5, 8.3)
    price = _columns(imported, "cardinal_share_data")["share_price_high"]
    assert price["type"] == "DOUBLE" and price["unit"] == "USD" and "'$40.00'" in price["description"]
    note = next(n for n in imported.notes if n.startswith("kestrel_headcount.csv: cleaned into numbers: "))
    assert "Share of women ('n/a')" in note and "Change ('- - %', '0.5%')" in note


def test_every_reference_query_gives_the_printed_answer(imported: ImportResult) -> None:
    report = verify_suite(load_suite(imported.path))
    assert report.passed, [(r.task_id, r.reason) for r in report.failures]
    assert report.verified == 16 and report.unverifiable == 1


CONVENTIONS = """\
# caption: Order book of Acme GmbH at fiscal year end
# unit: EUR millions
# column backlog: Orders received and not yet delivered
# column Lead time: unit=days; Average time from order to delivery
# column plants: unit=count; Production sites
Fiscal year,Backlog,Lead time,Plants
2023,"1,204.5",41,n/a
2024,"(12.0)",38,7
"""


def test_caption_units_and_descriptions_from_header_lines(tmp_path: Path) -> None:
    from evalkit.suites.service import suite_info

    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "acme_orders.csv").write_text(CONVENTIONS, encoding="utf-8")
    sql = "SELECT backlog FROM acme_orders WHERE fiscal_year = 2024"
    (tmp_path / "q.jsonl").write_text(json.dumps({"question": "Backlog in 2024?", "answer": -12, "sql": sql}) + "\n")
    result = import_suite("acme", tmp_path / "tables", tmp_path / "q.jsonl", out=tmp_path / "suite")
    cols = _columns(result, "acme_orders")
    assert cols["backlog"]["unit"] == "EUR millions"  # the table's unit
    assert cols["backlog"]["description"].startswith("Orders received and not yet delivered")
    assert cols["lead_time"]["unit"] == "days" and cols["lead_time"]["description"].startswith("Average time")
    assert cols["plants"]["unit"] == "count" and "unit" not in cols["fiscal_year"]  # a year has no currency
    info = suite_info(result.path, "acme_orders").content
    assert "Order book of Acme GmbH at fiscal year end" in info
    assert "- backlog DOUBLE [EUR millions]: Orders received" in info and "'(12.0)'" in info
    assert (
        "- plants INTEGER [count]: Production sites" in info and "'n/a'" in info
    )  # the raw text is named where the agent reads it


def test_import_verify_and_run_the_fixture_through_the_cli(tmp_path: Path) -> None:
    import evalkit
    from tests.cli_runner import run_cli

    (tmp_path / "messy").mkdir()  # a folder of the suite's name in the working directory (reports, say)
    imported = run_cli(
        "suite", "import", "messy", "-t", MESSY / "tables", "-q", MESSY / "questions.jsonl", cwd=tmp_path
    )
    assert imported.exit_code == 0, imported.stderr
    assert "wrote suite messy to suites/messy (17 task(s), 16 with a verified reference)" in imported.stdout
    verified = run_cli("suite", "verify", "messy", cwd=tmp_path)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    store = tmp_path / "runs.duckdb"
    run = run_cli("run", "messy", "-m", "scripted/disciplined", "--store", store, "--no-progress", "--no-report",
                  cwd=tmp_path)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    _, samples = evalkit.get_samples(store, "latest")
    assert len(samples) == 17 and all(s.status == "ok" for s in samples)
    wrong = [(s.task_id, s.final_answer) for s in samples if not s.correct and s.task_id != "bright_margin_2024"]
    assert not wrong  # every task with a reference solution is answered right from the cleaned tables


def test_a_table_no_question_uses_belongs_to_the_company_of_its_name_prefix(imported: ImportResult) -> None:
    assert _table(imported, "hoshino_income_statement")["company"] == "hoshino_industries_kk"  # from a question
    assert _table(imported, "hoshino_balance_sheet")["company"] == "hoshino_industries_kk"  # no question uses it
    assert _table(imported, "cardinal_segments")["company"] == "cardinal_freight_inc"
