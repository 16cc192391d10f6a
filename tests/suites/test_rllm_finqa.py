"""``suite import-rllm-finqa``: the fixture in rLLM's FinQA layout (tests/fixtures/rllm_finqa, written by its
generate.py) becomes one verified suite per split; bad input is reported by file:line or skipped and counted;
the imported suite runs end to end through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from evalkit.contracts.loader import load_suite
from evalkit.errors import ConfigError, SpecError
from evalkit.suites.rllm_finqa import RllmImportSummary, import_rllm_finqa
from evalkit.suites.verify import verify_suite
from tests.cli_runner import run_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "rllm_finqa"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> RllmImportSummary:
    return import_rllm_finqa(FIXTURE, tmp_path_factory.mktemp("rllm") / "finqa")


def _tasks(summary: RllmImportSummary, split: str) -> dict[str, dict[str, object]]:
    data = yaml.safe_load((summary.path / split / "tasks.yaml").read_text(encoding="utf-8"))
    return {t["id"]: t for t in data["tasks"]}


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("generate.py", "__pycache__"))
    return dest


def test_the_fixture_is_in_the_cookbook_layout_and_regenerates_identically(tmp_path: Path) -> None:
    companies = sorted(p.name for p in (FIXTURE / "company_tables").iterdir())
    assert companies == ["bluepeak", "corvid", "marlow"]
    files = [FIXTURE / "company_tables" / c / "tables_cleaned_all_companies.json" for c in companies]
    tables = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    assert sum(len(t) for t in tables) == 27 and all(isinstance(v["table"], str) for t in tables for v in t.values())
    header = (FIXTURE / "test_finqa.csv").read_text(encoding="utf-8").splitlines()[0]
    assert (
        header
        == "id,user_query,question,answer,explanation,company,question_type,table_name,columns_used_json,rows_used_json"
    )
    before = {p: p.read_bytes() for p in FIXTURE.rglob("*") if p.is_file() and p.suffix in (".csv", ".json")}
    import runpy

    runpy.run_path(str(FIXTURE / "generate.py"), run_name="__main__")
    assert {p: p.read_bytes() for p in before} == before


def test_every_split_is_written_and_verifies(imported: RllmImportSummary) -> None:
    by_split = {s.split: s for s in imported.splits}
    assert list(by_split) == ["train", "val", "test"]
    assert (imported.tasks, imported.tables, imported.companies) == (24, 24, 3)
    assert by_split["test"].kinds == {"multi_table": 3, "single_table": 4}
    assert by_split["val"].kinds == {"single_table": 5}
    for s in imported.splits:
        suite = load_suite(s.path)
        assert suite.settings.profile == "rllm-finqa"
        report = verify_suite(suite)
        assert report.passed, report.failures
        assert report.verified == s.verified == s.tasks - s.judge_graded  # every figure reproduced from its cells
        assert report.unverifiable == s.judge_graded


def test_kinds_tables_and_the_cells_used_for_named_tasks(imported: RllmImportSummary) -> None:
    tasks = _tasks(imported, "test")
    fcf = tasks["finqa-0024"]  # multi_table: free cash flow margin over two tables
    assert fcf["kind"] == "multi_table" and fcf["company"] == "bluepeak"
    assert fcf["tables"] == [
        "bluepeak_consolidated_statements_of_cash_flows",
        "bluepeak_consolidated_statements_of_operations",
    ]
    steps = fcf["reference"]["steps"]  # type: ignore[index]
    cash, ops = "bluepeak_consolidated_statements_of_cash_flows", "bluepeak_consolidated_statements_of_operations"
    assert [s["sql"] for s in steps] == [
        f"""SELECT "c_2023" FROM {cash} WHERE "col_0" = 'Net cash provided by operating activities'""",
        f"""SELECT "c_2023" FROM {cash} WHERE "col_0" = 'Capital expenditures'""",
        f"""SELECT "c_2023" FROM {ops} WHERE "col_0" = 'Net revenues'""",
    ]  # fmt: skip
    assert fcf["reference"]["compute"] == "(c1 + c2) / c3 * 100"  # type: ignore[index]
    assert fcf["answer"] == {"kind": "number", "value": 21.4, "unit": "%", "tolerance": {"abs": 0.051, "rel": 0.005}}
    ratio = tasks["finqa-0019"]  # single_table: the rows used are two lines of one year column
    assert ratio["kind"] == "single_table" and ratio["tables"] == ["marlow_consolidated_balance_sheets"]
    assert ratio["reference"]["compute"] == "c1 / c2"  # type: ignore[index]
    train = _tasks(imported, "train")
    revenue = train["finqa-0007"]  # '$2.7 billion' from a '$ 2,650' cell of a table '(in millions, ...)'
    assert revenue["answer"]["unit"] == "USD billions" and revenue["answer"]["value"] == 2.7  # type: ignore[index]
    assert revenue["reference"]["compute"] == "(c1) * 0.001"  # type: ignore[index]
    segments = train["finqa-0008"]
    assert segments["answer"] == {"kind": "list", "value": ["Americas", "EMEA"], "ordered": False}


def test_the_reference_names_the_ground_truth_columns_for_the_identifier_checks(imported: RllmImportSummary) -> None:
    from evalkit.env.database import build_database
    from evalkit.scoring.checks.identifiers import reference_names

    suite = load_suite(imported.path / "test")
    catalog = build_database(suite.database).catalog
    tables, columns = reference_names(suite.task("finqa-0018"), catalog)
    assert tables == {
        "bluepeak_consolidated_statements_of_cash_flows",
        "bluepeak_consolidated_statements_of_operations",
    }
    assert ("bluepeak_consolidated_statements_of_operations", "c_2023") in columns
    assert ("bluepeak_consolidated_statements_of_operations", "col_0") in columns


def test_each_column_keeps_the_name_the_cookbooks_sqlite_table_gives_it(imported: RllmImportSummary) -> None:
    """``finqa_tools`` loads a table with ``pd.read_json(..., convert_dates=False)``, which reads the labels as
    dates: the year column ``2023`` is ``2023-01-01 00:00:00`` there, the unnamed first one ``NaT`` (pandas 3).
    An rLLM episode's SQL names those; the catalog keeps them as each column's ``source_name``."""
    import pandas as pd

    from evalkit.env.database import build_database

    suite = load_suite(imported.path / "test")
    table = build_database(suite.database).catalog.table("marlow_consolidated_balance_sheets")
    names = {c.name: c.source_name for c in table.columns}
    if int(pd.__version__.split(".")[0]) >= 3:
        assert names == {
            "col_0": "NaT",
            "c_2023": "2023-01-01 00:00:00",
            "c_2022": "2022-01-01 00:00:00",
            "c_2021": "2021-01-01 00:00:00",
        }
    else:  # the names then follow that pandas' reading; they are still recorded where they differ
        assert set(names) == {"col_0", "c_2023", "c_2022", "c_2021"}


def test_answers_that_are_no_figure_are_judge_graded_and_counted(imported: RllmImportSummary) -> None:
    assert imported.judge_graded == 3
    assert [s.judge_graded for s in imported.splits] == [2, 0, 1]
    task = _tasks(imported, "test")["finqa-0021"]
    assert "judge_graded" in task["tags"] and task["answer"]["kind"] == "text"  # type: ignore[index,operator]
    assert "reference" not in task


def test_empty_tables_are_skipped_with_their_line(imported: RllmImportSummary) -> None:
    assert len(imported.skipped) == 3
    where, why = imported.skipped[0]
    assert where.endswith("bluepeak/tables_cleaned_all_companies.json:34") and "legal_proceedings_index" in why


def test_a_company_file_that_is_not_json_stops_the_import_with_its_line(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    path = data / "company_tables" / "corvid" / "tables_cleaned_all_companies.json"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[4] == "  },"
    lines[4] = "  }"  # the comma after the first table's entry left out
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        import_rllm_finqa(data, tmp_path / "out")
    assert any(p.startswith(f"{path}:6: malformed JSON: Expecting ',' delimiter") for p in e.value.problems), (
        e.value.problems
    )
    assert not (tmp_path / "out").exists()


def test_rows_with_an_unknown_table_or_company_are_skipped_and_counted(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    csv_path = data / "val_finqa.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("consolidated_statements_of_operations", "statement_of_nothing")
    lines[2] = lines[2].replace(",marlow,", ",nobody,")
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = import_rllm_finqa(data, tmp_path / "out", split="val")
    skipped = {w: why for w, why in summary.skipped if w.startswith(str(csv_path))}
    assert skipped == {
        f"{csv_path}:3": "unknown company 'nobody'",
        f"{csv_path}:4": "table 'statement_of_nothing' does not exist for company 'bluepeak'",
    }
    assert [s.tasks for s in summary.splits] == [3]


def test_a_missing_question_file_is_an_error_for_one_split(tmp_path: Path) -> None:
    data = _copy(tmp_path)
    (data / "val_finqa.csv").unlink()
    with pytest.raises(SpecError, match="problem"):
        import_rllm_finqa(data, tmp_path / "out", split="val")
    with pytest.raises(ConfigError, match="not a folder"):
        import_rllm_finqa(tmp_path / "nothing", tmp_path / "out")
    summary = import_rllm_finqa(data, tmp_path / "out")  # all: the other splits are imported
    assert [s.split for s in summary.splits] == ["train", "test"]


def test_without_the_profile_the_suite_gets_evalkits_tools(tmp_path: Path) -> None:
    summary = import_rllm_finqa(FIXTURE, tmp_path / "out", split="test", profile=None)
    assert "tools" not in yaml.safe_load((summary.path / "test" / "suite.yaml").read_text(encoding="utf-8"))
    assert load_suite(summary.path / "test").settings.profile == "evalkit"
    assert verify_suite(load_suite(summary.path / "test")).passed


def test_preprocessed_rows_as_jsonl_import_like_the_csv(tmp_path: Path, imported: RllmImportSummary) -> None:
    data = _copy(tmp_path)
    import csv

    from evalkit.suites.rllm_finqa_source import parse_json_list

    with (data / "test_finqa.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    (data / "test_finqa.csv").unlink()
    with (data / "test.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:  # preprocess_fn's row
            f.write(json.dumps({
                "question": r["user_query"], "ground_truth": r["answer"], "data_source": "finqa",
                "company": r["company"], "question_id": r["id"], "question_type": r["question_type"],
                "core_question": r["question"], "table_name": parse_json_list(r["table_name"]),
                "columns_used": parse_json_list(r["columns_used_json"]),
                "rows_used": parse_json_list(r["rows_used_json"]), "explanation": r["explanation"],
            }) + "\n")  # fmt: skip
    summary = import_rllm_finqa(data, tmp_path / "out", split="test")
    assert _tasks(summary, "test") == _tasks(imported, "test")


def test_exported_rows_reimport_as_a_suite(tmp_path: Path, imported: RllmImportSummary) -> None:
    """The round trip: the suite's tasks as ``export-failures --format rllm`` writes them (its ``rllm_row``),
    with the company tables beside them, import again with the same answers."""
    from types import SimpleNamespace

    from evalkit.env.database import build_database
    from evalkit.report.failure_export import rllm_row

    suite = load_suite(imported.path / "test")
    data = _copy(tmp_path)
    (data / "test_finqa.csv").unlink()
    env = SimpleNamespace(catalog=build_database(suite.database).catalog)  # all rllm_row reads of it
    rows = [rllm_row(t, env) for t in suite.tasks]  # type: ignore[arg-type]
    (data / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    again = import_rllm_finqa(data, tmp_path / "out", split="test")
    before, after = _tasks(imported, "test"), _tasks(again, "test")
    assert list(after) == list(before) and not again.skipped[3:]
    for tid, task in before.items():
        assert after[tid]["kind"] == task["kind"] and after[tid]["tables"] == task["tables"]
        got, want = after[tid]["answer"], task["answer"]
        assert got["kind"] == want["kind"], (tid, got, want)  # type: ignore[index]
        assert got.get("value") == want.get("value") and got.get("unit") == want.get("unit"), (tid, got, want)  # type: ignore[union-attr]
    assert verify_suite(load_suite(again.path / "test")).passed


def test_the_cli_imports_prints_the_summary_and_runs_end_to_end(tmp_path: Path, store: Path) -> None:
    out = tmp_path / "finqa"
    res = run_cli("suite", "import-rllm-finqa", FIXTURE, "-o", out, "--split", "test")
    assert res.exit_code == 0, res.stderr
    assert "test: 7 task(s) (3 multi_table, 4 single_table); 1 judge-graded; 6 verified" in res.stdout
    assert "judge-graded (answer is no figure): 1" in res.stdout
    assert (
        "skipped 3:" in res.stderr
        and "tables_cleaned_all_companies.json:34: table 'legal_proceedings_index'" in res.stderr
    )
    again = run_cli("suite", "import", "--format", "rllm-finqa", FIXTURE, "-o", out, "--split", "test")
    assert again.exit_code == 2 and "already exists" in again.stderr
    forced = run_cli("suite", "import", "--format", "rllm-finqa", FIXTURE, "-o", out, "--split", "test", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert run_cli("suite", "verify", out / "test").exit_code == 0
    run = run_cli(
        "run", out / "test", "-m", "scripted/disciplined", "--rubric", "tool-discipline", "--rubric", "answer",
        "--store", store, "--no-progress", "--no-report",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    report = tmp_path / "report.json"
    res = run_cli("report", "latest", "--store", store, "-f", "json", "-o", report)
    assert res.exit_code == 0, res.stderr
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["runs"][0]["suite"] == "rllm-finqa-test"
    from evalkit.api import get_scores

    _, scores = get_scores(store, "latest", rubric="answer")
    verdicts = [s.verdict for s in scores if s.criterion == "answer_correct"]
    assert len(verdicts) == 7 and verdicts.count("pass") == 6  # every figure; the judge-graded answer is not matched
