"""Budget, per-call timeout and per-sample timeout: each stops what it should and records why."""

from __future__ import annotations

from pathlib import Path

import pytest

import evalkit
from evalkit.contracts.config import ProjectConfig, resolve_model
from evalkit.contracts.model_config import ModelConfig
from tests.fakeserver import serve

ANSWER = {"content": "FINAL ANSWER: 1350 USD millions"}


def test_budget_stops_starting_new_work(mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    with serve([ANSWER], repeat_last=True) as (base, server):
        # a model litellm knows the price of: 100 prompt + 20 completion tokens per call
        model = ModelConfig(name="priced", model="openai/gpt-4o-mini", api_base=base, api_key_env="FAKE_PROVIDER_KEY")
        per_call = evalkit.run_suite(mini_suite, [model], tasks="t1", store=store, use_cache=False, keep_samples=True)
        cost = per_call.samples[0].cost_usd
        assert cost is not None and cost > 0
        result = evalkit.run_suite(
            mini_suite,
            [model],
            store=store,
            use_cache=False,
            keep_samples=True,
            concurrency=1,
            epochs=3,
            max_cost=cost * 2.5,
        )
    assert result.stopped_by_budget
    assert len(result.samples) == 3  # 3 calls reach 2.5 x the price of one; nothing more is started
    assert result.run.status == "interrupted"
    assert len(server.requests) == 1 + 3


def test_call_timeout_is_retried_then_recorded_as_infrastructure_error(
    mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    with serve([{**ANSWER, "delay_s": 1.5}], repeat_last=True) as (base, server):
        model = ModelConfig(name="slow", model="openai/fake", api_base=base, api_key_env="FAKE_PROVIDER_KEY")
        result = evalkit.run_suite(
            mini_suite,
            [model],
            tasks="t1",
            store=store,
            use_cache=False,
            keep_samples=True,
            call_timeout_s=0.3,
            max_attempts=2,
        )
        assert len(server.requests) == 2
    (sample,) = result.samples
    assert sample.status == "infra_error" and sample.correct is None
    assert "timeout" in (sample.error or "").lower() and sample.metadata["error_class"] == "timeout"
    assert sample.metadata["retries"][0]["attempt"] == 1


def test_sample_timeout_stops_the_episode(mini_suite: Path, store: Path) -> None:
    slow = ModelConfig(name="slowscript", model="scripted/disciplined", extra={"latency_ms": 200})
    result = evalkit.run_suite(
        mini_suite, [slow], tasks="t2", store=store, keep_samples=True, sample_timeout_s=0.5, use_cache=False
    )
    (sample,) = result.samples
    assert sample.stop_reason == "timeout" and sample.status == "infra_error"
    assert 1 <= len([e for e in sample.events if e.kind == "model"]) <= 3  # what happened before is kept


def test_max_turns_stops_and_is_a_wrong_answer(mini_suite: Path, store: Path) -> None:
    result = evalkit.run_suite(
        mini_suite, ["scripted/disciplined"], tasks="t3", store=store, keep_samples=True, max_turns=2
    )
    (sample,) = result.samples
    assert sample.stop_reason == "max_turns" and sample.turns == 2
    assert sample.status == "ok" and sample.correct is False and sample.final_answer is None


def test_config_aliases_and_key_variables(
    tmp_path: Path, mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalkit.contracts.config import load_config
    from evalkit.errors import ConfigError, SpecError

    cfg = tmp_path / "evalkit.yaml"
    cfg.write_text(
        "models:\n  local:\n    model: openai/qwen3-4b\n    api_base: http://127.0.0.1:9/v1\n"
        "    api_key_env: MY_LOCAL_KEY\n    temperature: 0.2\n    tool_protocol: text\n    concurrency: 3\n",
        encoding="utf-8",
    )
    config = load_config(cfg)
    local = resolve_model("local", config)
    assert (local.model, local.api_base, local.tool_protocol, local.concurrency) == (
        "openai/qwen3-4b",
        "http://127.0.0.1:9/v1",
        "text",
        3,
    )
    assert resolve_model("local", config, api_base="http://x/v1").api_base == "http://x/v1"
    monkeypatch.delenv("MY_LOCAL_KEY", raising=False)
    with pytest.raises(ConfigError, match="MY_LOCAL_KEY"):
        evalkit.run_suite(mini_suite, ["local"], store=store, config=config)
    assert resolve_model("openai/gpt-4.1-mini", ProjectConfig()).model == "openai/gpt-4.1-mini"
    with pytest.raises(ConfigError, match="provider"):
        resolve_model("gpt-4.1-mini", ProjectConfig())
    cfg.write_text("models:\n  local:\n    model: openai/x\n    tool_protocol: txt\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"evalkit.yaml:4 models.local.tool_protocol: 'txt' is not one of"):
        load_config(cfg)
