"""Inspect AI's eval logs opened without inspect_ai: their header and their samples, as JSON values.

Two layouts, read by content as ``inspect_ai.log`` writes them (``_recorders/eval.py`` and ``json.py``):

- ``.eval``: a zip of ``header.json`` (the ``EvalLog`` without samples: ``eval`` with its ``model``, ``task``,
  ``eval_id``, ...; ``plan``, ``results``, ``stats``), one ``samples/<id>_epoch_<n>.json`` per sample (an
  ``EvalSample``), ``summaries.json``, ``reductions.json`` and the run's ``_journal/`` (whose ``start.json`` is
  read when a log that never finished has no ``header.json``). A sample logged again (retried) is a second
  member of the same name; the last one is read, as Inspect reads it. Samples come in Inspect's order (by
  epoch, then id), read one at a time. Inspect AI 0.3.206 and later compress members with zstd, read with
  Python 3.14's ``compression.zstd`` or the ``zstandard`` package (an inspect_ai dependency); without either
  such a log is an ``ImportFormatError`` that says so;
- ``.json``: the whole ``EvalLog`` as one object, its samples in ``samples``.

NaN (Inspect writes it for an unscored value) is read as null. What cannot be read raises ``ImportFormatError``
naming the file and the member (``file: samples/t1_epoch_1.json: problem``).
"""

from __future__ import annotations

import importlib
import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evalkit.errors import ImportFormatError
from evalkit.fileio import problems_error, shown
from evalkit.trace.external import MAX_PROBLEMS

HEADER = "header.json"
START = "_journal/start.json"
SAMPLES = "samples/"
ZSTD = 93
"""The zip compression method of zstd."""
_SPACE = re.compile(r"[ \t\n\r]*")
_HEAD_BYTES = 1 << 20


def is_inspect_log(path: Path) -> bool:
    """Whether ``path`` is an Inspect AI log: a zip holding ``header.json`` (or the ``_journal/start.json`` of a
    log that never finished), or JSON whose top-level keys, read in order from its first megabyte, show an
    ``eval`` object and ``version`` (an ``EvalLog`` writes its header first and ``samples`` last)."""
    try:
        with open(path, "rb") as f:
            head = f.read(_HEAD_BYTES)
        if head.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(path) as z:
                return bool({HEADER, START} & set(z.namelist()))
    except (OSError, zipfile.BadZipFile):
        return False
    text, decoder, seen = head.decode("utf-8", errors="replace"), json.JSONDecoder(), set()
    i = _skip(text, 0)
    if text[i : i + 1] != "{":
        return False
    try:
        while True:
            i = _skip(text, i + 1)  # past the "{" or the ","
            key, i = decoder.raw_decode(text, i) if text[i : i + 1] == '"' else (None, i)
            i = _skip(text, i)
            if not isinstance(key, str) or text[i : i + 1] != ":":
                return False
            if key == "samples":
                return "eval" in seen
            value, i = decoder.raw_decode(text, _skip(text, i + 1))
            if (key, type(value)) in (("eval", dict), ("version", int)):
                seen.add(key)
            if {"eval", "version"} <= seen:
                return True
            i = _skip(text, i)
            if text[i : i + 1] != ",":
                return False
    except ValueError:  # the head ends inside a value, or is not JSON
        return False


def _skip(text: str, i: int) -> int:
    """The index of the first character from ``i`` that is not JSON whitespace."""
    m = _SPACE.match(text, i)
    return m.end() if m else i


def open_log(path: Path, problems: list[str]) -> tuple[dict[str, Any], str, Iterator[tuple[str, dict[str, Any]]]]:
    """The log's header (the ``EvalLog`` object, its samples aside), where it was read (``header.json``,
    ``_journal/start.json`` or ``eval``), and its samples as ``(where, sample)``: ``samples/<id>_epoch_<n>.json``
    or ``samples[i]``. A sample that cannot be read is a problem added to ``problems``."""
    try:
        with open(path, "rb") as f:
            is_zip = f.read(4) == b"PK\x03\x04"
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if not is_zip:
        header, samples = _json_log(path)
        return header, "eval", iter(samples)
    return _zip_log(path, problems)


def _zip_log(path: Path, problems: list[str]) -> tuple[dict[str, Any], str, Iterator[tuple[str, dict[str, Any]]]]:
    """A ``.eval`` log's header, and its samples read one by one in Inspect's order (by epoch, then id)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = list(dict.fromkeys(z.namelist()))  # a re-logged member: the last one is read
            name = HEADER if HEADER in names else START if START in names else None
            if name is None:
                raise ImportFormatError(f"{path}: no {HEADER} (nor {START}): not an Inspect AI .eval log")
            header = _member(path, z, name, problems)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFormatError(f"{path}: not a readable .eval log (zip): {exc}") from None
    if header is None:
        raise problems_error(problems, MAX_PROBLEMS)
    members = sorted((n for n in names if n.startswith(SAMPLES) and n.endswith(".json")), key=_member_order)
    return header if isinstance(header, dict) else {}, name, _zip_samples(path, members, problems)


def _zip_samples(path: Path, members: list[str], problems: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        with zipfile.ZipFile(path) as z:
            for name in members:
                data = _member(path, z, name, problems)
                if data is not None:
                    yield name, data
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFormatError(f"{path}: not a readable .eval log (zip): {exc}") from None


def _member_order(name: str) -> tuple[int, str]:
    sample_id, _, epoch = name[len(SAMPLES) : -len(".json")].rpartition("_epoch_")
    return int(epoch) if epoch.isdigit() else 0, sample_id.zfill(20) if sample_id.isdigit() else sample_id


def _member(path: Path, z: zipfile.ZipFile, name: str, problems: list[str]) -> Any:
    """One member's JSON (a sample's an object), or None with the problem added."""
    info = z.getinfo(name)
    try:
        if info.compress_type == ZSTD:  # read here: zipfile reads no zstd before 3.14, nor several frames
            raw = _unzstd(_stored_bytes(path, info), path)
            if zlib.crc32(raw) != info.CRC:
                raise zipfile.BadZipFile(f"Bad CRC-32 for file {name!r}")
        else:
            with z.open(info) as f:
                raw = f.read()
        data = json.loads(raw.decode("utf-8"), parse_constant=lambda _: None)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        problems.append(f"{path}: {name}: cannot read the member: {exc}")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: {name}: not UTF-8 text ({exc.reason})")
    except json.JSONDecodeError as exc:
        problems.append(f"{path}: {name}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})")
    else:
        if isinstance(data, dict) or not name.startswith(SAMPLES):
            return data
        problems.append(f"{path}: {name}: not an Inspect sample (an object with 'id', 'epoch' and 'messages')")
    return None


def _stored_bytes(path: Path, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes as stored (compressed), read past its local file header."""
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local file header for {info.filename}")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        f.seek(info.header_offset + 30 + name_len + extra_len)
        return f.read(info.compress_size)


def _unzstd(data: bytes, path: Path) -> bytes:
    """zstd-compressed bytes (one frame or several: Inspect starts a frame every 200 MiB) decompressed by Python
    3.14's ``compression.zstd`` or the ``zstandard`` package."""
    for name in ("compression.zstd", "zstandard"):
        try:
            zstd: Any = importlib.import_module(name)
        except ImportError:
            continue
        try:
            if name == "compression.zstd":
                return bytes(zstd.decompress(data))
            with zstd.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True) as reader:
                return bytes(reader.read())
        except zstd.ZstdError as exc:
            raise zlib.error(f"zstd: {exc}") from None
    raise ImportFormatError(
        f"{path}: its members are zstd-compressed (as Inspect AI 0.3.206 and later write them), which Python "
        "reads before 3.14 only with the zstandard package: pip install zstandard, or convert the log with "
        "'inspect log convert --to json'"
    )


def _json_log(path: Path) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """A ``.json`` log's header (the log itself) and its samples."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=lambda _: None)
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("eval"), dict):
        raise ImportFormatError(f"{path}: not an Inspect AI log (a JSON object with an 'eval' object)")
    if not isinstance(data.get("samples"), list):
        raise ImportFormatError(f"{path}: samples: the log holds no samples (written with log_samples off?)")
    not_samples = [
        f"{path}: samples[{i}]: not an Inspect sample (an object with 'id', 'epoch' and 'messages'), got {shown(s)}"
        for i, s in enumerate(data["samples"])
        if not isinstance(s, dict)
    ]
    if not_samples:
        raise problems_error(not_samples, MAX_PROBLEMS)
    return data, [(f"samples[{i}]", s) for i, s in enumerate(data["samples"])]


__all__ = ["HEADER", "START", "is_inspect_log", "open_log"]
