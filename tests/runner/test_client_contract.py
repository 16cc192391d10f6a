"""The contract between the two clients of an OpenAI-compatible server: litellm and the direct client
(``evalkit.models.direct``) sent the same scripted replies record the same samples, field for field, and send
the server the same requests. Only what no reply decides may differ: timings, ids of the run.

The replies are the ones real servers give: several calls in a turn, text beside a call, arguments as an
object instead of JSON text, broken JSON, a reply cut by ``max_tokens``, an empty reply, a retried 429 and 503.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.contracts.model_config import ModelConfig
from evalkit.models.direct import uses_direct
from evalkit.models.gateway import ModelGateway
from tests.fakeserver import serve

SQL = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"


def _call(name: str, arguments: Any, call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


NATIVE = [
    {"status": 429, "headers": {"retry-after": "0"}, "body": {"error": {"message": "slow down"}}},
    {
        "content": "Let me look first.",
        "tool_calls": [
            _call("get_table_names", '{"company": "acme"}', "c1"),
            _call("get_table_info", {"table": "acme_income_statement"}, "c2"),  # an object, not JSON text
        ],
    },
    {"content": None, "tool_calls": [_call("sql_query", '{"query": "SELECT', "c3")]},  # broken JSON
    {"status": 503, "body": {"error": {"message": "overloaded"}}},
    {"content": "", "tool_calls": [_call("sql_query", json.dumps({"query": SQL}), "c4")]},
    {"content": "Revenue was 1,350.0. FINAL ANSWER: 1350 USD millions"},
]
CUT = [{"content": "The revenue of Acme in 2023, as the table shows, was", "finish_reason": "length"}]
EMPTY = [{"content": ""}]
TEXT = [
    {"content": '<tool_call>{"name": "get_table_names", "arguments": {"company": "acme"}}</tool_call>'},
    {"content": f'<tool_call>{{"name": "sql_query", "arguments": {{"query": "{SQL}"}}}}</tool_call>'},
    {"content": "<think>1350 it is</think>FINAL ANSWER: 1350 USD millions"},
]
NO_PARSER = [  # a server without a tool parser: the model's calls come back as text, with native tools offered
    {
        "content": '<think>list, then query</think><tool_call>\n{"name": "get_table_names", "parameters": {"company": '
        '"acme"}}\n</tool_call>\n<tool_call>{"name": "sql_query", "arguments": "{\\"query\\": \\"'
        + SQL
        + '\\"}"}</tool_call>'
    },
    {"content": "Revenue was $1,350 million, so the answer is 1350 USD millions."},
]
SCRIPTS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "native tools, faults and retries": (NATIVE, "native"),
    "a reply cut by max_tokens": (CUT, "native"),
    "an empty reply": (EMPTY, "native"),
    "the text protocol": (TEXT, "text"),
    "calls as text with native tools": (NO_PARSER, "native"),
}
VOLATILE = frozenset({"run_id", "sample_id", "started_at", "finished_at", "latency_s"})


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ModelGateway, "_backoff", lambda self, attempt, retry_after: 0.0)


def _stable(value: Any) -> Any:
    """``value`` without what no reply decides (timings, run ids); of a retry, its attempt and wait (the
    words of its error are each client's own; the test checks that both quote the server)."""
    if isinstance(value, dict):
        out = {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
        if "retries" in out:
            out["retries"] = [(r["attempt"], r["delay_s"]) for r in value["retries"]]
        return out
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    return value


def _run(
    client: str, script: list[dict[str, Any]], protocol: str, folder: Path, mini_suite: Path
) -> tuple[Any, list[dict[str, Any]]]:
    model = ModelConfig(
        name="served",
        model="openai/served-model",
        api_base="",
        api_key_env="CONTRACT_KEY",
        temperature=0.0,
        max_tokens=64,
        tool_protocol=protocol,  # type: ignore[arg-type]
        client=client,  # type: ignore[arg-type]
        extra={"top_p": 0.9, "extra_body": {"repetition_penalty": 1.05}},
    )
    with serve(script) as (base, server):
        model = ModelConfig(**{**model.__dict__, "api_base": base})
        assert uses_direct(model) == (client == "direct")
        result = evalkit.run_suite(
            mini_suite, [model], tasks="t1", store=folder / f"{client}.duckdb", use_cache=False,
            keep_samples=True, concurrency=1, max_attempts=3,
        )  # fmt: skip
    (sample,) = result.samples
    return sample, server.requests


@pytest.mark.parametrize("case", list(SCRIPTS))
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")  # litellm's, on object arguments
def test_both_clients_record_the_same_sample_and_send_the_same_requests(
    case: str, mini_suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTRACT_KEY", "contract-key-not-secret")
    script, protocol = SCRIPTS[case]
    over_litellm, sent_by_litellm = _run("litellm", script, protocol, tmp_path, mini_suite)
    direct, sent_directly = _run("direct", script, protocol, tmp_path, mini_suite)
    assert _stable(direct.to_dict()) == _stable(over_litellm.to_dict())
    assert sent_directly == sent_by_litellm
    assert len(sent_directly) == len(script)  # every scripted reply was asked for, the faults retried
    for sample in (direct, over_litellm):
        said = [r["error"] for r in sample.metadata.get("retries", [])]
        assert len(said) == (2 if case.startswith("native") else 0)
        assert all(quote in line for quote, line in zip(("slow down", "overloaded"), said, strict=False))
    if case == "a reply cut by max_tokens":
        assert direct.stop_reason == "truncated"
    if case == "an empty reply":
        assert direct.stop_reason == "empty_reply"
    if case == "the text protocol":  # the opening <think> block is the reasoning, on both paths
        reasoning = [e.reasoning for e in direct.events if e.kind == "model"]
        assert reasoning == [None, None, "1350 it is"]
    if case == "calls as text with native tools":  # read as the two calls, replayed natively
        first_turn = next(e for e in direct.events if e.kind == "model")
        assert [c.name for c in first_turn.tool_calls] == ["get_table_names", "sql_query"]
        assert first_turn.tool_calls[1].arguments == {"query": SQL} and first_turn.reasoning == "list, then query"
        replayed = [m for m in sent_directly[1]["messages"] if m["role"] == "assistant"]
        assert [c["function"]["name"] for c in replayed[0]["tool_calls"]] == ["get_table_names", "sql_query"]
        assert "<tool_call>" not in replayed[0]["content"]
        tools = [e for e in direct.events if e.kind == "tool"]
        assert [e.ok for e in tools] == [True, True]
        assert direct.correct is True  # the conclusion of the prose, without a FINAL ANSWER marker
    if case in ("native tools, faults and retries", "the text protocol"):
        assert direct.final_answer == "1350 USD millions" and direct.correct is True
    first = sent_directly[0]
    assert first["model"] == "served-model" and first["top_p"] == 0.9 and first["repetition_penalty"] == 1.05
