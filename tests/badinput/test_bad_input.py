"""Every malformed file gets a clear answer: ``file:line key: problem`` (or ``file: problem``) and exit 2.

Each mutation of ``mutations.py`` changes one file of a copy of the mini suite and its project files, then
runs the real CLI on the command that reads it. The message must name the file, the line and the key path
where there are ones, show no traceback or "internal error", and come back in a generous time (an alias
bomb must fail fast, not hang).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from tests.badinput.mutations import MUTATIONS, Mutation
from tests.cli_runner import run_cli
from tests.conftest import FIXTURES, isolated_env

CONFIG_TEXT = """\
models:
  agent:
    model: scripted/disciplined
    temperature: 0.0
"""

RUBRIC_TEXT = """\
name: mine
version: "1"
plugins: [checks.py]
criteria:
  - id: schema_first
    check: inspected_schema
    category: discovery
    weight: 2
    description: Inspected the schema before querying.
    args: {mode: fraction}
  - id: calculator
    check: used_calculator
    category: grounding
    description: Used the calculator.
"""

PLUGIN_TEXT = """\
from evalkit.scoring import Verdict, check


@check("used_calculator")
def used_calculator(ctx):
    calls = [e for e in ctx.view.tool_events if e.tool == "calculator"]
    return Verdict.passed("used it") if calls else Verdict.failed("never used the calculator")
"""

GATE_TEXT = """\
min_samples: 1
thresholds:
  accuracy: 0.0
regression:
  alpha: 0.05
  margin: 0.02
invariants:
  invented_tables: 10
"""

#: Generous: the slowest of these (an alias bomb, a 200,000-character CSV field) take well under a second.
BOUND_S = 20.0


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """A store holding one finished run of the mini suite, for the commands that read a run."""
    folder = tmp_path_factory.mktemp("badinput-run")
    env = isolated_env(folder, cache_dir)
    result = run_cli("run", FIXTURES / "mini" / "suite", "--model", "scripted/disciplined", env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    return folder / "store.duckdb"


def project(root: Path) -> Path:
    """A valid project: the mini suite and data, evalkit.yaml, a rubric with its plugin, a gate policy."""
    shutil.copytree(FIXTURES / "mini", root / "mini")
    (root / "evalkit.yaml").write_text(CONFIG_TEXT)
    (root / "rubric.yaml").write_text(RUBRIC_TEXT)
    (root / "checks.py").write_text(PLUGIN_TEXT)
    (root / "gate.yaml").write_text(GATE_TEXT)
    return root


def command(m: Mutation, root: Path, store: Path) -> list[str | Path]:
    suite = root / "mini" / "suite"
    return {
        "validate": ["suite", "validate", suite],
        "verify": ["suite", "verify", suite],
        "run": ["run", suite, "--model", "scripted/disciplined", "--limit", "1", "--store", root / "new.duckdb"],
        "score": ["score", "latest", "--rubric", root / "rubric.yaml", "--store", store],
        "gate": ["gate", "latest", "--policy", root / "gate.yaml", "--store", store],
    }[m.command]


def mutate(root: Path, m: Mutation) -> int | None:
    """Apply the mutation; the line its message must name (1-based), if any."""
    for rel, edit in ((m.file, m.edit), *m.extra):
        path = root / rel
        path.write_bytes(edit(path.read_bytes()))
    if m.line_of is None:
        return None
    needle = m.line_of.encode() if isinstance(m.line_of, str) else m.line_of
    data = (root / m.file).read_bytes()
    assert needle in data, f"{m.line_of!r} is not in the mutated file"
    return data[: data.index(needle)].count(b"\n") + 1


def test_the_corpus_is_big_enough() -> None:
    assert len(MUTATIONS) >= 60
    assert len({m.id for m in MUTATIONS}) == len(MUTATIONS)


@pytest.mark.parametrize("m", MUTATIONS, ids=[m.id for m in MUTATIONS])
def test_bad_input_gets_a_clear_message_and_exit_2(m: Mutation, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    root = project(tmp_path / "project")
    line = mutate(root, m)
    store = tmp_path / "store.duckdb"
    if m.command in ("score", "gate"):  # the commands that read a stored run
        shutil.copy(request.getfixturevalue("stored_run"), store)
    start = time.monotonic()
    result = run_cli(*command(m, root, store), cwd=root)
    elapsed = time.monotonic() - start
    out = result.stdout + result.stderr
    assert result.exit_code == 2, out
    assert "Traceback" not in out and "internal error" not in out, out
    name = Path(m.file).name
    assert name in out, out
    if line is not None:
        assert re.search(rf"{re.escape(name)}:{line}\b", out), f"expected {name}:{line} in:\n{out}"
    elif m.lined:
        assert re.search(rf"{re.escape(name)}:\d+", out), f"expected {name}:LINE in:\n{out}"
    if m.key is not None:
        assert m.key in out, f"expected the key {m.key} in:\n{out}"
    for words in m.says:
        assert words in out, f"expected {words!r} in:\n{out}"
    assert elapsed < BOUND_S
