"""The diagnosis of agents that never query: a model that answers in prose without calling a tool, a model
that declines, one that looks at the tables and then declines or guesses without querying.

The traces are made the way real models make them: an OpenAI-compatible server on 127.0.0.1 replies as
such a model did (no ``FINAL ANSWER:`` marker, prose around the figure), evalkit runs the mini suite
against it and scores the run with both built-in rubrics, and the report is built from the store.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.contracts.loader import load_suite
from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.suite import ReferenceSolution
from evalkit.report.build import build_report
from evalkit.report.diagnose import SampleFacts, failure_mode
from evalkit.report.model import FAILURE_MODES, ModelReport
from evalkit.trace.store import TraceStore
from tests.fakeserver import serve

MINI = Path(__file__).parents[1] / "fixtures" / "mini" / "suite"
PROSE = "Acme Widgets reported total revenue of roughly $1.2 billion in fiscal 2023, driven by strong demand."
DECLINE = "I'm sorry, but I don't have access to that data, so I can't tell you Acme Widgets' revenue for 2023."


def _call(name: str, arguments: dict[str, str], call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def _group(store: Path, name: str, script: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> ModelReport:
    """Run task t1 of the mini suite with a model that replies as ``script`` says, score it, report it."""
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    with serve(script, repeat_last=True) as (base, _):
        model = ModelConfig(name=name, model="openai/fake-model", api_base=base, api_key_env="FAKE_PROVIDER_KEY")
        result = evalkit.run_suite(
            MINI,
            [model],
            tasks="t1",
            store=store,
            use_cache=False,
            concurrency=1,
            rubrics=["tool-discipline", "answer"],
        )
    with TraceStore.open(store, write=False) as st:
        report = build_report(st, [result.run.run_id])
    (group,) = report.groups
    assert group.finished == 1 and group.accuracy.k == 0
    return group


def _mode(group: ModelReport) -> str:
    (mode,) = group.failure_modes
    assert mode.count == 1 and mode.tasks == ("t1",)
    return mode.mode


def test_prose_without_a_tool_call_never_used_the_tools(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    group = _group(store, "prose", [{"content": PROSE}], monkeypatch)
    # not "gave up or made up an answer after an error": no error happened; not "wrong table": none was queried
    assert _mode(group) == "never_used_tools"
    assert group.failure_modes[0].label == FAILURE_MODES["never_used_tools"] == "never used the tools"


def test_a_decline_without_a_tool_call_never_used_the_tools(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    group = _group(store, "declines", [{"content": DECLINE}], monkeypatch)
    assert _mode(group) == "never_used_tools"


def test_a_decline_after_listing_the_tables_gave_up_without_querying(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script: list[dict[str, Any]] = [
        {"content": None, "tool_calls": [_call("get_table_names", {"company": "acme"}, "c1")]},
        {"content": "I can see the table names, but I don’t have access to that data in them."},
    ]
    group = _group(store, "lists-then-declines", script, monkeypatch)
    assert _mode(group) == "gave_up_without_query"
    assert group.failure_modes[0].label == "gave up without querying"


def test_a_guess_after_reading_the_schema_answered_without_querying(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script: list[dict[str, Any]] = [
        {"content": None, "tool_calls": [_call("get_table_names", {"company": "acme"}, "c1")]},
        {"content": None, "tool_calls": [_call("get_table_info", {"table": "acme_income_statement"}, "c2")]},
        {"content": "The table has a total_revenue column; for fiscal 2023 that is about 1,300 USD millions."},
    ]
    group = _group(store, "guesses", script, monkeypatch)
    assert _mode(group) == "answered_without_query"


def test_a_query_of_the_wrong_table_is_still_the_wrong_table(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The no-query modes leave the agents that did query alone."""
    query = {"query": "SELECT employees FROM acme_headcount WHERE fiscal_year = 2023"}
    script: list[dict[str, Any]] = [
        {"content": None, "tool_calls": [_call("get_table_names", {"company": "acme"}, "c1")]},
        {"content": None, "tool_calls": [_call("get_table_info", {"table": "acme_headcount"}, "c2")]},
        {"content": None, "tool_calls": [_call("sql_query", query, "c3")]},
        {"content": "<think>headcount, close enough</think>Acme's total revenue in fiscal 2023 was 5,000."},
    ]
    group = _group(store, "wrong-table", script, monkeypatch)
    assert _mode(group) == "wrong_table"


# --- the same rules on the facts alone: what takes precedence ------------------------------------------------


T1 = load_suite(MINI).task("t1")


def _facts(answer: str, *, tool_calls: int, queries: int, errors: tuple[str, ...] = (), **kw: Any) -> SampleFacts:
    base: dict[str, Any] = {"stop_reason": "final_answer", "correct": False, "failed_checks": set(), "task": T1}
    base.update(kw)
    return SampleFacts(final_answer=answer, error_types=errors, tool_calls=tool_calls, queries=queries, **base)


def test_an_error_before_giving_up_is_still_giving_up_after_an_error() -> None:
    facts = _facts(
        "I couldn't find that company, so I can't say.",
        tool_calls=1,
        queries=0,
        errors=("unknown_company",),
        failed_checks={"recovered_after_error", "right_tables"},
    )
    assert failure_mode(facts) == "made_up_after_error"


def test_a_task_that_needs_no_data_is_not_blamed_on_the_tools() -> None:
    arithmetic = dataclasses.replace(T1, tables=(), reference=ReferenceSolution(steps=(), compute="1350"))
    assert failure_mode(_facts("It is 1,200.", tool_calls=0, queries=0, task=arithmetic)) == "arithmetic_error"


def test_running_out_of_turns_comes_first_and_unknown_counts_change_nothing() -> None:
    assert failure_mode(_facts("", tool_calls=0, queries=0, stop_reason="max_turns")) == "ran_out_of_turns"
    legacy = SampleFacts("final_answer", False, "About 1,200.", {"right_tables"}, (), T1)
    assert failure_mode(legacy) == "wrong_table"  # without tool and query counts, the verdicts decide as before


def test_a_decline_after_a_query_is_no_answer() -> None:
    facts = _facts("Based on the query result, I cannot determine the 2023 revenue.", tool_calls=3, queries=1)
    assert failure_mode(facts) == "no_answer"
