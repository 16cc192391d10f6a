"""The CLI starts without its heavy dependencies: importing it and rendering the help of every command leave
litellm, pandas and DuckDB unimported (the commands import them when they run). Not timed: the timing is in
``bench/bench_engine.py``; this keeps the imports that decide it from creeping back."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache

from tests.conftest import ROOT

HEAVY = ("litellm", "pandas", "duckdb")

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


@cache
def _probe() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True, text=True, check=False, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_cli_import_and_every_help_leave_heavy_modules_unimported() -> None:
    probe = _probe()
    assert probe["after_package"] == []
    assert probe["after_import"] == []
    assert probe["failed"] == {}
    commands = probe["commands"]
    assert isinstance(commands, list)
    assert {"", "run", "runs", "show", "export", "suite"} <= set(commands)
    assert any(c.startswith("suite ") for c in commands)  # the subcommands of groups are covered too
    assert probe["after_help"] == [], f"--help of some command imported {probe['after_help']}"


def test_root_help_lists_the_commands() -> None:
    probe = _probe()
    text = probe["root_help"]
    assert isinstance(text, str)
    assert "Usage: evalkit" in text
    for command in ("run", "runs", "show", "export", "suite"):
        assert f"  {command} " in text
