"""A gate policy's ``judge_calibration``: a judge criterion fails a build only when its κ is high enough.

A run of the mini suite is scored with a rubric whose judge criterion (graded by a scripted judge on the fake
server) fails every sample, and the policy asks that criterion for a 90 % pass rate. Without
``judge_calibration`` that fails the gate; with it the rule is enforced only when the calibration file shows
the judge at ``min_kappa`` or more, and is otherwise reported as not enforced, with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import evalkit
from evalkit.contracts.config import ProjectConfig
from evalkit.contracts.model_config import ModelConfig
from tests.cli_runner import run_cli
from tests.fakeserver import serve

KEY_ENV = "FAKE_JUDGE_KEY"
RULE = "criterion calib.judged >= 0.9"
RESULT_SCHEMA = Path(evalkit.__file__).parent / "contracts" / "schemas" / "gate-result.schema.json"


@pytest.fixture
def scored_run(mini_suite: Path, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, "not-a-secret")
    run = evalkit.run_suite(mini_suite, ["scripted/disciplined"], store=store, use_cache=False).run.run_id
    criteria = [{"id": "judged", "category": "grounding", "severity": "critical",
                 "judge": {"prompt": "Grade: {{ trace }}", "pass_threshold": 50}}]  # fmt: skip
    monkeypatch.setenv("EVALKIT_RUBRICS_PATH", str(tmp_path / "rubrics"))  # the gate finds it by its name
    (tmp_path / "rubrics").mkdir()
    rubric = tmp_path / "rubrics" / "calib.yaml"
    rubric.write_text(json.dumps({"name": "calib", "version": "1", "criteria": criteria}), encoding="utf-8")
    reply = {"content": json.dumps({"score": 30, "reasoning": "The figures look assumed."})}
    with serve([reply], repeat_last=True) as (base, _):
        grader = ModelConfig(name="grader", model="openai/gpt-4o-mini", api_base=base, api_key_env=KEY_ENV)
        result = evalkit.score_run(
            store, run, rubric, judge_model="grader", config=ProjectConfig(models={"grader": grader})
        )
    assert [(c.criterion, c.passed, c.failed) for c in result.criteria] == [("judged", 0, 4)]
    return run


def policy(tmp_path: Path, calibration: dict[str, object] | None, extra: str = "") -> Path:
    text = f"min_samples: 1\nthresholds:\n  criteria:\n    calib.judged: 0.9\n{extra}"
    if calibration is not None:
        (tmp_path / "calibration.json").write_text(json.dumps(calibration), encoding="utf-8")
    path = tmp_path / "gate.yaml"
    path.write_text(text + "judge_calibration:\n  min_kappa: 0.6\n  file: calibration.json\n", encoding="utf-8")
    return path


def calibration(kappa: float | None, criterion: str = "judged") -> dict[str, object]:
    """The part of ``evalkit judge calibrate --json`` output that a gate reads."""
    low, high = (None, None) if kappa is None else (kappa - 0.2, min(1.0, kappa + 0.2))
    return {"rubric": "calib", "criteria": [{"criterion": criterion, "kappa": kappa, "low": low, "high": high}]}


def rule_of(store: Path, run: str, path: Path) -> tuple[bool, str, str]:
    result = evalkit.gate(store, run, policy=path)
    jsonschema.validate(json.loads(json.dumps(result.to_dict())), json.loads(RESULT_SCHEMA.read_text(encoding="utf-8")))
    (rule,) = [r for r in result.rules if r.rule == RULE]
    return result.passed, rule.status, rule.detail


def test_without_judge_calibration_the_judge_criterion_fails_the_gate(
    scored_run: str, store: Path, tmp_path: Path
) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("min_samples: 1\nthresholds:\n  criteria:\n    calib.judged: 0.9\n", encoding="utf-8")
    assert rule_of(store, scored_run, path)[:2] == (False, "fail")


def test_a_calibrated_judge_fails_the_gate(scored_run: str, store: Path, tmp_path: Path) -> None:
    passed, status, _ = rule_of(store, scored_run, policy(tmp_path, calibration(0.8)))
    assert (passed, status) == (False, "fail")


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (calibration(0.4), "not enforced: judge calibration κ 0.40 (95% CI [0.20, 0.60]) < 0.6 for calib.judged"),
        (calibration(0.9, criterion="other"), "not enforced: no judge calibration of calib.judged in"),
        (calibration(None), "not enforced: judge calibration κ of calib.judged is undefined"),
        (None, "calibration.json not found"),
    ],
)
def test_an_uncalibrated_judge_cannot_fail_the_gate(
    scored_run: str, store: Path, tmp_path: Path, found: dict[str, object] | None, reason: str
) -> None:
    passed, status, detail = rule_of(store, scored_run, policy(tmp_path, found))
    assert (passed, status) == (True, "not_enforced")
    assert detail.startswith("calib.judged pass rate 0.0% < 90.0%") and reason in detail


def test_the_gate_command_reports_the_rule_as_not_enforced(scored_run: str, store: Path, tmp_path: Path) -> None:
    path = policy(tmp_path, calibration(0.3), extra="invariants:\n  critical_failures: 0\n")
    out = run_cli("gate", scored_run, "--policy", path, "--store", store, env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.stdout + out.stderr
    assert "not enforced" in out.stdout and "κ 0.30" in out.stdout
    assert "uncalibrated judge criteria calib.judged" in out.stdout  # its failing critical verdicts are left out
    enforced = policy(tmp_path, calibration(0.7), extra="invariants:\n  critical_failures: 0\n")
    assert run_cli("gate", scored_run, "--policy", enforced, "--store", store).exit_code == 1
