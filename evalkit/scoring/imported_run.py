"""Traces recorded elsewhere as a finished run of their own: what ``score --traces`` stores before scoring."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.trace.types import RunRecord, new_run_id, utc_now

if TYPE_CHECKING:
    from evalkit.contracts.suite import SuiteSpec
    from evalkit.trace.external import ExternalTrace


def imported_run(
    traces_file: Path,
    traces_format: str,
    spec: SuiteSpec | None,
    *,
    model_name: str | None,
    name: str | None,
    correct_from: str | None,
) -> tuple[RunRecord, list[ExternalTrace], tuple[str, ...]]:
    """The run record of the traces at ``traces_file`` (read by ``trace.trace_formats``), the traces, and the
    notes: what the reader skipped and how many episodes' correctness is not scored, and why."""
    from evalkit.contracts.model_config import ModelConfig
    from evalkit.trace.external import parse_correct_from
    from evalkit.trace.trace_formats import read_traces
    from evalkit.version import __version__

    signal = parse_correct_from(correct_from) if correct_from is not None else None
    run_id = new_run_id()
    notes: list[str] = []
    used, traces = read_traces(
        traces_file, traces_format, run_id=run_id, suite=spec, model_name=model_name, correct_from=signal, notes=notes
    )
    samples = [t.sample for t in traces]
    unscored = sum(1 for s in samples if s.correct is None)
    why = (
        f"they have no {'.'.join(signal.path)}"
        if signal
        else 'no expected answer (give --suite, "expected" or --correct-from)'
    )
    if unscored:
        notes.append(f"correctness not scored for {unscored} of {len(samples)} episodes: {why}")
    now = utc_now()
    run = RunRecord(
        run_id=run_id,
        name=name,
        suite=spec.name if spec is not None else "external",
        suite_hash=spec.content_hash if spec is not None else "",
        suite_path=str(spec.path) if spec is not None else "",
        models=tuple(ModelConfig(name=m, model=m) for m in dict.fromkeys(s.model for s in samples)),
        options={
            "source": "external",
            "traces_file": str(traces_file.resolve()),
            "traces_format": used,
            "model_name": model_name,
            "correct_from": correct_from,
        },
        evalkit_version=__version__,
        git_commit=None,
        created_at=now,
        finished_at=now,
        status="finished",
    )
    return run, traces, tuple(notes)
