"""At the turn limit, the rllm-finqa profile answers as rLLM's ``finqa_flow`` does: when ``MAX_TURNS`` runs out
the last assistant content is the answer (``final_response = steps[-1].model_response``), checked as any
answer. Under evalkit's profile a sample stopped by the limit has no answer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import jsonschema

from evalkit.contracts.loader import load_suite
from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.suite import SuiteSettings
from evalkit.env.database import build_database
from evalkit.env.tools import TOOL_SCHEMAS, FinanceEnvironment
from evalkit.models.types import ModelReply
from evalkit.runner.loop import Episode, settings_maker
from evalkit.runner.options import RunOptions
from evalkit.trace.types import Sample, ToolCall, Usage

QUERY = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"


class NeverDone:
    """Calls a tool on every turn, saying what it has found so far."""

    def offered(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        return {}

    async def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ModelReply:
        turn = sum(1 for m in messages if m["role"] == "assistant") + 1
        call = ToolCall(f"c{turn}", "sql_query", {"query": QUERY})
        text = "Checking once more." if turn < 3 else "Revenue was 1,350. FINAL ANSWER: 1350 USD millions"
        return ModelReply(text, (call,), Usage(10, 5), 0.0, 0.0, finish_reason="tool_calls")


def _run(profile: str) -> Sample:
    suite = load_suite(Path(__file__).parents[1] / "fixtures" / "mini" / "suite")
    settings = SuiteSettings(max_turns=3, profile=profile)  # type: ignore[arg-type]
    validators = {n: jsonschema.Draft202012Validator(s) for n, s in TOOL_SCHEMAS.items()}
    make = settings_maker(settings, RunOptions(), "sys", lambda: False, validators)
    env = FinanceEnvironment(build_database(suite.database), SuiteSettings())
    try:
        episode = Episode("r", suite.task("t1"), "m", 0, make(ModelConfig(name="m", model="m")))
        return asyncio.run(episode.run(env, NeverDone()))
    finally:
        env.close()


def test_the_rllm_profile_answers_with_the_last_reply_at_the_turn_limit() -> None:
    sample = _run("rllm-finqa")
    assert (sample.stop_reason, sample.turns) == ("max_turns", 3)
    assert sample.final_answer == "1350 USD millions" and sample.correct is True


def test_evalkit_profile_has_no_answer_at_the_turn_limit() -> None:
    sample = _run("evalkit")
    assert (sample.stop_reason, sample.final_answer) == ("max_turns", None)
    assert sample.correct is not True
