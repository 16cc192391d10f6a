"""The renderings of comparisons (terminal, Markdown, HTML, JSON) and of gate decisions (terminal, Markdown,
JSON, JUnit), on real runs of the scripted agents (see ``conftest.py``).

The gate Markdown of the hand-built ``GateResult`` is compared with ``golden/gate.md``; after an intended
change rewrite it with ``EVALKIT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/compare/test_render.py`` and review
the diff.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from rich.console import Console

from evalkit.compare.gate_model import GateResult, RuleResult
from evalkit.compare.model import CompareReport, FlippedTask, PairComparison
from evalkit.compare.render_html import render_compare_html
from evalkit.compare.render_junit import render_gate_junit
from evalkit.compare.render_text import (
    load_schema,
    render_compare_json,
    render_compare_markdown,
    render_compare_terminal,
    render_gate_json,
    render_gate_markdown,
    render_gate_terminal,
)
from evalkit.compare.text_format import COMPARE_SCHEMA_PATH, GATE_SCHEMA_PATH, metric_name, p_text, pts, signed

GOLDEN = Path(__file__).parent / "golden"
EVIL = "<script>alert('x')</script> $5 | a\nb"
"""A label that must be escaped everywhere: markup, a table-cell separator and a newline."""


def terminal(render: Any, obj: Any) -> str:
    console = Console(width=200, record=True, color_system=None, force_terminal=False, file=io.StringIO())
    render(obj, console)
    return console.export_text()


def table_rows(markdown: str) -> list[list[list[str]]]:
    """Each Markdown table as its rows, each row as its cells (split on unescaped ``|``)."""
    tables: list[list[str]] = []
    current: list[str] = []
    for line in [*markdown.split("\n"), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return [[re.split(r"(?<!\\)\|", row) for row in t] for t in tables]


def assert_tables_consistent(markdown: str) -> None:
    tables = table_rows(markdown)
    assert tables, "no table"
    for t in tables:
        widths = {len(row) for row in t}
        assert len(widths) == 1, f"ragged table: {t}"


def assert_clean_lines(text: str) -> None:
    assert text.endswith("\n") and not text.endswith("\n\n")
    for n, line in enumerate(text.split("\n"), start=1):
        assert line == line.rstrip(), f"trailing whitespace on line {n}: {line!r}"


def section(markdown: str, heading_end: str) -> str:
    """The Markdown section whose heading line ends with ``heading_end``, up to the next heading."""
    lines = markdown.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and line.endswith(heading_end))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return "\n".join(lines[start:end])


def evil_report(report: CompareReport) -> CompareReport:
    """The report with the last run's label replaced by :data:`EVIL`."""
    last = report.leaderboard[-1]
    board = tuple(dataclasses.replace(r, label=EVIL) if r is last else r for r in report.leaderboard)
    pairs = tuple(
        dataclasses.replace(pc, label_b=EVIL) if (pc.run_b, pc.model_b) == (last.run_id, last.model) else pc
        for pc in report.comparisons
    )
    return dataclasses.replace(report, leaderboard=board, comparisons=pairs, notes=(*report.notes, EVIL))


# --- formatting ---------------------------------------------------------------------------------------------------


def test_number_formats() -> None:
    assert signed(-0.25) == "−25.0"
    assert signed(0.019) == "+1.9"
    assert signed(-0.0001) == "0.0"
    assert pts(-0.125) == "−12.5 pts"
    assert p_text(0.0004) == "<0.001"
    assert p_text(0.04321) == "0.0432"
    assert p_text(1.0) == "1.00"
    assert p_text(None) == "—"


# --- compare: Markdown and terminal -------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["two_runs", "four_runs"])
def test_compare_markdown_names_every_label_and_metric(request: pytest.FixtureRequest, fixture: str) -> None:
    report: CompareReport = request.getfixturevalue(fixture)
    md = render_compare_markdown(report)
    for row in report.leaderboard:
        assert row.label in md
    for run in report.runs:
        assert run.run_id in md
    for pc in report.comparisons:
        assert f"{pc.label_a} → {pc.label_b}" in md
        for m in pc.metrics:
            assert f"| {metric_name(m.metric)}" in md
        for f in (*pc.fixed, *pc.broken):
            assert f.side_by_side in md
    assert_tables_consistent(md)
    assert_clean_lines(md)


def test_compare_markdown_marks_the_reckless_drop(four_runs: CompareReport) -> None:
    md = render_compare_markdown(four_runs)
    reckless = section(md, "→ scripted/reckless")
    accuracy = next(line for line in reckless.split("\n") if line.startswith("| accuracy |"))
    assert "▼" in accuracy and "−100.0 pts" in accuracy and "&lt;0.001" in accuracy
    for label in ("ckpt-2", "ckpt-3"):  # one wrong answer in twelve is not significant
        noisy = section(md, f"→ scripted/noisy@0.9 @ {label}")
        assert "▼" not in next(line for line in noisy.split("\n") if line.startswith("| accuracy |"))
    trend = section(md, "Trend")
    assert "0.0% (−100.0 ▼)" in next(line for line in trend.split("\n") if line.startswith("| accuracy |"))
    assert "**Tasks that changed: 4 broken, 0 fixed**" in reckless


def test_trend_only_with_more_than_two_runs(two_runs: CompareReport, four_runs: CompareReport) -> None:
    assert "## Trend" not in render_compare_markdown(two_runs)
    trend = section(render_compare_markdown(four_runs), "Trend")
    header = trend.split("\n")[4]
    assert [c.strip() for c in header.split("|")[2:-1]] == [
        "scripted/noisy@0.9 @ ckpt-1 (ref)",
        "scripted/noisy@0.9 @ ckpt-2",
        "scripted/noisy@0.9 @ ckpt-3",
        "scripted/reckless",
    ]


def test_compare_markdown_escapes_labels_and_notes(four_runs: CompareReport) -> None:
    md = render_compare_markdown(evil_report(four_runs))
    assert "<script>" not in md
    assert "&lt;script&gt;" not in md  # only "<" is escaped, as in the report's Markdown
    assert "&lt;script>" in md and "\\|" in md
    assert_tables_consistent(md)
    assert_clean_lines(md)


def test_unpaired_samples_and_many_flips(two_runs: CompareReport) -> None:
    pc = two_runs.comparisons[0]
    broken = tuple(
        FlippedTask(
            f"task-{i:02}",
            3,
            1,
            3,
            f"evalkit show A task-{i:02}",
            f"evalkit show B task-{i:02}",
            f"evalkit show A task-{i:02} --vs B",
        )
        for i in range(11)
    )
    pc = dataclasses.replace(pc, only_a=3, unfinished=1, broken=broken)
    md = render_compare_markdown(dataclasses.replace(two_runs, comparisons=(pc,)))
    assert "compared on the 12 shared samples; 3 only in A, 0 only in B, 1 unfinished" in md
    assert "<details>\n<summary>Tasks that changed: 11 broken, 0 fixed</summary>" in md
    assert_tables_consistent(md)


def test_comparison_without_pairs(two_runs: CompareReport) -> None:
    pc = dataclasses.replace(
        two_runs.comparisons[0], pairs=0, tasks=0, metrics=(), fixed=(), broken=(), notes=("nothing",)
    )
    report = dataclasses.replace(two_runs, comparisons=(pc,))
    assert "nothing to compare" in render_compare_markdown(report)
    assert "nothing to compare" in terminal(render_compare_terminal, report)
    assert "<svg" in render_compare_html(report)


def test_compare_terminal(four_runs: CompareReport) -> None:
    text = terminal(render_compare_terminal, four_runs)
    for row in four_runs.leaderboard:
        assert row.label in text
    for m in four_runs.comparisons[-1].metrics:
        assert metric_name(m.metric) in text
    assert "Leaderboard" in text and "Trend" in text
    assert re.search(r"^accuracy .*−100\.0 pts ▼", text, re.M)
    assert "behaviours that changed most" in text
    assert "[−100.0, −100.0]" in text  # not swallowed as rich markup


def test_compare_terminal_escapes_markup(four_runs: CompareReport) -> None:
    report = evil_report(four_runs)
    report = dataclasses.replace(report, notes=("[bold]not markup[/bold]",))
    text = terminal(render_compare_terminal, report)
    assert "[bold]not markup[/bold]" in text


# --- compare: HTML ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["two_runs", "four_runs"])
def test_compare_html_is_self_contained(request: pytest.FixtureRequest, fixture: str) -> None:
    report: CompareReport = request.getfixturevalue(fixture)
    html = render_compare_html(report)
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<script" not in html and "<link" not in html
    assert html.count("<svg") == 1
    for row in report.leaderboard:
        assert row.label in html
    for pc in report.comparisons:
        for m in pc.metrics:
            assert metric_name(m.metric) in html
    assert ("Trend" in html) == (len(report.comparisons) > 1)


def test_compare_html_marks_the_reckless_drop(four_runs: CompareReport) -> None:
    html = render_compare_html(four_runs)
    assert '<tr class="worse"><td class="mono">accuracy</td>' in html
    assert "−100.0 pts ▼" in html


def test_compare_html_escapes_labels(four_runs: CompareReport) -> None:
    html = render_compare_html(evil_report(four_runs))
    assert "<script" not in html
    assert "&lt;script&gt;" in html


def test_compare_html_is_deterministic(four_runs: CompareReport, two_runs: CompareReport) -> None:
    assert render_compare_html(four_runs) == render_compare_html(four_runs)
    assert render_compare_html(two_runs) == render_compare_html(two_runs)


# --- JSON ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compare_validator() -> Draft202012Validator:
    schema = load_schema(COMPARE_SCHEMA_PATH)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def gate_validator() -> Draft202012Validator:
    schema = load_schema(GATE_SCHEMA_PATH)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _undocumented(schema: Any, where: str = "") -> list[str]:
    """Paths of properties (at any depth) without a description."""
    out: list[str] = []
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if not (isinstance(sub, dict) and sub.get("description")):
                out.append(f"{where}/{name}")
        for key, sub in schema.items():
            out += _undocumented(sub, f"{where}/{key}")
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            out += _undocumented(sub, f"{where}/{i}")
    return out


def _objects_closed(schema: Any) -> list[str]:
    """Object schemas with properties but without ``additionalProperties: false``."""
    out: list[str] = []
    if isinstance(schema, dict):
        if "properties" in schema and schema.get("additionalProperties") is not False:
            out.append(str(sorted(schema["properties"])[:3]))
        for sub in schema.values():
            out += _objects_closed(sub)
    elif isinstance(schema, list):
        for sub in schema:
            out += _objects_closed(sub)
    return out


@pytest.mark.parametrize("path", [COMPARE_SCHEMA_PATH, GATE_SCHEMA_PATH], ids=["compare", "gate"])
def test_schemas_document_every_property(path: Path) -> None:
    schema = load_schema(path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert _undocumented(schema) == []
    assert _objects_closed(schema) == []


def test_schemas_share_their_definitions() -> None:
    compare, gate = load_schema(COMPARE_SCHEMA_PATH)["$defs"], load_schema(GATE_SCHEMA_PATH)["$defs"]
    for name in ("rate", "run", "metric_change", "flipped_task", "pair_comparison"):
        assert compare[name] == gate[name], name


@pytest.mark.parametrize("fixture", ["two_runs", "four_runs"])
def test_compare_json_validates_and_round_trips(
    request: pytest.FixtureRequest, fixture: str, compare_validator: Draft202012Validator
) -> None:
    report: CompareReport = request.getfixturevalue(fixture)
    text = render_compare_json(report)
    data = json.loads(text)
    assert list(compare_validator.iter_errors(data)) == []
    assert data == json.loads(json.dumps(report.to_dict()))
    assert json.dumps(data, indent=2, ensure_ascii=False) + "\n" == text


@pytest.mark.parametrize(
    "where",
    [
        [],
        ["runs", 0],
        ["leaderboard", 0],
        ["leaderboard", 0, "accuracy"],
        ["comparisons", 0],
        ["comparisons", 0, "metrics", 0],
    ],
    ids=["top", "run", "leader", "rate", "pair", "metric"],
)
def test_compare_schema_rejects_unknown_fields(
    four_runs: CompareReport, compare_validator: Draft202012Validator, where: list[Any]
) -> None:
    data = json.loads(render_compare_json(four_runs))
    target = data
    for key in where:
        target = target[key]
    target["surprise"] = 1
    assert not compare_validator.is_valid(data)


def test_gate_json_validates(gate_result: GateResult, gate_validator: Draft202012Validator) -> None:
    data = json.loads(render_gate_json(gate_result))
    assert list(gate_validator.iter_errors(data)) == []
    assert data["failures"] == 2 and data["passed"] is False
    assert data == json.loads(json.dumps(gate_result.to_dict()))
    no_baseline = dataclasses.replace(gate_result, baseline=None, comparisons=())
    assert gate_validator.is_valid(json.loads(render_gate_json(no_baseline)))
    data["rules"][0]["surprise"] = 1
    assert not gate_validator.is_valid(data)
    data = json.loads(render_gate_json(gate_result))
    for status in ("maybe", "skip"):  # a rule passes or fails: one that cannot be applied stops the gate
        data["rules"][0]["status"] = status
        assert not gate_validator.is_valid(data)


# --- gate ---------------------------------------------------------------------------------------------------------


def test_gate_markdown_golden(gate_result: GateResult) -> None:
    md = render_gate_markdown(gate_result)
    path = GOLDEN / "gate.md"
    if os.environ.get("EVALKIT_UPDATE_GOLDEN") == "1":
        path.write_text(md, "utf-8")
    assert md == path.read_text("utf-8")


def test_gate_markdown(gate_result: GateResult) -> None:
    md = render_gate_markdown(gate_result)
    assert md.startswith("## ❌ evalkit gate failed: 2 rules\n")
    assert_tables_consistent(md)
    assert_clean_lines(md)
    rules = next(t for t in table_rows(md) if "status" in t[0][1])
    statuses = [row[1].strip() for row in rules[2:]]
    assert statuses == ["❌ fail", "❌ fail", "✅ pass", "✅ pass", "✅ pass"]  # failures first
    assert "5 rules: 3 passed, 2 failed.\n" in md
    cells = {row[2].strip(): [c.strip() for c in row[3:-1]] for row in rules[2:]}
    assert cells["accuracy >= 0.8"][1:3] == ["0.0%", "80.0%"]
    assert cells["cost per sample &lt;= 0.05"][1:3] == ["$0.0123", "$0.0500"]
    assert cells["no regression: accuracy"][1:4] == ["−100.0 pts", "−2.0 pts", "&lt;0.001"]
    assert cells["invented tables &lt;= 0"][1:3] == ["0", "0"]
    assert "scripted/noisy@0.9 @ ckpt-1 → scripted/reckless" in md


def test_gate_markdown_passed_without_baseline(gate_result: GateResult) -> None:
    rules = tuple(dataclasses.replace(r, status="pass") for r in gate_result.rules)
    passed = dataclasses.replace(gate_result, passed=True, baseline=None, comparisons=(), rules=rules, notes=())
    md = render_gate_markdown(passed)
    assert md.startswith("## ✅ evalkit gate passed\n")
    assert "Baseline" not in md and "Against the baseline" not in md
    assert_clean_lines(md)
    text = terminal(render_gate_terminal, passed)
    assert "✅ evalkit gate passed" in text and "baseline" not in text


def test_gate_terminal(gate_result: GateResult) -> None:
    text = terminal(render_gate_terminal, gate_result)
    assert text.startswith("❌ evalkit gate failed: 2 rules")
    lines = text.split("\n")
    fails = [i for i, line in enumerate(lines) if line.startswith("FAIL")]
    passes = [i for i, line in enumerate(lines) if line.startswith("pass ")]
    assert len(fails) == 2 and len(passes) == 3 and max(fails) < min(passes)
    assert "candidate reckless (20260101-000100-bbbbbb" in text
    assert "baseline  ckpt-1 (20260101-000000-aaaaaa" in text
    assert re.search(r"^accuracy .*−100\.0 pts ▼", text, re.M)


def test_gate_junit(gate_result: GateResult) -> None:
    xml = render_gate_junit(gate_result)
    root = ET.fromstring(xml)
    assert root.tag == "testsuites" and root.get("name") == "evalkit-gate"
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [r.rule for r in gate_result.rules]
    assert {c.get("classname") for c in cases} == {"gate.scripted/reckless"}
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == len(gate_result.failures) == int(root.get("failures", "-1"))
    assert root.get("tests") == str(len(gate_result.rules))
    assert (root.get("errors"), root.get("skipped")) == ("0", "0")
    regression = next(c for c in cases if c.get("name") == "no regression: accuracy")
    failure = regression.find("failure")
    assert failure is not None and failure.get("message") == gate_result.rules[2].detail
    assert "p-value: <0.001" in (failure.text or "")
    passed = [c for c in cases if c.find("failure") is None]
    assert [c.get("name") for c in passed] == [r.rule for r in gate_result.rules if r.status == "pass"]
    assert all(len(c) == 0 for c in passed)  # a passed rule is an empty test case


def test_gate_junit_one_suite_per_model(gate_result: GateResult) -> None:
    other = RuleResult("accuracy >= 0.8", "threshold", "other-model", "pass", 0.9, 0.8, "ok")
    run_rule = RuleResult("min samples", "threshold", "", "fail", 12, 50, "12 samples \x00< 50")
    result = dataclasses.replace(gate_result, rules=(*gate_result.rules, other, run_rule))
    root = ET.fromstring(render_gate_junit(result))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["gate/scripted/reckless", "gate/other-model", "gate/run"]
    assert [s.get("tests") for s in suites] == ["5", "1", "1"]
    assert root.get("failures") == "3"
    md = render_gate_markdown(result)
    assert "| min samples | — | 12 | 50 |" in md


def test_gate_rule_detail_with_newlines(gate_result: GateResult) -> None:
    rule = dataclasses.replace(gate_result.rules[0], detail="line one\nline | two")
    md = render_gate_markdown(dataclasses.replace(gate_result, rules=(rule, *gate_result.rules[1:])))
    assert "line one<br>line \\| two" in md
    assert_tables_consistent(md)


def test_pair_comparison_reuse(gate_result: GateResult) -> None:
    """The gate shows accuracy, the rubric score and the five behaviours that changed most."""
    pc: PairComparison = gate_result.comparisons[0]
    md = render_gate_markdown(gate_result)
    metrics = next(t for t in table_rows(md) if t[0][1].strip() == "metric")
    names = [row[1].strip().removesuffix(" ⚠") for row in metrics[2:]]
    assert names == ["accuracy", "rubric score", *(m.metric for m in pc.behaviours_by_change()[:5])]


def test_gate_markdown_folds_passed_rules_when_there_are_many(gate_result: GateResult) -> None:
    passing = gate_result.rules[1]
    assert passing.status == "pass"
    many = [dataclasses.replace(passing, rule=f"criterion c{i} >= 0.5") for i in range(12)]
    result = dataclasses.replace(gate_result, rules=(gate_result.rules[0], *many))
    md = render_gate_markdown(result)
    head, _, folded = md.partition("<summary>12 rules passed</summary>")
    assert folded, md
    assert gate_result.rules[0].rule.replace("<", "&lt;") in head
    assert all(f"criterion c{i} >= 0.5" in folded and f"criterion c{i} >= 0.5" not in head for i in range(12))
    few = render_gate_markdown(gate_result)
    assert "passed</summary>" not in few
