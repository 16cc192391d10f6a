"""Export and import of one run as a portable file.

The format is JSON Lines, gzip-compressed when the file name ends with ``.gz``::

    {"format": "evalkit-run", "version": 1, "run": {...RunRecord...}, "samples": N, "scores": M}
    {"type": "sample", ...Sample.to_dict()...}        one line per sample, its events inline
    {"type": "score", ...Score.to_dict()...}          one line per score (``detail`` left out when empty)

``samples`` / ``scores`` in the header are counts that let an import notice a truncated file. Events are
written with ``rows.event_payload`` (``Event.to_dict()`` without its loss of ``ok=False`` and 0.0
values); files whose events were written with plain ``Event.to_dict()`` import as well.

Import validates every line against the trace types before writing anything and reports problems as
``file:LINE: problem``; the writes happen in one transaction, so a failed import leaves nothing behind.
"""

from __future__ import annotations

import gzip
import io
import types
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from evalkit.errors import ImportFormatError, RunNotFoundError, StoreError
from evalkit.fileio import atomic_path, problems_error, read_jsonl, shown
from evalkit.trace.rows import event_payload
from evalkit.trace.store import TraceStore
from evalkit.trace.types import RunRecord, Sample, Score, dumps

FORMAT = "evalkit-run"
FORMAT_VERSION = 1
MAX_PROBLEMS = 20


def export_run(store: TraceStore, run_ref: str, path: Path) -> Path:
    """Write the run ``run_ref`` (id, prefix, name or ``latest``) with its samples, events and scores to
    ``path`` (written to a temporary file, then renamed). Returns ``path``."""
    run = store.resolve_run(run_ref)
    samples = store.samples(run.run_id, with_events=True)
    scores = store.scores(run.run_id)
    path = Path(path)
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "run": run.to_dict(),
        "samples": len(samples),
        "scores": len(scores),
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        stream: Any = raw
        if _gz(path):  # no name or time in the gzip header: the same run exports to the same bytes
            stream = gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0)
        with io.TextIOWrapper(stream, encoding="utf-8", newline="\n") as out:
            out.write(dumps(header) + "\n")
            for s in samples:
                line = {"type": "sample", **s.to_dict(with_events=False)}
                line["events"] = [event_payload(e) for e in s.events]
                out.write(dumps(line) + "\n")
            for score in scores:
                line = {"type": "score", **score.to_dict()}
                if not score.detail:  # files without score details stay readable by older evalkits
                    del line["detail"]
                out.write(dumps(line) + "\n")
    return path


def import_run(store: TraceStore, path: Path, *, replace: bool = False) -> RunRecord:
    """Load a file written by ``export_run`` into ``store`` in one transaction. A run with the same id
    already in the store is an error unless ``replace`` (then it is deleted first). Returns the run."""
    run, samples, scores = read_run_file(Path(path))
    with store.transaction():
        try:
            store.get_run(run.run_id)
            exists = True
        except RunNotFoundError:
            exists = False
        if exists and not replace:
            raise StoreError(f"run {run.run_id} is already in the store {store.path}; use --replace to overwrite it")
        if exists:
            store.delete_run(run.run_id)
        stored = store.add_run(run, samples)
        store.write_scores(scores)
    return stored


def read_run_file(path: Path) -> tuple[RunRecord, list[Sample], list[Score]]:
    """Parse and validate an exported run; raises ``ImportFormatError`` listing ``file:LINE: problem``."""
    problems: list[str] = []
    run: RunRecord | None = None
    announced: dict[str, Any] = {}
    samples: list[Sample] = []
    scores: list[tuple[int, Score]] = []
    first_line: dict[str, int] = {}
    for lineno, obj in read_jsonl(path):
        if len(problems) >= MAX_PROBLEMS:
            break
        where = f"{path}:{lineno}"
        if run is None:  # the first line: the header
            if not isinstance(obj, dict):
                problems.append(f"{where}: expected the {FORMAT!r} header object, got {shown(obj)}")
                break
            run = _header(obj, where)  # raises on an unknown format or a newer version
            if run is None:
                problems.extend(f"{where}: {p}" for p in _problems(obj.get("run"), RunRecord, "run"))
                break
            announced = obj
            continue
        found = _line_problems(obj, run.run_id)
        if not found and obj["type"] == "sample":
            try:
                sample = Sample.from_dict({k: v for k, v in obj.items() if k != "type"})
            except ValueError as exc:  # an event whose fields do not fit its kind
                problems.append(f"{where}: events: {exc}")
                continue
            seqs = [e.seq for e in sample.events]
            if len(set(seqs)) != len(seqs):
                found.append("events: duplicate seq numbers")
            elif sample.sample_id in first_line:
                found.append(f"duplicate sample {sample.sample_id!r} (first on line {first_line[sample.sample_id]})")
            else:
                first_line[sample.sample_id] = lineno
                samples.append(sample)
        elif not found:
            scores.append((lineno, Score.from_dict({k: v for k, v in obj.items() if k != "type"})))
        problems.extend(f"{where}: {p}" for p in found)
    if run is None and not problems:
        problems.append(f"{path}:1: empty file; expected an {FORMAT!r} header")
    for lineno, score in scores if not problems else ():  # (a sample with problems is not known)
        if score.sample_id not in first_line:
            problems.append(f"{path}:{lineno}: score for sample {score.sample_id!r}, which is not in the file")
    if not problems:
        for key, got in (("samples", len(samples)), ("scores", len(scores))):
            want = announced.get(key)
            if isinstance(want, int) and want != got:
                problems.append(f"{path}: the header announces {want} {key} but the file has {got} (truncated?)")
    if problems:
        raise problems_error(problems, MAX_PROBLEMS)
    assert run is not None
    return run, samples, [s for _, s in scores]


# ---- reading ---------------------------------------------------------------------------------------------
def _gz(path: Path) -> bool:
    return path.name.endswith(".gz")


def _line_problems(obj: Any, run_id: str) -> list[str]:
    if not isinstance(obj, dict):
        return [f"expected a JSON object, got {shown(obj)}"]
    kind = obj.get("type")
    cls = {"sample": Sample, "score": Score}.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return [f"unknown line type {shown(kind)}; expected 'sample' or 'score'"]
    found = _problems({k: v for k, v in obj.items() if k != "type"}, cls, "")
    if not found and obj["run_id"] != run_id:
        found.append(f"run_id {obj['run_id']!r} differs from the header's {run_id!r}")
    return found


def _header(obj: dict[str, Any], where: str) -> RunRecord | None:
    fmt, version = obj.get("format"), obj.get("version")
    if fmt != FORMAT:
        raise ImportFormatError(f"{where}: not an evalkit run export (format {shown(fmt)}, expected {FORMAT!r})")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ImportFormatError(f"{where}: the header's version must be an integer, got {shown(version)}")
    if version > FORMAT_VERSION:
        raise ImportFormatError(
            f"{where}: written by a newer evalkit (format version {version}; this evalkit reads up to "
            f"{FORMAT_VERSION}); upgrade evalkit to import it"
        )
    if _problems(obj.get("run"), RunRecord, "run"):
        return None
    return RunRecord.from_dict(obj["run"])


# ---- validation against the trace types ------------------------------------------------------------------
def _problems(obj: Any, cls: Any, where: str) -> list[str]:
    """What is wrong with ``obj`` as the ``to_dict()`` of dataclass ``cls`` (empty when nothing)."""
    if not isinstance(obj, dict):
        return [f"{where or 'line'}: expected an object, got {shown(obj)}"]
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    out = [f"unknown field {_join(where, k)!r}" for k in obj if k not in known]
    for f in fields(cls):
        key = _join(where, f.name)
        if f.name in obj:
            out.extend(_check(obj[f.name], hints[f.name], key))
        elif f.default is MISSING and f.default_factory is MISSING:
            out.append(f"missing field {key!r}")
    return out


def _check(value: Any, tp: Any, key: str) -> list[str]:
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return []
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return []
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return _check(value, options[0], key)
        ok = any(not _check(value, a, key) for a in options)
    elif origin is Literal:
        ok = any(value == a and type(value) is type(a) for a in args)
    elif origin is tuple:  # tuple[X, ...]: a JSON list of X
        if not isinstance(value, list):
            return [f"{key}: expected a list, got {shown(value)}"]
        return [p for i, item in enumerate(value) for p in _check(item, args[0], f"{key}[{i}]")]
    elif origin is dict:
        ok = isinstance(value, dict)
    elif is_dataclass(tp):
        return _problems(value, tp, key)
    elif tp is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, tp)
    return [] if ok else [f"{key}: expected {_type_name(tp)}, got {shown(value)}"]


def _type_name(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
