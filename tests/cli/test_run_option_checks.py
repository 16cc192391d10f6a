"""Options that once ran and did something other than asked are refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_runner import run_cli
from tests.conftest import FIXTURES

MINI = FIXTURES / "mini" / "suite"


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--max-turns", "0", "--max-turns must be at least 1"),
        ("--max-turns", "-5", "--max-turns must be at least 1"),
        ("--max-cost", "-1", "--max-cost must be more than 0"),
        ("--max-cost", "0", "--max-cost must be more than 0"),
        ("--timeout", "0", "--timeout must be more than 0"),
        ("--sample-timeout", "-1", "--sample-timeout must be more than 0"),
    ],
)
def test_a_bad_limit_is_refused_and_leaves_no_run(flag: str, value: str, message: str, tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    out = run_cli("run", MINI, "-m", "scripted/disciplined", flag, value, "--store", store, "--no-progress")
    assert out.exit_code == 2, out.stdout
    assert message in out.stderr
    assert not store.exists() or "no runs" in run_cli("runs", "--store", store).stdout.lower()


def test_a_missing_config_named_by_the_environment_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    out = run_cli("runs", env={"EVALKIT_CONFIG": str(missing)})
    assert out.exit_code == 2
    assert f"EVALKIT_CONFIG names {missing}, which is not a file" in out.stderr
