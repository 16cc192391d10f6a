"""The commands ``evalkit run`` prints for what to do next must work when pasted as they are."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.cli_runner import CliResult, run_cli
from tests.conftest import FIXTURES


def _run(*extra: str | Path, env: dict[str, str | None] | None = None) -> CliResult:
    out = run_cli(
        "run",
        FIXTURES / "mini" / "suite",
        "-m",
        "scripted/disciplined",
        "--no-progress",
        "--no-report",
        *extra,
        env=env,
    )
    assert out.exit_code == 0, out.stderr
    return out


def test_the_show_hint_names_a_store_that_is_not_the_default(tmp_path: Path) -> None:
    """``make demo`` writes runs/demo.duckdb: its hint ``evalkit show ID`` found nothing in the default store."""
    store = tmp_path / "demo.duckdb"
    out = _run("--store", store)
    hint = re.search(r"traces: (evalkit show .+)$", out.stdout, re.M)
    assert hint is not None, out.stdout
    assert f"--store {store}" in hint.group(1)
    shown = run_cli(*shlex.split(hint.group(1))[1:])
    assert shown.exit_code == 0, shown.stderr
    assert "scripted/disciplined" in shown.stdout


def test_the_show_hint_is_plain_for_the_default_store(tmp_path: Path) -> None:
    out = _run(env={"EVALKIT_STORE": str(tmp_path / "default.duckdb")})
    hint = re.search(r"traces: (evalkit show \S+)\s*$", out.stdout, re.M)
    assert hint is not None and "--store" not in hint.group(1), out.stdout
