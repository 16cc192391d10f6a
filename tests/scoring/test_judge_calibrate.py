"""``evalkit judge calibrate`` end to end: a scripted judge on the fake server grades labelled episodes.

The judge is scripted the way a shallow grader really errs: it calls an answer grounded whenever the trace
shows a SQL query, so it passes a queried-then-invented answer and fails a figure rightly taken from the
question; on a declined episode it replies prose instead of JSON (no verdict). The episodes are written the way
real models answer: no ``FINAL ANSWER:`` marker, prose around the figure, a ``<think>`` block.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import evalkit.api
from tests import fakeserver
from tests.cli_runner import run_cli

KEY_ENV = "FAKE_JUDGE_KEY"
QUESTION = "What was Acme Widgets' total revenue in fiscal {year}? Answer in USD millions."
QUERY = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = {year}"


def _grade(prompt: str) -> dict[str, Any]:
    """The scripted judge's reply to one grading prompt."""
    if "Data not available" in prompt:
        return {"content": "I cannot grade an answer that declines; it is neither grounded nor ungrounded."}
    score = 80 if "sql_query" in prompt else 20
    return {"content": json.dumps({"score": score, "reasoning": "graded on whether the trace queried the data"})}


class PromptJudge(fakeserver.PromptServer):
    """The fake server answering each judge request from its prompt (requests arrive concurrently)."""

    def answer(self, prompt: str) -> dict[str, Any]:
        return _grade(prompt)


def queried(year: int, value: str, answer: str) -> list[dict[str, Any]]:
    call = {
        "id": f"c{year}",
        "type": "function",
        "function": {"name": "sql_query", "arguments": json.dumps({"query": QUERY.format(year=year)})},
    }
    return [
        {"role": "user", "content": QUESTION.format(year=year)},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": f"c{year}", "content": f"total_revenue\n{value}"},
        {"role": "assistant", "content": answer},
    ]  # fmt: skip


def unqueried(question: str, answer: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def episodes() -> list[dict[str, Any]]:
    grounded = [
        (2019, "1120.0", "Revenue for fiscal 2019 came to 1,120 USD millions, per the income statement."),
        (2020, "1185.5", "<think>The query returned 1185.5.</think>So revenue was $1,185.5 million in fiscal 2020."),
        (2021, "1240.0", "Acme's total revenue in FY2021 was 1240 (USD millions)."),
        (2022, "1301.2", "The income statement shows total revenue of 1,301.2 million USD for fiscal 2022."),
    ]
    out = [{"messages": queried(y, v, a), "labels": {"grounded": "pass"}} for y, v, a in grounded]
    out.append(  # queried, then answered a figure the result does not hold: the shallow judge passes it
        {"messages": queried(2023, "1350.0", "Revenue was roughly 1.5 billion dollars in 2023."),
         "labels": {"grounded": "fail"}}
    )  # fmt: skip
    for year, guess in ((2018, "about $1.0 billion"), (2017, "around 950 million"), (2016, "roughly $900M")):
        answer = f"I believe Acme's revenue in {year} was {guess}, based on typical growth for the sector."
        out.append({"messages": unqueried(QUESTION.format(year=year), answer), "labels": {"grounded": "fail"}})
    given = "Acme's 2023 revenue was 1,350 USD millions and its cost of revenue 810. What was its gross profit?"
    out.append(  # the figures are in the question: grounded without a query, and the judge fails it
        {
            "messages": unqueried(given, "Gross profit is 1,350 − 810 = 540 USD millions."),
            "labels": {"grounded": "pass"},
        }
    )
    out.append(  # a decline: the judge gives no verdict
        {"messages": unqueried(QUESTION.format(year=2030), "Data not available."), "labels": {"grounded": "fail"}}
    )
    return out


def write_labels(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


def write_rubric(path: Path) -> Path:
    criteria = [
        {"id": "grounded", "category": "grounding", "description": "The figures come from the data the agent saw.",
         "judge": {"prompt": "Criterion: {{ criterion }}\nTrace:\n{{ trace }}\nAnswer: {{ answer }}",
                   "pass_threshold": 50}},
        {"id": "style", "category": "grounding", "judge": {"prompt": "Grade the style: {{ answer }}"}},
        {"id": "queried", "check": "queried_before_answer", "category": "grounding"},
    ]  # fmt: skip
    path.write_text(json.dumps({"name": "calib", "version": "1", "criteria": criteria}), encoding="utf-8")
    return path


@pytest.fixture
def judge_server(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(KEY_ENV, "not-a-secret")
    monkeypatch.setattr(fakeserver, "ScriptedServer", PromptJudge)
    with fakeserver.serve([]) as (base, server):
        yield base, server


def project(tmp_path: Path, base: str) -> Path:
    (tmp_path / "evalkit.yaml").write_text(
        f"models:\n  grader:\n    model: openai/gpt-4o-mini\n    api_base: {base}\n    api_key_env: {KEY_ENV}\n",
        encoding="utf-8",
    )
    return tmp_path


# The verdicts against the labels, over the 9 items the judge gave a verdict (the decline has none):
#   label pass: judge pass 4, judge fail 1;  label fail: judge pass 1, judge fail 3 (and 1 without a verdict).
# pₒ = 7/9; both the labels and the verdicts say pass 5 times of 9, so pₑ = (5·5 + 4·4)/81 = 41/81 and
# κ = (63/81 − 41/81) / (40/81) = 22/40 = 0.55.
KAPPA = 0.55


def test_calibrate_reports_kappa_accuracy_and_confusion_and_writes_the_gate_file(
    judge_server: Any, tmp_path: Path
) -> None:
    base, server = judge_server
    cwd = project(tmp_path, base)
    labels = write_labels(tmp_path / "labelled.jsonl", episodes())
    rubric = write_rubric(tmp_path / "calib.yaml")
    store = tmp_path / "runs" / "evalkit.duckdb"
    args = ["judge", "calibrate", str(rubric), "--labels", str(labels), "--judge", "grader", "--store", str(store)]
    out = run_cli(*args, "--json", "-o", "calibration.json", cwd=cwd)
    assert out.exit_code == 0, out.stderr
    written = json.loads((cwd / "calibration.json").read_text(encoding="utf-8"))
    assert json.loads(out.stdout) == written
    assert written["rubric"] == "calib" and written["judge_model"] == "openai/gpt-4o-mini" and written["items"] == 10
    assert [c["criterion"] for c in written["criteria"]] == ["grounded"]  # style has no pass_threshold
    assert any("style has no pass_threshold" in n for n in written["notes"])
    grounded = written["criteria"][0]
    assert grounded["kappa"] == pytest.approx(KAPPA)
    assert grounded["accuracy"] == pytest.approx(7 / 9)
    assert (grounded["labelled"], grounded["compared"]) == (10, 9)
    assert grounded["confusion"] == {
        "pass": {"pass": 4, "fail": 1, "none": 0},
        "fail": {"pass": 1, "fail": 3, "none": 1},
    }
    assert grounded["disagreements"] == [5, 9]
    assert len(grounded["no_verdict"]) == 1 and grounded["no_verdict"][0].startswith("10: ")
    assert grounded["low"] < KAPPA < grounded["high"] and "bootstrap" in written["ci"]
    assert len(server.requests) == 12  # 9 verdicts, and the decline asked 3 times (two corrections)

    again = run_cli(*args, cwd=cwd)  # text, from the cache: no new judge call
    assert again.exit_code == 0, again.stderr
    assert len(server.requests) == 12
    assert "grounded: κ 0.55 [" in again.stdout and "accuracy 77.8% over 9 items" in again.stdout
    assert "disagree on lines 5, 9" in again.stdout and "no verdict on line 10" in again.stdout


def test_the_analytic_interval_and_one_criterion_through_the_api(judge_server: Any, tmp_path: Path) -> None:
    base, _ = judge_server
    cwd = project(tmp_path, base)
    labels = write_labels(tmp_path / "labelled.jsonl", episodes())
    from evalkit.contracts.config import load_config

    result = evalkit.api.judge_calibrate(
        write_rubric(tmp_path / "calib.yaml"), labels, "grader", criterion="grounded", method="analytic",
        config=load_config(cwd / "evalkit.yaml"), store=tmp_path / "s.duckdb",
    )  # fmt: skip
    (c,) = result.criteria
    # Cohen's SE: √(pₒ(1 − pₒ) / (n(1 − pₑ)²)) = √((7/9)(2/9) / (9·(40/81)²)) = 0.2806; κ ± 1.96·SE is
    # [−0.000014, 1.100]: the upper end is clipped to κ's largest value, 1
    se = ((7 / 9) * (2 / 9) / (9 * (40 / 81) ** 2)) ** 0.5
    assert se == pytest.approx(0.2806, abs=1e-4) and c.kappa == pytest.approx(KAPPA)
    assert (c.low, c.high) == (pytest.approx(KAPPA - 1.959964 * se, abs=1e-5), 1.0)
    assert "analytic" in result.ci_text


def test_bad_labels_are_reported_by_line(judge_server: Any, tmp_path: Path) -> None:
    base, server = judge_server
    cwd = project(tmp_path, base)
    rubric = write_rubric(tmp_path / "calib.yaml")
    items = episodes()[:3]
    items[1]["labels"] = {"grounded": "yes"}
    del items[2]["labels"]
    bad = write_labels(tmp_path / "bad.jsonl", items)
    out = run_cli("judge", "calibrate", str(rubric), "--labels", str(bad), "--judge", "grader", cwd=cwd)
    assert out.exit_code == 2
    assert f"{bad}:2: labels.grounded: must be pass or fail" in out.stderr
    assert f"{bad}:3: labels: must be an object" in out.stderr
    unknown = write_labels(tmp_path / "unknown.jsonl", [{**episodes()[0], "labels": {"groundedness": "pass"}}])
    out = run_cli("judge", "calibrate", str(rubric), "--labels", str(unknown), "--judge", "grader", cwd=cwd)
    assert out.exit_code == 2 and "groundedness" in out.stderr
    broken = write_labels(tmp_path / "broken.jsonl", [{"messages": [], "labels": {"grounded": "pass"}}])
    out = run_cli("judge", "calibrate", str(rubric), "--labels", str(broken), "--judge", "grader", cwd=cwd)
    assert out.exit_code == 2 and f"{broken}:1: messages: must be a non-empty list" in out.stderr
    out = run_cli("judge", "calibrate", str(rubric), "--labels", str(bad), "--criterion", "queried", cwd=cwd)
    assert out.exit_code == 2 and "no judge criterion 'queried'" in out.stderr
    assert server.requests == []
