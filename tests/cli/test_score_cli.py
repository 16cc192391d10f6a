"""``evalkit score``: external OpenAI-format traces and stored runs, through the library and the CLI."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evalkit.scoring.service import ScoreResult, score_run, score_traces
from evalkit.trace.store import TraceStore
from tests.cli_runner import CliResult, run_cli
from tests.trace.test_external import disciplined, reckless, write_jsonl

CHECKS_PLUGIN = """
from evalkit.scoring import Verdict, check
from evalkit.contracts.answers import check_answer


@check("ext_known_tables")
def known_tables(ctx):
    known = {t.lower() for t in ctx.catalog.table_names}
    bad = [(s.event.seq, t) for s in ctx.view.queries for t in s.refs.tables if t.lower() not in known]
    if bad:
        return Verdict.failed("unknown tables: " + ", ".join(t for _, t in bad), evidence=[seq for seq, _ in bad])
    return Verdict.passed("every queried table exists")


@check("ext_no_unknown_table")
def no_unknown_table(ctx):
    errors = [e.seq for e in ctx.view.errors if e.error_type == "unknown_table"]
    return Verdict.failed("queried missing tables", evidence=errors) if errors else Verdict.passed("no such error")


@check("ext_answer")
def answer(ctx):
    result = check_answer(ctx.task.answer, ctx.sample.final_answer)
    return Verdict.passed(result.reason) if result.correct else Verdict.failed(result.reason)
"""

RUBRIC = """
name: external-check
version: "1"
plugins: [ext_checks.py]
criteria:
  - {id: known_tables, check: ext_known_tables, category: schema, applies_when: {needs_catalog: true}}
  - {id: no_unknown_table, check: ext_no_unknown_table, category: recovery}
  - {id: answer, check: ext_answer, category: correctness, severity: critical, applies_when: {needs_task: true}}
"""


@pytest.fixture
def rubric(tmp_path: Path) -> Path:
    (tmp_path / "ext_checks.py").write_text(CHECKS_PLUGIN)
    path = tmp_path / "external-check.yaml"
    path.write_text(textwrap.dedent(RUBRIC))
    return path


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "agent-traces.jsonl", [disciplined(), reckless()])


def counts(result: ScoreResult, criterion: str) -> tuple[int, int, int]:
    c = next(c for c in result.criteria if c.criterion == criterion)
    return c.passed, c.failed, c.na


def test_imported_traces_are_scored_and_catalog_criteria_need_the_suite(
    traces: Path, rubric: Path, store: Path, mini_suite: Path
) -> None:
    bare = score_traces(traces, rubric, suite=None, store_path=store)
    assert bare.samples == 2 and bare.suite is None and bare.run.suite == "external"
    assert counts(bare, "known_tables") == (0, 0, 2)  # needs the catalog: N/A, never a fail
    assert counts(bare, "no_unknown_table") == (1, 1, 0)
    assert counts(bare, "answer") == (1, 1, 0)  # tasks built from each line's "expected"

    full = score_traces(traces, rubric, suite=str(mini_suite), store_path=store)
    assert full.run.run_id != bare.run.run_id and full.run.suite == "mini"
    assert counts(full, "known_tables") == (1, 1, 0)
    assert counts(full, "answer") == (1, 1, 0)
    by_sample = {(s.sample_id, s.criterion): s for s in full.scores}
    missing = by_sample[("t1|reckless-agent|0", "known_tables")]
    assert "acme_financials" in missing.reason and missing.evidence == (3, 5)  # the failed tool events

    with TraceStore.open(store, write=False) as st:
        samples = {s.model: s for s in st.samples(full.run.run_id, with_events=True)}
        assert st.get_run(full.run.run_id).options["source"] == "external"
    bad = samples["reckless-agent"]
    assert [(e.tool, e.error_type) for e in bad.events if e.kind == "tool"] == [("sql_query", "unknown_table")] * 2
    assert samples["careful-agent"].correct is True and bad.correct is False

    # a later re-score of the imported run, from the store alone, rebuilds the tasks from "expected"
    again = score_run(store, bare.run.run_id, rubric)
    assert counts(again, "answer") == (1, 1, 0) and again.notes == ()


def table_row(stdout: str, criterion: str) -> list[str]:
    """The cells of a criterion's row in the printed table."""
    line = next(line for line in stdout.splitlines() if line.lstrip().startswith(criterion))
    return line.split()


def evalkit_cli(*args: str, cwd: Path) -> CliResult:
    """``evalkit ARGS`` from ``cwd``, wide and without colour so the table rows can be read cell by cell."""
    return run_cli(*args, cwd=cwd, env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_cli_scores_external_traces_with_and_without_a_suite(
    traces: Path, rubric: Path, store: Path, mini_suite: Path, tmp_path: Path
) -> None:
    bare = evalkit_cli("score", "--traces", str(traces), "--rubric", str(rubric), "--model-name", "x", cwd=tmp_path)
    assert bare.returncode == 0, bare.stderr
    assert "suite: none" in bare.stdout and "2 samples" in bare.stdout
    header = next(line for line in bare.stdout.splitlines() if line.startswith("criterion"))
    assert header.split() == ["criterion", "category", "severity", "rate", "pass", "fail", "value", "na", "skip", "err"]
    row = table_row(bare.stdout, "known_tables")
    assert row == ["known_tables", "schema", "normal", "—", "0", "0", "0", "2", "0", "0"]

    full = evalkit_cli("score", "--traces", str(traces), "--rubric", str(rubric), "--suite", str(mini_suite),
                       cwd=tmp_path)  # fmt: skip
    assert full.returncode == 0, full.stderr
    row = table_row(full.stdout, "known_tables")
    assert row[:10] == ["known_tables", "schema", "normal", "50%", "1", "1", "0", "0", "0", "0"]
    assert sorted(row[10:]) == ["0%", "100%"]  # the two episodes' models, one column each
    with TraceStore.open(store, write=False) as st:
        runs = st.list_runs()
    assert len(runs) == 2 and runs[0].models == ("careful-agent", "reckless-agent") and runs[1].models == ("x",)
    assert f"run {runs[0].run_id}" in full.stdout and f"run {runs[1].run_id}" in bare.stdout

    # re-scoring the stored run by reference: no --traces, no model call
    rescore = evalkit_cli("score", "latest", "--rubric", str(rubric), cwd=tmp_path)
    assert rescore.returncode == 0, rescore.stderr
    assert f"run {runs[0].run_id}" in rescore.stdout and "suite: " + str(mini_suite.resolve()) in rescore.stdout


def test_cli_reports_malformed_trace_lines_with_exit_code_2(rubric: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [disciplined(), "{oops", {"messages": []}])
    out = evalkit_cli("score", "--traces", str(path), "--rubric", str(rubric), cwd=tmp_path)
    assert out.returncode == 2
    err = " ".join(out.stderr.split())
    assert f"{path}:2: invalid JSON" in err and f"{path}:3: messages: must be a non-empty list" in err
    assert "Traceback" not in out.stderr


def test_cli_usage_errors_exit_2(rubric: Path, traces: Path, tmp_path: Path) -> None:
    no_rubric = evalkit_cli("score", "--traces", str(traces), cwd=tmp_path)
    assert no_rubric.returncode == 2 and "--rubric" in no_rubric.stderr
    both = evalkit_cli("score", "latest", "--traces", str(traces), "--rubric", str(rubric), cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr
    nothing = evalkit_cli("score", "--rubric", str(rubric), cwd=tmp_path)  # an empty store: nothing to score
    assert nothing.returncode == 2 and "no runs" in nothing.stderr


def test_the_score_command_module_imports_nothing_heavy() -> None:
    code = (
        "import sys, evalkit.cli.score; "
        "print(','.join(m for m in ('litellm', 'pandas', 'duckdb', 'jinja2', 'sqlglot') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
