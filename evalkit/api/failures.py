"""From diagnosis to training data: the tasks a behaviour failed on in a run, as JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.api.stores import resolve_store
from evalkit.errors import ConfigError

if TYPE_CHECKING:
    from evalkit.report.failure_export import ExportFormat, ExportSummary


def export_failures(
    store: str | Path | None,
    run: str,
    *,
    criterion: str,
    output: str | Path,
    rubric: str | None = None,
    kind: str | None = None,
    model: str | None = None,
    fmt: ExportFormat = "openai",
) -> ExportSummary:
    """Write the tasks of ``run`` (an id, prefix, name, ``latest`` or an exported run file) whose samples failed
    ``criterion`` (an id such as ``inspected_schema``, or ``rubric.criterion``), one JSON line per task: in
    ``openai`` form (a question row ``evalkit suite import`` reads, with the reference solution as a
    demonstration trajectory whose tool results the suite's tools really returned) or in ``rllm`` form (rLLM's
    FinQA dataset row). ``kind`` (``single_table`` / ``multi_table``) and ``model`` narrow the samples."""
    from evalkit.report.failure_export import EXPORT_FORMATS, write_failures
    from evalkit.report.failures import select_failures
    from evalkit.trace.sources import open_runs

    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"--format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    if kind is not None and kind not in ("single_table", "multi_table"):
        raise ConfigError(f"--kind {kind!r}: use single_table or multi_table")
    with open_runs(resolve_store(store), [run]) as (st, ids):
        selection = select_failures(st, ids[0], criterion=criterion, rubric=rubric, kind=kind, model=model)
    return write_failures(selection, Path(output), fmt)
