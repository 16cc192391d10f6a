"""A model served by several replicas (``api_base: [url1, url2]``, or ``--api-base`` repeated): the requests
are spread over the endpoints, an endpoint that fails rests while its samples are retried on the others at
once, the preflight reaches every replica, and the report counts requests and latency per endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.contracts.config import load_config, resolve_model
from evalkit.contracts.model_config import ModelConfig
from evalkit.errors import ConfigError
from evalkit.models.endpoints import EndpointPool
from evalkit.models.gateway import ModelGateway
from evalkit.report.markdown import render_markdown
from tests.cli_runner import run_cli
from tests.fakeserver import serve

ANSWER: dict[str, Any] = {"content": "FINAL ANSWER: 1350 USD millions"}
DOWN: dict[str, Any] = {"status": 503, "body": {"error": {"message": "replica overloaded"}}}


def _run(model: ModelConfig, mini_suite: Path, store: Path, **options: Any) -> Any:
    return evalkit.run_suite(
        mini_suite, [model], tasks="t1", epochs=8, store=store, use_cache=False, keep_samples=True, **options
    )


def test_the_requests_are_spread_over_the_replicas_and_counted_per_endpoint(mini_suite: Path, store: Path) -> None:
    slow = [{**ANSWER, "delay_s": 0.05}]
    with serve(slow, repeat_last=True) as (a, first), serve(slow, repeat_last=True) as (b, second):
        model = ModelConfig(name="replicated", model="openai/served", api_base=a, replicas=(b,), concurrency=2)
        result = _run(model, mini_suite, store)
    assert len(first.requests) + len(second.requests) == 8
    assert len(first.requests) >= 2 and len(second.requests) >= 2  # least-loaded: both replicas get work
    assert len(first.preflights) == 1 and len(second.preflights) == 1  # every replica is checked first
    assert all(s.correct for s in result.samples)
    served = {url: 0 for url in (a, b)}
    for sample in result.samples:
        for url, counts in sample.metadata["endpoints"].items():
            served[url.removesuffix("/chat/completions")] += counts["calls"]
    assert served == {a: len(first.requests), b: len(second.requests)}

    report = evalkit.build_report(store, [result.run.run_id])
    (group,) = report.groups
    by_url = {e.url.removesuffix("/chat/completions"): e for e in group.endpoints}
    assert {u: e.calls for u, e in by_url.items()} == served
    assert all(e.failures == 0 and e.mean_latency_s is not None and e.mean_latency_s >= 0.05 for e in by_url.values())
    markdown = render_markdown(report)
    assert f"replicated at {a}/chat/completions: {len(first.requests)} requests" in markdown


def test_a_failing_replica_rests_and_its_samples_are_answered_by_the_other_at_once(
    mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a backoff that would show: a retry that waited it did not fail over
    monkeypatch.setattr(ModelGateway, "_backoff", lambda self, attempt, retry_after: 9.0)
    with serve([DOWN], repeat_last=True) as (a, broken), serve([ANSWER], repeat_last=True) as (b, healthy):
        model = ModelConfig(name="replicated", model="openai/served", api_base=a, replicas=(b,), concurrency=1)
        result = _run(model, mini_suite, store, sample_timeout_s=60)
    assert [s.status for s in result.samples] == ["ok"] * 8 and all(s.correct for s in result.samples)
    assert len(healthy.requests) == 8
    # the broken replica failed once, then rested (2 s, longer than this run) while the other answered
    assert len(broken.requests) == 1
    failed = [s for s in result.samples if s.metadata.get("retries")]
    assert len(failed) == 1 and failed[0].metadata["retries"][0]["delay_s"] == 0.0  # no backoff: failed over
    (group,) = evalkit.build_report(store, [result.run.run_id]).groups
    by_url = {e.url.removesuffix("/chat/completions"): e for e in group.endpoints}
    assert (by_url[a].calls, by_url[a].failures, by_url[a].mean_latency_s) == (1, 1, None)
    assert (by_url[b].calls, by_url[b].failures) == (8, 0)


def test_the_least_loaded_awake_endpoint_is_chosen_and_a_rest_doubles() -> None:
    now = [0.0]
    pool = EndpointPool(("a", "b", "c"), clock=lambda: now[0])
    first = pool.pick()
    pool.started(first)
    second = pool.pick()
    assert second.url != first.url  # the busy one is not picked while another is free
    pool.started(second)
    pool.finished(second, "connection")
    assert second.resting_until == 2.0 and pool.awake() == 2
    pool.started(second)
    pool.finished(second, "timeout")
    assert second.resting_until == 4.0  # 2 s, then 4 s after a second failure in a row
    pool.finished(first, None)
    assert pool.pick().url == "c"  # fewest sent among the awake
    now[0] = 5.0
    assert pool.awake() == 3
    for endpoint in pool.endpoints:
        endpoint.resting_until = 10.0 + len(endpoint.url)
    assert pool.pick().url == "a"  # all rest: the one that wakes first


def test_a_rejected_request_does_not_rest_the_endpoint() -> None:
    pool = EndpointPool(("a", "b"))
    endpoint = pool.pick()
    pool.started(endpoint)
    pool.finished(endpoint, "request_rejected")  # the request's fault, not the replica's
    assert pool.awake() == 2 and endpoint.failures_in_a_row == 0


def test_replicas_come_from_evalkit_yaml_or_repeated_api_base(tmp_path: Path) -> None:
    config = tmp_path / "evalkit.yaml"
    config.write_text(
        json.dumps(
            {"models": {"dp": {"model": "hosted_vllm/qwen3-4b", "api_base": ["http://a:8000/v1", "http://b:8000/v1"]}}}
        ),
        encoding="utf-8",
    )
    loaded = load_config(config)
    assert loaded.models["dp"].endpoints == ("http://a:8000/v1", "http://b:8000/v1")
    given = resolve_model("openai/x", loaded, api_base=["http://c:1/v1", "http://d:1/v1", "http://e:1/v1"])
    assert given.api_base == "http://c:1/v1" and given.replicas == ("http://d:1/v1", "http://e:1/v1")
    config.write_text(json.dumps({"models": {"dp": {"model": "m/x", "api_base": []}}}), encoding="utf-8")
    with pytest.raises(Exception, match="api_base"):
        load_config(config)


def test_replicas_of_a_model_litellm_sends_are_refused_with_the_reason() -> None:
    model = ModelConfig(
        name="r", model="openai/x", api_base="http://a:1/v1", replicas=("http://b:1/v1",), client="litellm"
    )
    with pytest.raises(ConfigError, match="replicas need the direct client"):
        ModelGateway(model)


def test_repeated_api_base_on_the_command_line_reaches_every_replica(mini_suite: Path, tmp_path: Path) -> None:
    with serve([ANSWER], repeat_last=True) as (a, first), serve([ANSWER], repeat_last=True) as (b, second):
        out = run_cli(
            "run", mini_suite, "-m", "openai/served", "--api-base", a, "--api-base", b, "--tasks", "t1",
            "--epochs", "4", "--store", tmp_path / "s.duckdb", "--no-progress", "--no-report", "--no-cache",
        )  # fmt: skip
    assert out.exit_code == 0, out.stderr
    assert len(first.preflights) == len(second.preflights) == 1
    assert len(first.requests) + len(second.requests) == 4 and first.requests and second.requests
