"""`evalkit run --rubric` scores samples as they are written; the scores equal a later re-score."""

from __future__ import annotations

from pathlib import Path

import evalkit
from evalkit.scoring.service import score_run
from evalkit.trace.store import TraceStore
from tests.cli_runner import run_cli


def test_run_scores_as_it_goes_and_matches_a_rescore(mini_suite: Path, store: Path) -> None:
    result = evalkit.run_suite(
        mini_suite, ["scripted/disciplined", "scripted/reckless"], store=store, rubrics=["tool-discipline", "answer"]
    )
    assert result.score is not None
    by_id = {c.criterion: c for c in result.score.criteria}
    from evalkit.cli.score import _rates_by_model

    name, version = result.score.rubrics[0]
    rates = _rates_by_model(result.score, name, version)
    assert rates[("discovered_tables", "scripted/disciplined")] == "100%"
    assert rates[("discovered_tables", "scripted/reckless")] == "0%"
    assert by_id["answer_correct"].passed == 4 and by_id["answer_correct"].failed == 4
    assert by_id["discovered_tables"].passed == 4 and by_id["discovered_tables"].failed == 4
    with TraceStore.open(store, write=False) as st:
        during = {(s.sample_id, s.rubric, s.criterion): (s.verdict, s.evidence) for s in st.scores(result.run.run_id)}
    n_criteria = len(result.score.criteria)
    assert len(during) == 8 * n_criteria  # every sample, every criterion of both rubrics
    rescored = score_run(store, result.run.run_id, ["tool-discipline", "answer"])
    again = {(s.sample_id, s.rubric, s.criterion): (s.verdict, s.evidence) for s in rescored.scores}
    assert again == during


def test_cli_run_with_rubric_prints_the_criteria(mini_suite: Path, store: Path) -> None:
    out = run_cli(
        "run",
        mini_suite,
        "-m",
        "scripted/reckless",
        "--store",
        store,
        "--no-progress",
        "--rubric",
        "tool-discipline",
        env={"COLUMNS": "150"},
    )
    assert out.returncode == 0, out.stderr
    assert "rubric tool-discipline" in out.stdout and "no_unfounded_answer" in out.stdout
    bad = run_cli("run", mini_suite, "-m", "scripted/reckless", "--store", store, "--rubric", "no-such-rubric")
    assert bad.returncode == 2 and "no-such-rubric" in bad.stderr


def test_show_lists_the_verdicts_with_their_evidence(mini_suite: Path, store: Path) -> None:
    evalkit.run_suite(mini_suite, ["scripted/reckless"], tasks="t1", store=store, rubrics=["tool-discipline"])
    out = run_cli("show", "latest", "t1", "--store", store, env={"COLUMNS": "200"})
    assert out.returncode == 0, out.stderr
    assert "verdicts" in out.stdout
    line = next(ln for ln in out.stdout.splitlines() if "no_repeated_calls" in ln)
    assert "fail" in line and "[3], [5]" in line  # the first failing query and its identical repeat
