"""A production agent's tool-calling logs scored without any gold answer: correctness is *not scored*, and
every rendering (terminal, Markdown, HTML, JSON, JUnit, ``show``, the gate) says so instead of reading 0 %.
Usage the logs do not hold (tokens, latency) reads "unknown", never 0. Naming the logged reward with
``--correct-from`` makes correctness scored again."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evalkit.api import build_report, score_traces
from evalkit.report.markdown import render_markdown
from evalkit.report.model import Report
from tests.cli_runner import run_cli
from tests.trace.tool_calling_logs import production_log, write_jsonl

RUBRICS = ["tool-discipline", "answer"]
ENV = {"COLUMNS": "220", "NO_COLOR": "1"}


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "prod-log.jsonl", production_log())


@pytest.fixture
def imported(log: Path, store: Path) -> tuple[Path, str]:
    """(store, run id) of the logs scored with both built-in rubrics and no gold."""
    result = score_traces(log, RUBRICS, store_path=store, name="prod-week-48")
    return store, result.run.run_id


@pytest.fixture
def report(imported: tuple[Path, str]) -> Report:
    store, run_id = imported
    return build_report(store, [run_id])


def test_the_report_model_says_correctness_was_not_scored(report: Report) -> None:
    (group,) = report.groups
    assert (group.finished, group.not_scored) == (4, 4)
    assert (group.accuracy.n, group.accuracy.rate) == (0, None)
    assert report.failed_by_all == ()  # no task is "failed by every model": none was judged
    assert all(row.not_scored == row.finished == 1 for row in report.tasks)
    assert not group.failure_modes and group.train_next == ()
    assert group.stop_reasons == {"final_answer": 1, "handoff": 1, "user_stop": 1, "unknown": 1}
    usage = group.usage
    assert (usage.tokens_unknown, usage.latency_unknown) == (4, 4)
    assert usage.tokens_per_sample is None and usage.latency_p50_s is None and usage.latency_p95_s is None
    assert all(row.tokens is None for row in report.tasks)


def test_terminal_report_reads_not_scored_and_unknown(imported: tuple[Path, str]) -> None:
    store, run_id = imported
    out = run_cli("report", run_id, "--store", store, env=ENV)
    assert out.exit_code == 0, out.stderr
    model_row = next(line for line in out.stdout.splitlines() if line.startswith("prod-agent") and "not scored" in line)
    assert "0.0%" not in model_row and "0/4" not in model_row
    usage_row = [line for line in out.stdout.splitlines() if line.startswith("prod-agent")][1]
    assert usage_row.split()[3:6] == ["unknown", "unknown", "unknown"]  # tokens, per sample, p50
    assert "tasks every model fails: none" in out.stdout
    assert "failure modes: correctness not scored" in out.stdout


def test_markdown_report_reads_not_scored(report: Report) -> None:
    text = render_markdown(report)
    headline = next(line for line in text.splitlines() if line.startswith("| prod-agent |"))
    assert headline.split("|")[2:4] == [" not scored ", " not scored "]
    assert "0.0%" not in headline
    assert "Tasks every model fails" in text and "- `capex`" not in text
    assert "Every finished task was answered right" not in text and "No wrong answers." not in text
    assert "Correctness was not scored" in text
    usage = [line for line in text.splitlines() if line.startswith("| prod-agent |")][-1]
    cells = [c.strip() for c in usage.split("|")[1:-1]]
    assert cells[4:9] == ["unknown", "unknown", "unknown", "unknown", "unknown"]


def test_html_report_reads_not_scored(imported: tuple[Path, str], tmp_path: Path) -> None:
    store, run_id = imported
    out = run_cli("report", run_id, "--store", store, "-f", "html", "-o", tmp_path / "r.html", env=ENV)
    assert out.exit_code == 0, out.stderr
    html = (tmp_path / "r.html").read_text("utf-8")
    row = re.search(r"<tr><th>accuracy \(95% interval\)</th><td>([^<]*)</td>", html)
    assert row is not None and row.group(1) == "not scored (4 samples without an expected answer)"
    assert "Tasks every model fails" not in html
    assert re.search(r"<tr><th>tokens</th><td>unknown</td>", html)
    assert re.search(r"<tr><th>latency p50 / p95</th><td>unknown</td>", html)
    assert ">0/1<" not in html and ">not scored<" in html  # the task table's correct column
    assert html.count('class="badge na">e0 –</a>') == 4 and 'class="badge bad">e0' not in html  # trace links
    assert "handoff 1" in html and "user_stop 1" in html and "max_turns" not in html


def test_json_report_has_nulls_and_the_unscored_count(imported: tuple[Path, str], tmp_path: Path) -> None:
    store, run_id = imported
    out = run_cli("report", run_id, "--store", store, "-f", "json", "-o", tmp_path / "r.json", env=ENV)
    assert out.exit_code == 0, out.stderr
    data = json.loads((tmp_path / "r.json").read_text("utf-8"))
    (group,) = data["groups"]
    assert group["accuracy"] == {"k": 0, "n": 0, "rate": None, "low": None, "high": None}
    assert group["not_scored"] == 4 and data["failed_by_all"] == []
    assert group["usage"]["tokens_per_sample"] is None and group["usage"]["latency_p50_s"] is None
    assert all(t["not_scored"] == 1 and t["tokens"] is None for t in data["tasks"])


def test_junit_skips_tasks_whose_correctness_was_not_scored(imported: tuple[Path, str], tmp_path: Path) -> None:
    store, run_id = imported
    out = run_cli("report", run_id, "--store", store, "-f", "junit", "-o", tmp_path / "r.xml", env=ENV)
    assert out.exit_code == 0, out.stderr
    root = ET.fromstring((tmp_path / "r.xml").read_text("utf-8"))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "0", "4")
    skips = [case.find("skipped") for case in root.iter("testcase")]
    assert all(s is not None and "correctness not scored" in (s.get("message") or "") for s in skips)
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["accuracy"] == "not scored"


def test_show_marks_no_sample_wrong(imported: tuple[Path, str]) -> None:
    store, run_id = imported
    out = run_cli("show", run_id, "--store", store, env=ENV)
    assert out.exit_code == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if "prod-agent" in line and "│" in line]
    assert len(rows) == 4 and all("not scored" in r and "✗" not in r for r in rows)
    assert "max_turns" not in out.stdout
    one = run_cli("show", run_id, "rd-spend", "--store", store, env=ENV)
    assert one.exit_code == 0, one.stderr
    assert "correctness not scored" in one.stdout and "wrong" not in one.stdout
    assert "unknown tokens · unknown latency" in one.stdout


def test_runs_list_reads_not_scored(imported: tuple[Path, str]) -> None:
    store, run_id = imported
    out = run_cli("runs", "--store", store, env=ENV)
    row = next(line for line in out.stdout.splitlines() if run_id in line)
    assert "not scored" in row


def test_a_gate_rule_that_needs_accuracy_cannot_evaluate(imported: tuple[Path, str], log: Path) -> None:
    store, run_id = imported
    out = run_cli("gate", run_id, "--store", store, "--min-accuracy", "0.5", "--min-samples", "1", env=ENV)
    assert out.exit_code == 2, out.stdout + out.stderr
    assert "not scored" in " ".join(out.stderr.split())
    baseline = score_traces(log, RUBRICS, store_path=store, name="prod-week-47").run.run_id
    regress = run_cli("gate", run_id, "--baseline", baseline, "--store", store, "--min-samples", "1", env=ENV)
    assert regress.exit_code == 2, regress.stdout + regress.stderr
    assert "not scored" in " ".join(regress.stderr.split())
    # behaviours can still be gated on
    rubric = run_cli("gate", run_id, "--store", store, "--min-rubric-score", "0.1", "--min-samples", "1", env=ENV)
    assert rubric.exit_code == 0, rubric.stdout + rubric.stderr


def test_the_logged_reward_named_as_correctness_is_scored(log: Path, store: Path, tmp_path: Path) -> None:
    out = run_cli(
        "score", "--traces", log, "-r", "answer", "--correct-from", "metadata.reward>=1", "--store", store, env=ENV
    )
    assert out.exit_code == 0, out.stderr
    report = build_report(store, ["latest"])
    (group,) = report.groups
    assert (group.accuracy.k, group.accuracy.n, group.not_scored) == (2, 4, 0)
    assert "50.0%" in render_markdown(report)


@pytest.mark.parametrize("expression", ["metadata.reward >= high", "reward>=1", "metadata.reward ~ 1"])
def test_a_bad_correct_from_exits_2_naming_the_option(log: Path, store: Path, expression: str) -> None:
    out = run_cli("score", "--traces", log, "-r", "answer", "--correct-from", expression, "--store", store, env=ENV)
    assert out.exit_code == 2
    err = " ".join(out.stderr.split())
    assert "--correct-from" in err and "e.g. metadata.reward>=1" in err and "Traceback" not in err


def test_correct_from_needs_traces(store: Path) -> None:
    out = run_cli("score", "latest", "-r", "answer", "--correct-from", "metadata.reward>=1", "--store", store, env=ENV)
    assert out.exit_code == 2 and "--correct-from is for --traces" in " ".join(out.stderr.split())


def test_score_notes_that_correctness_was_not_scored(log: Path, store: Path) -> None:
    out = run_cli("score", "--traces", log, "-r", "answer", "--store", store, env=ENV)
    assert out.exit_code == 0, out.stderr
    assert "correctness not scored for 4 of 4 episodes" in " ".join(out.stderr.split())
