"""Runs of the fault-injection personas through the CLI: ``show`` and the report say what each persona was
designed to do, and a run says up front when a persona needs reference solutions that a suite lacks."""

from __future__ import annotations

from pathlib import Path

import yaml

from evalkit.models.personas import persona_design
from tests.cli_runner import run_cli


def _bare_suite(mini_suite: Path, folder: Path) -> Path:
    """The mini suite's questions and answers without their reference SQL (as a suite imported without sql)."""
    tasks = yaml.safe_load((mini_suite / "tasks.yaml").read_text())
    for task in tasks["tasks"]:
        task.pop("reference", None)
    suite = yaml.safe_load((mini_suite / "suite.yaml").read_text())
    suite["database"] = str((mini_suite / suite["database"]).resolve())
    folder.mkdir()
    (folder / "suite.yaml").write_text(yaml.safe_dump(suite))
    (folder / "tasks.yaml").write_text(yaml.safe_dump(tasks))
    return folder


def test_show_and_the_report_say_what_a_persona_was_designed_to_do(mini_suite: Path, tmp_path: Path) -> None:
    run = run_cli("run", mini_suite, "--model", "scripted/hostile", "--model", "scripted/disciplined", "--no-progress")
    assert run.exit_code == 0, run.stderr
    design = persona_design("scripted/hostile")
    assert design is not None and "hostile query" in design
    shown = run_cli("show", "latest", env={"COLUMNS": "300"})
    assert f"scripted/hostile: a persona that {design}" in shown.stdout
    assert "scripted/disciplined: a persona" not in shown.stdout
    report = tmp_path / "report.md"
    assert run_cli("report", "latest", "--format", "md", "--output", report).exit_code == 0
    assert f"scripted/hostile: a persona that {design}" in " ".join(report.read_text().split())


def test_a_run_warns_up_front_when_a_persona_needs_reference_solutions(mini_suite: Path, tmp_path: Path) -> None:
    bare = _bare_suite(mini_suite, tmp_path / "bare")
    result = run_cli("run", bare, "--model", "scripted/recovers", "--model", "scripted/reckless", "--no-progress")
    assert result.exit_code == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "needs reference solutions" in line]
    assert len(warning) == 1 and "scripted/recovers needs reference solutions: 4 of 4 task(s)" in warning[0]
    assert "solves single-figure lookups from the schema and declines the rest" in warning[0]
    shown = run_cli("show", "latest", env={"COLUMNS": "300"}).stdout
    t1 = next(line for line in shown.splitlines() if line.startswith("t1") and "scripted/recovers" in line)
    assert "✓" in t1 and "1350 USD millions" in t1  # the lookup, answered from the schema
