"""Both built-in suites run end to end with the scripted agents: the disciplined agent answers every task
right, the reckless one none, and every sample is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

import evalkit


@pytest.mark.parametrize("suite", ["finance-single", "finance-multi"])
def test_builtin_suite_end_to_end(suite: str, store: Path) -> None:
    result = evalkit.run_suite(suite, ["scripted/disciplined", "scripted/reckless"], store=store, use_cache=False)
    n = len(evalkit.load_suite(suite).tasks)
    by_model = {s.model: s for s in result.summaries}
    disciplined, reckless = by_model["scripted/disciplined"], by_model["scripted/reckless"]
    assert disciplined.samples == reckless.samples == n
    assert disciplined.accuracy == 1.0
    assert reckless.accuracy == 0.0 and reckless.tool_errors == reckless.tool_calls
    assert disciplined.infra_errors == reckless.infra_errors == 0
    assert result.run.status == "finished"
