"""``evalkit report`` and the reports ``evalkit run`` writes, through the command line."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from evalkit.report.model import Report
from evalkit.report.write import target_paths
from tests.cli_runner import run_cli
from tests.conftest import FIXTURES


def test_terminal_report_names_every_model(report_store: tuple[Path, str]) -> None:
    store, run_id = report_store
    out = run_cli("report", run_id[:12], "--store", str(store))
    assert out.returncode == 0, out.stderr
    for label in ("scripted/disciplined", "scripted/reckless", "scripted/noisy@0.5"):
        assert label in out.stdout
    assert "invented a table or column" in out.stdout and "What to train next" in out.stdout


def test_every_file_format_under_the_reports_folder(report_store: tuple[Path, str], tmp_path: Path) -> None:
    store, _ = report_store
    out = run_cli(
        "report", "report-fixture", "--store", str(store), "-f", "md", "-f", "html", "-f", "json", "-f", "junit"
    )
    assert out.returncode == 0, out.stderr
    folder = Path(os.environ["EVALKIT_REPORTS_DIR"])
    files = {p.suffix: p for p in folder.iterdir()}
    assert set(files) == {".md", ".html", ".json", ".xml"} and all(p.stem == "report-fixture" for p in files.values())
    assert json.loads(files[".json"].read_text())["groups"]
    assert ET.parse(files[".xml"]).getroot().tag == "testsuites"
    assert "<svg" in files[".html"].read_text()
    assert str(files[".md"]) in out.stderr


def test_output_path_and_its_errors(report_store: tuple[Path, str], tmp_path: Path) -> None:
    store, _ = report_store
    target = tmp_path / "out" / "summary.md"
    ok = run_cli("report", "latest", "--store", str(store), "-f", "md", "-o", str(target))
    assert ok.returncode == 0, ok.stderr
    assert target.read_text().startswith("# evalkit report")
    two = run_cli("report", "latest", "--store", str(store), "-f", "md", "-f", "json", "-o", str(tmp_path / "x.md"))
    assert two.returncode == 2 and "give a folder" in two.stderr
    folder = run_cli("report", "latest", "--store", str(store), "-f", "md", "-f", "json", "-o", str(tmp_path / "dir"))
    assert folder.returncode == 0 and len(list((tmp_path / "dir").iterdir())) == 2
    missing = run_cli("report", "no-such-run", "--store", str(store))
    assert missing.returncode == 2 and "no-such-run" in missing.stderr
    bad = run_cli("report", "latest", "--store", str(store), "-f", "pdf")
    assert bad.returncode == 2 and "pdf" in bad.stderr


def test_output_folder_by_trailing_slash_or_several_runs(
    report_store: tuple[Path, str], report: Report, tmp_path: Path
) -> None:
    """``-o out/`` is a folder (created) even for one format; so is an extension-less ``-o`` for several runs."""
    store, _ = report_store
    slash = run_cli("report", "latest", "--store", str(store), "-f", "json", "-o", f"{tmp_path / 'out'}/")
    assert slash.returncode == 0, slash.stderr
    assert (tmp_path / "out").is_dir() and [p.suffix for p in (tmp_path / "out").iterdir()] == [".json"]
    other = replace(report.runs[0], run_id="other", name="other")
    two_runs = replace(report, runs=(*report.runs, other))
    paths = target_paths(two_runs, ["md"], tmp_path / "both")
    assert paths["md"].parent == tmp_path / "both" and paths["md"].name.endswith("__other.md")
    assert target_paths(report, ["md"], tmp_path / "one")["md"] == tmp_path / "one"


def test_run_writes_its_markdown_and_html_reports(tmp_path: Path) -> None:
    suite = str(FIXTURES / "mini" / "suite")
    out = run_cli("run", suite, "--model", "scripted/disciplined", "--name", "with-reports", "--no-progress")
    assert out.returncode == 0, out.stderr
    folder = Path(os.environ["EVALKIT_REPORTS_DIR"])
    assert sorted(p.name for p in folder.iterdir()) == ["with-reports.html", "with-reports.md"]
    assert "md report:" in out.stdout
    quiet = run_cli(
        "run", suite, "--model", "scripted/reckless", "--name", "no-reports", "--no-report", "--no-progress"
    )
    assert quiet.returncode == 0, quiet.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["with-reports.html", "with-reports.md"]
