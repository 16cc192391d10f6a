"""Real providers: run only when their API key is set (never in CI, which has no keys and no network)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import evalkit

pytestmark = pytest.mark.provider


@pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="OPENAI_API_KEY is not set")
def test_openai_model_runs_a_task(mini_suite: Path, store: Path) -> None:
    result = evalkit.run_suite(mini_suite, ["openai/gpt-4.1-mini"], tasks="t1", store=store, keep_samples=True)
    (sample,) = result.samples
    assert sample.status == "ok" and sample.prompt_tokens > 0
    assert sample.cost_usd is not None and sample.cost_usd > 0


@pytest.mark.skipif(not os.environ.get("ANTHROPIC_API_KEY"), reason="ANTHROPIC_API_KEY is not set")
def test_anthropic_model_runs_a_task(mini_suite: Path, store: Path) -> None:
    result = evalkit.run_suite(mini_suite, ["anthropic/claude-haiku-4-5"], tasks="t1", store=store, keep_samples=True)
    (sample,) = result.samples
    assert sample.status == "ok" and sample.prompt_tokens > 0
