"""The fault-injection personas: each does what it was written to do, and its labels say so.

The personas are driven here against the real environment of the built-in finance-single suite (the tools,
the sandbox and its refusals), without a model gateway: ``next_action`` is what the scripted provider calls.
The expected labels are what each persona's design means for the rubrics' criteria, written out by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from evalkit.contracts.config import SCRIPTED_AGENTS, load_config, resolve_model
from evalkit.contracts.loader import load_suite
from evalkit.contracts.suite import ExpectedAnswer, ReferenceSolution, ReferenceStep, SuiteSpec, TaskSpec
from evalkit.env.database import build_database
from evalkit.env.tools import EnvironmentPool, FinanceEnvironment
from evalkit.models import scripts
from evalkit.models.personas import LABEL_KEYS, REGISTRY, Labels, labels_for, persona_design
from evalkit.models.scripts import FinalAction, ToolAction


@pytest.fixture
def finance() -> Iterator[tuple[SuiteSpec, FinanceEnvironment]]:
    suite = load_suite("finance-single")
    pool = EnvironmentPool(build_database(suite.database), suite.settings)
    try:
        yield suite, pool()
    finally:
        pool.close()


def drive(
    policy: str, task: TaskSpec, env: FinanceEnvironment, seed: int = 0, epoch: int = 0
) -> tuple[list[ToolAction], str, Labels]:
    """Run a persona to its answer: its tool calls, its final reply, and its labels from the results."""
    results: list[str] = []
    calls: list[ToolAction] = []
    while True:
        action = scripts.next_action(policy, task, results, seed=seed, epoch=epoch, params={})
        if isinstance(action, FinalAction):
            return calls, action.text, labels_for(f"scripted/{policy}", task, results, seed, epoch)
        calls.append(action)
        results.append(env.call(action.name, action.arguments).content)


def queries(calls: list[ToolAction]) -> list[str]:
    return [str(c.arguments["query"]) for c in calls if c.name == "sql_query"]


def test_every_persona_is_a_scripted_agent_with_a_design() -> None:
    assert tuple(REGISTRY) == scripts.PERSONAS
    assert len(scripts.PERSONAS) >= 11
    for name in scripts.PERSONAS:
        assert name in scripts.POLICIES and f"scripted/{name}" in SCRIPTED_AGENTS
        assert resolve_model(f"scripted/{name}", load_config()).model == f"scripted/{name}"
        assert persona_design(f"scripted/{name}")
    assert persona_design("scripted/disciplined") is None and persona_design("openai/gpt-4o") is None


# label key → expected verdict, per persona, on fs-001 (a lookup in USD millions) unless another task is named
EXPECTED: dict[str, dict[str, str]] = {
    "skips-discovery": {
        "discovered_tables": "fail", "inspected_schema": "fail", "right_tables": "fail",
        "valid_identifiers": "pass", "answer_correct": "pass", "efficiency": "pass",
    },
    "wrong-column": {
        "discovered_tables": "pass", "inspected_schema": "pass", "valid_identifiers": "fail",
        "answer_grounded": "pass", "answer_correct": "fail", "efficiency": "na",
    },
    "recovers": {
        "recovered_after_error": "pass", "valid_identifiers": "pass", "no_repeated_calls": "pass",
        "answer_correct": "pass",
    },
    "gives-up": {
        "recovered_after_error": "fail", "valid_identifiers": "pass", "no_unfounded_answer": "pass",
        "right_tables": "fail", "answer_grounded": "na", "answer_correct": "fail", "efficiency": "na",
    },
    "repeats": {
        "no_repeated_calls": "fail", "recovered_after_error": "fail", "valid_identifiers": "pass",
        "answer_correct": "pass", "efficiency": "pass",
    },
    "wrong-scale": {"answer_correct": "fail", "answer_format": "pass", "answer_grounded": "pass", "efficiency": "na"},
    "no-marker": {
        "answer_protocol": "fail", "answer_format": "fail", "answer_correct": "pass", "answer_grounded": "pass",
    },
    "hostile": {
        "safe_sql": "fail", "recovered_after_error": "pass", "inspected_schema": "pass", "answer_correct": "pass",
    },
    "big-model": {
        "discovered_tables": "fail", "inspected_schema": "fail", "valid_identifiers": "fail",
        "no_unfounded_answer": "fail", "recovered_after_error": "fail", "no_repeated_calls": "pass",
        "answer_grounded": "fail", "answer_protocol": "pass", "answer_correct": "fail",
    },
    "small-disciplined": {"discovered_tables": "pass", "inspected_schema": "pass", "safe_sql": "pass"},
    "declines-missing": {"discovered_tables": "pass", "answer_correct": "pass", "answer_protocol": "pass"},
}  # fmt: skip
MODES = {
    "wrong-column": "invented_identifier",
    "gives-up": "made_up_after_error",
    "wrong-scale": "wrong_unit_or_scale",
    "big-model": "invented_identifier",
}
TASK = {"wrong-scale": "fs-002"}


@pytest.mark.parametrize("policy", list(EXPECTED))
def test_each_persona_is_labelled_by_what_it_was_written_to_do(
    policy: str, finance: tuple[SuiteSpec, FinanceEnvironment]
) -> None:
    suite, env = finance
    task = suite.task(TASK.get(policy, "fs-001"))
    _, _, labels = drive(policy, task, env)
    assert labels.complete and set(labels.verdicts) == set(LABEL_KEYS)
    assert {k: labels.verdicts[k] for k in EXPECTED[policy]} == EXPECTED[policy]
    assert labels.mode == MODES.get(policy)
    assert labels.mode_known


def test_the_faults_are_in_the_trace(finance: tuple[SuiteSpec, FinanceEnvironment]) -> None:
    suite, env = finance
    task = suite.task("fs-001")
    calls, _, _ = drive("skips-discovery", task, env)
    assert calls[0].name == "sql_query" and {c.name for c in calls} == {"sql_query", "calculator"}
    calls, _, labels = drive("wrong-column", task, env)
    assert any("cost_of_revenue" in q for q in queries(calls)) and not any("total_revenue" in q for q in queries(calls))
    assert labels.did == ("queried cost_of_revenue where the task needs total_revenue",)
    calls, text, _ = drive("big-model", task, env)
    assert [c.name for c in calls] == ["sql_query", "sql_query"] and "FINAL ANSWER:" in text
    assert len(set(queries(calls))) == 2 and all("northwind_income_statement" not in q for q in queries(calls))
    calls, _, _ = drive("repeats", task, env)
    first = queries(calls)[0]
    assert first.startswith("SELECT * FROM") and queries(calls).count(first) >= 2
    calls, text, _ = drive("no-marker", task, env)
    assert "FINAL ANSWER" not in text.upper() and "2167.1" in text.replace(",", "")
    calls, _, _ = drive("hostile", task, env)
    assert sum(1 for q in queries(calls) if "total_revenue" not in q) == 1


def test_the_same_conversation_gives_the_same_reply_and_seeds_vary_the_phrasing(
    finance: tuple[SuiteSpec, FinanceEnvironment],
) -> None:
    suite, env = finance
    task = suite.task("fs-002")
    runs = {seed: drive("hostile", task, env, seed=seed) for seed in range(8)}
    assert drive("hostile", task, env, seed=3)[:2] == runs[3][:2]
    assert len({tuple(queries(calls)) for calls, _, _ in runs.values()}) > 2  # hostile queries and SQL styles
    assert len({text for _, text, _ in runs.values()}) > 1  # figures written in several ways


def test_small_disciplined_slips_in_its_arithmetic_on_some_seeds(finance: tuple[SuiteSpec, FinanceEnvironment]) -> None:
    suite, env = finance
    task = suite.task("fs-002")
    outcomes = [drive("small-disciplined", task, env, seed=seed)[2] for seed in range(12)]
    slipped = [o for o in outcomes if o.mode is not None]
    assert slipped and len(slipped) < len(outcomes)
    assert all(o.mode == "arithmetic_error" and o.verdicts["answer_correct"] == "fail" for o in slipped)
    assert all(o.verdicts["answer_correct"] == "pass" for o in outcomes if o.mode is None)


def test_declines_missing_declines_when_the_rows_are_not_there(finance: tuple[SuiteSpec, FinanceEnvironment]) -> None:
    suite, env = finance
    lookup = suite.task("fs-001")
    step = ReferenceStep("rev", lookup.reference.steps[0].sql.replace("2021", "2031"), lookup.reference.steps[0].table)
    task = replace(
        lookup,
        question=lookup.question.replace("2021", "2031"),
        answer=ExpectedAnswer(kind="text", value="not determinable"),
        reference=ReferenceSolution((step,), "rev"),
    )
    calls, text, labels = drive("declines-missing", task, env)
    assert text.endswith("FINAL ANSWER: unknown") and [c.name for c in calls][-1] == "sql_query"
    assert labels.verdicts["answer_correct"] == "pass" and labels.verdicts["no_unfounded_answer"] == "pass"
    assert labels.verdicts["answer_grounded"] == "na" and labels.mode is None
    _, _, right = drive("declines-missing", lookup, env)
    assert right.verdicts["answer_correct"] == "pass"


def test_a_suite_without_reference_sql_is_solved_from_the_schema_or_declined(mini_suite: Path) -> None:
    suite = load_suite(mini_suite)
    bare = replace(suite, tasks=tuple(replace(t, reference=ReferenceSolution(steps=())) for t in suite.tasks))
    warnings = scripts.register_suite(bare, ["scripted/recovers", "scripted/big-model", "openai/gpt-4o"])
    assert len(warnings) == 1 and warnings[0].startswith("scripted/recovers needs reference solutions: 4 of 4")
    assert scripts.register_suite(suite, ["scripted/recovers"]) == []
    pool = EnvironmentPool(build_database(bare.database), bare.settings)
    try:
        env = pool()
        calls, text, labels = drive("recovers", bare.task("t1"), env)  # a lookup: total revenue in 2023
        assert queries(calls) == ["SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"]
        assert text == "FINAL ANSWER: 1350 USD millions" and labels.verdicts["answer_correct"] == "pass"
        calls, text, labels = drive("recovers", bare.task("t2"), env)  # growth: nothing to look up
        assert queries(calls) == [] and "unknown" in text
        assert labels.mode == "gave_up_without_query" and labels.verdicts["discovered_tables"] == "na"
    finally:
        pool.close()


def test_the_configured_names_and_the_registry_agree() -> None:
    """A persona added to the registry but not to ``contracts.config.SCRIPTED_AGENTS`` could never be run, and a
    configured name without a registry entry would fail mid-run."""
    from evalkit.models.personas import REGISTRY
    from evalkit.models.scripts import PERSONAS

    assert tuple(REGISTRY) == PERSONAS
