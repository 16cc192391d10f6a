"""Reading and writing files the way every part of evalkit does: JSON Lines with ``file:LINE`` problems
(and the excerpts and lists of problems they report), CSV files checked row by row, and files replaced
atomically.

Only the standard library and :mod:`evalkit.errors` are imported, so any layer may use these.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import secrets
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evalkit.errors import ImportFormatError

_BOM = b"\xef\xbb\xbf"


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A fresh temporary path beside ``target`` (``.<name>.<pid>.<random>.tmp``, in the same folder, which is
    created if missing) for the caller to write. When the block ends without an exception the temporary file
    is renamed onto ``target`` in one step, so a reader sees the old file or the new one, never half of it;
    the temporary file is removed in every case."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(target: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically (see :func:`atomic_path`); returns ``target``.
    ``OSError`` is left to the caller, which knows what the file was for."""
    target = Path(target)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def read_jsonl(path: Path, problems: list[str] | None = None) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line of the JSON Lines file ``path``, read as it is
    iterated; gzip-compressed when the name ends with ``.gz``; a UTF-8 byte-order mark is skipped.

    A line that is not UTF-8 or not JSON is a problem ``file:LINE: not UTF-8 text (...)`` /
    ``file:LINE: invalid JSON: <message> (column N)``: with a ``problems`` list it is appended there and the
    line skipped, without one it is raised as :class:`~evalkit.errors.ImportFormatError`. A missing file
    (``file: no such file``) or one that cannot be read or decompressed (``file:LINE: cannot read the file:
    ...``) always raises."""
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file")
    lineno = 0
    try:
        with gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                if lineno == 1 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
                if not raw.strip():
                    continue
                try:
                    value = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    problem = f"{path}:{lineno}: not UTF-8 text ({exc.reason})"
                except json.JSONDecodeError as exc:
                    problem = f"{path}:{lineno}: invalid JSON: {exc.msg} (column {exc.colno})"
                else:
                    yield lineno, value
                    continue
                if problems is None:
                    raise ImportFormatError(problem)
                problems.append(problem)
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportFormatError(f"{path}:{lineno + 1}: cannot read the file: {exc}") from exc


def shown(value: Any, limit: int = 40) -> str:
    """A JSON value as a problem message quotes it: compact JSON, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def problems_error(problems: list[str], limit: int) -> ImportFormatError:
    """One error listing the first ``limit`` problems, one a line, then how many more there were."""
    more = len(problems) - limit
    return ImportFormatError("\n".join(problems[:limit] + ([f"... and {more} more"] if more > 0 else [])))


#: The longest CSV field read (the csv module's default limit): longer is a problem, never a crash.
MAX_CSV_FIELD = 131_072


def check_csv(path: Path, label: str | None = None) -> list[str]:
    """The header of the comma-separated file ``path`` after checking every row, for readers (such as
    DuckDB's) that would guess around a malformed file: raises
    :class:`~evalkit.errors.ImportFormatError` ``label:LINE: problem`` for bytes that are not UTF-8, a NUL
    character, a quote left open, a row with more or fewer fields than the header, or a field longer than
    ``MAX_CSV_FIELD`` characters (``label:LINE column: ...``); ``label: empty`` for a file without a header.
    ``label`` (default: the path) is how messages name the file."""
    label = label or str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFormatError(f"{label}: cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start]
        raise ImportFormatError(f"{label}:{line}: not UTF-8 text (byte 0x{byte:02x}); save it as UTF-8") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportFormatError(f"{label}:{line}: a NUL character is not allowed in a CSV file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = csv.field_size_limit(MAX_CSV_FIELD + 1)
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            if header is None:
                header = row
            elif row and len(row) != len(header):
                fields = f"{len(row)} field" + ("s" if len(row) != 1 else "")
                raise ImportFormatError(f"{label}:{start}: the row has {fields}, the header {len(header)}")
            for i, value in enumerate(row):
                if len(value) > MAX_CSV_FIELD:
                    column = header[i] if i < len(header) else f"field {i + 1}"
                    raise ImportFormatError(
                        f"{label}:{start} {column}: a field of {len(value):,} characters (more than {MAX_CSV_FIELD})"
                    )
            start = reader.line_num + 1
    except csv.Error as exc:
        problem = "a quote is left open" if "end of data" in str(exc) else str(exc)
        if "field larger" in str(exc):
            problem = f"a field of more than {MAX_CSV_FIELD} characters"
        raise ImportFormatError(f"{label}:{start}: {problem}") from None
    finally:
        csv.field_size_limit(previous)
    if not header:
        raise ImportFormatError(f"{label}: empty (no header row)")
    return header


def csv_line_of(path: Path, column: str, value: str) -> int | None:
    """The line of the first row of a (checked) CSV file whose ``column`` holds ``value``."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        start = 2
        for row in reader:
            if row.get(column) == value:
                return start
            start = reader.line_num + 1
    return None
