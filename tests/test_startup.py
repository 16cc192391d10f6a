"""The CLI starts without its heavy dependencies: importing it and rendering the help of every command leave
litellm, pandas and DuckDB unimported (the commands import them when they run). Not timed: the timing is in
``bench/bench_engine.py``; this keeps the imports that decide it from creeping back.

"Every command" is the command tree of the real typer app, and that tree must hold every command README.md
documents, so a command that is dropped (or no longer registered) fails here instead of passing unchecked."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from typing import Any

from typer.main import get_command

from evalkit.cli.main import app
from tests.conftest import ROOT

HEAVY = ("litellm", "pandas", "duckdb")

DOCUMENTED = (
    "run",
    "runs",
    "show",
    "export",
    "import-run",
    "score",
    "report",
    "compare",
    "gate",
    "cache",
    "cache info",
    "cache prune",
    "cache clear",
    "suite",
    "suite list",
    "suite validate",
    "suite verify",
    "suite stats",
    "suite tables",
    "suite info",
    "suite sql",
    "suite import",
)
"""The commands README.md shows (``evalkit COMMAND ...`` in its examples and prose), groups included."""

PROBE = """
import json, sys
heavy = %r
import evalkit
after_package = sorted(m for m in heavy if m in sys.modules)
import evalkit.cli.main
after_import = sorted(m for m in heavy if m in sys.modules)
from typer.main import get_command
from typer.testing import CliRunner
from evalkit.cli.main import app
paths = []
def walk(cmd, prefix):
    paths.append(prefix)
    for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
        walk(sub, [*prefix, name])
walk(get_command(app), [])
runner = CliRunner()
results = {" ".join(p): runner.invoke(app, [*p, "--help"]) for p in paths}
print(json.dumps({
    "after_package": after_package,
    "after_import": after_import,
    "after_help": sorted(m for m in heavy if m in sys.modules),
    "commands": sorted(results),
    "failed": {k: (r.exit_code, r.output[-300:]) for k, r in results.items() if r.exit_code != 0},
    "root_help": results[""].output,
}))
"""


def _command_paths() -> list[str]:
    """Every command and group of the typer app as ``"group sub"``; ``""`` is ``evalkit`` itself."""
    paths: list[str] = []

    def walk(command: Any, prefix: tuple[str, ...]) -> None:
        paths.append(" ".join(prefix))
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, (*prefix, name))

    walk(get_command(app), ())
    return sorted(paths)


@cache
def _probe() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True, text=True, check=False, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_app_has_every_documented_command() -> None:
    missing = sorted(set(DOCUMENTED) - set(_command_paths()))
    assert missing == [], f"commands README.md documents but the CLI lacks: {missing}"


def test_cli_import_and_every_help_leave_heavy_modules_unimported() -> None:
    probe = _probe()
    assert probe["after_package"] == []
    assert probe["after_import"] == []
    assert probe["failed"] == {}
    assert probe["commands"] == _command_paths()  # the help of every command was rendered, groups' subcommands too
    assert set(DOCUMENTED) <= set(_command_paths())
    assert probe["after_help"] == [], f"--help of some command imported {probe['after_help']}"


def test_root_help_lists_the_commands() -> None:
    probe = _probe()
    text = probe["root_help"]
    assert isinstance(text, str)
    assert "Usage: evalkit" in text
    top_level = {p for p in _command_paths() if p and " " not in p}
    assert {c for c in DOCUMENTED if " " not in c} <= top_level
    for command in sorted(top_level):
        assert f"  {command} " in text, command
