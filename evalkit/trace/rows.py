"""Trace objects as rows of the store's tables, and back.

Writes insert whole batches from pandas DataFrames registered on the connection (``executemany`` costs
~1 ms per row in DuckDB); pandas is imported when the first batch is built, so opening a store to read
never pays for it. Reads decode the rows a query returns. The tables are defined in ``migrations.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from evalkit.contracts.model_config import ModelConfig
from evalkit.trace.types import Event, RunRecord, Sample, Score, dumps, sample_id_of

if TYPE_CHECKING:
    import pandas as pd

RUN_FIELDS = tuple(f.name for f in fields(RunRecord))
RUN_COLS = ", ".join(RUN_FIELDS)
SAMPLE_FIELDS = tuple(f.name for f in fields(Sample) if f.name != "events")
SAMPLE_PLAIN = tuple(name for name in SAMPLE_FIELDS if name != "metadata")
SAMPLE_COLS = ", ".join(SAMPLE_FIELDS)
SCORE_FIELDS = tuple(f.name for f in fields(Score))
assert SCORE_FIELDS[-2:] == ("evidence", "detail"), "score_row encodes the last two fields as JSON"
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode
"""``types.dumps`` with the encoder built once (``json.dumps`` with options builds one per call)."""

# column -> pandas dtype of the frames inserted (nullable dtypes so None stays NULL, never NaN or object).
SAMPLE_DTYPES = {
    "sample_id": "string", "run_id": "string", "task_id": "string", "model": "string", "epoch": "Int64",
    "status": "string", "stop_reason": "string", "final_answer": "string", "correct": "boolean",
    "expected": "string", "turns": "Int64", "tool_calls": "Int64", "tool_errors": "Int64",
    "prompt_tokens": "Int64", "completion_tokens": "Int64", "latency_s": "Float64", "cost_usd": "Float64",
    "error": "string", "started_at": "string", "finished_at": "string", "metadata": "string",
}  # fmt: skip
EVENT_DTYPES = {
    "run_id": "string", "sample_id": "string", "seq": "Int64", "kind": "string", "turn": "Int64",
    "tool": "string", "ok": "boolean", "error_type": "string", "content": "string", "latency_s": "Float64",
    "cost_usd": "Float64", "prompt_tokens": "Int64", "completion_tokens": "Int64", "payload": "string",
}  # fmt: skip
SCORE_DTYPES = {
    "run_id": "string", "sample_id": "string", "rubric": "string", "rubric_version": "string",
    "criterion": "string", "verdict": "string", "value": "Float64", "reason": "string", "evidence": "string",
    "detail": "string",
}  # fmt: skip


def event_payload(event: Event) -> dict[str, Any]:
    """What the events table's ``payload`` column holds: ``Event.to_dict()``."""
    return event.to_dict()


def sample_row(s: Sample) -> tuple[Any, ...]:
    """One row of ``samples``, in ``SAMPLE_DTYPES`` order."""
    return (s.sample_id, *(getattr(s, name) for name in SAMPLE_PLAIN), dumps(s.metadata))


def event_row(run_id: str, sample_id: str, e: Event) -> tuple[Any, ...]:
    """One row of ``events``, in ``EVENT_DTYPES`` order."""
    u = e.usage
    # fmt: off
    return (
        run_id, sample_id, e.seq, e.kind, e.turn, e.tool, e.ok, e.error_type, e.content, e.latency_s,
        e.cost_usd, u.prompt_tokens if u else None, u.completion_tokens if u else None,
        _encode(event_payload(e)),
    )
    # fmt: on


def score_row(s: Score) -> tuple[Any, ...]:
    """One row of ``scores``, in ``SCORE_DTYPES`` order."""
    return (*(getattr(s, name) for name in SCORE_FIELDS[:-2]), dumps(list(s.evidence)), dumps(s.detail))


def frame(dtypes: dict[str, str], rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """A DataFrame of ``rows`` (tuples in ``dtypes`` order) with nullable dtypes: None stays NULL."""
    import pandas as pd

    columns = list(zip(*rows, strict=True)) if rows else [() for _ in dtypes]
    return pd.DataFrame(
        {name: pd.array(list(col), dtype=dtype) for (name, dtype), col in zip(dtypes.items(), columns, strict=True)}
    )


def run_from_row(row: tuple[Any, ...]) -> RunRecord:
    d = dict(zip(RUN_FIELDS, row, strict=True))
    d["models"] = tuple(ModelConfig(**m) for m in json.loads(d["models"]))
    d["options"] = json.loads(d["options"])
    return RunRecord(**d)


def sample_from_row(row: tuple[Any, ...], events: Mapping[str, Sequence[Event]]) -> Sample:
    """A sample from a row of ``SAMPLE_COLS``, with its events from ``events`` (by sample id; none when absent)."""
    d = dict(zip(SAMPLE_FIELDS, row, strict=True))
    d["metadata"] = json.loads(d["metadata"])
    sample_id = sample_id_of(d["task_id"], d["model"], d["epoch"])
    return Sample(**d, events=tuple(events.get(sample_id, ())))


def score_from_row(row: tuple[Any, ...]) -> Score:
    """A score from a row of the ``SCORE_FIELDS`` columns."""
    d = dict(zip(SCORE_FIELDS, row, strict=True))
    d["evidence"] = tuple(json.loads(d["evidence"]))
    d["detail"] = json.loads(d["detail"]) if d["detail"] else {}
    return Score(**d)
