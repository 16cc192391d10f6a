"""The real HTTP path, over litellm and over the direct client (the ``client`` fixture), against an
OpenAI-compatible server started on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import evalkit
from evalkit.contracts.model_config import ModelConfig
from tests.fakeserver import serve


def _call(name: str, arguments: str, call_id: str) -> dict[str, object]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


SCRIPT = [
    {"status": 429, "headers": {"retry-after": "1"}, "body": {"error": {"message": "slow down", "type": "rate_limit"}}},
    {"content": None, "tool_calls": [_call("get_table_names", '{"company": "acme"', "c1")]},  # malformed JSON
    {"content": None, "tool_calls": [_call("get_table_names", '{"company": "acme"}', "c2")]},
    {
        "content": None,
        "tool_calls": [
            _call(
                "sql_query",
                json.dumps({"query": "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"}),
                "c3",
            )
        ],
    },
    {"content": "Revenue was 1,350.0. FINAL ANSWER: 1350 USD millions"},
]


def test_http_path_retries_429_records_malformed_call_and_answers(
    mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch, client: str
) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "test-key-not-secret")
    sleeps: list[float] = []
    with serve(SCRIPT) as (base, server):
        model = ModelConfig(
            name="fake", model="openai/fake-model", api_base=base, api_key_env="FAKE_PROVIDER_KEY", client=client
        )
        result = evalkit.run_suite(
            mini_suite, [model], tasks="t1", store=store, use_cache=False, keep_samples=True, concurrency=1
        )
    assert len(server.requests) == 5  # the 429 was retried once
    first, retried = server.requests[0], server.requests[1]
    assert first["messages"] == retried["messages"]
    assert first["model"] == "fake-model" and first["tools"][0]["type"] == "function"
    del sleeps

    (sample,) = result.samples
    assert sample.metadata["retries"][0]["delay_s"] == pytest.approx(1.0)  # Retry-After honoured
    said = sample.metadata["retries"][0]["error"]
    assert "slow down" in said and ("RateLimitError" if client == "litellm" else "HTTP 429 (rate_limited)") in said
    tools = [e for e in sample.events if e.kind == "tool"]
    assert tools[0].error_type == "malformed_call" and tools[0].ok is False
    assert "not a valid JSON object" in (tools[0].content or "")
    assert tools[1].ok and tools[2].ok
    # the model saw the error text for the malformed call
    assert any(
        m.get("role") == "tool" and "not a valid JSON" in m.get("content", "") for m in server.requests[2]["messages"]
    )
    assert sample.final_answer == "1350 USD millions"
    assert sample.correct is True
    assert sample.prompt_tokens == 400 and sample.completion_tokens == 80
    assert sample.cost_usd is None  # an unknown model's price is unknown, not 0
    assert sample.status == "ok" and sample.stop_reason == "final_answer"


def test_http_outage_is_an_infrastructure_error_not_a_wrong_answer(
    mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch, client: str
) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    outage = [{"status": 503, "headers": {"retry-after": "0"}, "body": {"error": {"message": "down"}}}] * 3
    with serve(outage) as (base, server):
        model = ModelConfig(
            name="fake", model="openai/fake-model", api_base=base, api_key_env="FAKE_PROVIDER_KEY", client=client
        )
        result = evalkit.run_suite(
            mini_suite, [model], tasks="t1", store=store, use_cache=False, keep_samples=True, max_attempts=3
        )
    assert len(server.requests) == 3
    (sample,) = result.samples
    assert sample.status == "infra_error" and sample.correct is None
    assert result.summaries[0].accuracy is None and result.summaries[0].infra_errors == 1
    assert result.run.status == "interrupted"  # an infra error leaves the run resumable


def test_api_keys_never_reach_the_store_or_cache(
    mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch, client: str, tmp_path: Path
) -> None:
    secret = "sk-test-0123456789-very-secret"
    monkeypatch.setenv("FAKE_PROVIDER_KEY", secret)
    with serve([{"content": "FINAL ANSWER: 1350 USD millions"}], repeat_last=True) as (base, server):
        model = ModelConfig(
            name="fake", model="openai/fake-model", api_base=base, api_key_env="FAKE_PROVIDER_KEY", client=client
        )
        evalkit.run_suite(mini_suite, [model], tasks="t1", store=store)
        exported = evalkit.export_run(store, "latest", tmp_path / "run.jsonl")[0]
    assert server.requests  # the key was used
    for path in (store, store.with_suffix(".cache.sqlite"), exported):
        assert secret.encode() not in path.read_bytes(), path
    assert "FAKE_PROVIDER_KEY" in exported.read_text(encoding="utf-8")  # only the variable's name is kept
