"""LLMJudge against the OpenAI-compatible fake server: validation, retries, errors, n samples, cache, cost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.contracts.config import ProjectConfig
from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.rubric import AppliesWhen, CriterionSpec, JudgeSpec
from evalkit.contracts.suite import ExpectedAnswer, ReferenceSolution, TaskSpec, Tolerance
from evalkit.models.cache import ResponseCache
from evalkit.models.gateway import call_cost
from evalkit.scoring.judge import LLMJudge, parse_judgment
from evalkit.scoring.render import render_trace
from evalkit.trace.types import Event, Sample, ToolCall, Usage
from tests.fakeserver import serve

KEY_ENV = "FAKE_JUDGE_KEY"
PROMPT = (
    "Criterion: {{ criterion }}\nQuestion: {{ question }}\nExpected: {{ expected }}\n"
    "Trace:\n{{ trace }}\nAnswer: {{ answer }}"
)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "not-a-secret")


def judge_model(base: str) -> ModelConfig:
    # a model litellm knows the price of, served by the fake server: the judge's cost is known
    return ModelConfig(name="fake-judge", model="openai/gpt-4o-mini", api_base=base, api_key_env=KEY_ENV)


def criterion(*, threshold: float | None = None, samples: int = 1, prompt: str = PROMPT) -> CriterionSpec:
    return CriterionSpec(
        id="grounded",
        description="The answer uses the figures the queries returned.",
        weight=1.0,
        category="grounding",
        severity="normal",
        applies_when=AppliesWhen(),
        judge=JudgeSpec(
            prompt=prompt,
            scale_min=0,
            scale_max=100,
            anchors=(("0", "invented"), ("100", "fully grounded")),
            pass_threshold=threshold,
            samples=samples,
        ),
    )


TASK = TaskSpec(
    id="t1",
    question="What was Acme's revenue in 2023? Answer in USD millions.",
    kind="single_table",
    difficulty="easy",
    tags=(),
    tables=("acme_income_statement",),
    answer=ExpectedAnswer("number", 1350.0, unit="USD millions", tolerance=Tolerance(rel=0.001)),
    reference=ReferenceSolution(steps=()),
)


def make_sample() -> Sample:
    query = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"
    events = (
        Event(seq=0, kind="system", turn=0, content="You are an analyst."),
        Event(seq=1, kind="user", turn=0, content=TASK.question),
        Event(
            seq=2,
            kind="model",
            turn=1,
            content="",
            tool_calls=(ToolCall("c1", "sql_query", {"query": query}),),
            usage=Usage(10, 5),
        ),
        Event(
            seq=3,
            kind="tool",
            turn=1,
            tool="sql_query",
            call_id="c1",
            arguments={"query": query},
            content="total_revenue\n1350.0",
            ok=True,
        ),
        Event(seq=4, kind="model", turn=2, content="FINAL ANSWER: 1350 USD millions", usage=Usage(10, 5)),
    )
    return Sample(
        run_id="r1", task_id="t1", model="agent", epoch=0, status="ok", stop_reason="final_answer",
        final_answer="1350 USD millions", correct=True, expected="1350 USD millions", turns=2, tool_calls=1,
        tool_errors=0, prompt_tokens=20, completion_tokens=10, latency_s=1.0, cost_usd=None, error=None,
        started_at="", finished_at="", events=events,
    )  # fmt: skip


def reply(score: Any, reasoning: str = "Every figure comes from a query.") -> dict[str, Any]:
    return {"content": json.dumps({"score": score, "reasoning": reasoning})}


async def test_valid_reply_is_a_value_with_reasoning_tokens_and_cost() -> None:
    with serve([reply(80)], repeat_last=True) as (base, server):
        judge = LLMJudge(judge_model(base))
        verdict = await judge.judge(criterion(), make_sample(), TASK)
    assert verdict.verdict == "value" and verdict.value == pytest.approx(0.8)
    assert "Every figure comes from a query." in verdict.reason
    detail = judge.take_details()[("t1|agent|0", "grounded")]
    assert detail["reasoning"] == "Every figure comes from a query."
    assert detail["scores"] == [80.0] and detail["judge_model"] == "openai/gpt-4o-mini"
    assert detail["judge_alias"] == "fake-judge"
    assert (detail["prompt_tokens"], detail["completion_tokens"]) == (100, 20)
    assert detail["judge_cost_usd"] == pytest.approx(call_cost("openai/gpt-4o-mini", Usage(100, 20)))
    assert judge.usage.calls == 1 and judge.usage.cost_usd == pytest.approx(detail["judge_cost_usd"])
    # the request: the rendered template, the anchored scale (appended: the template does not use it), JSON only
    (request,) = server.requests
    assert request["model"] == "gpt-4o-mini" and "tools" not in request
    system, user = request["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    prompt = user["content"]
    assert "Question: What was Acme's revenue in 2023?" in prompt and "Expected: 1350 USD millions" in prompt
    assert render_trace(make_sample()) in prompt
    assert "→ sql_query(SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023)" in prompt
    assert "- 0: invented\n- 100: fully grounded" in prompt
    assert prompt.rstrip().endswith('"reasoning": "<one or two sentences>"}')


async def test_pass_threshold_decides_pass_or_fail_and_keeps_the_normalised_mean() -> None:
    with serve([reply(70)], repeat_last=True) as (base, _):
        judge = LLMJudge(judge_model(base))
        passed = await judge.judge(criterion(threshold=70), make_sample(), TASK)
        failed = await judge.judge(criterion(threshold=71), make_sample(), TASK)
    assert (passed.verdict, passed.value) == ("pass", pytest.approx(0.7))
    assert (failed.verdict, failed.value) == ("fail", pytest.approx(0.7))


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ({"content": "I would say about 80."}, "it is not JSON"),
        (reply(150), "150 is greater than the maximum of 100"),
        ({"content": json.dumps({"score": "high", "reasoning": "x"})}, "'high' is not of type 'number'"),
        ({"content": json.dumps({"score": 50})}, "'reasoning' is a required property"),
    ],
)
async def test_an_invalid_reply_is_retried_with_a_correction(bad: dict[str, Any], problem: str) -> None:
    with serve([bad, reply(60)]) as (base, server):
        judge = LLMJudge(judge_model(base))
        verdict = await judge.judge(criterion(), make_sample(), TASK)
    assert verdict.verdict == "value" and verdict.value == pytest.approx(0.6)
    assert len(server.requests) == 2
    retry = server.requests[1]["messages"]
    assert retry[:2] == server.requests[0]["messages"]
    assert retry[2] == {"role": "assistant", "content": bad["content"]}
    assert retry[3]["role"] == "user" and problem in retry[3]["content"]
    detail = judge.take_details()[("t1|agent|0", "grounded")]
    assert detail["attempts"] == [2] and problem in detail["invalid_replies"][0]
    assert detail["prompt_tokens"] == 200  # both calls are paid for


async def test_a_reply_that_never_validates_is_an_error_never_a_score() -> None:
    with serve([{"content": "Looks good to me!"}], repeat_last=True) as (base, server):
        judge = LLMJudge(judge_model(base))
        verdict = await judge.judge(criterion(threshold=50), make_sample(), TASK)
    assert verdict.verdict == "error" and verdict.value is None
    assert "no valid verdict in 3 replies" in verdict.reason and "not JSON" in verdict.reason
    assert len(server.requests) == 3  # the first try and 2 retries
    detail = judge.take_details()[("t1|agent|0", "grounded")]
    assert detail["scores"] == [] and len(detail["invalid_replies"]) == 3 and "mean" not in detail


async def test_n_samples_record_the_mean_and_their_agreement() -> None:
    with serve([reply(60, "weak"), reply(80, "fair"), reply(100, "strong")]) as (base, server):
        judge = LLMJudge(judge_model(base))
        verdict = await judge.judge(criterion(threshold=75, samples=3), make_sample(), TASK)
    assert len(server.requests) == 3
    assert verdict.verdict == "pass" and verdict.value == pytest.approx(0.8)
    detail = judge.take_details()[("t1|agent|0", "grounded")]
    assert sorted(detail["scores"]) == [60.0, 80.0, 100.0] and detail["mean"] == pytest.approx(80.0)
    assert detail["spread"] == pytest.approx(40.0) and detail["stdev"] == pytest.approx(16.3299, abs=1e-3)
    assert sorted(detail["reasoning"]) == ["fair", "strong", "weak"] and detail["samples"] == 3
    one_call = call_cost("openai/gpt-4o-mini", Usage(100, 20))
    assert one_call is not None and detail["judge_cost_usd"] == pytest.approx(3 * one_call)


async def test_a_second_identical_scoring_is_served_from_the_cache(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    try:
        with serve([reply(55), reply(65), reply(75)]) as (base, server):
            first = await LLMJudge(judge_model(base), cache=cache).judge(criterion(samples=3), make_sample(), TASK)
            assert len(server.requests) == 3  # the sample index is in the key: 3 samples, 3 requests
            again = LLMJudge(judge_model(base), cache=cache)
            second = await again.judge(criterion(samples=3), make_sample(), TASK)
            assert len(server.requests) == 3  # no new request
        assert second == first
        assert again.usage.calls == 0 and again.usage.cached_calls == 3
        assert again.take_details()[("t1|agent|0", "grounded")]["cached_calls"] == 3
    finally:
        cache.close()


async def test_without_a_model_the_criterion_is_skipped_and_a_criterion_model_wins() -> None:
    verdict = await LLMJudge(None).judge(criterion(), make_sample(), TASK)
    assert verdict.verdict == "skipped"
    with serve([reply(90)], repeat_last=True) as (base, server):
        own = criterion()
        assert own.judge is not None
        own = CriterionSpec(**{**own.__dict__, "judge": JudgeSpec(**{**own.judge.__dict__, "model": "mine"})})
        config = ProjectConfig(models={"mine": judge_model(base)})
        from evalkit.contracts.config import resolve_model

        default = ModelConfig(name="unused", model="openai/never-called")
        judge = LLMJudge(default, resolve=lambda m: resolve_model(m, config))
        verdict = await judge.judge(own, make_sample(), TASK)
    assert verdict.value == pytest.approx(0.9) and server.requests[0]["model"] == "gpt-4o-mini"


async def test_a_broken_template_is_an_error_verdict() -> None:
    judge = LLMJudge(ModelConfig(name="x", model="openai/never-called"))
    verdict = await judge.judge(criterion(prompt="{{ no_such_variable }}"), make_sample(), TASK)
    assert verdict.verdict == "error" and "no_such_variable" in verdict.reason


def test_parse_judgment_tolerates_fences_and_think_blocks_only() -> None:
    assert parse_judgment('```json\n{"score": 3, "reasoning": " ok "}\n```', 0, 5) == (3.0, "ok")
    assert parse_judgment('<think>hmm {"score": 1}</think>{"score": 4, "reasoning": "r"}', 0, 5) == (4.0, "r")
    assert parse_judgment('Sure: {"score": 2, "reasoning": "r"}', 0, 5) == (2.0, "r")
    assert parse_judgment('{"score": true, "reasoning": "r"}', 0, 5) == "score: True is not of type 'number'"
    assert parse_judgment('{"score": -1, "reasoning": "r"}', 0, 5) == "score: -1 is less than the minimum of 0"
    assert parse_judgment("", 0, 5) == "the reply is empty"
    assert parse_judgment("[1, 2]", 0, 5) == "[1, 2] is not of type 'object'"
