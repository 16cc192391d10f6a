"""Reading Inspect AI eval logs (``.eval`` zips and ``.json`` logs) as samples: events, reasoning, scores, epochs,
stop reasons and the problems of a broken log. The logs are ``tests/fixtures/inspect`` (see its generate.py)."""

from __future__ import annotations

import importlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from evalkit.contracts.loader import load_suite
from evalkit.errors import ImportFormatError
from evalkit.trace.external import ExternalTrace, parse_correct_from
from evalkit.trace.inspect_log import STORED, is_inspect_log, read_inspect_log

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inspect"
EVAL = FIXTURES / "finance_sql.eval"
REACT = FIXTURES / "finance_sql_react.eval"
LEGACY = FIXTURES / "finance_sql_legacy.json"
ZSTD = FIXTURES / "finance_sql_zstd.eval"
TYPO = "SELECT total_revenue FROM acme_income_statment WHERE fiscal_year = 2023"
GOOD = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"
CATALOG_ERROR = (
    "Catalog Error: Table with name acme_income_statment does not exist!\n"
    'Did you mean "acme_income_statement"?\n'
    "Closest table names: acme_income_statement, acme_headcount."
)
T1_THOUGHT = (
    "The query returned 1350 for fiscal 2023. The 2022 figure is 1,200, so FINAL ANSWER: 1200 would be the "
    "wrong year; the question asks for 2023."
)
T1_ANSWER = "Acme Widgets' total revenue in fiscal year 2023 was $1,350 million."
T4_ANSWER = "Cloud had the highest revenue among Zenith Cloud's segments in fiscal 2024 (510,000 USD thousands)."


def by_key(traces: list[ExternalTrace]) -> dict[tuple[str, int], ExternalTrace]:
    return {(t.sample.task_id, t.sample.epoch): t for t in traces}


def zstd_readable() -> bool:
    """Whether this Python reads zstd: 3.14's ``compression.zstd``, or the ``zstandard`` package."""
    for name in ("compression.zstd", "zstandard"):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        return True
    return False


def rewrite(src: Path, dst: Path, changes: dict[str, Any]) -> Path:
    """A copy of the .eval log ``src`` with members replaced (a JSON value, or raw text) or dropped (None)."""
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in dict.fromkeys(z.namelist())}
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in {**members, **changes}.items():
            if data is not None:
                out.writestr(name, data if isinstance(data, bytes | str) else json.dumps(data))
    return dst


def member(src: Path, name: str) -> Any:
    with zipfile.ZipFile(src) as z:
        return json.loads(z.read(name))


def test_each_sample_of_an_eval_log_is_read_with_its_epoch() -> None:
    notes: list[str] = []
    traces = read_inspect_log(EVAL, run_id="insp-1", notes=notes)
    # Inspect's order (epoch, then id); t3's first epoch ended in a rate-limit error before any reply
    assert [(t.sample.task_id, t.sample.epoch) for t in traces] == [
        ("t1", 0),
        ("t2", 0),
        ("t1", 1),
        ("t2", 1),
        ("t3", 1),
    ]
    assert notes == ["skipped 1 Inspect samples that ended in an error before any model reply"]
    s = traces[0].sample
    assert (s.run_id, s.model, s.status, s.expected, s.started_at) == (
        "insp-1", "openai/gpt-4.1-mini", "ok", "1350", "2026-08-20T09:01:00+00:00"
    )  # fmt: skip
    assert {k: s.metadata[k] for k in ("source", "file", "sample", "task")} == {
        "source": "inspect", "file": str(EVAL), "sample": "samples/t1_epoch_1.json", "task": "finance_sql",
    }  # fmt: skip
    assert [t.sample.metadata["external"]["epoch"] for t in traces] == [1, 1, 2, 2, 2]
    assert by_key(traces)[("t3", 1)].sample.final_answer == (
        "Revenue per employee in fiscal 2024 was 250 USD thousands (1,500 USD millions / 6,000 employees)."
    )
    assert read_inspect_log(EVAL, run_id="r", model_name="renamed")[0].sample.model == "renamed"


def test_tool_calls_keep_their_arguments_and_a_failed_call_is_a_tool_error() -> None:
    s = read_inspect_log(EVAL, run_id="r")[0].sample
    assert [(e.seq, e.kind, e.turn) for e in s.events] == [
        (0, "system", 0), (1, "user", 0), (2, "model", 1), (3, "tool", 1), (4, "model", 2), (5, "tool", 2),
        (6, "model", 3), (7, "tool", 3), (8, "model", 4), (9, "tool", 4), (10, "model", 5),
    ]  # fmt: skip
    tools = [e for e in s.events if e.kind == "tool"]
    assert [(e.tool, e.arguments, e.ok, e.error_type) for e in tools] == [
        ("get_table_names", {"company": "acme"}, True, None),
        ("get_table_info", {"table": "acme_income_statement"}, True, None),
        ("sql_query", {"query": TYPO}, False, "unknown_table"),
        ("sql_query", {"query": GOOD}, True, None),
    ]
    assert tools[2].content == f"Error: {CATALOG_ERROR}" and tools[2].data == {
        "missing": "acme_income_statment", "inferred": True,
    }  # fmt: skip
    assert tools[0].content == "acme_income_statement\nacme_headcount" and tools[3].content == "total_revenue\n1350"
    assert tools[3].call_id == s.events[8].tool_calls[0].id and s.events[8].tool_calls[0].name == "sql_query"
    assert s.events[4].content == "Let me read the schema first." and s.events[6].content == ""
    assert (s.turns, s.tool_calls, s.tool_errors, s.stop_reason) == (5, 4, 1, "final_answer")


def test_reasoning_is_kept_apart_from_the_answer_and_never_read_as_it() -> None:
    s = read_inspect_log(EVAL, run_id="r")[0].sample
    last = s.events[-1]
    # the thought holds "FINAL ANSWER: 1200": read as the answer, it would be wrong
    assert (last.reasoning, last.content) == (T1_THOUGHT, T1_ANSWER)
    assert s.final_answer == T1_ANSWER and s.correct is True
    assert all(e.reasoning is None for e in s.events[:-1])
    t4 = by_key(read_inspect_log(REACT, run_id="r"))[("t4", 0)].sample
    # a redacted block: its readable summary, never the encrypted text
    assert t4.events[-1].reasoning == "Compare the fiscal 2024 revenue of each segment and name the largest."
    assert (t4.events[-1].content, t4.final_answer) == (T4_ANSWER, T4_ANSWER)


def test_scores_are_kept_and_the_first_scorer_is_the_stored_correctness() -> None:
    traces = by_key(read_inspect_log(EVAL, run_id="r"))
    wrong = traces[("t2", 0)].sample
    said = "Revenue grew by about 12.5% from fiscal 2023 to fiscal 2024."
    assert wrong.metadata["external"] == {
        "epoch": 1,
        "scores": {"match": {"value": "I", "answer": "12.5", "explanation": said}},
        "score": 0.0,
        "is_correct": False,
        "sample_metadata": {"company": "acme"},
        "usage": {
            "model_usage": {"openai/gpt-4.1-mini": {"input_tokens": 900, "output_tokens": 120, "total_tokens": 1020}},
            "total_time": 6.4,
            "working_time": 5.9,
        },
    }
    # a target: evalkit's matcher decides (the task built from it) and the stored value is kept beside it
    assert (wrong.final_answer, wrong.correct) == (said, False)
    assert wrong.metadata["stored_correct"] == {"expression": STORED, "value": False, "correct": False}
    react = by_key(read_inspect_log(REACT, run_id="r"))
    assert react[("t4", 0)].sample.metadata["external"]["scores"] == {
        "match": {"value": "I", "answer": T4_ANSWER[-40:], "explanation": T4_ANSWER},
        "sql_judge": {"value": 1},
    }
    assert react[("t4", 0)].sample.metadata["external"]["is_correct"] is False  # the first scorer's, not sql_judge's


def test_the_stored_correctness_decides_a_sample_without_a_task(mini_suite: Path) -> None:
    for suite in (None, load_suite(mini_suite)):  # acme-trend has no target and is no task of the suite
        trend = by_key(read_inspect_log(REACT, run_id="r", suite=suite))[("acme-trend", 0)]
        assert trend.task is None and trend.sample.expected is None
        assert trend.sample.correct is True
        assert trend.sample.metadata["correct_from"] == {"expression": STORED, "value": True}
        assert trend.sample.metadata["external"]["scores"]["match"]["value"] == "C"


def test_beside_a_suite_task_the_matcher_decides_and_the_stored_value_is_kept(mini_suite: Path) -> None:
    suite = load_suite(mini_suite)
    t4 = by_key(read_inspect_log(REACT, run_id="r", suite=suite))[("t4", 0)]
    # Inspect's match() wanted the answer at the end; evalkit's matcher finds it in the prose
    assert t4.task is suite.task("t4") and t4.sample.expected == "Cloud"
    assert t4.sample.correct is True
    assert t4.sample.metadata["stored_correct"] == {"expression": STORED, "value": False, "correct": False}
    assert "correct_from" not in t4.sample.metadata
    right = by_key(read_inspect_log(EVAL, run_id="r", suite=suite))[("t2", 1)]
    assert right.task is suite.task("t2") and right.sample.correct is True
    assert right.sample.metadata["stored_correct"]["correct"] is True
    # --correct-from names the signal that decides every sample, over the matcher
    chosen = read_inspect_log(REACT, run_id="r", suite=suite, correct_from=parse_correct_from("metadata.score>=0.5"))
    decided = by_key(chosen)[("t4", 0)].sample
    assert decided.correct is False
    assert decided.metadata["correct_from"] == {"expression": "metadata.score>=0.5", "value": 0.0}


def test_limits_and_a_reply_cut_at_max_tokens_give_the_stop_reason() -> None:
    notes: list[str] = []
    traces = read_inspect_log(REACT, run_id="r", notes=notes)
    # t4's first member (a sandbox error, no reply) was logged again: the last one is read, nothing is skipped
    assert [t.sample.task_id for t in traces] == ["acme-trend", "t1", "t3", "t4"] and notes == []
    samples = {t.sample.task_id: t.sample for t in traces}
    t3 = samples["t3"]
    assert (t3.stop_reason, t3.final_answer, t3.correct) == ("max_turns", None, False)
    assert t3.metadata["external"]["limit"] == {"type": "message", "limit": 10}
    failed = [e for e in t3.events if e.kind == "tool" and not e.ok]
    assert [(e.tool, e.error_type, e.data) for e in failed] == [
        ("sql_query", "unknown_column", {"missing": "revenue", "inferred": True})
    ]
    assert failed[0].arguments == {"query": "SELECT revenue FROM acme_income_statement WHERE fiscal_year = 2024"}
    assert samples["t1"].stop_reason == "truncated" and samples["t4"].stop_reason == "final_answer"
    assert samples["t4"].model == "vllm/Qwen/Qwen3-8B"


def test_an_older_json_log_with_a_lone_score_and_tool_error() -> None:
    notes: list[str] = []
    t1, t4 = read_inspect_log(LEGACY, run_id="r", notes=notes)
    s = t1.sample
    assert (s.task_id, s.model, s.metadata["sample"]) == ("t1", "anthropic/claude-3-5-sonnet-20241022", "samples[0]")
    assert s.metadata["external"]["scores"] == {"match": {"value": "C", "answer": "1350"}}  # named by results
    assert s.metadata["external"]["is_correct"] is True
    sent = '{"query": "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023'
    call = s.events[2].tool_calls[0]
    assert (call.name, call.arguments, call.raw_arguments) == ("sql_query", None, sent)  # a malformed call
    failed = s.events[3]
    assert (failed.kind, failed.ok, failed.arguments) == ("tool", False, {"_raw": sent})
    assert (failed.content or "").startswith("Error: Error parsing the following tool call arguments:")
    assert (s.final_answer, s.correct, s.tool_errors) == ("1350 USD millions", True, 1)
    cloud = t4.sample
    assert cloud.expected == "Cloud" and cloud.final_answer == "Cloud"  # the first of the target list
    assert cloud.metadata["external"]["score"] == 1.0 and cloud.metadata["external"]["is_correct"] is True
    thinking = cloud.events[4]
    assert (thinking.reasoning, thinking.content) == ("Largest 2024 segment by revenue: sort descending, take one.", "")
    assert thinking.tool_calls[0].arguments == {
        "query": "SELECT segment FROM zenith_segment_revenue WHERE fiscal_year = 2024 ORDER BY revenue DESC LIMIT 1"
    }
    assert notes == []


def test_zstd_members_are_read_or_named_as_the_reason() -> None:
    if zstd_readable():
        (t,) = read_inspect_log(ZSTD, run_id="r")
        assert t.sample.final_answer == "Total revenue in fiscal 2023 was 1,350 USD millions." and t.sample.correct
    else:
        with pytest.raises(
            ImportFormatError, match=r"finance_sql_zstd\.eval: its members are zstd-compressed.*zstandard"
        ):
            read_inspect_log(ZSTD, run_id="r")


def test_text_parts_are_joined_and_attachment_references_resolved(tmp_path: Path) -> None:
    sample = member(EVAL, "samples/t1_epoch_2.json")
    sample["messages"][3]["content"] = [
        {"type": "text", "text": "attachment://5f1c0a"},
        {"type": "image", "image": "attachment://9be2d4"},  # not text: dropped
        {"type": "text", "text": "(1 row)"},
    ]
    sample["attachments"] = {"5f1c0a": "total_revenue\n1350", "9be2d4": "data:image/png;base64,iVBORw0KGgo="}
    log = rewrite(EVAL, tmp_path / "a.eval", {"samples/t1_epoch_2.json": sample})
    s = by_key(read_inspect_log(log, run_id="r"))[("t1", 1)].sample
    assert [e.content for e in s.events if e.kind == "tool"] == ["total_revenue\n1350\n(1 row)"]


def test_what_is_an_inspect_log(tmp_path: Path) -> None:
    assert all(is_inspect_log(p) for p in (EVAL, REACT, LEGACY, ZSTD))
    header = member(EVAL, "header.json")
    cases = {
        "traces.jsonl": '{"messages": [], "task_id": "t1"}\n',
        "run.json": json.dumps({"format": "evalkit-run", "samples": []}),
        "samples_first.json": json.dumps({"samples": [], "eval": {}}),
        "not_json.json": "version: 2\n",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        assert not is_inspect_log(tmp_path / name), name
    (tmp_path / "minimal.json").write_text(json.dumps({"version": 2, "status": "success", "eval": header["eval"]}))
    assert is_inspect_log(tmp_path / "minimal.json")
    assert not is_inspect_log(
        rewrite(EVAL, tmp_path / "headless.eval", {"header.json": None, "_journal/start.json": None})
    )
    assert is_inspect_log(rewrite(EVAL, tmp_path / "unfinished.eval", {"header.json": None}))
    assert not is_inspect_log(tmp_path / "missing.eval")


def test_a_log_that_never_finished_is_read_from_its_journal(tmp_path: Path) -> None:
    log = rewrite(EVAL, tmp_path / "unfinished.eval", {"header.json": None, "summaries.json": None})
    traces = read_inspect_log(log, run_id="r")
    assert len(traces) == 5 and traces[0].sample.model == "openai/gpt-4.1-mini"


def test_a_broken_log_is_an_import_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "cut.eval").write_bytes(EVAL.read_bytes()[:300])
    with pytest.raises(ImportFormatError, match=r"cut\.eval: not a readable \.eval log \(zip\)"):
        read_inspect_log(tmp_path / "cut.eval", run_id="r")
    headless = rewrite(EVAL, tmp_path / "headless.eval", {"header.json": None, "_journal/start.json": None})
    with pytest.raises(ImportFormatError, match=r"headless\.eval: no header\.json \(nor _journal/start\.json\)"):
        read_inspect_log(headless, run_id="r")
    with pytest.raises(ImportFormatError, match=r"gone\.eval: no such file"):
        read_inspect_log(tmp_path / "gone.eval", run_id="r")
    (tmp_path / "bad.json").write_text('{"version": 2,\n "eval": {')
    with pytest.raises(ImportFormatError, match=r"bad\.json:2: invalid JSON"):
        read_inspect_log(tmp_path / "bad.json", run_id="r")


def test_every_problem_of_a_sample_is_listed_with_the_member_and_key_path(tmp_path: Path) -> None:
    sample = member(EVAL, "samples/t1_epoch_1.json")
    sample["epoch"] = "one"
    sample["messages"][2]["role"] = "robot"
    sample["messages"][4]["tool_calls"] = [{"id": "c9", "function": "sql_query"}]
    sample["messages"][5]["error"] = "boom"
    sample["messages"][10]["content"] = 42
    log = rewrite(EVAL, tmp_path / "p.eval", {"samples/t1_epoch_1.json": sample, "samples/t2_epoch_1.json": "{oops"})
    with pytest.raises(ImportFormatError) as exc:
        read_inspect_log(log, run_id="r")
    at = f"{log}: samples/t1_epoch_1.json: "
    assert str(exc.value).splitlines() == [
        at + 'epoch: must be an integer from 1, got "one"',
        at + 'messages[2].role: must be one of system, user, assistant, tool, got "robot"',
        at + "messages[4].tool_calls[0]: a tool call needs an 'id', a 'function' and 'arguments' (an object), got "
        '{"id": "c9", "function": "sql_query"}',
        at + "messages[5].error: must be an object with a 'type' and a 'message', got \"boom\"",
        at + "messages[10].content: must be a string or a list of content parts, got 42",
        f"{log}: samples/t2_epoch_1.json:1: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
    ]


def test_score_traces_reads_an_eval_log_by_its_suffix_and_a_json_log_by_its_content(
    mini_suite: Path, store: Path
) -> None:
    from tests.cli_runner import run_cli

    out = run_cli("score", "--traces", EVAL, "--suite", mini_suite, "-r", "tool-discipline", "--store", store)
    assert out.exit_code == 0, out.stderr
    legacy = run_cli("score", "--traces", LEGACY, "-r", "answer", "--store", store, env={"COLUMNS": "200"})
    assert legacy.exit_code == 0, legacy.stderr
    from evalkit.trace.store import TraceStore

    with TraceStore.open(store, write=False) as st:
        formats = [row[0] for row in st.query("SELECT json_extract_string(options, '$.traces_format') FROM runs")]
    assert formats == ["inspect", "inspect"]
    forced = run_cli("score", "--traces", LEGACY, "--traces-format", "openai", "-r", "answer", "--store", store)
    assert forced.exit_code == 2, forced.stdout


def test_tokens_and_time_the_log_recorded_are_the_samples() -> None:
    t1 = by_key(read_inspect_log(EVAL, run_id="r"))[("t1", 0)].sample
    usage = t1.metadata["external"]["usage"]
    (counts,) = usage["model_usage"].values()
    assert (t1.prompt_tokens, t1.completion_tokens) == (counts["input_tokens"], counts["output_tokens"])
    assert t1.latency_s == usage["total_time"] and t1.metadata["unknown"] == []
