"""Reading external OpenAI-format traces into samples: events, inferred tool errors, tasks, problems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.contracts.loader import load_suite
from evalkit.errors import ImportFormatError
from evalkit.trace.chat_messages import infer_tool_error
from evalkit.trace.external import minimal_task, read_external_traces

QUESTION = "What was Acme Widgets' total revenue in fiscal year 2023? Answer in USD millions."
GOOD_QUERY = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"


def call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def disciplined() -> dict[str, Any]:
    """Lists the tables, reads the schema, queries, answers right."""
    return {
        "task_id": "t1",
        "expected": 1350,
        "model": "careful-agent",
        "metadata": {"source_run": "abc"},
        "messages": [
            {"role": "system", "content": "You are a financial analyst with SQL tools."},
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": None, "tool_calls": [call("c1", "get_table_names", {"company": "acme"})]},
            {"role": "tool", "tool_call_id": "c1", "content": "acme_income_statement\nacme_headcount"},
            {
                "role": "assistant",
                "content": "Let me read the schema.",
                "tool_calls": [call("c2", "get_table_info", {"table": "acme_income_statement"})],
            },
            {"role": "tool", "tool_call_id": "c2", "content": "Table acme_income_statement\n- fiscal_year INTEGER"},
            {"role": "assistant", "content": "", "tool_calls": [call("c3", "sql_query", {"query": GOOD_QUERY})]},
            {"role": "tool", "tool_call_id": "c3", "content": "total_revenue\n1350.0"},
            {"role": "assistant", "content": [{"type": "text", "text": "FINAL ANSWER: 1350 USD millions"}]},
        ],
    }


def reckless() -> dict[str, Any]:
    """Queries a table that does not exist, twice, then makes up a number."""
    bad = ("acme_financials", "acme_revenue")
    return {
        "task_id": "t1",
        "expected": 1350,
        "model": "reckless-agent",
        "messages": [
            {"role": "system", "content": "You are a financial analyst with SQL tools."},
            {"role": "user", "content": QUESTION},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [call("b1", "sql_query", {"query": f"SELECT revenue FROM {bad[0]} WHERE year = 2023"})],
            },
            {
                "role": "tool",
                "tool_call_id": "b1",
                "content": f'Catalog Error: Table with name {bad[0]} does not exist!\nDid you mean "acme_headcount"?',
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [call("b2", "sql_query", {"query": f"SELECT revenue FROM {bad[1]} WHERE year = 2023"})],
            },
            {"role": "tool", "tool_call_id": "b2", "content": f"Error: Table with name {bad[1]} does not exist!"},
            {"role": "assistant", "content": "Revenue was about 1.5 billion. FINAL ANSWER: 1500 USD millions"},
        ],
    }


def write_jsonl(path: Path, episodes: list[Any]) -> Path:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in episodes))
    return path


def test_events_are_reconstructed_from_the_messages(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "traces.jsonl", [disciplined(), reckless()])
    good, bad = read_external_traces(path, run_id="ext-1")
    s = good.sample
    assert (s.run_id, s.task_id, s.model, s.epoch, s.status) == ("ext-1", "t1", "careful-agent", 0, "ok")
    assert [(e.seq, e.kind, e.turn) for e in s.events] == [
        (0, "system", 0), (1, "user", 0), (2, "model", 1), (3, "tool", 1), (4, "model", 2), (5, "tool", 2),
        (6, "model", 3), (7, "tool", 3), (8, "model", 4),
    ]  # fmt: skip
    tools = [e for e in s.events if e.kind == "tool"]
    assert [(e.tool, e.call_id, e.ok, e.error_type) for e in tools] == [
        ("get_table_names", "c1", True, None),
        ("get_table_info", "c2", True, None),
        ("sql_query", "c3", True, None),
    ]
    assert tools[2].arguments == {"query": GOOD_QUERY} and tools[2].content == "total_revenue\n1350.0"
    assert s.events[2].tool_calls[0].name == "get_table_names" and s.events[4].content == "Let me read the schema."
    assert (s.final_answer, s.stop_reason, s.turns, s.tool_calls, s.tool_errors) == (
        "1350 USD millions", "final_answer", 4, 3, 0,
    )  # fmt: skip
    assert s.correct is True and s.expected == "1350" and s.cost_usd is None
    assert s.metadata["external"] == {"source_run": "abc"} and s.metadata["line"] == 1
    assert good.task is not None and good.task.answer.kind == "number" and good.task.answer.value == 1350.0

    b = bad.sample
    errors = [e for e in b.events if e.kind == "tool"]
    assert [(e.tool, e.ok, e.error_type) for e in errors] == [("sql_query", False, "unknown_table")] * 2
    assert [e.data["missing"] for e in errors if e.data] == ["acme_financials", "acme_revenue"]
    assert (b.final_answer, b.correct, b.tool_errors, b.model) == ("1500 USD millions", False, 2, "reckless-agent")


def test_suite_tasks_are_matched_by_id_or_by_question(tmp_path: Path, mini_suite: Path) -> None:
    suite = load_suite(mini_suite)
    by_question = {k: v for k, v in disciplined().items() if k not in ("task_id", "expected")}
    path = write_jsonl(tmp_path / "t.jsonl", [disciplined(), by_question, {**disciplined(), "task_id": "nope"}])
    a, b, c = read_external_traces(path, run_id="r", suite=suite, model_name="agent-x")
    assert a.task is suite.task("t1") and b.task is suite.task("t1")
    assert (a.sample.epoch, b.sample.epoch) == (0, 1)  # same task and model: numbered as epochs
    assert a.sample.model == b.sample.model == "agent-x"
    assert a.sample.expected == "1350 USD millions" and "expected" not in a.sample.metadata
    # an unknown task id with an expected answer: a minimal task, kept for later re-scoring
    assert c.task is not None and c.task.id == "nope" and c.sample.metadata["expected"] == 1350


def test_an_episode_cut_after_a_tool_result_stopped_for_an_unknown_reason(tmp_path: Path) -> None:
    episode = disciplined()
    episode["messages"] = episode["messages"][:-1]
    del episode["expected"]
    (trace,) = read_external_traces(write_jsonl(tmp_path / "t.jsonl", [episode]), run_id="r")
    assert (trace.sample.stop_reason, trace.sample.final_answer, trace.sample.correct) == ("unknown", None, None)
    assert trace.task is None and trace.sample.expected is None


@pytest.mark.parametrize(
    ("content", "ok", "error_type"),
    [
        ("total_revenue\n1350.0", True, None),
        ("error_rate\n0.02", True, None),  # a column named error_... is not an error
        ('Catalog Error: Table with name "orders" does not exist!', False, "unknown_table"),
        ("Error: Catalog Error: Table with name acme_x does not exist!", False, "unknown_table"),
        ("Query failed: Catalog Error: Table with name acme_x does not exist!", False, "unknown_table"),
        ("error: no such table: orders", False, "unknown_table"),
        ('Binder Error: Referenced column "revenue" not found in FROM clause!', False, "unknown_column"),
        ("ERROR: column foo does not exist", False, "unknown_column"),
        ('Parser Error: syntax error at or near "FORM"', False, "sql_error"),
        ("Error: division by zero in calculator", False, "tool_error"),
        ("Traceback (most recent call last):\n  ...", False, "tool_error"),
        ('{"error": "Table with name x does not exist"}', False, "unknown_table"),
        ('{"error": null, "rows": [1]}', True, None),
    ],
)
def test_tool_errors_are_inferred_from_the_text(content: str, ok: bool, error_type: str | None) -> None:
    got_ok, got_type, _ = infer_tool_error(content)
    assert (got_ok, got_type) == (ok, error_type)


@pytest.mark.parametrize(
    ("expected", "kind", "value", "unit"),
    [
        (1350, "number", 1350.0, None),
        ("1,350 USD millions", "number", 1350.0, "USD millions"),
        ("11.1%", "number", 11.1, "%"),
        ("-$2.5", "number", -2.5, None),
        ({"value": 250, "unit": "USD thousands", "tolerance": {"abs": 1}}, "number", 250.0, "USD thousands"),
        ({"kind": "list", "value": ["Cloud", "Devices"]}, "list", ("Cloud", "Devices"), None),
        ("Cloud", "text", "Cloud", None),
        ("Q3 2023", "text", "Q3 2023", None),
    ],
)
def test_minimal_tasks_from_expected(expected: Any, kind: str, value: Any, unit: str | None) -> None:
    task = minimal_task("x", "q?", expected, {})
    assert task is not None
    assert (task.answer.kind, task.answer.value, task.answer.unit) == (kind, value, unit)
    if kind == "number" and not isinstance(expected, dict):
        assert task.answer.tolerance.rel == 0.01
    assert task.tags == ("external",) and task.kind == "single_table"


def test_malformed_lines_are_all_reported_with_file_and_line(tmp_path: Path) -> None:
    bad_call = disciplined()
    bad_call["messages"][3]["tool_call_id"] = "zzz"
    lines: list[Any] = [
        disciplined(),
        "{not json",
        {"task_id": "t1"},
        [1, 2],
        bad_call,
        {"messages": [{"role": "robot", "content": "hi"}, {"role": "assistant", "content": 5}]},
        {"messages": [{"role": "user", "content": "q"}], "expected": True},
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    with pytest.raises(ImportFormatError) as info:
        read_external_traces(path, run_id="r")
    message = str(info.value)
    for expected in (
        f"{path}:2: invalid JSON",
        f"{path}:3: messages: must be a non-empty list",
        f"{path}:4: expected a JSON object",
        f'{path}:5: messages[3].tool_call_id: "zzz" answers no earlier tool call',
        f"{path}:6: messages[0].role: must be one of",
        f"{path}:6: messages[1].content: must be a string",
        f"{path}:7: messages: no assistant message",
        f"{path}:7: expected: must be a string, a number or an object, got true",
    ):
        assert expected in message
    assert f"{path}:1:" not in message


def test_a_missing_or_empty_file_is_an_import_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="no such file"):
        read_external_traces(tmp_path / "none.jsonl", run_id="r")
    with pytest.raises(ImportFormatError, match="no episodes"):
        read_external_traces(write_jsonl(tmp_path / "empty.jsonl", []), run_id="r")


def test_a_line_may_give_its_usage_and_what_it_leaves_out_stays_unknown(tmp_path: Path) -> None:
    from evalkit.errors import ImportFormatError
    from evalkit.trace.external import read_external_traces

    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "FINAL ANSWER: 1"}]
    lines = [
        {"messages": messages, "usage": {"prompt_tokens": 120, "completion_tokens": 30, "latency_s": 1.5}},
        {"messages": messages, "usage": {"latency_s": 0.25}},
        {"messages": messages},
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    a, b, c = (t.sample for t in read_external_traces(path, run_id="r"))
    assert (a.prompt_tokens, a.completion_tokens, a.latency_s, a.metadata["unknown"]) == (120, 30, 1.5, [])
    assert (b.latency_s, b.metadata["unknown"]) == (0.25, ["tokens"])
    assert c.metadata["unknown"] == ["tokens", "latency"]
    path.write_text(json.dumps({"messages": messages, "usage": {"prompt_tokens": -3, "latency_s": "1s"}}) + "\n")
    with pytest.raises(ImportFormatError) as err:
        read_external_traces(path, run_id="r")
    assert "usage.prompt_tokens: must be a whole number from 0, got -3" in str(err.value)
    assert "usage.latency_s: must be a number of seconds from 0" in str(err.value)
