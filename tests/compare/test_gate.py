"""``evalkit gate``: the rules on real scripted runs, exit codes through the CLI, the policy file, Holm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import evalkit
from evalkit.compare.gate import holm
from evalkit.compare.policy import GatePolicy, load_policy, parse_criterion_flags
from evalkit.errors import CannotEvaluate, ConfigError, RunNotFoundError, SpecError
from tests.cli_runner import run_cli
from tests.conftest import FIXTURES

MINI = FIXTURES / "mini" / "suite"


def _gate(runs: dict[str, object], candidate: str, **kw: object) -> evalkit.GateResult:  # type: ignore[name-defined]
    return evalkit.gate(runs["store"], candidate, **kw)  # type: ignore[arg-type]


def test_a_regression_against_the_baseline_fails_the_gate(runs: dict[str, object]) -> None:
    result = _gate(runs, "bad", baseline="good")
    assert not result.passed
    acc = next(r for r in result.rules if r.rule == "no regression: accuracy")
    assert acc.status == "fail" and acc.observed == -1.0 and acc.p_value is not None and acc.p_value < 0.05
    assert result.comparisons[0].metric("accuracy").diff == -1.0  # type: ignore[union-attr]
    # the other way round is an improvement: nothing fails
    assert _gate(runs, "good", baseline="bad").passed


def test_a_margin_larger_than_the_drop_lets_it_pass(runs: dict[str, object]) -> None:
    policy = GatePolicy(margin=1.0)
    assert _gate(runs, "bad", baseline="good", policy=policy).passed


def test_thresholds_and_invariants(runs: dict[str, object]) -> None:
    policy = GatePolicy(
        min_accuracy=0.9,
        min_criteria={"inspected_schema": 0.9, "tool-discipline.valid_identifiers": 0.5},
        max_invented_tables=0,
        max_critical_failures=0,
    )
    good = _gate(runs, "good", policy=policy)
    assert good.passed and {r.kind for r in good.rules} == {"threshold", "invariant"}
    bad = _gate(runs, "bad", policy=policy)
    failed = {r.rule for r in bad.failures}
    assert failed == {
        "accuracy >= 0.9",
        "criterion tool-discipline.inspected_schema >= 0.9",
        "criterion tool-discipline.valid_identifiers >= 0.5",
        "invented tables <= 0",
        "critical failures <= 0",
    }
    invented = next(r for r in bad.rules if r.rule == "invented tables <= 0")
    assert invented.observed == 24.0  # every reckless sample queried a table that does not exist


def test_what_cannot_be_judged_is_never_a_pass(runs: dict[str, object]) -> None:
    with pytest.raises(CannotEvaluate, match="fewer than the 100"):
        _gate(runs, "good", policy=GatePolicy(min_samples=100))
    with pytest.raises(CannotEvaluate, match="mismatched suites"):
        _gate(runs, "good", baseline="other-suite")
    with pytest.raises(CannotEvaluate, match="not scored"):
        _gate(runs, "good", policy=GatePolicy(min_criteria={"no_such_criterion": 0.5}))
    with pytest.raises(RunNotFoundError, match=r"run file baselines/missing\.jsonl\.gz not found"):
        _gate(runs, "good", baseline="baselines/missing.jsonl.gz")
    with pytest.raises(ConfigError, match="same run"):
        _gate(runs, "good", baseline="good")


def test_an_unknown_cost_cannot_be_held_to_a_cost_limit(tmp_path: Path) -> None:
    from tests.trace import make_run, make_sample

    store = tmp_path / "priced.duckdb"
    run = make_run("20250101-000000-cccc", name="priced")
    samples = [make_sample(run.run_id, f"t{i}", "gpt", 0, cost_usd=None if i == 0 else 0.01) for i in range(5)]
    from evalkit.trace.store import TraceStore

    with TraceStore.open(store, write=True) as st:
        st.create_run(run)
        st.write_samples(samples)
    with pytest.raises(CannotEvaluate, match="cost of 1 samples is unknown"):
        evalkit.gate(store, "priced", policy=GatePolicy(min_samples=1, max_cost_per_sample=1.0))
    cheap = [make_sample(run.run_id, f"t{i}", "gpt", 1, cost_usd=0.01) for i in range(5)]
    with TraceStore.open(store, write=True) as st:
        st.write_samples([*cheap, make_sample(run.run_id, "t0", "gpt", 0, cost_usd=0.03)])
    result = evalkit.gate(store, "priced", policy=GatePolicy(min_samples=1, max_cost_per_sample=0.011))
    rule = result.rules[0]
    assert rule.status == "fail" and rule.observed == pytest.approx(0.012)


def test_the_baseline_can_be_an_exported_file(runs: dict[str, object]) -> None:
    from_file = _gate(runs, "bad", baseline=str(runs["file"]))
    from_store = _gate(runs, "bad", baseline="good")
    assert [(r.rule, r.status, r.observed) for r in from_file.rules] == [
        (r.rule, r.status, r.observed) for r in from_store.rules
    ]


def test_holm_against_known_values() -> None:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5]) == [0.5]
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_policy_file_flags_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "gate.yaml"
    good.write_text(
        "min_samples: 10\nthresholds:\n  accuracy: 0.8\n  criteria: {inspected_schema: 0.9}\n"
        "regression: {alpha: 0.01, margin: 0.05, metrics: [accuracy]}\ninvariants: {invented_tables: 0}\n"
    )
    policy = load_policy(good)
    assert (policy.min_samples, policy.min_accuracy, policy.alpha, policy.margin) == (10, 0.8, 0.01, 0.05)
    assert policy.metrics == ("accuracy",) and policy.max_invented_tables == 0
    merged = policy.with_flags(min_accuracy=0.9, min_criteria={"valid_identifiers": 1.0}, alpha=None)
    assert merged.min_accuracy == 0.9 and merged.alpha == 0.01
    assert merged.min_criteria == {"inspected_schema": 0.9, "valid_identifiers": 1.0}
    bad = tmp_path / "bad.yaml"
    bad.write_text("thresholds:\n  accuracy: 1.5\n  acuracy: 0.8\n")
    with pytest.raises(SpecError) as err:
        load_policy(bad)
    text = str(err.value)
    assert f"{bad}:2 thresholds.accuracy" in text and f"{bad}:3" in text and "unknown key 'acuracy'" in text
    assert parse_criterion_flags(["inspected_schema=90%", "a.b=0.5"]) == {"inspected_schema": 0.9, "a.b": 0.5}
    with pytest.raises(ConfigError):
        parse_criterion_flags(["inspected_schema"])


def test_cli_exit_codes_summary_and_junit(runs: dict[str, object], tmp_path: Path) -> None:
    store = str(runs["store"])
    summary = tmp_path / "summary.md"
    junit = tmp_path / "gate.xml"
    failed = run_cli(
        "gate",
        "bad",
        "--baseline",
        str(runs["file"]),
        "--store",
        store,
        "--max-invented-tables",
        "0",
        "--junit",
        str(junit),
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert failed.returncode == 1, failed.stderr
    assert "gate failed" in failed.stderr
    assert "invented tables" in summary.read_text()
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) > 1 and any(c.find("failure") is not None for c in cases)
    passed = run_cli("gate", "good", "--baseline", "bad", "--store", store, "--format", "json")
    assert passed.returncode == 0, passed.stderr
    assert json.loads(passed.stdout)["passed"] is True
    cannot = run_cli("gate", "good", "--store", store, "--min-samples", "1000")
    assert cannot.returncode == 2 and "fewer than the 1000" in cannot.stderr
    missing = run_cli("gate", "no-such-run", "--store", store)
    assert missing.returncode == 2


def test_a_failed_gate_is_the_exit_status_of_the_process(runs: dict[str, object]) -> None:
    """CI reads the status of the ``evalkit`` process itself, so one failing gate goes through a real
    interpreter: the entry point and the interpreter's shutdown keep the 1 the command decided on."""
    done = subprocess.run(
        [sys.executable, "-m", "evalkit", "gate", "bad", "--baseline", "good", "--store", str(runs["store"])],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "gate failed" in done.stderr
