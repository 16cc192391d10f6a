"""The terminal and Markdown renderings of the shared report run.

Both are compared with golden files in ``tests/report/golden/`` (``report.txt``, ``report.md``), so any change
to a rendering shows up as a diff to review. The volatile fields (run id, creation time, latencies, rubric
version keys, suite hash, evalkit version) are replaced in the ``Report`` before rendering; the rest of the
fixture run is deterministic. After an intended change, rewrite the golden files with::

    EVALKIT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/report/test_terminal_markdown.py

and review the diff before committing.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from evalkit.report.markdown import render_markdown
from evalkit.report.model import Report, Usage
from evalkit.report.terminal import render_terminal

GOLDEN = Path(__file__).parent / "golden"
RUN_ID = "20260101-000000-abcdef"
RUN_ID_PATTERN = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")


def stable(report: Report) -> Report:
    """The report with its volatile fields fixed: one run id, a creation time, latencies and versions."""
    ids = {run.run_id: RUN_ID if i == 0 else f"20260101-00000{i}-abcdef" for i, run in enumerate(report.runs)}
    runs = tuple(
        dataclasses.replace(
            run,
            run_id=ids[run.run_id],
            created_at="2026-01-01T00:00:00.000000+00:00",
            suite_hash="0123456789abcdef",
            rubrics=tuple((name, "1.0+000000000000") for name, _ in run.rubrics),
        )
        for run in report.runs
    )
    groups = tuple(
        dataclasses.replace(
            g, run_id=ids[g.run_id], usage=dataclasses.replace(g.usage, latency_p50_s=1.25, latency_p95_s=2.5)
        )
        for g in report.groups
    )
    tasks = tuple(dataclasses.replace(t, run_id=ids[t.run_id]) for t in report.tasks)
    notes = tuple(RUN_ID_PATTERN.sub(lambda m: ids.get(m.group(0), RUN_ID), n) for n in report.notes)
    return dataclasses.replace(report, runs=runs, groups=groups, tasks=tasks, notes=notes, evalkit_version="0.0.0-test")


def terminal_text(report: Report) -> str:
    console = Console(width=120, record=True, color_system=None, force_terminal=False, file=io.StringIO())
    render_terminal(report, console)
    text = console.export_text()
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("EVALKIT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with EVALKIT_UPDATE_GOLDEN=1 to write it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} changed: review, then rewrite it with EVALKIT_UPDATE_GOLDEN=1"


def table_blocks(markdown: str) -> list[list[str]]:
    """The Markdown tables: runs of consecutive lines starting with ``|``."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def columns(row: str) -> int:
    """Cells of a table row: its unescaped pipes minus one."""
    return len(re.findall(r"(?<!\\)\|", row)) - 1


def with_unknown_cost(report: Report) -> Report:
    unknown = Usage(
        prompt_tokens=100,
        completion_tokens=10,
        tokens_per_sample=13.75,
        latency_p50_s=None,
        latency_p95_s=None,
        cost_usd=None,
        cost_unknown=8,
        cost_per_sample_usd=None,
        cost_per_correct_usd=None,
    )
    groups = (dataclasses.replace(report.groups[0], usage=unknown), *report.groups[1:])
    return dataclasses.replace(report, groups=groups)


# --- golden files -------------------------------------------------------------------------------------------


def test_terminal_matches_golden(report: Report) -> None:
    text = terminal_text(stable(report))
    assert not RUN_ID_PATTERN.search(text.replace(RUN_ID, ""))
    check_golden("report.txt", text)


def test_markdown_matches_golden(report: Report) -> None:
    text = render_markdown(stable(report))
    assert not RUN_ID_PATTERN.search(text.replace(RUN_ID, ""))
    check_golden("report.md", text)


def test_stable_report_fixes_every_run_id(report: Report) -> None:
    fixed = stable(report)
    real = {run.run_id for run in report.runs}
    assert real.isdisjoint({fixed.runs[0].run_id, *(g.run_id for g in fixed.groups), *(t.run_id for t in fixed.tasks)})


# --- terminal ----------------------------------------------------------------------------------------------


def test_terminal_shows_figures_per_group(report: Report) -> None:
    text = terminal_text(report)
    for g in report.groups:
        assert g.label in text
    assert "100.0% [67.6, 100.0]" in text  # the disciplined agent's accuracy with its interval
    assert "pass@2" in text and "pass^2" in text
    assert "invented a table or column" in text
    assert "valid_identifiers !" in text  # a critical criterion is marked
    assert "explains 4 wrong answers" in text
    assert "tasks every model fails: none" in text


def test_terminal_shows_unknown_cost_as_unknown(report: Report) -> None:
    text = terminal_text(with_unknown_cost(report))
    row = next(line for line in text.splitlines() if line.startswith(report.groups[0].label) and "unknown" in line)
    assert "$0" not in row
    assert row.count("unknown") == 2  # the cost and the cost per correct answer


def test_terminal_escapes_rich_markup(report: Report) -> None:
    groups = (dataclasses.replace(report.groups[0], label="model [bold]x[/bold]"), *report.groups[1:])
    text = terminal_text(dataclasses.replace(report, groups=groups, notes=("see [red]this[/red]",)))
    assert "model [bold]x[/bold]" in text
    assert "note: see [red]this[/red]" in text


def test_terminal_module_does_not_import_pandas() -> None:
    code = "import sys, evalkit.report.terminal, evalkit.report.markdown; sys.exit('pandas' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- Markdown -----------------------------------------------------------------------------------------------


def test_markdown_names_every_group_and_run(report: Report) -> None:
    text = render_markdown(report)
    for g in report.groups:
        assert g.label in text
    assert report.runs[0].run_id in text
    assert text.startswith("# evalkit report: report-fixture\n")


def test_markdown_tables_have_consistent_columns(report: Report) -> None:
    blocks = table_blocks(render_markdown(report))
    assert len(blocks) >= 8
    for block in blocks:
        assert len(block) >= 3, block  # header, alignment, at least one row
        widths = {columns(row) for row in block}
        assert len(widths) == 1, block
        assert re.fullmatch(r"\|( -{3}:? \|)+", block[1]), block[1]


def test_markdown_has_no_trailing_whitespace(report: Report) -> None:
    text = render_markdown(report)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(line == line.rstrip() for line in text.splitlines())


def test_markdown_escapes_pipes_and_newlines_in_cells(report: Report) -> None:
    label = "evil|model\nline two"
    groups = (dataclasses.replace(report.groups[0], label=label), *report.groups[1:])
    tasks = tuple(dataclasses.replace(t, label=label) if t.label == report.groups[0].label else t for t in report.tasks)
    run = dataclasses.replace(report.runs[0], name="run|name")
    text = render_markdown(
        dataclasses.replace(report, runs=(run,), groups=groups, tasks=tasks, notes=("a note | with a pipe\nand more",))
    )
    assert "evil\\|model<br>line two" in text
    assert "evil|model" not in text
    for block in table_blocks(text):
        assert len({columns(row) for row in block}) == 1, block
    assert "- a note | with a pipe and more" in text.splitlines()
    assert all(line == line.rstrip() for line in text.splitlines())


def test_markdown_marks_critical_criteria(report: Report) -> None:
    text = render_markdown(report)
    assert "| ⚠ **valid_identifiers** | tool-discipline |" in text
    assert "| efficiency | tool-discipline |" in text


def test_markdown_lists_at_most_max_tasks_failing_tasks(report: Report) -> None:
    failing = sum(1 for t in report.tasks if t.correct < t.finished)
    assert failing == 7
    text = render_markdown(report, max_tasks=2)
    section = text.split("## Failing tasks", 1)[1]
    assert sum(1 for line in section.splitlines() if line.startswith("| scripted/")) == 2
    assert f"and {failing - 2} more." in section
    assert "<details>" in section and "</details>" in section


def test_markdown_shows_unknown_cost_as_unknown(report: Report) -> None:
    text = render_markdown(with_unknown_cost(report))
    headline = next(line for line in text.splitlines() if line.startswith(f"| {report.groups[0].label} | 100.0%"))
    assert headline.endswith("| unknown |")
    usage = next(line for line in text.splitlines() if line.startswith(f"| {report.groups[0].label} | 8 |"))
    assert usage.endswith("| unknown | unknown |")


def test_markdown_lists_tasks_every_model_fails(report: Report) -> None:
    text = render_markdown(dataclasses.replace(report, failed_by_all=("t3",)))
    section = text.split("### Tasks every model fails", 1)[1].split("##", 1)[0]
    assert "- `t3`" in section


@pytest.mark.parametrize("notes", [(), ("one note",)])
def test_markdown_notes_section_only_with_notes(report: Report, notes: tuple[str, ...]) -> None:
    text = render_markdown(dataclasses.replace(report, notes=notes))
    assert ("## Notes" in text) == bool(notes)


def test_pass_k_columns_name_k_when_groups_differ(report: Report) -> None:
    three = dataclasses.replace(
        report.groups[0], pass_at_k={"1": 1.0, "2": 1.0, "3": 1.0}, pass_hat_k={"1": 1.0, "2": 1.0, "3": 0.9}
    )
    single = dataclasses.replace(report.groups[2], pass_at_k={}, pass_hat_k={})
    mixed = dataclasses.replace(report, groups=(three, report.groups[1], single))
    text = render_markdown(mixed)
    assert "| pass@k | pass^k |" in text
    assert "| 100.0% (k=3) | 90.0% (k=3) |" in text and "| 75.0% (k=2) | 25.0% (k=2) |" in text
    assert "pass@k" in terminal_text(mixed)
    same = dataclasses.replace(report, groups=(report.groups[0], single))
    assert "| pass@2 | pass^2 |" in render_markdown(same)  # a group without epochs does not hide k
