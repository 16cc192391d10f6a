"""Migration 0002 (``scores.detail``): a version-1 store holding scores upgrades and keeps them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import duckdb

from evalkit.trace import portable
from evalkit.trace.migrations import MIGRATIONS, SCHEMA_VERSION
from evalkit.trace.store import TraceStore
from tests.trace import make_run, make_sample


def _v1_store(path: Path) -> None:
    """A store as evalkit wrote it before migration 0002: one run, one sample, two scores."""
    run = make_run()
    sample = make_sample(run.run_id, n_events=0)
    conn = duckdb.connect(str(path))
    try:
        conn.execute(MIGRATIONS[0][1])
        conn.execute("CREATE TABLE schema_meta (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_meta VALUES (1)")
        conn.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, '[]', '{}', '0.1.0', NULL, ?, NULL, 'finished')",
            [run.run_id, run.name, run.suite, run.suite_hash, run.suite_path, run.created_at],
        )
        conn.execute(
            "INSERT INTO samples (run_id, sample_id, task_id, model, epoch, status, stop_reason, turns, tool_calls, "
            "tool_errors, prompt_tokens, completion_tokens, latency_s, started_at, finished_at, metadata) "
            "VALUES (?, ?, ?, ?, 0, 'ok', 'final_answer', 1, 0, 0, 0, 0, 0.0, '', '', '{}')",
            [run.run_id, sample.sample_id, sample.task_id, sample.model],
        )
        for criterion, verdict, value in (("answer", "pass", 1.0), ("schema", "fail", 0.0)):
            conn.execute(
                "INSERT INTO scores VALUES (?, ?, 'discipline', '1', ?, ?, ?, 'old reason', '[2]')",
                [run.run_id, sample.sample_id, criterion, verdict, value],
            )
    finally:
        conn.close()


def test_a_v1_store_with_scores_upgrades_and_keeps_them(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    _v1_store(db)
    assert SCHEMA_VERSION >= 2 and MIGRATIONS[1][0] == "0002_score_detail"
    with TraceStore.open(db, write=False) as store:  # a read upgrades an older store once
        assert store.query("SELECT version FROM schema_meta") == [(SCHEMA_VERSION,)]
        run_id = make_run().run_id
        scores = store.scores(run_id)
        assert [(s.criterion, s.verdict, s.value, s.evidence, s.detail) for s in scores] == [
            ("answer", "pass", 1.0, (2,), {}),
            ("schema", "fail", 0.0, (2,), {}),
        ]
        assert store.query("SELECT count(*) FROM scores WHERE detail IS NULL") == [(0,)]
    with TraceStore.open(db, write=True) as store:
        detailed = replace(scores[0], rubric_version="2", detail={"judge_model": "m", "scores": [70.0, 90.0]})
        store.write_scores([detailed])
        assert store.scores(run_id)[2] == detailed  # ordered by rubric version, then criterion
        raw = store.query("SELECT detail FROM scores WHERE rubric_version = '2'")[0][0]
        assert json.loads(raw) == {"judge_model": "m", "scores": [70.0, 90.0]}


def test_score_detail_round_trips_through_export_and_import(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    _v1_store(db)
    with TraceStore.open(db, write=True) as store:
        run_id = make_run().run_id
        old = store.scores(run_id)
        store.write_scores([replace(old[0], rubric_version="2", detail={"reasoning": "ok", "mean": 80.0})])
        path = portable.export_run(store, run_id, tmp_path / "run.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [("detail" in line) for line in lines if line.get("type") == "score"] == [False, False, True]
    _, _, scores = portable.read_run_file(path)
    assert [s.detail for s in scores] == [{}, {}, {"reasoning": "ok", "mean": 80.0}]
