"""``TraceStore``: the one DuckDB file that keeps runs, their samples, events and scores.

One process writes at a time (DuckDB's file lock); a second writer gets ``StoreLockedError``. Every write
method is one transaction; ``transaction()`` groups several into one (they nest). How the file is opened
(locks, migrations) is in ``connections.py``, the row layout of each table in ``rows.py``, the schema in
``migrations.py``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import duckdb

from evalkit.errors import RunNotFoundError, StoreError
from evalkit.trace import rows as table_rows
from evalkit.trace.connections import close_connection, open_connection
from evalkit.trace.migrations import scalar
from evalkit.trace.types import Event, RunRecord, Sample, Score, dumps

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

SECRET_MASK = "***"
_SECRET_KEY = re.compile(
    r"(?:^|[_\-.])(?:api[_\-]?key|apikey|secret(?:[_\-]?key)?|password|passwd|token|access[_\-]?token"
    r"|authorization|credentials?|private[_\-]?key)$"
)
_RUN_STATUSES = ("running", "finished", "interrupted")


@dataclass(frozen=True)
class RunSummary:
    """One line of ``evalkit runs``. ``accuracy`` is correct / (ok samples with a known verdict);
    ``cost_usd`` sums the known costs and ``cost_complete`` says whether every sample's cost was known.

    An unknown cost is never 0: ``cost_usd`` is None when samples ran and none has a known cost, or when
    calls were made and none was answered (every sample an infrastructure error before a reply, whose
    price nobody knows). It is 0.0 for a run that made no call at all."""

    run_id: str
    name: str | None
    suite: str
    models: tuple[str, ...]
    samples: int
    finished: int
    infra_errors: int
    accuracy: float | None
    cost_usd: float | None
    cost_complete: bool
    created_at: str
    status: str
    cost_unknown: int = 0
    """Samples whose cost is unknown (a model without a known price)."""
    model_calls: int = 0
    """Model replies recorded in the run's traces (a failed call records none)."""


def scrub_secrets(value: Any) -> Any:
    """A copy of ``value`` in which every string stored under a secret-looking key is ``"***"``.

    Keys such as ``api_key``, ``OPENAI_API_KEY``, ``token``, ``password`` match; ``api_key_env`` (the
    *name* of a variable) and ``max_tokens`` do not."""
    if isinstance(value, dict):
        return {
            k: SECRET_MASK
            if isinstance(v, str) and v and isinstance(k, str) and _SECRET_KEY.search(k.lower())
            else scrub_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_secrets(v) for v in value]
    return value


class TraceStore:
    """The trace store. Open with ``TraceStore.open(path, write=...)``; use as a context manager."""

    def __init__(self, conn: Any, path: Path, *, write: bool) -> None:
        self._conn = conn
        self._path = path
        self._label = str(path)
        self._write = write
        self._lock = threading.RLock()
        self._in_tx = False
        self._closed = False

    # ---- lifecycle -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, write: bool) -> TraceStore:
        """Open for write (created and migrated as needed) or read (``StoreError`` when there is no store)."""
        path = Path(path)
        return cls(open_connection(path, write=write), path, write=write)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def writable(self) -> bool:
        return self._write

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            close_connection(self._path, self._conn)

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- transactions --------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around the block; nested calls join the outer one. Rolls back on any error."""
        if not self._write:
            raise StoreError(f"the store {self._label} was opened read-only")
        with self._lock:
            if self._in_tx:
                yield
                return
            self._conn.begin()
            self._in_tx = True
            try:
                yield
                self._conn.commit()
            except duckdb.Error as exc:
                self._conn.rollback()
                raise StoreError(f"writing to the store {self._label} failed: {exc}") from exc
            except BaseException:
                self._conn.rollback()
                raise
            finally:
                self._in_tx = False

    def _insert(self, table: str, frame: pd.DataFrame, *, verb: str = "INSERT") -> None:
        view = f"_evalkit_{table}_batch"
        cols = ", ".join(frame.columns)
        self._conn.register(view, frame)
        try:
            self._conn.execute(f"{verb} INTO {table} ({cols}) SELECT {cols} FROM {view}")
        finally:
            self._conn.unregister(view)

    def _require_runs(self, run_ids: Iterable[str]) -> None:
        wanted = sorted(set(run_ids))
        rows = self._conn.execute("SELECT run_id FROM runs WHERE list_contains(?, run_id)", [wanted]).fetchall()
        missing = set(wanted) - {r[0] for r in rows}
        if missing:
            raise RunNotFoundError(f"no run {', '.join(sorted(missing))} in {self._label}; create_run first")

    # ---- writes --------------------------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> RunRecord:
        """Record a new run (secrets in options and model extras scrubbed); return what was stored."""
        run = replace(
            run,
            options=scrub_secrets(run.options),
            models=tuple(replace(m, extra=scrub_secrets(m.extra)) for m in run.models),
        )
        with self.transaction():
            if scalar(self._conn, "SELECT count(*) FROM runs WHERE run_id = ?", [run.run_id]):
                raise StoreError(f"run {run.run_id} already exists in {self._label}")
            values = {name: getattr(run, name) for name in table_rows.RUN_FIELDS}
            values["models"] = dumps([asdict(m) for m in run.models])
            values["options"] = dumps(run.options)
            marks = ", ".join("?" for _ in values)
            self._conn.execute(f"INSERT INTO runs ({table_rows.RUN_COLS}) VALUES ({marks})", list(values.values()))
        return run

    def finish_run(self, run_id: str, status: str, finished_at: str | None) -> None:
        if status not in _RUN_STATUSES:
            raise StoreError(f"unknown run status {status!r}; expected one of {', '.join(_RUN_STATUSES)}")
        with self.transaction():
            sql = "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?"
            if not scalar(self._conn, sql, [status, finished_at, run_id]):
                raise RunNotFoundError(f"no run {run_id} in {self._label}")

    def write_samples(self, samples: Sequence[Sample]) -> None:
        """Upsert samples and their events in one transaction: a sample written again (a re-run after a
        crash) replaces its earlier record and events. Within one call the last of duplicates wins."""
        batch = list({(s.run_id, s.sample_id): s for s in samples}.values())
        if not batch:
            return
        erows = [table_rows.event_row(s.run_id, s.sample_id, e) for s in batch for e in s.events]
        sframe = table_rows.frame(table_rows.SAMPLE_DTYPES, [table_rows.sample_row(s) for s in batch])
        eframe = table_rows.frame(table_rows.EVENT_DTYPES, erows)
        with self.transaction():
            self._require_runs(s.run_id for s in batch)
            self._delete_existing(sframe)
            self._insert("samples", sframe)
            if len(eframe):
                self._insert("events", eframe)
        logger.debug("wrote %d samples (%d events) to the store %s", len(batch), len(erows), self._label)

    def _delete_existing(self, sframe: pd.DataFrame) -> None:
        keys = sframe[["run_id", "sample_id"]]
        self._conn.register("_evalkit_keys", keys)
        try:
            if scalar(self._conn, "SELECT count(*) FROM samples JOIN _evalkit_keys USING (run_id, sample_id)"):
                for table in ("events", "samples"):
                    self._conn.execute(
                        f"DELETE FROM {table} t USING _evalkit_keys k "
                        "WHERE t.run_id = k.run_id AND t.sample_id = k.sample_id"
                    )
        finally:
            self._conn.unregister("_evalkit_keys")

    def write_scores(self, scores: Sequence[Score]) -> None:
        """Upsert scores by (run_id, sample_id, rubric, rubric_version, criterion), in one transaction."""
        batch = list({(s.run_id, s.sample_id, s.rubric, s.rubric_version, s.criterion): s for s in scores}.values())
        if not batch:
            return
        frame = table_rows.frame(table_rows.SCORE_DTYPES, [table_rows.score_row(s) for s in batch])
        with self.transaction():
            self._require_runs(s.run_id for s in batch)
            self._insert("scores", frame, verb="INSERT OR REPLACE")
        logger.debug("wrote %d scores to the store %s", len(batch), self._label)

    def delete_run(self, run_id: str) -> None:
        with self.transaction():
            self._get_row(run_id)
            for table in ("scores", "events", "samples", "runs"):
                self._conn.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])

    # ---- reads ---------------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a read query on the store (for reports); returns all rows."""
        with self._lock:
            return [tuple(r) for r in self._conn.execute(sql, list(params or [])).fetchall()]

    def _get_row(self, run_id: str) -> tuple[Any, ...]:
        rows = self.query(f"SELECT {table_rows.RUN_COLS} FROM runs WHERE run_id = ?", [run_id])
        if not rows:
            raise RunNotFoundError(f"no run {run_id} in {self._label}")
        return rows[0]

    def get_run(self, run_id: str) -> RunRecord:
        return table_rows.run_from_row(self._get_row(run_id))

    def resolve_run(self, ref: str) -> RunRecord:
        """A run by full id, unique id prefix, name (the latest run so named) or ``latest``."""
        ref = ref.strip()
        rows = self.query("SELECT run_id, name, created_at FROM runs ORDER BY created_at DESC, run_id DESC")
        if not rows:
            raise RunNotFoundError(f"no runs have been recorded in {self._label}")
        if ref == "latest":
            return self.get_run(rows[0][0])
        for candidates in ([r for r in rows if r[0] == ref], [r for r in rows if ref and r[1] == ref]):
            if candidates:
                return self.get_run(candidates[0][0])
        matches = [r for r in rows if ref and r[0].startswith(ref)]
        if len(matches) == 1:
            return self.get_run(matches[0][0])
        listing = "\n".join(f"  {r[0]}  {r[1] or '-'}  {r[2]}" for r in (matches or rows)[:10])
        if matches:
            raise RunNotFoundError(f"run reference {ref!r} is ambiguous; it matches:\n{listing}")
        raise RunNotFoundError(f"no run matches {ref!r} in {self._label}; recent runs:\n{listing}")

    def list_runs(self) -> list[RunSummary]:
        """All runs, newest first, with their sample counts, accuracy and cost."""
        rows = self.query(
            """
            SELECT r.run_id, r.name, r.suite, r.models, r.created_at, r.status,
                   count(s.sample_id),
                   count(*) FILTER (WHERE s.status = 'ok'),
                   count(*) FILTER (WHERE s.status = 'infra_error'),
                   count(*) FILTER (WHERE s.status = 'ok' AND s.correct),
                   count(*) FILTER (WHERE s.status = 'ok' AND s.correct IS NOT NULL),
                   coalesce(sum(s.cost_usd), 0.0),
                   count(*) FILTER (WHERE s.sample_id IS NOT NULL AND s.cost_usd IS NULL),
                   coalesce(c.calls, 0)
            FROM runs r LEFT JOIN samples s USING (run_id)
            LEFT JOIN (SELECT run_id, count(*) AS calls FROM events WHERE kind = 'model' GROUP BY run_id) c
                USING (run_id)
            GROUP BY ALL
            ORDER BY r.created_at DESC, r.run_id DESC
            """
        )
        out = []
        for r in rows:
            samples, infra, unknown, calls = r[6], r[8], r[12], int(r[13])
            cost_known = samples == 0 or (samples > unknown and not (calls == 0 and infra))
            out.append(
                RunSummary(
                    run_id=r[0],
                    name=r[1],
                    suite=r[2],
                    models=tuple(m["name"] for m in json.loads(r[3])),
                    samples=samples,
                    finished=r[7],
                    infra_errors=infra,
                    accuracy=r[9] / r[10] if r[10] else None,
                    cost_usd=float(r[11]) if cost_known else None,
                    cost_complete=unknown == 0 and cost_known,
                    created_at=r[4],
                    status=r[5],
                    cost_unknown=unknown,
                    model_calls=calls,
                )
            )
        return out

    def samples(
        self,
        run_id: str,
        *,
        task_id: str | None = None,
        model: str | None = None,
        with_events: bool = False,
        sample_ids: Sequence[str] | None = None,
    ) -> list[Sample]:
        """The run's samples ordered by (task_id, model, epoch); events loaded in one query if asked.
        ``sample_ids`` restricts the result to those samples."""
        where, params = "run_id = ?", [run_id]
        for column, value in (("task_id", task_id), ("model", model)):
            if value is not None:
                where += f" AND {column} = ?"
                params.append(value)
        if sample_ids is not None:
            where += " AND sample_id IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(sample_ids))  # type: ignore[arg-type]
        rows = self.query(
            f"SELECT {table_rows.SAMPLE_COLS} FROM samples WHERE {where} ORDER BY task_id, model, epoch", params
        )
        if not rows:
            self._get_row(run_id)
            return []
        events: dict[str, list[Event]] = {}
        if with_events:
            erows = self.query(
                f"SELECT sample_id, payload FROM events WHERE run_id = ? AND sample_id IN "
                f"(SELECT sample_id FROM samples WHERE {where}) ORDER BY sample_id, seq",
                [run_id, *params],
            )
            payloads = json.loads("[" + ",".join(e[1] for e in erows) + "]")  # one parse, not one per row
            for (sample_id, _), payload in zip(erows, payloads, strict=True):
                events.setdefault(sample_id, []).append(Event.from_dict(payload))
        return [table_rows.sample_from_row(row, events) for row in rows]

    def iter_samples(self, run_id: str, *, with_events: bool = True, batch: int = 2000) -> Iterator[list[Sample]]:
        """The run's samples in batches (ordered by task, model, epoch), so a large run is never held in
        memory whole."""
        ids = [
            r[0]
            for r in self.query(
                "SELECT sample_id FROM samples WHERE run_id = ? ORDER BY task_id, model, epoch", [run_id]
            )
        ]
        if not ids:
            self._get_row(run_id)
        for start in range(0, len(ids), batch):
            yield self.samples(run_id, with_events=with_events, sample_ids=ids[start : start + batch])

    def finished_sample_ids(self, run_id: str) -> set[str]:
        """Ids of the samples that finished (status ``ok``); infra errors and cancelled ones are re-run."""
        rows = self.query("SELECT sample_id FROM samples WHERE run_id = ? AND status = 'ok'", [run_id])
        if not rows:
            self._get_row(run_id)
        return {r[0] for r in rows}

    def scores(self, run_id: str, rubric: str | None = None) -> list[Score]:
        where, params = "run_id = ?", [run_id]
        if rubric is not None:
            where += " AND rubric = ?"
            params.append(rubric)
        cols = ", ".join(table_rows.SCORE_FIELDS)
        rows = self.query(
            f"SELECT {cols} FROM scores WHERE {where} ORDER BY sample_id, rubric, rubric_version, criterion",
            params,
        )
        if not rows:
            self._get_row(run_id)
        return [table_rows.score_from_row(row) for row in rows]
