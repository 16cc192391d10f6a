"""Migrations are recorded by name and time, may be Python functions, apply in one transaction, and a store
made before they were recorded (``schema_meta`` only) upgrades cleanly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from evalkit.errors import StoreError
from evalkit.trace import migrations
from evalkit.trace.migrations import MIGRATIONS, SCHEMA_VERSION, applied, migrate
from evalkit.trace.store import TraceStore
from tests.trace import make_run, make_sample


def _store_without_migration_log(path: Path) -> None:
    """A store as the previous ``migrate`` wrote it: the migrations' SQL and ``schema_meta``, nothing else."""
    conn = duckdb.connect(str(path))
    try:
        conn.begin()
        conn.execute("CREATE TABLE IF NOT EXISTS schema_meta (version INTEGER NOT NULL)")
        for _name, sql in MIGRATIONS:
            assert isinstance(sql, str)
            conn.execute(sql)
        conn.execute("DELETE FROM schema_meta")
        conn.execute("INSERT INTO schema_meta VALUES (?)", [len(MIGRATIONS)])
        conn.commit()
    finally:
        conn.close()


def _log(path: Path) -> list[tuple[str, str | None]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return applied(conn)
    finally:
        conn.close()


def _recent(stamp: str | None) -> bool:
    assert stamp is not None
    return abs(datetime.now(UTC) - datetime.fromisoformat(stamp)) < timedelta(hours=1)


def test_a_new_store_records_each_migration_and_when(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    TraceStore.open(db, write=True).close()
    log = _log(db)
    assert [name for name, _at in log] == [name for name, _step in MIGRATIONS]
    assert all(_recent(at) for _name, at in log)
    TraceStore.open(db, write=True).close()  # reopening records nothing new
    assert _log(db) == log


def test_a_store_made_before_migrations_were_recorded_upgrades_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    _store_without_migration_log(db)
    run = make_run()
    with TraceStore.open(db, write=False) as store:  # current schema: read as it is
        assert store.list_runs() == []
    assert _log(db) == []
    with TraceStore.open(db, write=True) as store:
        store.create_run(run)
        store.write_samples([make_sample(run.run_id)])
    assert _log(db) == [(name, None) for name, _step in MIGRATIONS]  # applied before they were recorded
    with TraceStore.open(db, write=False) as store:
        assert store.query("SELECT version FROM schema_meta") == [(SCHEMA_VERSION,)]
        assert store.samples(run.run_id, with_events=True) == [make_sample(run.run_id)]


def test_an_upgrade_records_the_earlier_migrations_without_a_time(tmp_path: Path) -> None:
    db = tmp_path / "v1.duckdb"
    conn = duckdb.connect(str(db))
    conn.execute("CREATE TABLE schema_meta (version INTEGER NOT NULL)")
    conn.execute(str(MIGRATIONS[0][1]))
    conn.execute("INSERT INTO schema_meta VALUES (1)")
    conn.close()
    TraceStore.open(db, write=False).close()  # a read upgrades an older store once
    (first, first_at), *rest = _log(db)
    assert (first, first_at) == ("0001_initial", None)
    assert [name for name, _at in rest] == [name for name, _step in MIGRATIONS[1:]]
    assert all(_recent(at) for _name, at in rest)


def _with_migrations(monkeypatch: pytest.MonkeyPatch, *extra: tuple[str, Any]) -> None:
    newer = (*MIGRATIONS, *extra)
    monkeypatch.setattr(migrations, "MIGRATIONS", newer)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", len(newer))


def test_a_python_data_migration_runs_on_the_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.duckdb"
    with TraceStore.open(db, write=True) as store:
        store.create_run(make_run("r1", name="nightly"))
        store.create_run(make_run("r2", name=None))

    def name_unnamed_runs(conn: Any) -> None:
        for (run_id,) in conn.execute("SELECT run_id FROM runs WHERE name IS NULL").fetchall():
            conn.execute("UPDATE runs SET name = ? WHERE run_id = ?", [f"run {run_id}", run_id])

    _with_migrations(monkeypatch, ("0100_name_unnamed_runs", name_unnamed_runs))
    with TraceStore.open(db, write=True) as store:
        assert {r.run_id: r.name for r in store.list_runs()} == {"r1": "nightly", "r2": "run r2"}
        assert store.query("SELECT version FROM schema_meta") == [(len(MIGRATIONS) + 1,)]
    name, at = _log(db)[-1]
    assert name == "0100_name_unnamed_runs" and _recent(at)


def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.duckdb"
    TraceStore.open(db, write=True).close()
    before = _log(db)

    def broken(conn: Any) -> None:
        raise RuntimeError("data does not fit")

    _with_migrations(monkeypatch, ("0100_note", "ALTER TABLE runs ADD COLUMN note VARCHAR"), ("0101_broken", broken))
    with pytest.raises(StoreError, match=r"could not migrate the store .*s.duckdb: data does not fit"):
        TraceStore.open(db, write=True)
    monkeypatch.undo()
    assert _log(db) == before
    with TraceStore.open(db, write=False) as store:
        assert store.query("SELECT version FROM schema_meta") == [(SCHEMA_VERSION,)]
        columns = store.query("SELECT column_name FROM duckdb_columns() WHERE table_name = 'runs'")
        assert ("note",) not in columns


def test_a_store_with_a_migration_this_evalkit_does_not_know_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    TraceStore.open(db, write=True).close()
    conn = duckdb.connect(str(db))
    conn.execute("INSERT INTO schema_migrations VALUES ('0099_from_a_newer_evalkit', '2030-01-01T00:00:00+00:00')")
    conn.close()
    for write in (True, False):
        with pytest.raises(StoreError, match=r"written by a newer evalkit .*migration 0099_from_a_newer_evalkit"):
            TraceStore.open(db, write=write)


def test_migrate_on_a_plain_connection_returns_what_it_applied(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "s.duckdb"))
    try:
        assert migrate(conn, "s") == [name for name, _step in MIGRATIONS]
        assert migrate(conn, "s") == []
        assert [name for name, _at in applied(conn)] == [name for name, _step in MIGRATIONS]
    finally:
        conn.close()
