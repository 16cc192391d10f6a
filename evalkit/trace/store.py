"""``TraceStore``: the one DuckDB file that keeps runs, their samples, events and scores.

A store holds the DuckDB file only while it uses it: every write method is one transaction on a connection
opened for it and closed after it (``transaction()`` groups several into one; they nest), every read one
query on its own short connection (``held()`` groups several). So readers work while a run writes, and a
run's writes wait for them (see ``connections.py``, which also keeps one run per store: ``exclusive``). The
run-record queries are in ``runs.py``, the row layout of each table in ``rows.py``, the schema in
``migrations.py``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import duckdb

from evalkit.errors import RunNotFoundError, StoreError
from evalkit.trace import rows as table_rows
from evalkit.trace.connections import RunLock, connect, prepare, register_writer
from evalkit.trace.migrations import scalar
from evalkit.trace.runs import RunQueries, RunSummary
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
__all__ = ["SECRET_MASK", "RunSummary", "TraceStore", "scrub_secrets"]


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


class TraceStore(RunQueries):
    """The trace store. Open with ``TraceStore.open(path, write=...)``; use as a context manager."""

    def __init__(self, path: Path, *, write: bool, run_lock: RunLock | None = None) -> None:
        self._conn: Any = None
        self._path = path
        self._label = str(path)
        self._write = write
        self._run_lock = run_lock
        self._lock = threading.RLock()
        self._in_tx = False
        self._closed = False

    # ---- lifecycle -----------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, write: bool, exclusive: bool = False) -> TraceStore:
        """Open for write (created and migrated as needed) or read (``StoreError`` when there is no store).
        ``exclusive`` (a run's writer) also takes the store's run lock: a second exclusive open, in any
        process, gets ``StoreLockedError`` until this store is closed; other writers only take turns."""
        path = Path(path)
        if exclusive and not write:
            raise StoreError("an exclusive store is opened for writing")
        run_lock = RunLock.acquire(path) if exclusive else None
        try:
            prepare(path, write=write)
        except BaseException:
            if run_lock is not None:
                run_lock.release()
            raise
        if write:
            register_writer(path, add=True)
        return cls(path, write=write, run_lock=run_lock)

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
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._write:
                register_writer(self._path, add=False)
            if self._run_lock is not None:
                self._run_lock.release()

    def __enter__(self) -> TraceStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- connections and transactions ----------------------------------------------------------------
    @contextmanager
    def held(self) -> Iterator[Any]:
        """One connection kept open for the block (nested calls share it): the reads in it see one state of
        the store and cost one open. It holds the file, so keep the block short."""
        with self._lock:
            if self._closed:
                raise StoreError(f"the store {self._label} is closed")
            if self._conn is not None:
                yield self._conn
                return
            self._conn = connect(self._path, write=self._write)
            try:
                yield self._conn
            finally:
                conn, self._conn = self._conn, None
                conn.close()  # DuckDB checkpoints as the last connection closes: readers see the batch

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around the block; nested calls join the outer one. Rolls back on any error."""
        if not self._write:
            raise StoreError(f"the store {self._label} was opened read-only")
        with self._lock, self.held():
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

    def add_run(self, run: RunRecord, samples: Sequence[Sample]) -> RunRecord:
        """Record a run and its samples in one transaction (an import), checking by reading them back that
        every sample was stored as its own record: two samples with one id would silently be one."""
        with self.transaction():
            stored = self.create_run(run)
            self.write_samples(samples)
            count = scalar(self._conn, "SELECT count(*) FROM samples WHERE run_id = ?", [run.run_id])
            if count != len(samples):
                raise StoreError(
                    f"run {run.run_id}: {len(samples)} samples given but {count} stored (samples sharing an id); "
                    "nothing was imported"
                )
        return stored

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
        with self.held() as conn:
            return [tuple(r) for r in conn.execute(sql, list(params or [])).fetchall()]

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
        with self.held():  # the samples and their events from one state of the store
            rows = self.query(
                f"SELECT {table_rows.SAMPLE_COLS} FROM samples WHERE {where} ORDER BY task_id, model, epoch", params
            )
            if not rows:
                self._get_row(run_id)
                return []
            erows = (
                self.query(
                    f"SELECT sample_id, payload FROM events WHERE run_id = ? AND sample_id IN "
                    f"(SELECT sample_id FROM samples WHERE {where}) ORDER BY sample_id, seq",
                    [run_id, *params],
                )
                if with_events
                else []
            )
        events: dict[str, list[Event]] = {}
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
