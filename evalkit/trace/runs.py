"""The run-record queries of the trace store: one run by id or reference, and the list ``evalkit runs`` shows.

``RunQueries`` is a base of ``TraceStore``; it needs only its ``query`` method and its ``_label``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.errors import RunNotFoundError
from evalkit.trace import rows as table_rows
from evalkit.trace.types import RunRecord


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


_LIST_RUNS = """
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


class RunQueries:
    """Reads of the ``runs`` table (with the sample counts ``evalkit runs`` shows)."""

    _label: str

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        raise NotImplementedError

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
        out = []
        for r in self.query(_LIST_RUNS):
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
