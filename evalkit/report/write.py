"""Render a report in a file format and write it: where files go, what they are called, written atomically.

Files go under ``reports/`` (or ``$EVALKIT_REPORTS_DIR``) named after the runs, unless the caller gives a
path. A file is written to a temporary name beside its target and renamed, so a crash never leaves half a
report where CI would read it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.errors import ConfigError
from evalkit.fileio import write_atomic

if TYPE_CHECKING:
    from evalkit.report.model import Report, RunInfo
    from evalkit.trace.store import TraceStore

FILE_FORMATS: dict[str, str] = {"md": ".md", "html": ".html", "json": ".json", "junit": ".xml"}
"""The formats written to files, with their extensions (``term`` prints to the terminal)."""
FORMATS = ("term", *FILE_FORMATS)
DEFAULT_TRACE_LIMIT = 2000


def reports_dir() -> Path:
    return Path(os.environ.get("EVALKIT_REPORTS_DIR") or "reports")


def runs_stem(runs: Sequence[RunInfo], prefix: str = "") -> str:
    """A file name for some runs: their names (or ids), made safe for a path and joined."""
    parts = [r.name or r.run_id for r in runs] or ["report"]
    stem = "__".join(re.sub(r"[^A-Za-z0-9._-]+", "-", p).strip("-.") or "run" for p in parts)
    return (prefix + stem)[:150]


def render(report: Report, fmt: str, store: TraceStore, *, trace_limit: int = DEFAULT_TRACE_LIMIT) -> str:
    """The report as the text of a file format; the HTML reads the traces it shows from ``store``."""
    if fmt == "md":
        from evalkit.report.markdown import render_markdown

        return render_markdown(report)
    if fmt == "json":
        from evalkit.report.jsonfmt import render_json

        return render_json(report)
    if fmt == "junit":
        from evalkit.report.junit import render_junit

        return render_junit(report)
    if fmt == "html":
        from evalkit.report.html import render_html
        from evalkit.report.traces import load_traces

        traces, omitted = load_traces(store, report, limit=trace_limit)
        return render_html(report, traces, omitted)
    raise ConfigError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")


def target_paths(report: Report, formats: Sequence[str], given: str | Path | None) -> dict[str, Path]:
    """Where each file format goes. ``given`` is a file for one format and one run, or a folder (created when
    written): an existing one, a path ending in a separator, or a path without an extension when several
    formats or several runs are reported; without it, ``reports/<runs>.<ext>``."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConfigError(f"unknown report format {unknown[0]!r} (known: {', '.join(FORMATS)})")
    files = [f for f in dict.fromkeys(formats) if f != "term"]
    output = Path(given) if given is not None else None
    if output is not None and not files:
        raise ConfigError("-o/--output names a file, but the terminal format writes none (add --format md, ...)")
    several = len(files) > 1 or len(report.runs) > 1
    as_folder = output is not None and (
        output.is_dir() or str(given).endswith(("/", os.sep)) or (several and not output.suffix)
    )
    if output is not None and not as_folder and len(files) > 1:
        raise ConfigError(f"-o {output} is one file but {len(files)} formats were asked for: give a folder")
    folder = output if output is not None and as_folder else reports_dir()
    stem = runs_stem(report.runs)
    if output is not None and not as_folder:
        return {files[0]: output}
    return {f: folder / f"{stem}{FILE_FORMATS[f]}" for f in files}


def write_text(path: Path, text: str) -> Path:
    """Write atomically (:func:`evalkit.fileio.write_atomic`: a temporary file beside the target, then a
    rename); a failure is a ``ConfigError`` naming the file."""
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise ConfigError(f"cannot write the report {path}: {exc.strerror or exc}") from exc
    return path
