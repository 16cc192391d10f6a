"""``Event``: one constructor per kind, fields that do not fit the kind refused, the stored form unchanged."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from evalkit.trace.types import Event, ToolCall, Usage

ROOT = Path(__file__).resolve().parents[2]

CALL = ToolCall(id="c1", name="sql_query", arguments={"query": "SELECT 1"})
EXAMPLES = {
    "system": Event.prompt(0, "system", 0, "You are an analyst."),
    "user": Event.prompt(1, "user", 0, "How many orders?"),
    "model": Event.model_call(
        2, 1, content="", tool_calls=(CALL,), usage=Usage(10, 2), latency_s=0.0, cost_usd=0.0, cached=True
    ),
    "tool": Event.tool_result(
        3,
        1,
        tool="sql_query",
        ok=False,
        call_id="c1",
        arguments={"query": "SELECT 1"},
        content="Error: no such table",
        error_type="unknown_table",
        data={"missing": "ordres"},
        latency_s=0.01,
    ),
}


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_every_kind_round_trips_and_matches_the_plain_constructor(kind: str) -> None:
    event = EXAMPLES[kind]
    assert event.kind == kind
    stored = json.loads(json.dumps(event.to_dict()))
    assert Event.from_dict(stored) == event
    assert Event(**{**stored, **_typed(event)}) == event  # the constructors build the same dataclass


def _typed(event: Event) -> dict[str, Any]:
    return {"tool_calls": event.tool_calls, "usage": event.usage}


def test_the_stored_form_is_unchanged() -> None:
    assert EXAMPLES["user"].to_dict() == {"seq": 1, "kind": "user", "turn": 0, "content": "How many orders?"}
    assert EXAMPLES["model"].to_dict() == {
        "seq": 2,
        "kind": "model",
        "turn": 1,
        "content": "",
        "latency_s": 0.0,
        "cost_usd": 0.0,
        "tool_calls": [{"id": "c1", "name": "sql_query", "arguments": {"query": "SELECT 1"}, "raw_arguments": None}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2},
        "cached": True,
    }
    assert EXAMPLES["tool"].to_dict() == {
        "seq": 3,
        "kind": "tool",
        "turn": 1,
        "content": "Error: no such table",
        "latency_s": 0.01,
        "tool": "sql_query",
        "call_id": "c1",
        "arguments": {"query": "SELECT 1"},
        "ok": False,
        "error_type": "unknown_table",
        "data": {"missing": "ordres"},
    }


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("tool", {"tool_calls": (CALL,)}, "tool_calls cannot be set on a tool event"),
        ("tool", {"usage": Usage(1, 1)}, "usage cannot be set on a tool event"),
        ("tool", {"cost_usd": 0.0}, "cost_usd cannot be set on a tool event"),
        ("tool", {"cached": True}, "cached cannot be set on a tool event"),
        ("model", {"error_type": "sql_error"}, "error_type cannot be set on a model event"),
        ("model", {"tool": "sql_query", "ok": True}, "tool, ok cannot be set on a model event"),
        ("model", {"ok": False}, "ok cannot be set on a model event"),
        ("model", {"data": {}}, "data cannot be set on a model event"),
        ("user", {"tool_calls": (CALL,)}, "tool_calls cannot be set on a user event"),
        ("system", {"latency_s": 0.5}, "latency_s cannot be set on a system event"),
        ("user", {"call_id": "c1"}, "call_id cannot be set on a user event"),
    ],
)
def test_fields_of_another_kind_are_refused(kind: str, fields: dict[str, Any], message: str) -> None:
    base = EXAMPLES[kind]
    with pytest.raises(ValueError, match=f"^event {base.seq}: {message}$"):
        replace(base, **fields)
    with pytest.raises(ValueError, match=message):
        Event.from_dict({**base.to_dict(), **json.loads(json.dumps(_plain(fields)))})


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if "tool_calls" in out:
        out["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in out["tool_calls"]]
    if "usage" in out:
        usage = out["usage"]
        out["usage"] = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
    return out


def test_a_tool_event_needs_its_tool_and_outcome() -> None:
    with pytest.raises(ValueError, match="needs the name of its tool"):
        Event(seq=4, kind="tool", turn=1, ok=True)
    with pytest.raises(ValueError, match="needs its outcome"):
        Event(seq=4, kind="tool", turn=1, tool="calculator")
    with pytest.raises(ValueError, match=r"successful tool call has no error_type \('calc_error'\)"):
        Event.tool_result(4, 1, tool="calculator", ok=True, error_type="calc_error")
    assert Event.tool_result(4, 1, tool="", ok=False).tool == ""  # a call without a name is still recorded


def test_unknown_kinds_and_prompts_of_another_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind 'assistant'"):
        Event(seq=0, kind="assistant", turn=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="a prompt is a system or user event, not 'model'"):
        Event.prompt(0, "model", 0, "hi")  # type: ignore[arg-type]


def _is_run_file(path: Path) -> bool:
    """An exported run (its header says ``evalkit-run``), not another JSON Lines file (traces, questions)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        first = f.readline()
    try:
        return bool(first.strip()) and json.loads(first).get("format") == "evalkit-run"
    except (json.JSONDecodeError, AttributeError):
        return False


def _committed_run_files() -> list[Path]:
    found = [p for top in ("tests", "examples") for p in (ROOT / top).rglob("*.jsonl*")]
    return sorted(p for p in found if p.name.endswith((".jsonl", ".jsonl.gz")) and _is_run_file(p))


def test_committed_run_files_exist() -> None:
    assert ROOT / "examples" / "baselines" / "finance-single.jsonl.gz" in _committed_run_files()


@pytest.mark.parametrize("path", _committed_run_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_event_of_the_committed_run_files_loads_unchanged(path: Path) -> None:
    opener = gzip.open if path.suffix == ".gz" else open
    events = 0
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            obj = json.loads(line)
            for stored in obj.get("events", []) if obj.get("type") == "sample" else []:
                assert Event.from_dict(stored).to_dict() == stored
                events += 1
    assert events > 0
