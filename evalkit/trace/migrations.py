"""Ordered, named schema migrations of the trace store.

``MIGRATIONS`` is append-only: a released migration is never edited, a schema change is a new entry. A
migration is SQL, or a Python function given the open connection (for data migrations that SQL cannot
express). The schema version of a store is the number of migrations applied to it (``schema_meta.version``,
which every evalkit reads to refuse a store newer than it knows); ``SCHEMA_VERSION`` is the version this
code writes. ``schema_migrations`` records the name of each migration applied and when (``applied_at``,
ISO 8601 in UTC; ``NULL`` for those applied before the store recorded them). Pending migrations, their
records and the new version are written in one transaction.

Typed columns hold what reports query; the ``payload`` / JSON columns hold the rest so nothing is lost.
Timestamps are kept as the ISO-8601 strings the runner produced (they sort correctly and round-trip
exactly); cast them with ``CAST(created_at AS TIMESTAMPTZ)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from evalkit.errors import StoreError
from evalkit.trace.types import utc_now

logger = logging.getLogger(__name__)

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

Migration = tuple[str, "str | Callable[[Any], None]"]
"""(name, step): the step is SQL (one or more statements) or a function that migrates the connection."""

MIGRATIONS: tuple[Migration, ...] = (
    ("0001_initial", _INITIAL),
    ("0002_score_detail", _SCORE_DETAIL),
)
"""In the order they are applied. Append only."""

SCHEMA_VERSION = len(MIGRATIONS)

_LOG_TABLE = "schema_migrations"
_LOG_DDL = f"CREATE TABLE IF NOT EXISTS {_LOG_TABLE} (name VARCHAR PRIMARY KEY, applied_at VARCHAR)"


def scalar(conn: Any, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row, or None. Fetches everything: DuckDB refuses further work on a
    connection while a result is left unfinished."""
    rows = conn.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def _has_table(conn: Any, name: str) -> bool:
    sql = "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?"
    return bool(scalar(conn, sql, [name]))


def _newer(label: str, what: str) -> StoreError:
    return StoreError(
        f"the store {label} was written by a newer evalkit ({what}; this evalkit knows up to schema version "
        f"{SCHEMA_VERSION}); upgrade evalkit or use another --store"
    )


def applied(conn: Any) -> list[tuple[str, str | None]]:
    """(name, applied_at) of the migrations the store records, in the order of ``MIGRATIONS`` (names this
    evalkit does not know last); empty for a store made before migrations were recorded."""
    if not _has_table(conn, _LOG_TABLE):
        return []
    order = {name: i for i, (name, _step) in enumerate(MIGRATIONS)}
    rows = conn.execute(f"SELECT name, applied_at FROM {_LOG_TABLE} ORDER BY name").fetchall()
    return sorted(((r[0], r[1]) for r in rows), key=lambda r: order.get(r[0], len(order)))


def read_version(conn: Any, label: str) -> int:
    """The schema version of an open store; 0 for an empty database. ``label`` names it in errors.

    Raises ``StoreError`` for a database that holds other tables but is not an evalkit store, and for a
    store written by a newer evalkit (a higher version, or a migration this evalkit does not know).
    """
    if not _has_table(conn, "schema_meta"):
        if scalar(conn, "SELECT count(*) FROM duckdb_tables()"):
            raise StoreError(f"{label} is a DuckDB database but not an evalkit trace store (no schema_meta)")
        return 0
    version = int(scalar(conn, "SELECT max(version) FROM schema_meta") or 0)
    if version > SCHEMA_VERSION:
        raise _newer(label, f"schema version {version}")
    known = {name for name, _step in MIGRATIONS}
    unknown = [name for name, _at in applied(conn) if name not in known]
    if unknown:
        raise _newer(label, f"migration {', '.join(unknown)}")
    return version


def needs_upgrade(version: int) -> bool:
    """Whether a store at ``version`` (not empty) misses migrations this evalkit would apply."""
    return 0 < version < SCHEMA_VERSION


def migrate(conn: Any, label: str) -> list[str]:
    """Apply the missing migrations in one transaction; return the names applied (empty when current).

    A store made before migrations were recorded gets ``schema_migrations``, listing the migrations its
    version says it has (without a time), in the same transaction."""
    version = read_version(conn, label)
    recorded = {name for name, _at in applied(conn)}
    earlier = [name for name, _step in MIGRATIONS[:version] if name not in recorded]
    pending = MIGRATIONS[version:]
    if not pending and not earlier and _has_table(conn, _LOG_TABLE):
        return []
    conn.begin()
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_meta (version INTEGER NOT NULL)")
        conn.execute(_LOG_DDL)
        for name in earlier:
            conn.execute(f"INSERT INTO {_LOG_TABLE} VALUES (?, NULL)", [name])
        for name, step in pending:
            if callable(step):
                step(conn)
            else:
                conn.execute(step)
            conn.execute(f"INSERT INTO {_LOG_TABLE} VALUES (?, ?)", [name, utc_now()])
        conn.execute("DELETE FROM schema_meta")
        conn.execute("INSERT INTO schema_meta VALUES (?)", [SCHEMA_VERSION])
        conn.commit()
    except Exception as exc:
        conn.rollback()
        raise StoreError(f"could not migrate the store {label}: {exc}") from exc
    names = [name for name, _step in pending]
    if names:
        logger.debug("migrated the store %s from schema version %d: applied %s", label, version, ", ".join(names))
    if earlier:
        logger.debug("the store %s now records its earlier migrations %s", label, ", ".join(earlier))
    return names
