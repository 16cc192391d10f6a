"""Which stored samples of a run a resume runs again, and whether a run is complete.

Only samples with status ``ok`` are finished. Infrastructure errors (outages: refused connections, timeouts,
5xx, malformed replies) are re-run on resume. A request the provider refused (``request_rejected``: a 4xx, or
the same server error for every sample) is not: the same request would be refused again.
"""

from __future__ import annotations

from typing import Any


def rejected_sample_ids(store: Any, run_id: str) -> set[str]:
    """Samples the provider refused (``request_rejected``): resuming sends the same request again, so they
    are not re-run; a fixed model configuration needs a new run (``--new``)."""
    rows = store.query("SELECT sample_id FROM samples WHERE run_id = ? AND stop_reason = 'request_rejected'", [run_id])
    return {r[0] for r in rows}


def outages(store: Any, run_id: str) -> int:
    """Samples of the run lost to infrastructure errors that resuming re-runs (not the rejected ones)."""
    rows = store.query(
        "SELECT count(*) FROM samples WHERE run_id = ? AND status = 'infra_error' "
        "AND stop_reason <> 'request_rejected'",
        [run_id],
    )
    return int(rows[0][0]) if rows else 0
