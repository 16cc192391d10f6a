"""A run against a server that behaves like llama-cpp-python's OpenAI-compatible server (``tests.fakeserver``
with its quirks on): the tools are offered with ``tool_choice``, tool-call turns are replayed in a form the
server accepts, what the model was offered is recorded, and cut or empty replies are model failures."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.contracts.config import load_config
from evalkit.contracts.model_config import ModelConfig
from evalkit.errors import SpecError
from evalkit.models.gateway import ModelGateway
from evalkit.models.textproto import format_call
from tests.cli_runner import run_cli
from tests.fakeserver import LLAMA_CPP, NO_TOOLS_PROSE, serve


def _call(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


SOLVES_T1: list[dict[str, Any]] = [
    {"content": None, "tool_calls": [_call("get_table_names", {"company": "acme"}, "call_a1")]},
    {
        "content": None,
        "tool_calls": [
            _call(
                "sql_query",
                {"query": "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"},
                "call_a2",
            )
        ],
    },
    {"content": "Total revenue for fiscal 2023 was $1,350 million."},
]
"""A model that looks the figure up and answers in prose, without a ``FINAL ANSWER:`` marker."""


def _model(base: str, **fields: Any) -> ModelConfig:
    return ModelConfig(name="gemma", model="openai/gemma-3-270m-it", api_base=base, api_key_env="LOCAL_KEY", **fields)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_KEY", "not-a-secret")


def _run(suite: Path, store: Path, model: ModelConfig, tasks: str = "t1", **options: Any) -> evalkit.RunResult:
    options = {"use_cache": False, "concurrency": 1, "max_attempts": 1, **options}
    return evalkit.run_suite(suite, [model], tasks=tasks, store=store, keep_samples=True, **options)


def test_native_tools_are_sent_with_tool_choice_auto_so_the_server_keeps_them(mini_suite: Path, store: Path) -> None:
    with serve(SOLVES_T1, drop_tools_unless_tool_choice=True) as (base, server):
        result = _run(mini_suite, store, _model(base))
    first = server.requests[0]
    assert first["tools"] and first["tool_choice"] == "auto"
    assert all(r["tool_choice"] == "auto" for r in server.requests)
    (sample,) = result.samples
    assert (sample.turns, sample.tool_calls, sample.tool_errors) == (3, 2, 0)
    assert sample.stop_reason == "final_answer" and sample.correct is True


def test_without_tool_choice_the_server_drops_the_tools_and_the_record_says_none_was_sent(
    mini_suite: Path, store: Path
) -> None:
    with serve(SOLVES_T1, drop_tools_unless_tool_choice=True) as (base, omitted):
        result = _run(mini_suite, store, _model(base, tool_choice="omit"))
    with serve(SOLVES_T1, drop_tools_unless_tool_choice=True) as (base, offered):
        _run(mini_suite, store, _model(base))
    assert "tool_choice" not in omitted.requests[0]
    assert omitted.prompt_tokens[0] < offered.prompt_tokens[0]  # the tools never reached the prompt
    (sample,) = result.samples
    assert sample.turns == 1 and sample.final_answer == NO_TOOLS_PROSE and sample.correct is False
    assert sample.metadata["tool_choice"] is None


@pytest.mark.parametrize("choice", ["required", "none"])
def test_tool_choice_comes_from_evalkit_yaml(mini_suite: Path, store: Path, tmp_path: Path, choice: str) -> None:
    with serve([{"content": "Total revenue for fiscal 2023 was $1,350 million."}], repeat_last=True) as (base, server):
        config = tmp_path / "evalkit.yaml"
        config.write_text(
            f"models:\n  gemma:\n    model: openai/gemma-3-270m-it\n    api_base: {base}\n"
            f"    api_key_env: LOCAL_KEY\n    tool_choice: {choice}\n",
            encoding="utf-8",
        )
        out = run_cli(
            "run", mini_suite, "--model", "gemma", "--tasks", "t1", "--no-cache", env={"EVALKIT_CONFIG": str(config)}
        )
    assert out.exit_code == 0, out.stderr
    assert server.requests[0]["tool_choice"] == choice
    _, (sample,) = evalkit.get_samples(None, "latest")
    assert sample.metadata["tool_choice"] == choice


def test_a_tool_choice_evalkit_yaml_does_not_know_is_refused_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "evalkit.yaml"
    config.write_text("models:\n  gemma:\n    model: openai/gemma\n    tool_choice: always\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"evalkit.yaml:4 models.gemma.tool_choice: 'always' is not one of"):
        load_config(config)
    config.write_text("models:\n  gemma:\n    model: openai/gemma\n", encoding="utf-8")
    assert load_config(config).models["gemma"].tool_choice == "auto"  # the default


def test_the_text_protocol_sends_neither_tools_nor_tool_choice(mini_suite: Path, store: Path) -> None:
    query = {"query": "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"}
    script = [
        {"content": "I will look for the tables first.\n" + format_call("get_table_names", {"company": "acme"})},
        {"content": format_call("sql_query", query)},
        {"content": "Total revenue for fiscal 2023 was $1,350 million."},
    ]
    with serve(script, **LLAMA_CPP) as (base, server):
        result = _run(mini_suite, store, _model(base, tool_protocol="text"))
    assert all("tools" not in r and "tool_choice" not in r for r in server.requests)
    (sample,) = result.samples
    assert sample.status == "ok" and sample.turns == 3 and sample.correct is True
    assert sample.metadata["tool_protocol"] == "text" and sample.metadata["tool_choice"] is None
    assert "sql_query" in sample.metadata["offered_tools"]  # described in the system prompt


def test_a_tool_call_turn_is_replayed_with_empty_content_not_null(mini_suite: Path, store: Path) -> None:
    with serve(SOLVES_T1, reject_null_content=True) as (base, server):
        result = _run(mini_suite, store, _model(base))
    (sample,) = result.samples
    assert sample.status == "ok", sample.error
    replayed = [m for m in server.requests[-1]["messages"] if m["role"] == "assistant"]
    assert len(replayed) == 2 and all(m["content"] == "" and m["tool_calls"] for m in replayed)
    assert sample.correct is True


def test_a_run_against_llama_cpp_quirks_solves_the_task_and_records_what_was_offered(
    mini_suite: Path, store: Path
) -> None:
    with serve(SOLVES_T1, **LLAMA_CPP) as (base, server):
        result = _run(mini_suite, store, _model(base))
    (sample,) = result.samples
    assert sample.status == "ok" and sample.correct is True and sample.turns == 3
    sent = [t["function"]["name"] for t in server.requests[0]["tools"]]
    _, (stored,) = evalkit.get_samples(store, result.run.run_id)
    assert stored.metadata["offered_tools"] == sent and "sql_query" in sent
    assert stored.metadata["tool_choice"] == "auto" and stored.metadata["tool_protocol"] == "native"
    finishes = [e.finish_reason for e in stored.events if e.kind == "model"]
    assert finishes == ["tool_calls", "tool_calls", "stop"]


def test_a_cut_reply_and_an_empty_reply_are_model_failures_that_the_report_counts(
    mini_suite: Path, store: Path
) -> None:
    # a small reasoning model spends max_tokens thinking; another one says nothing at all
    thinking = (
        "<think>\nThe user wants Acme Widgets' total revenue in fiscal 2023. I do not have a table, but I "
        "remember that the revenue was 1,350 million dollars, or maybe that was 2022, let me think about"
    )
    script: list[dict[str, Any]] = [{"content": thinking}, {"content": ""}, {"content": None}]
    with serve(script, **LLAMA_CPP) as (base, server):
        result = _run(mini_suite, store, _model(base, max_tokens=24), tasks="t1,t2,t3")
    assert server.requests[0]["max_tokens"] == 24
    by_reason = {s.stop_reason: s for s in result.samples}
    assert sorted(s.stop_reason for s in result.samples) == ["empty_reply", "empty_reply", "truncated"]
    cut = by_reason["truncated"]
    assert cut.final_answer is None and cut.correct is False and cut.status == "ok"
    assert by_reason["empty_reply"].final_answer is None and by_reason["empty_reply"].correct is False
    (model_event,) = [e for e in cut.events if e.kind == "model"]
    assert model_event.finish_reason == "length" and "1,350" in (model_event.content or "")
    (summary,) = result.summaries
    assert summary.answered == 0 and summary.stop_reasons == {"truncated": 1, "empty_reply": 2}
    (group,) = evalkit.build_report(store, [result.run.run_id]).groups
    assert group.stop_reasons == {"empty_reply": 2, "truncated": 1}
    assert group.accuracy.k == 0 and group.accuracy.n == 3


def test_the_cache_key_covers_the_tool_choice_that_is_sent() -> None:
    tools = [{"type": "function", "function": {"name": "get_table_names", "parameters": {"type": "object"}}}]
    params, choices = [], ("auto", "required", "none", "omit")
    with serve([{"content": "Hello."}], repeat_last=True) as (base, server):
        for choice in choices:
            gateway = ModelGateway(_model(base, tool_choice=choice))
            asyncio.run(gateway.complete([{"role": "user", "content": "Hi"}], tools))
            params.append(json.dumps(gateway.request_params(tools), sort_keys=True))
            assert gateway.request_params([]) == gateway.request_params()  # no tools, no tool_choice sent
    assert [r.get("tool_choice") for r in server.requests] == ["auto", "required", "none", None]
    assert len(set(params)) == len(choices)
    text = ModelGateway(_model(base, tool_protocol="text")).request_params(tools)
    assert "tool_choice" not in text  # the text protocol sends none


def test_a_changed_tool_choice_is_not_answered_from_the_cache(mini_suite: Path, store: Path) -> None:
    answer = {"content": "Total revenue for fiscal 2023 was $1,350 million."}
    with serve([answer], repeat_last=True) as (base, server):
        _run(mini_suite, store, _model(base), use_cache=True)
        _run(mini_suite, store, _model(base, tool_choice="required"), use_cache=True)
        again = _run(mini_suite, store, _model(base), use_cache=True, new=True)
    assert [r["tool_choice"] for r in server.requests] == ["auto", "required"]
    assert [e.cached for e in again.samples[0].events if e.kind == "model"] == [True]  # the same request: a hit
