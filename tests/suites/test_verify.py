"""``verify_suite``: the built-in suites reproduce every answer; broken references are caught by task id."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evalkit.contracts.loader import load_suite
from evalkit.contracts.suite import ExpectedAnswer, Tolerance
from evalkit.suites.verify import compare, verify_suite

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def mutated_mini(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of the mini fixture suite with text replacements applied to its tasks.yaml."""
    root = tmp_path / "mini"
    shutil.copytree(FIXTURES / "mini", root)
    tasks = root / "suite" / "tasks.yaml"
    text = tasks.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    tasks.write_text(text)
    return root / "suite"


@pytest.mark.parametrize("name", ["finance-single", "finance-multi"])
def test_builtin_suites_verify_completely(name: str) -> None:
    suite = load_suite(name)
    report = verify_suite(suite)
    assert [r for r in report.results if not r.ok] == []
    assert report.passed and report.verified == len(suite.tasks) == len(report.results)
    assert report.summary() == f"{len(suite.tasks)}/{len(suite.tasks)} tasks verified"
    kinds = {t.answer.kind for t in suite.tasks}
    assert "number" in kinds and (name == "finance-single" or {"template", "list"} <= kinds)


def test_mini_fixture_verifies(mini_suite: Path) -> None:
    report = verify_suite(load_suite(mini_suite))
    assert report.passed and report.verified == 4


def test_wrong_value_and_refused_sql_are_reported_by_task(tmp_path: Path) -> None:
    folder = mutated_mini(
        tmp_path,
        ("value: 1350.0", "value: 1400.0"),
        ("SELECT segment FROM zenith_segment_revenue", "SELECT * FROM zenith_segment_revenue"),
    )
    report = verify_suite(load_suite(folder))
    bad = {r.task_id: r for r in report.failures}
    assert set(bad) == {"t1", "t4"}
    assert bad["t1"].status == "mismatch" and "1400" in bad["t1"].expected and bad["t1"].got == "1350 USD millions"
    assert "tolerance" in bad["t1"].reason
    assert bad["t4"].status == "error" and "SELECT * is not allowed" in bad["t4"].reason
    assert bad["t4"].line is not None and bad["t4"].line > 1
    assert report.summary() == "2/4 tasks verified (2 disagree)"
    assert not report.passed and report.to_dict()["failed"] == 2


def test_sql_errors_multi_row_text_and_bad_compute(tmp_path: Path) -> None:
    folder = mutated_mini(
        tmp_path,
        ("SELECT employees FROM acme_headcount", "SELECT staff FROM acme_headcount"),
        (
            "compute: (rev_2024 - rev_2023) / rev_2023 * 100",
            "compute: (rev_2024 - rev_2023) / rev_2023 * 100 + missing",
        ),
        ("ORDER BY revenue DESC LIMIT 1", "ORDER BY revenue DESC"),
    )
    bad = {r.task_id: r.reason for r in verify_suite(load_suite(folder)).failures}
    assert set(bad) == {"t2", "t3", "t4"}
    assert "step 2 (emp): SQL error" in bad["t3"] and "staff" in bad["t3"]
    assert "unknown name 'missing'" in bad["t2"]
    assert bad["t4"] == "a text answer needs a single value; the reference returned 3 rows"


def test_a_task_without_reference_is_unverifiable_not_failed(tmp_path: Path) -> None:
    folder = mutated_mini(tmp_path)
    tasks = folder / "tasks.yaml"
    text = tasks.read_text()
    head, sep, t4 = text.partition("  - id: t4")
    tasks.write_text(head + sep + t4.split("    reference:")[0])
    report = verify_suite(load_suite(folder))
    assert report.passed
    t4_result = next(r for r in report.results if r.task_id == "t4")
    assert t4_result.status == "unverifiable" and t4_result.ok and "no reference" in t4_result.reason
    assert report.summary() == "3/3 tasks verified (1 unverifiable: no reference)"


def test_compare_lists_text_and_numbers() -> None:
    ordered = ExpectedAnswer("list", ("Cloud Inc.", "Devices"), ordered=True)
    assert compare(ordered, ("cloud inc", "devices"))[0]
    assert compare(ordered, ("Devices", "Cloud")) == (False, "list order differs")
    assert compare(ExpectedAnswer("list", ("a", "b"), ordered=False), ("b", "a"))[0]
    assert not compare(ExpectedAnswer("list", ("a", "b"), ordered=False), ("a", "c"))[0]
    assert compare(ExpectedAnswer("text", "The Cloud segment"), "cloud")[0]
    assert not compare(ExpectedAnswer("text", "Cloud"), "Devices")[0]
    number = ExpectedAnswer("number", 11.11, unit="%", tolerance=Tolerance(abs=0.05))
    assert compare(number, 11.111)[0]
    assert not compare(number, 11.2)[0]
    assert not compare(number, "11.11")[0]
