"""The report's figures, checked against the store they come from (by independent SQL) and hand-made runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import evalkit
from evalkit.report.build import build_report
from evalkit.report.model import Report
from evalkit.report.traces import load_traces
from evalkit.trace.store import TraceStore
from tests.trace import make_run, make_sample, make_score


def _group(report: Report, label: str):  # type: ignore[no-untyped-def]
    return next(g for g in report.groups if g.label == label)


def test_accuracy_and_criteria_agree_with_the_store(report: Report, report_store: tuple[Path, str]) -> None:
    store, run_id = report_store
    with TraceStore.open(store, write=False) as st:
        per_model = dict(
            (m, (k, n))
            for m, k, n in st.query(
                "SELECT model, count(*) FILTER (WHERE correct), count(*) FROM samples "
                "WHERE run_id = ? AND status = 'ok' GROUP BY model",
                [run_id],
            )
        )
        verdicts = dict(
            ((m, v), n)
            for m, v, n in st.query(
                "SELECT s.model, c.verdict, count(*) FROM scores c JOIN samples s USING (run_id, sample_id) "
                "WHERE c.run_id = ? AND c.criterion = 'inspected_schema' GROUP BY ALL",
                [run_id],
            )
        )
    assert {g.model for g in report.groups} == set(per_model)
    for g in report.groups:
        assert (g.accuracy.k, g.accuracy.n) == per_model[g.model]
        stat = next(c for c in g.criteria if c.criterion == "inspected_schema")
        assert stat.rate.k == verdicts.get((g.model, "pass"), 0)
        assert stat.rate.n == stat.rate.k + verdicts.get((g.model, "fail"), 0)
        assert stat.rate.low is not None and stat.rate.low <= (stat.rate.rate or 0) <= (stat.rate.high or 1)


def test_the_agents_are_told_apart(report: Report) -> None:
    disciplined = _group(report, "scripted/disciplined")
    reckless = _group(report, "scripted/reckless")
    assert disciplined.accuracy.rate == 1.0 and not disciplined.failure_modes and not disciplined.train_next
    assert reckless.accuracy.rate == 0.0
    assert [m.mode for m in reckless.failure_modes] == ["invented_identifier"]
    assert reckless.failure_modes[0].count == reckless.finished
    noisy = _group(report, "scripted/noisy@0.5")
    assert 0 < (noisy.accuracy.rate or 0) < 1
    # the behaviour that explains its wrong answers is ranked first among those that cost it accuracy
    assert noisy.train_next[0].criterion == "valid_identifiers"
    assert noisy.train_next[0].explains == noisy.finished - noisy.accuracy.k
    schema = next(b for b in noisy.behaviours if b.criterion == "inspected_schema")
    assert schema.when_passed.rate == 1.0 and schema.when_failed.rate == 0.0
    assert all(b.criterion != "answer_correct" for b in noisy.behaviours)


def test_epochs_give_pass_at_k(report: Report) -> None:
    for g in report.groups:
        assert set(g.pass_at_k) == {"1", "2"}
        assert abs(g.pass_at_k["1"] - (g.accuracy.rate or 0)) < 1e-9
        assert g.pass_hat_k["2"] <= g.pass_at_k["1"] <= g.pass_at_k["2"]


def test_slices_task_rows_and_traces(report: Report, report_store: tuple[Path, str]) -> None:
    reckless = _group(report, "scripted/reckless")
    kinds = {s.value: s.accuracy.n for s in reckless.slices if s.dimension == "kind"}
    assert kinds == {"single_table": 6, "multi_table": 2}
    rows = [t for t in report.tasks if t.label == "scripted/reckless"]
    assert len(rows) == 4 and all(t.failure_mode == "invented_identifier" and t.finished == 2 for t in rows)
    # every task is failed by the reckless agent but none by every agent
    assert report.failed_by_all == ()
    store, _ = report_store
    with TraceStore.open(store, write=False) as st:
        traces, omitted = load_traces(st, report, limit=5)
    assert omitted == len(report.tasks) * 2 - 5
    assert all(t.correct is False for t in traces)  # wrong answers come first
    failing = [v for t in traces for v in t.verdicts if v.verdict == "fail"]
    assert failing and all(v.evidence for v in failing if v.criterion == "valid_identifiers")


def _handmade(tmp_path: Path) -> Path:
    store = tmp_path / "hand.duckdb"
    run = dataclasses.replace(make_run("20250101-000000-aaaa", name="hand"), suite="no-such-suite", suite_path="")
    samples = [
        make_sample(run.run_id, "t1", "gpt", 0, correct=True, cost_usd=0.02),
        make_sample(run.run_id, "t2", "gpt", 0, correct=False, cost_usd=None),
        make_sample(run.run_id, "t3", "gpt", 0, status="infra_error", correct=None),
        make_sample(run.run_id, "t1", "local", 0, correct=False, cost_usd=None),
        make_sample(run.run_id, "t2", "local", 0, correct=False, cost_usd=None),
    ]
    with TraceStore.open(store, write=True) as st:
        st.create_run(run)
        st.write_samples(samples)
        st.write_scores([make_score(run.run_id, s.sample_id, verdict="pass" if s.correct else "fail") for s in samples])
    return store


def test_infra_errors_are_apart_and_unknown_cost_is_not_zero(tmp_path: Path) -> None:
    store = _handmade(tmp_path)
    with TraceStore.open(store, write=False) as st:
        report = build_report(st, ["20250101-000000-aaaa"])
    gpt = _group(report, "gpt")
    assert (gpt.samples, gpt.finished, gpt.infra_errors) == (3, 2, 1)
    assert (gpt.accuracy.k, gpt.accuracy.n) == (1, 2)
    # the infra error cost money too (0.01); two samples have no known price, and their cost is not taken as 0
    assert gpt.usage.cost_usd == 0.03 and gpt.usage.cost_unknown == 1
    assert gpt.usage.cost_per_correct_usd is not None
    local = _group(report, "local")
    assert local.usage.cost_usd is None and local.usage.cost_per_correct_usd is None
    assert report.failed_by_all == ("t2",)  # t1 is right for gpt; t3 never finished
    assert any("no-such-suite" in n for n in report.notes)
    # a rubric that is not on the search path is still reported, by criterion id
    assert report.criteria[0].criterion == "answer" and report.criteria[0].rubric == "discipline"
    row = next(t for t in report.tasks if t.label == "gpt" and t.task_id == "t3")
    assert (row.finished, row.infra_errors, row.failure_mode) == (0, 1, None)


def test_an_exported_run_file_reports_like_the_stored_run(report_store: tuple[Path, str], tmp_path: Path) -> None:
    store, run_id = report_store
    exported = tmp_path / "baseline.jsonl.gz"
    evalkit.export_run(store, run_id, exported)
    from_file = evalkit.build_report(tmp_path / "empty.duckdb", [str(exported)])
    from_store = evalkit.build_report(store, [run_id])
    strip = lambda r: dataclasses.replace(r, generated_at="")  # noqa: E731
    assert strip(from_file) == strip(from_store)


def test_the_same_model_in_two_runs_is_labelled_by_run(report_store: tuple[Path, str], tmp_path: Path) -> None:
    store, run_id = report_store
    exported = tmp_path / "copy.jsonl"
    evalkit.export_run(store, run_id, exported)
    text = exported.read_text().replace(run_id, "20250101-000000-bbbb").replace('"report-fixture"', '"copy"')
    exported.write_text(text)
    report = evalkit.build_report(store, [run_id, str(exported)])
    labels = {g.label for g in report.groups}
    assert "scripted/reckless @ report-fixture" in labels and "scripted/reckless @ copy" in labels
    assert len(report.runs) == 2


def test_behaviours_by_task_kind_agree_with_each_slice(report: Report) -> None:
    columns, rows = report.criteria_by_slice("kind")
    assert {v for _, v in columns} == {"single_table", "multi_table"} and len(columns) == 6
    correct = dict(rows)["answer_correct"]
    for (label, value), rate in zip(columns, correct, strict=True):
        sl = next(s for s in _group(report, label).slices if (s.dimension, s.value) == ("kind", value))
        assert rate is not None and (rate.k, rate.n) == (sl.accuracy.k, sl.accuracy.n)
    assert report.criteria_by_slice("no-such-dimension") == ([], [])
