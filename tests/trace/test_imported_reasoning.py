"""OpenAI-format traces of reasoning models, as local servers return them: Qwen3 served without a reasoning
parser (the thinking as a ``<think>`` block opening the content), with one (a ``reasoning_content`` field), and
a thinking that drafts a different figure, with a ``FINAL ANSWER:`` of its own, than the reply gives. The
thinking is stored apart from what was said, shown collapsed by ``show`` (whole with ``--full``), and never read
as the answer."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.api import get_samples, score_traces
from tests.cli_runner import run_cli

QUESTION = "What was Acme Widgets' total revenue in fiscal year 2023, in USD millions?"
LIST = {"id": "c1", "type": "function", "function": {"name": "list_tables", "arguments": "{}"}}
QUERY = {
    "id": "c2",
    "type": "function",
    "function": {
        "name": "sql_query",
        "arguments": json.dumps({"sql": "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"}),
    },
}
DRAFT = "The table says 1350, but maybe the 2022 figure is meant. FINAL ANSWER: 1200"


def _episode(task_id: str, last: dict[str, object]) -> dict[str, object]:
    return {
        "task_id": task_id,
        "expected": 1350,
        "messages": [
            {"role": "system", "content": "You answer questions with SQL."},
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "<think>\nFirst the tables.\n</think>\n\n", "tool_calls": [LIST]},
            {"role": "tool", "tool_call_id": "c1", "content": '["acme_income_statement"]'},
            {"role": "assistant", "content": None, "reasoning_content": "Now the revenue row.", "tool_calls": [QUERY]},
            {"role": "tool", "tool_call_id": "c2", "content": '[{"total_revenue": 1350}]'},
            last,
        ],
    }


def _log(tmp_path: Path) -> Path:
    episodes = [
        _episode("raw-think", {"role": "assistant", "content": f"<think>\n{DRAFT}\n</think>\n\nRevenue was $1,350M."}),
        _episode("parsed", {"role": "assistant", "content": "Revenue was $1,350 million.", "reasoning_content": DRAFT}),
        # the thinking holds the right figure, the reply a wrong one: the reply decides
        _episode("wrong", {"role": "assistant", "content": "<think>1350</think>FINAL ANSWER: 1,200"}),
    ]  # fmt: skip
    path = tmp_path / "qwen3.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in episodes), encoding="utf-8")
    return path


def test_reasoning_is_stored_apart_and_never_read_as_the_answer(tmp_path: Path, store: Path) -> None:
    result = score_traces(_log(tmp_path), ["answer"], store_path=store)
    _, found = get_samples(store, result.run.run_id, with_events=True)
    samples = {s.task_id: s for s in found}
    assert {k: s.correct for k, s in samples.items()} == {"raw-think": True, "parsed": True, "wrong": False}
    assert samples["raw-think"].final_answer == "Revenue was $1,350M."
    assert samples["wrong"].final_answer == "1,200"
    models = [e for e in samples["raw-think"].events if e.kind == "model"]
    assert [e.reasoning for e in models] == ["\nFirst the tables.\n", "Now the revenue row.", f"\n{DRAFT}\n"]
    assert all("<think>" not in (e.content or "") and "FINAL ANSWER: 1200" not in (e.content or "") for e in models)
    assert [e.reasoning for e in samples["parsed"].events if e.kind == "model"][-1] == DRAFT


def test_show_collapses_the_reasoning_and_full_shows_it(tmp_path: Path, store: Path) -> None:
    score_traces(_log(tmp_path), ["answer"], store_path=store)
    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    out = run_cli("show", "latest", "raw-think", "--store", store, env=env)
    assert out.exit_code == 0, out.stderr
    assert f"reasoning: {len(DRAFT) + 2:,} characters (--full shows it)" in out.stdout
    assert "FINAL ANSWER: 1200" not in out.stdout
    full = run_cli("show", "latest", "raw-think", "--full", "--store", store, env=env)
    assert full.exit_code == 0, full.stderr
    assert "FINAL ANSWER: 1200" in full.stdout
