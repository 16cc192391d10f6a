"""The list of tasks every model fails flags a task as suspect only when a model that is otherwise competent
(at least 50% of its finished samples of the *other* tasks right) fails it too: when every model is weak,
failing a task says nothing about the task."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.console import Console

from evalkit.report.build import build_report
from evalkit.report.markdown import render_markdown
from evalkit.report.model import Report
from evalkit.report.terminal import render_terminal
from evalkit.trace.store import TraceStore
from evalkit.trace.types import Sample
from tests.trace import make_run, make_sample

RUN = "20250301-000000-5a5a5a"
ANSWERS = {  # what each model said, per task; gold: t1 1350, t2 11.11, t3 250, t4 Cloud
    "t1": ("Acme's total revenue in fiscal 2023 was $1,350 million.", "Revenue was about 1.2 billion."),
    "t2": ("It grew by 11.1% from 2023 to 2024.", "Roughly 9 percent growth."),
    "t3": ("So revenue per employee was 250 thousand USD.", "About $310k per employee."),
    "t4": ("The Services segment had the highest revenue.", "Hardware, I think."),
}


def _sample(task: str, model: str, correct: bool, epoch: int = 0) -> Sample:
    right, wrong = ANSWERS[task]
    base = make_sample(RUN, task, model, epoch, correct=correct, cost_usd=None)
    return dataclasses.replace(base, final_answer=right if correct else wrong, expected=None)


def _report(tmp_path: Path, samples: list[Sample]) -> Report:
    store = tmp_path / "suspect.duckdb"
    run = dataclasses.replace(make_run(RUN, name="suspect"), suite="no-such-suite", suite_path="")
    with TraceStore.open(store, write=True) as st:
        st.create_run(run)
        st.write_samples(samples)
    with TraceStore.open(store, write=False) as st:
        return build_report(st, [RUN])


def test_a_task_that_a_competent_model_fails_is_flagged(tmp_path: Path) -> None:
    # "strong" answers t1..t3 right (3/3 of the other tasks) but t4 wrong; "weak" gets everything wrong
    samples = [_sample(t, "strong", t != "t4") for t in ANSWERS] + [_sample(t, "weak", False) for t in ANSWERS]
    report = _report(tmp_path, samples)
    assert report.failed_by_all == ("t4",)
    md = render_markdown(report)
    section = md.split("### Tasks every model fails", 1)[1].split("##", 1)[0]
    assert "- `t4`" in section and "50%" in section  # the report says what "otherwise competent" means


def test_tasks_failed_by_models_that_fail_everything_are_not_flagged(tmp_path: Path) -> None:
    samples = [_sample(t, m, False) for t in ANSWERS for m in ("weak", "weaker")]
    report = _report(tmp_path, samples)
    assert report.failed_by_all == ()
    console = Console(width=200, record=True, color_system=None)
    render_terminal(report, console)
    text = console.export_text()
    assert "tasks every model fails: none" in text and "50%" in text


def test_competence_is_half_of_the_other_tasks_over_epochs(tmp_path: Path) -> None:
    # "mid" answers the other tasks right in 3 of 6 samples (exactly 50%): t4 is flagged; "low" has 2 of 6
    mid = [_sample(t, "mid", correct=(e == 0), epoch=e) for t in ("t1", "t2", "t3") for e in (0, 1)]
    low = [_sample(t, "low", correct=(e == 0 and t != "t3"), epoch=e) for t in ("t1", "t2", "t3") for e in (0, 1)]
    fails_t4 = [_sample("t4", m, False, e) for m in ("mid", "low") for e in (0, 1)]
    assert _report(tmp_path, [*mid, *low, *fails_t4]).failed_by_all == ("t4",)
    only_low = [s for s in low + fails_t4 if s.model == "low"]
    assert _report(tmp_path / "low", only_low).failed_by_all == ()
