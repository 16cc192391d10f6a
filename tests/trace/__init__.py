"""Tests of the trace store and the portable run format. Factories shared by the modules below."""

from __future__ import annotations

from typing import Literal

from evalkit.contracts.model_config import ModelConfig
from evalkit.trace.types import Event, RunRecord, Sample, SampleStatus, Score, ToolCall, Usage


def make_run(run_id: str = "20250101-000000-abcd", *, name: str | None = "nightly", created_at: str = "") -> RunRecord:
    return RunRecord(
        run_id=run_id,
        name=name,
        suite="finance-single",
        suite_hash="f00d",
        suite_path="suites/finance-single",
        models=(
            ModelConfig(name="gpt", model="openai/gpt-4o-mini", api_key_env="OPENAI_API_KEY", temperature=0.0),
            ModelConfig(name="local", model="ollama/qwen", api_base="http://127.0.0.1:11434", extra={"seed": 1}),
        ),
        options={"epochs": 1, "limit": None, "tasks": ["t1", "t2"]},
        evalkit_version="0.1.0",
        git_commit="abc123",
        created_at=created_at or f"2025-01-01T00:00:00+00:00#{run_id}",
    )


def make_events(n: int = 4) -> tuple[Event, ...]:
    """A short episode; includes the values ``Event.to_dict`` is prone to drop (ok=False, cost 0.0)."""
    events: list[Event] = [Event(seq=0, kind="user", turn=0, content="Combien de commandes ? — 注文 🧾")]
    for seq in range(1, n):
        if seq % 2:
            call = ToolCall(id=f"c{seq}", name="sql", arguments={"query": "SELECT 1"}, raw_arguments=None)
            events.append(
                Event(
                    seq=seq,
                    kind="model",
                    turn=seq // 2,
                    content=None,
                    tool_calls=(call,),
                    usage=Usage(prompt_tokens=100, completion_tokens=0),
                    latency_s=0.0,
                    cost_usd=0.0,
                    cached=True,
                )
            )
        else:
            events.append(
                Event(
                    seq=seq,
                    kind="tool",
                    turn=seq // 2,
                    tool="sql",
                    call_id=f"c{seq - 1}",
                    arguments={"query": "SELECT 1"},
                    content="no such table: ordres",
                    ok=False,
                    error_type="unknown_table",
                    data={"rows": 0},
                    latency_s=0.01,
                )
            )
    return tuple(events)


def make_sample(
    run_id: str,
    task_id: str = "t1",
    model: str = "gpt",
    epoch: int = 0,
    *,
    status: SampleStatus = "ok",
    correct: bool | None = True,
    cost_usd: float | None = 0.01,
    n_events: int = 4,
) -> Sample:
    return Sample(
        run_id=run_id,
        task_id=task_id,
        model=model,
        epoch=epoch,
        status=status,
        stop_reason="final_answer" if status == "ok" else "infra_error",
        final_answer="42" if status == "ok" else None,
        correct=correct,
        expected="42",
        turns=2,
        tool_calls=1,
        tool_errors=1,
        prompt_tokens=100,
        completion_tokens=20,
        latency_s=1.5,
        cost_usd=cost_usd,
        error=None if status == "ok" else "HTTP 503",
        started_at="2025-01-01T00:00:01+00:00",
        finished_at="2025-01-01T00:00:03+00:00",
        events=make_events(n_events),
        metadata={"difficulty": "hard", "tags": ["join", "ünïcode"]},
    )


def make_score(
    run_id: str, sample_id: str, criterion: str = "answer", *, verdict: Literal["pass", "fail"] = "pass"
) -> Score:
    return Score(
        run_id=run_id,
        sample_id=sample_id,
        rubric="discipline",
        rubric_version="1",
        criterion=criterion,
        verdict=verdict,
        value=1.0 if verdict == "pass" else 0.0,
        reason="checked the schema first",
        evidence=(1, 2),
    )
