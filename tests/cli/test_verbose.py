"""``evalkit -v`` / ``-vv`` explain on stderr what the trace does not: cache hits, retries, migrations."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import run_cli

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini" / "suite"


def test_verbose_levels(tmp_path: Path) -> None:
    store = str(tmp_path / "s.duckdb")
    run = ("run", str(MINI), "-m", "scripted/disciplined", "--tasks", "t1", "--store", store, "--no-progress")
    quiet = run_cli(*run, "--no-report", "--name", "first")
    assert quiet.exit_code == 0, quiet.stderr
    assert "evalkit." not in quiet.stderr  # no log lines without -v
    again = run_cli("-vv", *run, "--no-report", "--name", "second", "--new", "--cache")
    assert again.exit_code == 0, again.stderr
    assert "DEBUG evalkit.models.cache: response cache hit" in again.stderr
    info = run_cli("-v", *run, "--no-report", "--name", "third", "--new", "--cache")
    assert "DEBUG" not in info.stderr
