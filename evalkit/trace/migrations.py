"""Ordered, named schema migrations of the trace store.

``MIGRATIONS`` is append-only: a released migration is never edited, a schema change is a new entry. The
schema version of a store is the number of migrations applied to it (``schema_meta.version``);
``SCHEMA_VERSION`` is the version this code writes. Typed columns hold what reports query; the ``payload``
/ JSON columns hold the rest so nothing is lost. Timestamps are kept as the ISO-8601 strings the runner
produced (they sort correctly and round-trip exactly); cast them with ``CAST(created_at AS TIMESTAMPTZ)``.
"""

from __future__ import annotations

from typing import Any

from evalkit.errors import StoreError

_INITIAL = """
CREATE TABLE runs (
    run_id          VARCHAR PRIMARY KEY,
    name            VARCHAR,
    suite           VARCHAR NOT NULL,
    suite_hash      VARCHAR NOT NULL,
    suite_path      VARCHAR NOT NULL,
    models          JSON NOT NULL,
    options         JSON NOT NULL,
    evalkit_version VARCHAR NOT NULL,
    git_commit      VARCHAR,
    created_at      VARCHAR NOT NULL,
    finished_at     VARCHAR,
    status          VARCHAR NOT NULL
);
CREATE TABLE samples (
    run_id            VARCHAR NOT NULL,
    sample_id         VARCHAR NOT NULL,
    task_id           VARCHAR NOT NULL,
    model             VARCHAR NOT NULL,
    epoch             INTEGER NOT NULL,
    status            VARCHAR NOT NULL,
    stop_reason       VARCHAR NOT NULL,
    final_answer      VARCHAR,
    correct           BOOLEAN,
    expected          VARCHAR,
    turns             INTEGER NOT NULL,
    tool_calls        INTEGER NOT NULL,
    tool_errors       INTEGER NOT NULL,
    prompt_tokens     BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    latency_s         DOUBLE NOT NULL,
    cost_usd          DOUBLE,
    error             VARCHAR,
    started_at        VARCHAR NOT NULL,
    finished_at       VARCHAR NOT NULL,
    metadata          JSON NOT NULL,
    PRIMARY KEY (run_id, sample_id)
);
CREATE TABLE events (
    run_id            VARCHAR NOT NULL,
    sample_id         VARCHAR NOT NULL,
    seq               INTEGER NOT NULL,
    kind              VARCHAR NOT NULL,
    turn              INTEGER NOT NULL,
    tool              VARCHAR,
    ok                BOOLEAN,
    error_type        VARCHAR,
    content           VARCHAR,
    latency_s         DOUBLE,
    cost_usd          DOUBLE,
    prompt_tokens     BIGINT,
    completion_tokens BIGINT,
    payload           JSON NOT NULL,
    PRIMARY KEY (run_id, sample_id, seq)
);
CREATE TABLE scores (
    run_id         VARCHAR NOT NULL,
    sample_id      VARCHAR NOT NULL,
    rubric         VARCHAR NOT NULL,
    rubric_version VARCHAR NOT NULL,
    criterion      VARCHAR NOT NULL,
    verdict        VARCHAR NOT NULL,
    value          DOUBLE,
    reason         VARCHAR NOT NULL,
    evidence       JSON NOT NULL,
    PRIMARY KEY (run_id, sample_id, rubric, rubric_version, criterion)
);
"""

_SCORE_DETAIL = """
ALTER TABLE scores ADD COLUMN detail JSON DEFAULT '{}';
UPDATE scores SET detail = '{}' WHERE detail IS NULL;
"""
"""``scores.detail``: a verdict's extras (the judge's model, reasoning, sample scores and agreement, cost)."""

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("0001_initial", _INITIAL),
    ("0002_score_detail", _SCORE_DETAIL),
)
"""(name, SQL) in the order they are applied. Append only."""

SCHEMA_VERSION = len(MIGRATIONS)


def scalar(conn: Any, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row, or None. Fetches everything: DuckDB refuses further work on a
    connection while a result is left unfinished."""
    rows = conn.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def _has_table(conn: Any, name: str) -> bool:
    sql = "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?"
    return bool(scalar(conn, sql, [name]))


def read_version(conn: Any, label: str) -> int:
    """The schema version of an open store; 0 for an empty database. ``label`` names it in errors.

    Raises ``StoreError`` for a database that holds other tables but is not an evalkit store, and for a
    store written by a newer evalkit.
    """
    if not _has_table(conn, "schema_meta"):
        if scalar(conn, "SELECT count(*) FROM duckdb_tables()"):
            raise StoreError(f"{label} is a DuckDB database but not an evalkit trace store (no schema_meta)")
        return 0
    version = int(scalar(conn, "SELECT max(version) FROM schema_meta") or 0)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store {label} was written by a newer evalkit (schema version {version}; this evalkit "
            f"knows up to {SCHEMA_VERSION}); upgrade evalkit or use another --store"
        )
    return version


def migrate(conn: Any, label: str) -> list[str]:
    """Apply the missing migrations in one transaction; return the names applied (empty when current)."""
    version = read_version(conn, label)
    if version == SCHEMA_VERSION:
        return []
    pending = MIGRATIONS[version:]
    conn.begin()
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_meta (version INTEGER NOT NULL)")
        for _name, sql in pending:
            conn.execute(sql)
        conn.execute("DELETE FROM schema_meta")
        conn.execute("INSERT INTO schema_meta VALUES (?)", [SCHEMA_VERSION])
        conn.commit()
    except Exception as exc:
        conn.rollback()
        raise StoreError(f"could not migrate the store {label}: {exc}") from exc
    return [name for name, _sql in pending]
