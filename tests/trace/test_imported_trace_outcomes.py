"""Imported tool-calling logs without gold: stop reasons as the log shows them, usage the log does not hold
recorded as unknown, and a logged reward named as the correctness signal (``--correct-from``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import ConfigError, ImportFormatError
from evalkit.trace import external
from evalkit.trace.external import read_external_traces
from tests.trace.tool_calling_logs import (
    answered_in_prose,
    cut_off,
    no_reward,
    production_log,
    user_stopped,
    write_jsonl,
)


def test_stop_reasons_are_what_the_log_shows_never_max_turns(tmp_path: Path) -> None:
    traces = read_external_traces(write_jsonl(tmp_path / "log.jsonl", production_log()), run_id="r")
    got = {t.sample.task_id: t.sample.stop_reason for t in traces}
    assert got == {"rd-spend": "final_answer", "headcount": "handoff", "margin": "user_stop", "capex": "unknown"}
    by_task = {t.sample.task_id: t.sample for t in traces}
    assert "13.5%" in (by_task["rd-spend"].final_answer or "")
    # the user had the last word: the agent's reply before it is what the user was given
    assert "roughly 40%" in (by_task["margin"].final_answer or "")
    assert by_task["headcount"].final_answer is None and by_task["capex"].final_answer is None


def test_without_gold_correctness_is_not_scored(tmp_path: Path) -> None:
    traces = read_external_traces(write_jsonl(tmp_path / "log.jsonl", production_log()), run_id="r")
    assert [t.sample.correct for t in traces] == [None] * 4
    assert all(t.task is None and t.sample.expected is None for t in traces)


def test_tokens_and_latency_the_log_does_not_hold_are_recorded_as_unknown(tmp_path: Path) -> None:
    (trace,) = read_external_traces(write_jsonl(tmp_path / "log.jsonl", [answered_in_prose()]), run_id="r")
    assert trace.sample.metadata["unknown"] == ["tokens", "latency"]
    assert trace.sample.cost_usd is None


def test_a_logged_reward_can_be_named_as_the_correctness_signal(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "log.jsonl", [*production_log(), no_reward()])
    traces = read_external_traces(path, run_id="r", correct_from=external.parse_correct_from("metadata.reward>=1"))
    got = {t.sample.task_id: t.sample.correct for t in traces}
    assert got == {"rd-spend": True, "headcount": False, "margin": False, "capex": True, "cash": None}
    assert traces[0].sample.metadata["correct_from"] == {"expression": "metadata.reward>=1", "value": 1.0}
    assert traces[-1].sample.metadata["correct_from"] == {"expression": "metadata.reward>=1", "value": None}


@pytest.mark.parametrize(
    ("expression", "episode_metadata", "correct"),
    [
        ("metadata.score > 0.5", {"score": 0.8}, True),
        ("metadata.eval.passed == true", {"eval": {"passed": True}}, True),
        ("metadata.eval.passed != true", {"eval": {"passed": True}}, False),
        ("metadata.reward<1", {"reward": 1}, False),
        ("metadata.reward == -1", {"reward": -1.0}, True),
    ],
)
def test_correct_from_expressions(
    tmp_path: Path, expression: str, episode_metadata: dict[str, object], correct: bool
) -> None:
    episode = {**answered_in_prose(), "metadata": episode_metadata}
    (trace,) = read_external_traces(
        write_jsonl(tmp_path / "log.jsonl", [episode]), run_id="r", correct_from=external.parse_correct_from(expression)
    )
    assert trace.sample.correct is correct


def test_the_named_signal_wins_over_an_expected_answer(tmp_path: Path) -> None:
    episode = {**user_stopped(), "expected": "40.1%", "metadata": {"reward": 0}}
    (trace,) = read_external_traces(
        write_jsonl(tmp_path / "log.jsonl", [episode]),
        run_id="r",
        correct_from=external.parse_correct_from("metadata.reward>=1"),
    )
    assert trace.sample.correct is False and trace.task is not None  # the task still lets criteria check the answer


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "metadata.reward",
        "metadata.reward => 1",
        "metadata.reward >= high",
        "metadata.reward >= 1 and metadata.score > 0",
        "__import__('os').system('true') == 1",
        "metadata..reward >= 1",
        "reward >= 1",
        "metadata.reward >= true",
        "metadata.reward >= 1e999",
    ],
)
def test_a_bad_correct_from_is_a_config_error_naming_the_option(expression: str) -> None:
    with pytest.raises(ConfigError, match="--correct-from"):
        external.parse_correct_from(expression)


def test_a_signal_of_the_wrong_type_is_a_problem_of_its_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "log.jsonl", [cut_off(), {**cut_off(), "metadata": {"reward": "high"}}])
    with pytest.raises(ImportFormatError) as info:
        read_external_traces(path, run_id="r", correct_from=external.parse_correct_from("metadata.reward>=1"))
    assert f"{path}:2: metadata.reward" in str(info.value) and "'high'" in str(info.value).replace('"', "'")
