"""The GitHub Actions example (``examples/github-actions/``) and the example policy (``examples/gate.yaml``).

The workflow must have the steps a gate needs, and every ``evalkit`` command in it (and in its README) must
use a subcommand and options that exist: each option is looked up in the subcommand's ``--help``, so renaming
an option without updating the example fails here.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from evalkit.cli.main import app
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
WORKFLOW = EXAMPLES / "github-actions" / "evalkit-gate.yml"
README = EXAMPLES / "github-actions" / "README.md"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
"""A GitHub Actions expression; replaced by a placeholder before a command line is split."""


def _workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def _steps() -> list[dict[str, Any]]:
    jobs = _workflow()["jobs"]
    assert len(jobs) == 1, "one job"
    steps = next(iter(jobs.values()))["steps"]
    assert isinstance(steps, list)
    return steps


def _evalkit_commands(script: str) -> list[list[str]]:
    """Every ``evalkit ...`` command of a shell script, as its words (expressions replaced by ``X``)."""
    text = EXPRESSION.sub("X", script).replace("\\\n", " ")
    commands = []
    for line in text.split("\n"):
        for part in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(part, comments=True)
            if words and words[0] == "evalkit":
                commands.append(words)
    return commands


def _readme_commands() -> list[list[str]]:
    blocks = re.findall(r"```(?:bash|sh|console)\n(.*?)```", README.read_text("utf-8"), re.S)
    return [c for block in blocks for c in _evalkit_commands(block)]


def _workflow_commands() -> list[list[str]]:
    return [c for step in _steps() if "run" in step for c in _evalkit_commands(str(step["run"]))]


def _options(words: list[str]) -> list[str]:
    """The options a command line uses (``--name``, ``-o``), without their ``=value``."""
    return [w.split("=", 1)[0] for w in words[2:] if re.fullmatch(r"--[a-z][a-z0-9-]*(=.*)?|-[a-zA-Z]", w)]


@cache
def _help(subcommand: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [subcommand, "--help"], env={"COLUMNS": "240", "NO_COLOR": "1", "TERM": "dumb"})
    return result.exit_code, result.output


def _step(predicate: Any) -> dict[str, Any]:
    found = [s for s in _steps() if predicate(s)]
    assert found, "no such step"
    return found[0]


def _uses(prefix: str) -> Any:
    return lambda s: str(s.get("uses", "")).startswith(prefix)


def _runs(fragment: str) -> Any:
    return lambda s: fragment in str(s.get("run", ""))


def test_workflow_triggers_on_pull_requests() -> None:
    wf = _workflow()
    on = wf.get("on", wf.get(True))  # PyYAML reads the key `on` as the boolean True
    assert on is not None, "no `on:`"
    assert "pull_request" in (on if isinstance(on, (dict, list)) else [on])


def test_workflow_steps() -> None:
    steps = _steps()
    checkout = steps.index(_step(_uses("actions/checkout@")))
    python = _step(_uses("actions/setup-python@"))
    assert str(python["with"]["python-version"]) == "3.11"
    install = steps.index(_step(_runs("pip install")))
    run = _step(_runs("evalkit run"))
    gate = _step(_runs("evalkit gate"))
    assert checkout < steps.index(python) < install < steps.index(run) < steps.index(gate)
    assert any("secrets." in str(v) for v in (run.get("env") or {}).values()), "the provider key comes from secrets"
    upload = _step(_uses("actions/upload-artifact@"))
    assert upload.get("if") == "always()"
    assert str(upload["with"]["path"]).rstrip("/") == "reports"


def test_gate_step() -> None:
    (gate,) = _evalkit_commands(str(_step(_runs("evalkit gate"))["run"]))
    (run,) = _evalkit_commands(str(_step(_runs("evalkit run"))["run"]))
    assert gate[2] == run[run.index("--name") + 1], "the gate checks the run the workflow made"
    assert gate[gate.index("--store") + 1] == run[run.index("--store") + 1]
    baseline = gate[gate.index("--baseline") + 1]
    assert not baseline.startswith(("/", "X", "runs/", "reports/")) and "X" not in baseline
    assert baseline.endswith((".jsonl", ".jsonl.gz")), "a file from `evalkit export`, committed to the repository"
    assert (ROOT / baseline).is_file(), "the baseline the workflow names is committed"
    policy = gate[gate.index("--policy") + 1]
    assert (ROOT / policy).is_file()
    junit = gate[gate.index("--junit") + 1]
    assert junit.startswith("reports/"), "the JUnit file is in the uploaded folder"


def test_workflow_publishes_the_summary() -> None:
    text = WORKFLOW.read_text("utf-8")
    uploads = [s for s in _steps() if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert "GITHUB_STEP_SUMMARY" in text or uploads


def test_readme_explains_baseline_and_exit_codes() -> None:
    text = README.read_text("utf-8")
    commands = [" ".join(c[:3]) for c in _readme_commands()]
    assert "evalkit export baseline" in commands
    assert any(c.startswith("evalkit run finance-single") for c in commands)
    for code, meaning in (("0", "passed"), ("1", "failed"), ("2", "could not evaluate")):
        assert re.search(rf"^\| {code} \| [^\n]*{meaning}", text, re.M), code


COMMANDS = [("workflow", c) for c in _workflow_commands()] + [("README", c) for c in _readme_commands()]


@pytest.mark.parametrize(("where", "words"), COMMANDS, ids=[f"{w}:{' '.join(c[:2])}" for w, c in COMMANDS])
def test_commands_use_existing_options(where: str, words: list[str]) -> None:
    subcommand = words[1]
    code, text = _help(subcommand)
    assert code == 0, f"`evalkit {subcommand}` ({where}) does not exist:\n{text}"
    for option in _options(words):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), f"{where}: evalkit {subcommand} {option}"


def test_workflow_has_run_and_gate_commands() -> None:
    assert {c[1] for c in _workflow_commands()} == {"run", "gate"}


def test_example_policy_keys() -> None:
    policy = yaml.safe_load((EXAMPLES / "gate.yaml").read_text("utf-8"))
    assert policy == {
        "min_samples": 50,
        "thresholds": {
            "accuracy": 0.7,
            "rubric_score": 0.8,
            "cost_per_sample": 0.05,
            "criteria": {"tool-discipline.valid_identifiers": 0.9, "inspected_schema": 0.8},
        },
        "regression": {
            "alpha": 0.05,
            "margin": 0.02,
            "metrics": ["accuracy", "rubric_score", "criteria"],
            "correction": "holm",
        },
        "invariants": {"invented_tables": 0, "critical_failures": None},
    }
    text = (EXAMPLES / "gate.yaml").read_text("utf-8")
    for key in ("min_samples", "thresholds", "regression", "invariants", "margin", "correction"):
        line = next(i for i, line in enumerate(text.split("\n")) if line.strip().startswith(f"{key}:"))
        assert text.split("\n")[line - 1].strip().startswith("#"), f"{key} has no comment"


def _expand(script: str) -> str:
    """A run block with its expressions as GitHub would fill them for PR 7 with no EVALKIT_MODEL set."""
    script = script.replace("${{ vars.EVALKIT_MODEL || 'scripted/disciplined' }}", "scripted/disciplined")
    script = script.replace("${{ github.event.number }}", "7")
    assert "${{" not in script, f"an expression the test does not know how to fill: {script}"
    return script


@pytest.mark.slow
def test_the_workflow_commands_run_and_the_gate_passes(tmp_path: Path) -> None:
    """Run the workflow's evalkit steps as GitHub would (from a checkout, offline default model): the run
    is made, the gate compares it with the committed baseline and passes, and writes its JUnit file. The
    commands run in this process; that the status of a real ``evalkit`` process is the gate's verdict is
    checked in ``test_gate.py``."""
    (tmp_path / "examples").symlink_to(EXAMPLES)
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "EVALKIT_REPORTS_DIR": "reports", "OPENAI_API_KEY": None}
    for step in _steps():
        script = str(step.get("run", ""))
        if not script.lstrip().startswith("evalkit"):
            continue
        words = shlex.split(_expand(script).replace("\\\n", " "))
        done = run_cli(*words[1:], cwd=tmp_path, env=env)
        assert done.returncode == 0, f"{' '.join(words)}\n{done.stdout}\n{done.stderr}"
    assert "gate passed" in summary.read_text()
    assert (tmp_path / "reports" / "gate.xml").is_file()
