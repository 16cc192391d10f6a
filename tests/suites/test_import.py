"""``evalkit suite import``: user tables + questions -> a suite that loads, verifies and runs offline."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

import evalkit
from evalkit.contracts.loader import load_suite
from evalkit.errors import ConfigError, SpecError
from evalkit.suites.importer import import_suite
from evalkit.suites.questions import FIELDS, parse_tolerance
from evalkit.suites.verify import verify_suite
from tests.suites.test_suite_cli import invoke

INCOME = """\
Fiscal Year,Total Revenue,net_income
2022,1200.5,"$130.5"
2023,1350.0,"$151.2"
2024,1500.0,"(12.0)"
"""
STAFF = """\
fiscal_year,employees,as_of
2023,5400,2023-12-31
2024,6000,06/30/2024
"""
QUESTIONS = [
    {"question": "What was Acme's total revenue in fiscal 2023? Answer in USD millions.", "answer": 1350,
     "unit": "USD millions", "tolerance": "rel:0.001", "company": "Acme Widgets", "tables": ["acme_income"],
     "sql": "SELECT total_revenue FROM acme_income WHERE fiscal_year = 2023", "tags": ["lookup"]},
    {"question": "How many employees did Acme have at the end of fiscal 2024?", "answer": "6,000", "unit": "count",
     "company": "Acme Widgets", "sql": "SELECT employees FROM acme_staff WHERE fiscal_year = 2024",
     "difficulty": "easy"},
    {"question": "In which fiscal years was revenue above 1300?", "answer": ["2023", "2024"], "ordered": False,
     "id": "years", "sql": "SELECT fiscal_year FROM acme_income WHERE total_revenue > 1300 ORDER BY fiscal_year"},
    {"question": "By how much did revenue grow from fiscal 2023 to 2024?", "answer": "11.1%", "tolerance": 0.05},
]  # fmt: skip


def user_files(tmp_path: Path, questions: list[dict[str, object]] | None = None) -> tuple[Path, Path]:
    tables = tmp_path / "my-tables"
    tables.mkdir()
    (tables / "acme_income.csv").write_text(INCOME)
    (tables / "acme_staff.csv").write_text(STAFF)
    (tables / "notes.txt").write_text("not a table")
    qfile = tmp_path / "questions.jsonl"
    qfile.write_text("\n".join(json.dumps(q) for q in (questions or QUESTIONS)) + "\n")
    return tables, qfile


def test_import_jsonl_then_verify_and_run_offline(tmp_path: Path) -> None:
    tables, questions = user_files(tmp_path)
    result = import_suite("acme", tables, questions, out=tmp_path / "suite")
    suite = load_suite(tmp_path / "suite")
    assert result.suite.name == suite.name == "acme" and len(suite.tasks) == 4
    assert [t.id for t in suite.tasks] == ["q001", "q002", "years", "q003"]
    q1, q2, years, q3 = suite.tasks
    assert q1.company == "acme_widgets" and q1.tables == ("acme_income",) and q1.tags == ("lookup",)
    assert q1.answer.value == 1350.0 and q1.answer.tolerance.rel == 0.001
    assert q2.tables == ("acme_staff",) and q2.answer.value == 6000.0 and q2.difficulty == "easy"
    assert years.answer.kind == "list" and years.answer.ordered is False
    assert q3.answer.unit == "%" and q3.answer.tolerance.abs == 0.05 and not q3.reference.steps
    assert any("'Fiscal Year' renamed to fiscal_year" in n for n in result.notes)

    catalog = (tmp_path / "suite" / "data" / "catalog.yaml").read_text()
    assert "name: Acme Widgets" in catalog  # the one company owns every table
    copied = tmp_path / "suite" / "data" / "tables" / "acme_income.csv"
    assert copied.read_text().splitlines()[0] == "fiscal_year,total_revenue,net_income"
    assert "type: INTEGER" in catalog and "type: DOUBLE" in catalog and "type: VARCHAR" in catalog
    assert "type: DATE" not in catalog  # '06/30/2024' does not convert to DATE, so as_of stays text

    report = verify_suite(suite)
    assert report.passed and report.verified == 3 and report.unverifiable == 1

    store = tmp_path / "s.duckdb"
    run = evalkit.run_suite(str(tmp_path / "suite"), ["scripted/reckless"], store=store)
    _, samples = evalkit.get_samples(store, run.run.run_id)
    assert sorted(s.task_id for s in samples) == sorted(t.id for t in suite.tasks)
    assert all(s.status == "ok" and s.final_answer for s in samples)

    run = evalkit.run_suite(str(tmp_path / "suite"), ["scripted/disciplined"], store=store, tasks="q001,q002,years")
    _, samples = evalkit.get_samples(store, run.run.run_id)
    assert len(samples) == 3
    assert all(s.correct for s in samples), [(s.task_id, s.final_answer) for s in samples]


def test_import_csv_questions_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tables, _ = user_files(tmp_path)
    qfile = tmp_path / "questions.csv"
    qfile.write_text(
        "id,question,answer,unit,tolerance,tables,company,tags,sql\n"
        'rev23,"Revenue in 2023, in USD millions?","1,350.0",USD millions,abs:0.5,acme_income,Acme,lookup;easy,'
        "SELECT total_revenue FROM acme_income WHERE fiscal_year = 2023\n"
        "staff,Employees at the end of 2023?,5400,count,,acme_staff,Acme,,\n"
        "best,Which year had the highest revenue?,2024 ,,,,,,\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke("suite", "import", "mine", "--tables", str(tables), "--questions", str(qfile),
                          "--description", "My questions")  # fmt: skip
    assert code == 0, out
    assert "wrote suite mine to suites/mine (3 task(s), 1 with a verified reference)" in out
    suite = load_suite(tmp_path / "suites" / "mine")
    assert suite.description == "My questions"
    rev, staff, best = suite.tasks
    assert rev.answer.tolerance.abs == 0.5 and rev.tags == ("lookup", "easy") and rev.company == "acme"
    assert staff.answer.value == 5400.0 and not staff.reference.steps
    assert best.answer.kind == "number" and best.tables == ("acme_income", "acme_staff") and best.kind == "multi_table"

    code, _, err = invoke("suite", "import", "mine", "--tables", str(tables), "--questions", str(qfile))
    assert code == 2 and "already exists" in err and "--force" in err
    code, out, _ = invoke("suite", "import", "mine", "--tables", str(tables), "--questions", str(qfile), "--force")
    assert code == 0 and sorted(p.name for p in (tmp_path / "suites").iterdir()) == ["mine"]

    store = tmp_path / "s.duckdb"
    run = evalkit.run_suite(str(tmp_path / "suites" / "mine"), ["scripted/reckless"], store=store)
    _, samples = evalkit.get_samples(store, run.run.run_id)
    assert len(samples) == 3 and all(s.status == "ok" for s in samples)


def test_bad_rows_are_reported_by_line_and_field_and_nothing_is_written(tmp_path: Path) -> None:
    tables, _ = user_files(tmp_path)
    qfile = tmp_path / "questions.jsonl"
    qfile.write_text(
        '{"question": "Q1", "answer": 1350, "sql": "SELECT total_revenue FROM acme_income WHERE fiscal_year = 2023"}\n'
        "\n"
        '{"question": "Q3", "answer": "abc", "unit": "USD millions"}\n'
        '{"question": "", "answer": 5, "tolerance": "rel:x", "tables": ["acme_incme"], "colour": "red"}\n'
        "not json\n"
        '{"question": "Q6", "answer": 5, "unit": "furlongs", "kind": "number", "id": "q 6"}\n'
        '{"question": "Q7", "answer": 5, "sql": "SELECT * FROM acme_income WHERE fiscal_year = 2023"}\n'
        '{"question": "Q8", "answer": 5, "sql": "SELECT total_revenue FROM acme_income WHERE fiscal_year = 2023"}\n'
    )
    with pytest.raises(SpecError) as info:
        import_suite("bad", tables, qfile, out=tmp_path / "out")
    where = str(qfile)
    assert info.value.problems == [
        f"{where}:3 answer: not a number: 'abc'",
        f"{where}:4 colour: unknown field (allowed: {', '.join(FIELDS)})",
        f"{where}:4 question: missing",
        f"{where}:4 tolerance: 'rel:x' is not abs:N, rel:N, N or N%",
        f"{where}:4 tables: unknown table 'acme_incme' (closest: acme_income)",
        f"{where}:5: invalid JSON: Expecting value (column 1)",
        f"{where}:6 id: 'q 6' is not a valid id (letters, digits, _ . -)",
        f"{where}:6 unit: 'furlongs' is not one of USD, USD thousands, USD millions, USD billions, %, bps, x, count, "
        "shares, shares thousands, shares millions, employees, days, years",
        f"{where}:6 kind: 'number' is a kind of answer: write answer_kind: number (kind: single_table or multi_table)",
        f"{where}:7 sql: refused by the agent's sandbox: SELECT * is not allowed; name the columns you need "
        "explicitly (get_table_info lists them)",
        f"{where}:8 sql: the query gives 1350, not the answer 5 (outside the tolerance (rel 0.005))",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-tables", "questions.jsonl"]


def test_bad_csv_questions(tmp_path: Path) -> None:
    tables, _ = user_files(tmp_path)
    qfile = tmp_path / "q.csv"
    qfile.write_text('question,answr\n"Q1\nspans two lines",5\nQ2,6\n')
    with pytest.raises(SpecError) as info:
        import_suite("bad", tables, qfile, out=tmp_path / "out")
    assert f"{qfile}:1 answr: unknown column" in info.value.problems[0]
    assert f"{qfile}:1: missing the column 'answer'" in info.value.problems
    assert f"{qfile}:2 answer: missing" in info.value.problems
    assert f"{qfile}:4 answer: missing" in info.value.problems  # line numbers survive multi-line cells
    assert not (tmp_path / "out").exists()


def test_import_a_duckdb_file(tmp_path: Path) -> None:
    db = tmp_path / "books.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE globex_sales (fiscal_year INTEGER, revenue DOUBLE)")
    con.execute("CREATE TABLE globex_staff (fiscal_year INTEGER, employees INTEGER)")
    con.execute("INSERT INTO globex_sales VALUES (2023, 10.5), (2024, 12.0)")
    con.execute("INSERT INTO globex_staff VALUES (2023, 50), (2024, 55)")
    con.close()
    qfile = tmp_path / "q.jsonl"
    rows = [
        {"question": "Revenue in 2024?", "answer": 12, "company": "globex",
         "sql": "SELECT revenue FROM globex_sales WHERE fiscal_year = 2024"},
        {"question": "Staff in 2023?", "answer": 50, "company": "initech"},
    ]  # fmt: skip
    qfile.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(SpecError) as info:
        import_suite("books", db, qfile, out=tmp_path / "out")
    assert len(info.value.problems) == 1 and "unknown company 'initech'" in info.value.problems[0]
    rows[1]["company"] = "globex"
    qfile.write_text("\n".join(json.dumps(r) for r in rows))
    result = import_suite("books", db, qfile, out=tmp_path / "out")
    assert result.suite.database == (tmp_path / "out" / "data" / "books.duckdb").resolve()
    assert result.suite.tasks[0].tables == ("globex_sales",)
    assert result.suite.tasks[1].tables == ("globex_sales", "globex_staff")
    assert verify_suite(result.suite).passed


def test_refusals_before_anything_is_read(tmp_path: Path) -> None:
    tables, questions = user_files(tmp_path)
    with pytest.raises(ConfigError, match="suite name"):
        import_suite("Bad Name", tables, questions, out=tmp_path / "x")
    with pytest.raises(ConfigError, match="does not exist"):
        import_suite("x", tmp_path / "nope", questions, out=tmp_path / "x")
    other = tmp_path / "precious"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a suite folder"):
        import_suite("x", tables, questions, out=other, force=True)
    assert (other / "keep.txt").read_text() == "mine"


def test_tolerance_forms() -> None:
    assert parse_tolerance(0.5) == parse_tolerance("0.5") == parse_tolerance("abs:0.5")
    assert parse_tolerance("rel:0.01") == parse_tolerance("1%") == parse_tolerance({"rel": 0.01})
    both = parse_tolerance("abs:0.5, rel:0.01")
    assert (both.abs, both.rel) == (0.5, 0.01)
    for bad in ("rel:-1", "abs:1 abs:2", "pct:3", "", True):
        with pytest.raises(ValueError):
            parse_tolerance(bad)
