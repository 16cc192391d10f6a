"""Comparing two imported runs whose correctness was not scored: no accuracy change and no flipped task is
read from answers nobody graded."""

from __future__ import annotations

from pathlib import Path

import evalkit
from tests.trace.tool_calling_logs import production_log, write_jsonl


def test_unscored_correctness_is_not_compared_as_wrong_answers(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    traces = write_jsonl(tmp_path / "prod.jsonl", production_log())
    evalkit.score_traces(traces, ["tool-discipline"], store_path=store, name="week1")
    evalkit.score_traces(traces, ["tool-discipline"], store_path=store, name="week2")
    (pair,) = evalkit.compare_runs(store, ["week1", "week2"]).comparisons
    assert "accuracy" not in [m.metric for m in pair.metrics]
    assert pair.fixed == () and pair.broken == ()
    assert any(m.metric == "rubric_score" for m in pair.metrics)


def test_with_a_correctness_signal_accuracy_is_compared(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    traces = write_jsonl(tmp_path / "prod.jsonl", production_log())
    for name in ("week1", "week2"):
        evalkit.score_traces(
            traces, ["tool-discipline"], store_path=store, name=name, correct_from="metadata.reward>=1"
        )
    (pair,) = evalkit.compare_runs(store, ["week1", "week2"]).comparisons
    accuracy = next(m for m in pair.metrics if m.metric == "accuracy")
    assert accuracy.diff == 0.0 and accuracy.n > 0
