"""Runs named on the command line, from the store or from exported run files, opened together.

Reports, compare and gate take ``RUN`` arguments that are run references in the store (an id, a unique
prefix, a name, ``latest``) or paths to files written by ``evalkit export`` (a CI baseline committed to
the repository). When every reference is in the store, the store is opened read-only. When a file is among
them, the files and the referenced stored runs are loaded into a temporary store, so the rest of the code
reads one store either way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from evalkit.errors import StoreError
from evalkit.trace.store import TraceStore

RUN_FILE_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".gz")


def is_run_file(ref: str) -> bool:
    """A reference that names an exported run file rather than a run in the store."""
    path = Path(ref)
    return ref.endswith(RUN_FILE_SUFFIXES) and path.is_file()


@contextmanager
def open_runs(store_path: Path, refs: Sequence[str]) -> Iterator[tuple[TraceStore, list[str]]]:
    """A store holding the referenced runs, and their run ids in the order given."""
    from evalkit.trace import portable

    if not any(is_run_file(r) for r in refs):
        with TraceStore.open(store_path, write=False) as st:
            yield st, [_resolve(st, r) for r in refs]
        return
    with tempfile.TemporaryDirectory(prefix="evalkit-runs-") as tmp:
        ids: list[str] = []
        with TraceStore.open(Path(tmp) / "runs.duckdb", write=True) as merged:
            for i, ref in enumerate(refs):
                if is_run_file(ref):
                    record = portable.import_run(merged, Path(ref), replace=True)
                else:
                    if not store_path.exists():
                        raise StoreError(f"run {ref!r}: no store at {store_path} (and no such run file)")
                    exported = Path(tmp) / f"run-{i}.jsonl"
                    with TraceStore.open(store_path, write=False) as st:
                        record = st.get_run(_resolve(st, ref))
                        portable.export_run(st, record.run_id, exported)
                    record = portable.import_run(merged, exported, replace=True)
                ids.append(record.run_id)
            yield merged, ids


def _resolve(st: TraceStore, ref: str) -> str:
    """A stored run's id; a reference that looks like a run file but is neither a file nor a run says so."""
    from evalkit.errors import RunNotFoundError

    try:
        return st.resolve_run(ref).run_id
    except RunNotFoundError as exc:
        if ref.endswith(RUN_FILE_SUFFIXES):
            raise RunNotFoundError(f"run file {ref} not found (and no run in {st.path} is called so)") from exc
        raise
