"""The scripted agents' behaviour is a pure function of task, seed, epoch and the conversation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from evalkit.contracts.loader import load_suite
from evalkit.contracts.suite import ReferenceSolution
from evalkit.models import scripts


def test_disciplined_without_a_reference_looks_then_declines(mini_suite: Path) -> None:
    task = replace(load_suite(mini_suite).task("t1"), reference=ReferenceSolution(steps=()))
    first = scripts.next_action("disciplined", task, [], seed=0, epoch=0, params={})
    assert isinstance(first, scripts.ToolAction) and first.name == "get_table_names"
    second = scripts.next_action("disciplined", task, ["acme_income_statement"], seed=0, epoch=0, params={})
    assert isinstance(second, scripts.ToolAction) and second.name == "get_table_info"
    last = scripts.next_action("disciplined", task, ["tables", "schema"], seed=0, epoch=0, params={})
    assert isinstance(last, scripts.FinalAction) and "unknown" in last.text


def test_replay_is_deterministic_and_parses_negative_rows(mini_suite: Path) -> None:
    task = load_suite(mini_suite).task("t1")
    results = ["a\\nb", "schema text"]
    assert scripts.next_action("reckless", task, results, seed=3, epoch=1, params={}) == scripts.next_action(
        "reckless", task, results, seed=3, epoch=1, params={}
    )
    assert scripts.bind_value("capex\n-97.9") == -97.9
    assert scripts.bind_value("net_income\n(12.0)") == -12.0
    assert scripts.bind_value("segment\nCloud\nServices") == ["Cloud", "Services"]
    assert scripts.bind_value("x\n(no rows)") == []
