"""Where the rLLM FinQA cookbook's judge verdict and evalkit's deterministic matcher disagree, on the fixture.

The cookbook reads its judge's reply with ``("true" in text) and ("false" not in text)`` and gives 0 without
``OPENAI_API_KEY``. The judge replies below are phrased as real judges phrase them (the ``{True, '...'}`` form
the cookbook's prompt asks for, but with the words real explanations use, a bare "Correct.", a reasoning
model's ``<think>`` block). Once offline over chosen responses, and once through ``evalkit score --judge``
with a scripted judge on the fake server grading a real run of the imported test split.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evalkit.contracts.loader import load_suite
from evalkit.suites.rllm_finqa import import_rllm_finqa
from evalkit.suites.rllm_finqa_judge import compare, cookbook_verdict, table
from tests import fakeserver
from tests.cli_runner import run_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "rllm_finqa"
KEY_ENV = "FAKE_JUDGE_KEY"

# (task, response, the judge's reply, what the judge meant)
CASES: list[tuple[str, str, str, bool]] = [
    ("finqa-0024", "FINAL ANSWER: 21.4%", "{True, 'Both are 21.4%.'}", True),
    ("finqa-0024", "FINAL ANSWER: 0.214",
     "{True, '0.214 is 21.4% as a decimal; the rule treats them as equal, not false.'}", True),
    ("finqa-0019", "FINAL ANSWER: 1.54", "Correct. The current ratio 1.54 equals the label.", True),
    ("finqa-0020", "FINAL ANSWER: a decrease of $2 million", "{True, 'A decrease of 2 is -2.0; formats match.'}", True),
    ("finqa-0022", "FINAL ANSWER: 3.31",
     "<think>Label 3.31, response 3.31. Could this be false? No.</think>{True, 'Exact match.'}", True),
    ("finqa-0018", "FINAL ANSWER: 29.0%",
     "{False, '29.0% vs 30.1%: the difference exceeds 0.1, so it is not true.'}", False),
    ("finqa-0023", "FINAL ANSWER: 2.0", "{False, 'The sign is wrong: the label is a decrease.'}", False),
    ("finqa-0021", "FINAL ANSWER: Operating margin rose as cost of revenues grew slower than revenue.",
     "{True, 'Same conclusion: the margin improved on cost of revenues.'}", True),
]  # fmt: skip
DISAGREE = {  # (task, response) -> (cookbook, evalkit)
    ("finqa-0024", "FINAL ANSWER: 0.214"): (False, True),  # "not false" in the explanation
    ("finqa-0019", "FINAL ANSWER: 1.54"): (False, True),  # no "true" in a plain "Correct."
    ("finqa-0022", "FINAL ANSWER: 3.31"): (False, True),  # "false" inside the judge's <think> block
    ("finqa-0021", FINAL := "FINAL ANSWER: Operating margin rose as cost of revenues grew slower than revenue."): (
        True, False,  # a sentence: the judge can grade it, a deterministic text match cannot
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def test_split(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_rllm_finqa(FIXTURE, tmp_path_factory.mktemp("judge") / "finqa", split="test").path / "test"


def test_the_heuristic_is_the_cookbooks() -> None:
    assert cookbook_verdict("{True, 'match'}") and not cookbook_verdict("{False, 'no'}")
    assert not cookbook_verdict("{True, 'not false'}") and not cookbook_verdict("Correct.")
    assert not cookbook_verdict("{True, 'match'}", has_key=False)  # no OPENAI_API_KEY: 0, silently


def test_where_the_cookbooks_verdict_and_evalkits_matcher_disagree(test_split: Path) -> None:
    suite = load_suite(test_split)
    rows = [compare(suite.task(t), response, reply) for t, response, reply, _ in CASES]
    found = {(r.task_id, r.response): (r.cookbook, r.evalkit) for r in rows if r.disagree}
    assert found == DISAGREE, table(rows)
    # The judge meant what evalkit's matcher says on every figure; the heuristic misreads three of its replies.
    figures = [(r, meant) for r, (*_, meant) in zip(rows, CASES, strict=True) if r.task_id != "finqa-0021"]
    assert all(r.evalkit == meant for r, meant in figures)
    without_key = [compare(suite.task(t), response, reply, has_key=False) for t, response, reply, _ in CASES]
    assert sum(r.disagree for r in without_key) == sum(r.evalkit for r in without_key) == 5  # each right answer
    assert (
        "| finqa-0019 | FINAL ANSWER: 1.54 | Correct. The current ratio 1.54 equals the label. | wrong | correct |"
        in table(rows)
    )


# ------------------------------------------------------------------------------------- the --judge path

JUDGE_REPLIES = {  # the task's question -> (what the judge meant, its explanation as a real judge writes it)
    "pay out as dividends": (True, "{True, 'The response 30.06% is within 0.1 of the label 30.1%.'}"),
    "current ratio": (True, "{True, 'Both are 1.54 when truncated to two decimals — not a false match.'}"),
    "Marlow Foods's net interest expense": (True, "Correct: -2 and -2.0 are the same value."),
    "operating profitability": (False, "{False, 'The model answered unknown.'}"),
    "BluePeak Logistics's current ratio": (True, "{True, 'match'}"),
    "Corvid Systems's net interest expense": (
        True, "<think>Is -2 true to the label -2.0? It would be false only if they differed.</think>{True, 'Equal.'}"
    ),
    "free cash flow margin": (True, "{True, '21.36% vs 21.4%: within the 0.1 threshold.'}"),
}  # fmt: skip


def _judged(prompt: str) -> tuple[bool, str]:
    """What the judge means and writes about the answer in ``prompt`` (found by its question)."""
    for key, (meant, text) in JUDGE_REPLIES.items():
        if key in prompt and not (key == "current ratio" and "BluePeak" in prompt):
            return meant, text
    return False, "{False, 'unrecognised'}"


def _served(prompt: str) -> str:
    return _judged(prompt)[1]


def _reply(prompt: str) -> dict[str, Any]:
    meant, text = _judged(prompt)
    return {"content": json.dumps({"score": 100 if meant else 0, "reasoning": text})}


class CookbookStyleJudge(fakeserver.PromptServer):
    """Answers each grading request from its prompt (requests arrive concurrently)."""

    def answer(self, prompt: str) -> dict[str, Any]:
        return _reply(prompt)


def test_a_judged_run_shows_the_disagreements(test_split: Path, store: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    rubric = tmp_path / "finqa-judge.yaml"
    rubric.write_text(json.dumps({"name": "finqa-judge", "version": "1", "criteria": [{
        "id": "judged_correct", "category": "correctness", "applies_when": {"needs_task": True},
        "description": "The final answer matches the label (the cookbook's correctness judge).",
        "judge": {"pass_threshold": 50, "prompt":
                  "question : {{ question }}\nmodel response : {{ answer }}\nlabel : {{ expected }}"},
    }]}), encoding="utf-8")  # fmt: skip
    run = run_cli("run", test_split, "-m", "scripted/disciplined", "--rubric", "answer", "--store", store,
                  "--no-progress", "--no-report")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    monkeypatch.setenv(KEY_ENV, "not-a-secret")
    monkeypatch.setattr(fakeserver, "ScriptedServer", CookbookStyleJudge)
    with fakeserver.serve([]) as (base, _):
        (tmp_path / "evalkit.yaml").write_text(
            f"models:\n  grader:\n    model: openai/gpt-5-nano\n    api_base: {base}\n    api_key_env: {KEY_ENV}\n",
            encoding="utf-8",
        )
        res = run_cli("score", "latest", "--rubric", rubric, "--judge", "grader", "--store", store, cwd=tmp_path)
    assert res.exit_code == 0, res.stderr
    from evalkit.api import get_samples, get_scores

    _, samples = get_samples(store, "latest", with_events=False)
    task_of = {s.sample_id: s.task_id for s in samples}
    _, scores = get_scores(store, "latest")
    evalkit = {task_of[s.sample_id]: s.verdict == "pass" for s in scores if s.criterion == "answer_correct"}
    judged = {task_of[s.sample_id]: s for s in scores if s.criterion == "judged_correct"}
    assert len(judged) == 7 and all(s.verdict in ("pass", "fail") for s in judged.values())
    question = {s.task_id: load_suite(test_split).task(s.task_id).question for s in samples}
    raw = {t: _served(question[t]) for t in judged}
    cookbook = {t: cookbook_verdict(raw[t]) for t in judged}  # what the cookbook would read of the same replies
    judge = {t: s.verdict == "pass" for t, s in judged.items()}
    assert judge == evalkit  # on this run the judge means what the matcher says
    assert {t for t in evalkit if cookbook[t] != evalkit[t]} == {"finqa-0019", "finqa-0020", "finqa-0023"}
    assert "<think>" not in judged["finqa-0023"].reason  # evalkit reads the judge's verdict apart from its thinking
