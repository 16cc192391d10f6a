"""Calibration of the real rubric files on the scripted agents (the issue's "done when").

Both scripted agents run on the mini fixture and on slices of the built-in suites; their samples are scored
with ``rubrics/tool-discipline.yaml`` and ``rubrics/answer.yaml`` through the engine. The disciplined agent
must pass every criterion (not-applicable allowed where nothing applies); the reckless one must fail exactly
the criteria it violates, with the events that show it as evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import evalkit
from evalkit.contracts.loader import load_suite
from evalkit.contracts.rubric import load_rubric
from evalkit.contracts.suite import TaskSpec
from evalkit.env.database import build_database
from evalkit.scoring.engine import RubricEngine
from evalkit.trace.types import Event, Sample, Score

ROOT = Path(__file__).resolve().parents[2]
SLICES = [
    (ROOT / "tests" / "fixtures" / "mini" / "suite", None),
    (ROOT / "suites" / "finance-single", "fs-00*"),
    (ROOT / "suites" / "finance-multi", "fm-00*"),
]
DISCIPLINE = load_rubric(ROOT / "rubrics" / "tool-discipline.yaml")
ANSWER = load_rubric(ROOT / "rubrics" / "answer.yaml")


@dataclass(frozen=True)
class Scored:
    sample: Sample
    task: TaskSpec
    scores: dict[str, Score]  # criterion id -> score (both rubrics)

    @property
    def tool_events(self) -> list[Event]:
        return [e for e in self.sample.events if e.kind == "tool"]

    @property
    def final_seq(self) -> int:
        return [e for e in self.sample.events if e.kind == "model"][-1].seq


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[list[Scored]]:
    out: list[Scored] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALKIT_CACHE_DIR", str(cache_dir))
        mp.delenv("EVALKIT_CONFIG", raising=False)
        store = tmp_path_factory.mktemp("calibration") / "s.duckdb"
        for path, tasks in SLICES:
            suite = load_suite(path)
            result = evalkit.run_suite(
                suite,
                ["scripted/disciplined", "scripted/reckless"],
                tasks=tasks,
                store=store,
                use_cache=False,
                keep_samples=True,
            )
            by_id = {t.id: t for t in suite.tasks}
            catalog = build_database(suite.database).catalog
            scores: dict[str, dict[str, Score]] = {}
            for rubric in (DISCIPLINE, ANSWER):
                for s in RubricEngine(rubric, tasks=by_id, catalog=catalog).score_samples(result.samples):
                    scores.setdefault(s.sample_id, {})[s.criterion] = s
            out += [Scored(s, by_id[s.task_id], scores[s.sample_id]) for s in result.samples]
        yield out


def _agent(scored: list[Scored], name: str) -> list[Scored]:
    found = [s for s in scored if s.sample.model == f"scripted/{name}"]
    assert len(found) >= 20
    return found


def test_rubrics_cover_the_checks() -> None:
    assert {c.check for c in DISCIPLINE.criteria} >= {
        "discovered_tables", "inspected_schema", "valid_identifiers", "recovered_after_error", "no_unfounded_answer",
        "right_tables", "efficiency", "no_repeated_calls", "answer_format", "safe_sql",
    }  # fmt: skip
    assert [c.check for c in ANSWER.criteria] == ["answer_correct", "answer_format", "answer_grounded"]
    critical = {c.id for c in (*DISCIPLINE.criteria, *ANSWER.criteria) if c.severity == "critical"}
    assert critical == {"valid_identifiers", "no_unfounded_answer", "safe_sql", "answer_correct"}


def test_disciplined_passes_every_criterion(scored: list[Scored]) -> None:
    for s in _agent(scored, "disciplined"):
        had_error = any(not e.ok for e in s.tool_events)
        for cid, score in s.scores.items():
            assert score.verdict in ("pass", "na"), (s.sample.sample_id, cid, score.reason)
        assert (s.scores["recovered_after_error"].verdict == "na") == (not had_error)
        na = {cid for cid, score in s.scores.items() if score.verdict == "na"}
        assert na <= {"recovered_after_error", "answer_grounded"}, (s.sample.sample_id, na)
        if s.task.answer.kind in ("number", "template"):
            assert "answer_grounded" not in na, s.sample.sample_id


def test_disciplined_column_fumble_is_a_recovery(scored: list[Scored]) -> None:
    fumbles = [s for s in _agent(scored, "disciplined") if any(not e.ok for e in s.tool_events)]
    assert any(e.error_type == "unknown_column" for s in fumbles for e in s.tool_events)
    for s in fumbles:
        (error,) = [e for e in s.tool_events if not e.ok]
        recovering = next(e for e in s.tool_events if e.seq > error.seq and e.tool == "sql_query" and e.ok)
        v = s.scores["recovered_after_error"]
        assert v.verdict == "pass" and v.evidence == (error.seq, recovering.seq), v.reason
        ident = s.scores["valid_identifiers"]
        assert ident.verdict == "pass" and "slip" in ident.reason and ident.evidence == (error.seq,)


RECKLESS_FAILS = {
    "discovered_tables",
    "right_tables",
    "inspected_schema",
    "valid_identifiers",
    "no_unfounded_answer",
    "recovered_after_error",
    "no_repeated_calls",
    "answer_correct",
}


def test_reckless_fails_exactly_what_it_violates(scored: list[Scored]) -> None:
    for s in _agent(scored, "reckless"):
        sid = s.sample.sample_id
        numeric = s.task.answer.kind in ("number", "template")
        expected_fail = RECKLESS_FAILS | ({"answer_grounded"} if numeric else set())
        for cid, score in s.scores.items():
            if cid in expected_fail:
                assert score.verdict == "fail", (sid, cid, score.reason)
            else:
                assert score.verdict in ("pass", "na"), (sid, cid, score.reason)
        assert s.scores["safe_sql"].verdict == "pass"
        assert s.scores["efficiency"].verdict == "na"  # within budget, but never solved: nothing to credit
        assert s.scores["answer_format"].verdict == "pass"
        assert (s.scores["answer_grounded"].verdict == "na") == (not numeric)


def test_reckless_evidence(scored: list[Scored]) -> None:
    for s in _agent(scored, "reckless"):
        sid = s.sample.sample_id
        queries = [e for e in s.tool_events if e.tool == "sql_query"]
        assert queries and all(not e.ok for e in queries)
        q_seqs = tuple(e.seq for e in queries)
        first, repeat = (e for e in queries if e.arguments == queries[0].arguments)
        ev = {cid: score.evidence for cid, score in s.scores.items()}
        assert ev["no_repeated_calls"] == (first.seq, repeat.seq), sid
        assert s.final_seq in ev["no_unfounded_answer"] and set(q_seqs) <= set(ev["no_unfounded_answer"]), sid
        assert ev["discovered_tables"] == (q_seqs[0],), sid
        assert ev["inspected_schema"] == q_seqs, sid
        assert ev["valid_identifiers"] == q_seqs, sid
        assert ev["recovered_after_error"] == q_seqs, sid
        assert ev["answer_correct"] == (s.final_seq,), sid
        reason = s.scores["valid_identifiers"].reason
        assert f"{s.task.company}_financials" in reason and "financial_data" in reason, (sid, reason)
