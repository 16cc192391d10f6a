"""Tool calls, writes and scoring leave the event loop; a killed query is an ordinary tool error.

The episodes here run against the real environment (``FinanceEnvironment`` over the mini suite's data, its
queries in the sandbox worker pool) with a scripted in-test model, so what is asserted is the outcome of
the real tool path: the trace's error types, and which sample finishes while another is still running.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from evalkit.contracts.loader import load_suite
from evalkit.contracts.rubric import CriterionSpec, load_rubric
from evalkit.contracts.suite import SuiteSettings, SuiteSpec, TaskSpec
from evalkit.env import isolation
from evalkit.env.database import BuiltDatabase, build_database
from evalkit.env.tools import TOOL_SCHEMAS, FinanceEnvironment
from evalkit.models.types import ModelReply
from evalkit.runner.loop import Episode, EpisodeSettings
from evalkit.runner.scheduler import Scheduler
from evalkit.scoring.engine import RubricEngine
from evalkit.scoring.registry import Verdict
from evalkit.trace.types import Sample, Score, ToolCall, Usage

MEMORY_BOMB = "SELECT len(range(300000000)) AS n"  # fails at once under a 1 GB address-space limit
TIME_BOMB = "SELECT len(range(100000000)) AS n"  # ignores DuckDB's interrupt; ~1 GB, seconds: only the kill stops it
FAST = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"


class ScriptedModel:
    """Sends the given queries one per turn, then a final answer."""

    def __init__(self, queries: Sequence[str], answer: str = "FINAL ANSWER: 1350 USD millions") -> None:
        self.queries, self.answer, self.turn = list(queries), answer, 0

    def offered(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        return {"offered_tools": [t["function"]["name"] for t in tools]}

    async def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ModelReply:
        await asyncio.sleep(0)
        self.turn += 1
        if self.turn <= len(self.queries):
            call = ToolCall(f"c{self.turn}", "sql_query", {"query": self.queries[self.turn - 1]})
            return ModelReply("", (call,), Usage(10, 5), 0.0, 0.0, finish_reason="tool_calls")
        return ModelReply(self.answer, (), Usage(10, 5), 0.0, 0.0, finish_reason="stop")


@pytest.fixture
def workers(request: pytest.FixtureRequest) -> Iterator[isolation.WorkerPool]:
    """The process's worker pool for one test, with ``memory_mb`` from the test's parameter (4 GB: room for
    the time bomb, so the kill stops it; 1 GB: the memory bomb fails at once)."""
    saved = isolation._SHARED
    isolation._SHARED = isolation.WorkerPool(memory_mb=getattr(request, "param", 4096), slack_s=1.0)
    yield isolation._SHARED
    isolation._SHARED.close()
    isolation._SHARED = saved


@pytest.fixture(scope="module")
def suite() -> SuiteSpec:
    return load_suite(Path(__file__).parents[1] / "fixtures" / "mini" / "suite")


@pytest.fixture(scope="module")
def db(suite: SuiteSpec) -> BuiltDatabase:
    return build_database(suite.database)


def settings(timeout_s: float | None = None, max_turns: int = 10) -> EpisodeSettings:
    validators = {n: jsonschema.Draft202012Validator(s) for n, s in TOOL_SCHEMAS.items()}
    return EpisodeSettings(max_turns=max_turns, system_prompt="sys", sample_timeout_s=timeout_s, validators=validators)


def episode(suite: SuiteSpec, tag: str, timeout_s: float | None = None) -> Episode:
    task: TaskSpec = suite.task("t1")
    return Episode(f"run-{tag}", task, f"model-{tag}", 0, settings(timeout_s))


@pytest.mark.parametrize(
    ("workers", "bomb", "kind"),
    [(4096, TIME_BOMB, "timeout"), (1024, MEMORY_BOMB, "resource_limit")],
    indirect=["workers"],
)
def test_a_killed_query_is_a_tool_error_in_the_trace(
    workers: isolation.WorkerPool, suite: SuiteSpec, db: BuiltDatabase, bomb: str, kind: str
) -> None:
    env = FinanceEnvironment(db, SuiteSettings(query_timeout_s=0.5))
    try:
        sample = asyncio.run(episode(suite, "k").run(env, ScriptedModel([bomb, FAST])))
    finally:
        env.close()
    tools = [e for e in sample.events if e.kind == "tool"]
    assert [e.error_type for e in tools] == [kind, None]
    assert str(tools[0].content).startswith(f"Error: {kind}:")
    assert tools[1].ok and "1350" in str(tools[1].content)  # a fresh worker answers the next query
    if kind == "resource_limit":  # a worker that ran out of memory is retired and replaced (a timed-out one
        assert workers.started == 2  # may have stopped its query itself, and serves on)
    assert sample.stop_reason == "final_answer" and sample.status == "ok" and sample.tool_errors == 1


def test_a_fast_sample_finishes_while_a_slow_one_hits_every_time_limit(
    workers: isolation.WorkerPool, suite: SuiteSpec, db: BuiltDatabase
) -> None:
    slow_env = FinanceEnvironment(db, SuiteSettings(query_timeout_s=0.5))
    fast_env = FinanceEnvironment(db, SuiteSettings(query_timeout_s=0.5))
    slow_model = ScriptedModel([TIME_BOMB] * 4)
    fast_model = ScriptedModel([FAST] * 3)

    async def both() -> tuple[Sample, bool, Sample]:
        slow = asyncio.create_task(episode(suite, "slow").run(slow_env, slow_model))
        fast = asyncio.create_task(episode(suite, "fast", timeout_s=3.0).run(fast_env, fast_model))
        done, _ = await asyncio.wait({slow, fast}, return_when=asyncio.FIRST_COMPLETED)
        slow_still_running = slow not in done
        return await fast, slow_still_running, await slow

    try:
        fast_sample, slow_still_running, slow_sample = asyncio.run(both())
    finally:
        slow_env.close()
        fast_env.close()
    assert fast_sample.stop_reason == "final_answer" and fast_sample.tool_errors == 0
    assert slow_still_running
    assert slow_sample.stop_reason == "final_answer"
    assert [e.error_type for e in slow_sample.events if e.kind == "tool"] == ["timeout"] * 4


class ScriptedJudge:
    """Passes every sample; being a coroutine, it makes the engine start an event loop of its own."""

    async def judge(self, criterion: CriterionSpec, sample: Sample, task: TaskSpec | None) -> Verdict:
        await asyncio.sleep(0)
        return Verdict.passed("grounded")


class MemorySink:
    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.scores: list[Score] = []

    def write_samples(self, samples: Sequence[Sample]) -> None:
        self.samples.extend(samples)

    def write_scores(self, scores: Sequence[Score]) -> None:
        self.scores.extend(scores)


def test_a_judge_scored_during_a_run_does_not_crash(suite: SuiteSpec, db: BuiltDatabase, tmp_path: Path) -> None:
    rubric = tmp_path / "judged.yaml"
    criterion = {
        "id": "judged",
        "category": "grounding",
        "judge": {"prompt": "Grade: {{ trace }}", "pass_threshold": 50},
    }
    rubric.write_text(json.dumps({"name": "judged", "version": "1", "criteria": [criterion]}))
    engine = RubricEngine(load_rubric(rubric), tasks={t.id: t for t in suite.tasks}, judge=ScriptedJudge())
    sink = MemorySink()
    scheduler = Scheduler(
        run_id="r", suite=suite, models=[], make_env=lambda: None, sink=sink,  # type: ignore[arg-type,return-value]
        settings_for=lambda c: settings(), scorer=engine.score_samples, flush_batch=2,
    )  # fmt: skip
    env = FinanceEnvironment(db, SuiteSettings())

    async def finish_three() -> None:  # samples finish on the loop, as the workers finish them
        for i in range(3):
            sample = await episode(suite, str(i)).run(env, ScriptedModel([FAST]))
            scheduler._finished(sample)
        scheduler._flush()
        scheduler._writer.shutdown()

    try:
        asyncio.run(finish_three())
    finally:
        env.close()
    assert [s.run_id for s in sink.samples] == ["run-0", "run-1", "run-2"]  # written in order
    assert [(s.criterion, s.verdict) for s in sink.scores] == [("judged", "pass")] * 3
