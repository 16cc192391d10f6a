"""Re-scoring a stored run: a changed rubric gives new scores beside the old ones, and no model is called."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.contracts.answers import check_answer
from evalkit.contracts.config import ProjectConfig
from evalkit.contracts.model_config import ModelConfig
from evalkit.models.gateway import ModelGateway
from evalkit.scoring import CheckContext, Verdict, check
from evalkit.scoring.registry import CHECKS
from evalkit.scoring.service import score_run
from evalkit.trace.store import TraceStore
from tests.fakeserver import serve

AGENTS = ["scripted/disciplined", "scripted/reckless"]


@check("rescore_test_queried")
def _queried(ctx: CheckContext) -> Verdict:
    steps = ctx.view.queries
    if not steps:
        return Verdict.failed("made no SQL query")
    return Verdict.passed(f"{len(steps)} queries", evidence=[s.event.seq for s in steps])


def _answer_check() -> str:
    """The built-in ``answer_correct`` when the checks package provides it, else an equivalent test check."""
    with contextlib.suppress(ImportError):
        import evalkit.scoring.checks  # noqa: F401
    if "answer_correct" in CHECKS:
        return "answer_correct"

    @check("rescore_test_answer")
    def _answer(ctx: CheckContext) -> Verdict:
        assert ctx.task is not None
        result = check_answer(ctx.task.answer, ctx.sample.final_answer)
        return Verdict.passed(result.reason) if result.correct else Verdict.failed(result.reason)

    return "rescore_test_answer"


def write_rubric(path: Path, *, answer_weight: float, judge: bool = False, name: str = "rescore") -> Path:
    criteria: list[dict[str, Any]] = [
        {"id": "answer", "check": _answer_check(), "weight": answer_weight, "category": "correctness",
         "severity": "critical", "applies_when": {"needs_task": True}},
        {"id": "queried", "check": "rescore_test_queried", "category": "grounding"},
    ]  # fmt: skip
    if judge:
        criteria.append(
            {"id": "judged", "category": "grounding", "judge": {"prompt": "Grade: {{ trace }}", "pass_threshold": 50}}
        )
    path.write_text(json.dumps({"name": name, "version": "1", "criteria": criteria}))  # JSON is YAML
    return path


@pytest.fixture
def stored_run(mini_suite: Path, store: Path) -> str:
    result = evalkit.run_suite(mini_suite, AGENTS, store=store, use_cache=False)
    return result.run.run_id


def refuse_model_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, any model gateway made or called is recorded (and fails loudly)."""
    calls: list[str] = []

    def refuse(self: ModelGateway, *args: Any, **kwargs: Any) -> Any:
        calls.append("model called")
        raise AssertionError("scoring must not call a model")

    monkeypatch.setattr(ModelGateway, "__init__", refuse)
    monkeypatch.setattr(ModelGateway, "complete", refuse)
    return calls


@pytest.fixture
def no_model_calls(stored_run: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Model calls made after the run was recorded, i.e. while scoring."""
    return refuse_model_calls(monkeypatch)


def test_rescore_with_a_changed_rubric_keeps_both_versions_without_any_model_call(
    stored_run: str, store: Path, tmp_path: Path, no_model_calls: list[str]
) -> None:
    rubric = write_rubric(tmp_path / "rescore.yaml", answer_weight=1.0)
    first = score_run(store, stored_run, rubric)
    rubric = write_rubric(tmp_path / "rescore.yaml", answer_weight=2.0)  # a changed rubric: a new version
    second = score_run(store, "latest", rubric)
    assert no_model_calls == []

    assert first.run.run_id == second.run.run_id == stored_run
    (v1,), (v2,) = [v for _, v in first.rubrics], [v for _, v in second.rubrics]
    assert v1 != v2 and first.samples == second.samples == 8  # 4 tasks x 2 agents
    with TraceStore.open(store, write=False) as st:
        scores = st.scores(stored_run, rubric="rescore")
        samples = {s.sample_id: s for s in st.samples(stored_run)}
    assert {s.rubric_version for s in scores} == {v1, v2}
    for version in (v1, v2):
        mine = [s for s in scores if s.rubric_version == version]
        assert len(mine) == 16 and not [s for s in mine if s.verdict == "error"]
        for s in mine:
            if s.criterion == "answer":  # the stored verdict of the run agrees with the rubric's check
                assert s.verdict == ("pass" if samples[s.sample_id].correct else "fail"), s
    # the summaries
    answer = next(c for c in second.criteria if c.criterion == "answer")
    assert (answer.passed + answer.failed, answer.severity, answer.kind) == (8, "critical", "check")
    assert answer.pass_rate == pytest.approx(sum(1 for s in samples.values() if s.correct) / 8)
    queried = next(c for c in second.criteria if c.criterion == "queried")
    assert queried.passed + queried.failed == 8


def test_scoring_again_with_the_same_rubric_replaces_its_scores(
    stored_run: str, store: Path, tmp_path: Path, no_model_calls: list[str]
) -> None:
    rubric = write_rubric(tmp_path / "r.yaml", answer_weight=1.0)
    score_run(store, stored_run, rubric)
    score_run(store, stored_run, rubric)
    with TraceStore.open(store, write=False) as st:
        assert len(st.scores(stored_run)) == 16
    assert no_model_calls == []


def test_judge_criteria_are_skipped_without_a_judge(
    stored_run: str, store: Path, tmp_path: Path, no_model_calls: list[str]
) -> None:
    result = score_run(store, stored_run, write_rubric(tmp_path / "r.yaml", answer_weight=1.0, judge=True))
    judged = next(c for c in result.criteria if c.criterion == "judged")
    assert (judged.skipped, judged.passed, judged.failed, judged.kind) == (8, 0, 0, "judge")
    assert judged.pass_rate is None and result.judge_usage is None
    assert no_model_calls == []


def test_judge_scores_and_details_are_stored_and_two_rubrics_share_the_judge(
    stored_run: str, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_JUDGE_KEY", "k")
    rubric_a = write_rubric(tmp_path / "a.yaml", answer_weight=1.0, judge=True, name="judged-a")
    rubric_b = write_rubric(tmp_path / "b.yaml", answer_weight=1.0, judge=True, name="judged-b")
    reply = {"content": json.dumps({"score": 70, "reasoning": "Queried the right table."})}
    with serve([reply], repeat_last=True) as (base, server):
        fj = ModelConfig(name="fj", model="openai/gpt-4o-mini", api_base=base, api_key_env="FAKE_JUDGE_KEY")
        config = ProjectConfig(models={"fj": fj})
        result = score_run(store, stored_run, [rubric_a, rubric_b], judge_model="fj", config=config)
        assert len(server.requests) == 8  # the same prompt for both rubrics: the second is served from the cache
        assert result.judge_usage is not None
        assert (result.judge_usage.calls, result.judge_usage.cached_calls) == (8, 8)
        again = score_run(store, stored_run, rubric_a, judge_model="fj", config=config)
        assert len(server.requests) == 8 and again.judge_usage is not None and again.judge_usage.calls == 0
    assert result.judge_model == "openai/gpt-4o-mini"
    with TraceStore.open(store, write=False) as st:
        judged = [s for s in st.scores(stored_run) if s.criterion == "judged"]
    assert len(judged) == 16 and {s.verdict for s in judged} == {"pass"}
    for s in judged:
        assert s.value == pytest.approx(0.7)
        assert s.detail["reasoning"] == "Queried the right table." and s.detail["judge_model"] == "openai/gpt-4o-mini"
        assert s.detail["judge_cost_usd"] == pytest.approx(2.7e-05) and s.detail["pass_threshold"] == 50
    with TraceStore.open(store, write=False) as st:
        assert all(s.detail == {} for s in st.scores(stored_run) if s.criterion != "judged")


def test_a_run_whose_suite_is_gone_scores_without_tasks_and_says_so(
    tmp_path: Path, mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(mini_suite.parent, copy)
    run_id = evalkit.run_suite(copy / "suite", ["scripted/disciplined"], store=store, use_cache=False).run.run_id
    shutil.rmtree(copy)
    calls = refuse_model_calls(monkeypatch)
    rubric = write_rubric(tmp_path / "r.yaml", answer_weight=1.0)
    result = score_run(store, run_id, rubric)
    assert result.suite is None and "no longer exists" in result.notes[0]
    answer = next(c for c in result.criteria if c.criterion == "answer")
    assert (answer.na, answer.passed + answer.failed) == (4, 0)  # needs the task: N/A, never a fail
    with_suite = score_run(store, run_id, rubric, suite=str(mini_suite))
    answer = next(c for c in with_suite.criteria if c.criterion == "answer")
    assert answer.passed == 4 and with_suite.suite == str(mini_suite.resolve())
    assert "has changed" not in " ".join(with_suite.notes)  # the same suite content, moved
    assert calls == []
