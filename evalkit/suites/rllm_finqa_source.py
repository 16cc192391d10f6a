"""Read rLLM's FinQA dataset as ``cookbooks/finqa/prepare_finqa_data.py`` (rllm-org/rllm, Apache-2.0) lays it out.

``DIR/company_tables/<company>/tables_cleaned_all_companies.json`` holds one JSON object per company: table
identifier -> metadata, whose ``table`` is the table as ``DataFrame.to_json()`` writes it (columns orient,
``{"column": {"0": cell, ...}}``; the cookbook reads it with ``pd.read_json``), every other key being shown
by ``get_table_info``. ``DIR/{train,val,test}_finqa.csv`` hold the questions with the columns ``preprocess_fn``
reads (``id``, ``user_query``, ``question``, ``answer``, ``explanation``, ``company``, ``question_type``,
``table_name``, ``columns_used_json``, ``rows_used_json``). The same questions are also read as JSON/JSONL rows
in the preprocessed layout ``preprocess_fn`` returns (``question``, ``ground_truth``, ``company``,
``question_id``, ``question_type``, ``core_question``, ``table_name``, ``columns_used``, ``rows_used``,
``explanation``), which is what ``export-failures --format rllm`` writes.

The tables are read with ``json`` rather than pandas: ``pd.read_json`` turns year-like column labels
(``"2023"``) into timestamps, and the file's own labels are what the questions' ``columns_used`` name. Empty
labels become ``col_<i>`` as ``finqa_tools._sanitize_columns`` names them. The names the cookbook's own
SQLite tables get, timestamps and all, are read with pandas beside them (``cookbook_column_names``) and kept
as each catalog column's ``source_name``, so a query an rLLM episode ran there can be read against evalkit's
columns.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TABLES_DIR = "company_tables"
TABLES_FILE = "tables_cleaned_all_companies.json"
SPLITS: tuple[str, ...] = ("train", "val", "test")
CSV_COLUMNS = ("id", "user_query", "question", "answer", "explanation", "company", "question_type", "table_name",
               "columns_used_json", "rows_used_json")  # fmt: skip
ROW_KEYS = ("question", "ground_truth", "company", "question_id", "question_type", "core_question", "table_name",
            "columns_used", "rows_used", "explanation")  # fmt: skip
PASSED_OVER = ("data_source", "messages", "tools", "export")
"""Keys of a preprocessed row read past: ``data_source`` (always ``finqa``) and what ``export-failures`` adds."""


@dataclass
class RawTable:
    """One company table as the file holds it: labels and cells as text, and its other metadata."""

    company: str
    key: str
    where: str  # file:line of its entry
    labels: list[str]
    rows: list[list[str]]
    meta: dict[str, Any] = field(default_factory=dict)
    cookbook_names: list[str] | None = None
    """The column names the cookbook's SQLite table has (``cookbook_column_names``), None if pandas fails."""


@dataclass
class RawQuestion:
    """One question row, in the preprocessed layout (``preprocess_fn``'s keys)."""

    where: str
    question_id: str
    question: str  # the user query the agent is given
    core_question: str
    ground_truth: Any
    company: str
    question_type: str
    table_name: list[Any]
    columns_used: list[Any]
    rows_used: list[Any]
    explanation: str = ""


def parse_json_list(value: Any) -> list[Any]:
    """``prepare_finqa_data._parse_json_list``: a list as it is, a JSON list from text, a lone text as a
    one-item list, anything else empty."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return []
        try:
            parsed = json.loads(s)
        except json.JSONDecodeError:
            parsed = s
        if isinstance(parsed, list):
            return parsed
        if isinstance(parsed, str):
            cleaned = parsed.strip()
            return [cleaned] if cleaned else []
        return []
    return []


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _frame(text: str) -> tuple[list[str], list[list[str]]]:
    """Labels and rows of a ``to_json()`` table (columns orient, or records); ``ValueError`` otherwise."""
    data = json.loads(text or "{}")
    if isinstance(data, list):  # records orient
        if not all(isinstance(r, dict) for r in data):
            raise ValueError("a list that is not of row objects")
        labels = list(dict.fromkeys(k for r in data for k in r))
        return labels, [[_cell(r.get(k)) for k in labels] for r in data]
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError("not a table in pandas' columns orient ({column: {row: cell}})")
    index = sorted(
        {i for col in data.values() for i in col},
        key=lambda i: (not str(i).isdigit(), int(i) if str(i).isdigit() else 0, str(i)),
    )
    labels = list(data)
    return labels, [[_cell(data[c].get(i)) for c in labels] for i in index]


def sanitize_labels(labels: list[str]) -> list[str]:
    """``finqa_tools._sanitize_columns``: an empty label is ``col_<i>``."""
    return [f"col_{i}" if not str(c).strip() else str(c) for i, c in enumerate(labels)]


def cookbook_column_names(table_text: str) -> list[str] | None:
    """The columns ``finqa_tools._preload_company`` gives a table, by its own two steps: ``pd.read_json(...,
    convert_dates=False)`` then ``_sanitize_columns``. pandas turns the axes' labels into dates where it can, so
    with pandas 3 a year label ``"2023"`` becomes the column ``2023-01-01 00:00:00`` and the empty first label
    ``NaT``: the names a checkpoint trained there wrote in its SQL. None when pandas cannot read the table."""
    import io
    import warnings

    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pd.read_json(io.StringIO(table_text), convert_dates=False)
    except ValueError:
        return None
    return [f"col_{i}" if not col or str(col).strip() == "" else str(col) for i, col in enumerate(frame.columns)]


def _line_of(text: str, key: str) -> int:
    m = re.search(r"^\s*" + re.escape(json.dumps(key)) + r"\s*:", text, re.MULTILINE)
    return text.count("\n", 0, m.start()) + 1 if m else 1


def read_company_tables(root: Path, problems: list[str], skipped: list[tuple[str, str]]) -> list[RawTable]:
    """Every company's tables under ``root/company_tables``. A file that is not JSON is a problem (its
    line); an entry whose table cannot be read, or that is empty, is skipped with the reason (the cookbook
    warns and skips those too)."""
    base = root / TABLES_DIR
    if not base.is_dir():
        problems.append(f"{base}: missing (the company tables folder of the rLLM FinQA layout)")
        return []
    out: list[RawTable] = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        path = folder / TABLES_FILE
        if not path.is_file():
            skipped.append((str(folder), f"no {TABLES_FILE}"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
            tables = json.loads(text)
        except json.JSONDecodeError as e:
            problems.append(f"{path}:{e.lineno}: malformed JSON: {e.msg} (column {e.colno})")
            continue
        except (OSError, UnicodeDecodeError) as e:
            problems.append(f"{path}: cannot read: {e}")
            continue
        if not isinstance(tables, dict):
            problems.append(f"{path}:1: expected an object of table name -> metadata, got {type(tables).__name__}")
            continue
        company = folder.name.lower().strip()
        for key, info in tables.items():
            where = f"{path}:{_line_of(text, key)}"
            if not isinstance(info, dict):
                skipped.append((where, f"table {key!r}: metadata is not an object"))
                continue
            try:
                labels, rows = _frame(str(info.get("table", "{}")))
            except ValueError as e:  # json.JSONDecodeError is one
                skipped.append((where, f"table {key!r}: cannot read its table: {e}"))
                continue
            if not labels or not rows:
                skipped.append((where, f"table {key!r}: empty (the cookbook does not load it either)"))
                continue
            meta = {k: v for k, v in info.items() if k != "table"}
            names = cookbook_column_names(str(info.get("table", "{}")))
            out.append(RawTable(company, key, where, sanitize_labels(labels), rows, meta, names))
    return out


def question_files(root: Path, split: str) -> list[Path]:
    """The question file of a split: ``<split>_finqa.csv``, else ``<split>.jsonl`` / ``<split>.json``."""
    names = (f"{split}_finqa.csv", f"{split}_finqa.jsonl", f"{split}.jsonl", f"{split}_finqa.json", f"{split}.json")
    return [root / n for n in names if (root / n).is_file()][:1]


def read_questions(path: Path, problems: list[str]) -> list[RawQuestion]:
    """The rows of a question file: the cookbook's CSV, or preprocessed rows as JSON Lines or a JSON list."""
    if path.suffix.lower() == ".csv":
        return _csv_questions(path, problems)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        problems.append(f"{path}: cannot read: {e}")
        return []
    rows: list[tuple[int, Any]] = []
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            problems.append(f"{path}:{e.lineno}: malformed JSON: {e.msg}")
            return []
        rows = [(i + 1, r) for i, r in enumerate(data)]  # item numbers: a JSON list has no line per row
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append((n, json.loads(line)))
                except json.JSONDecodeError as e:
                    problems.append(f"{path}:{n}: malformed JSON: {e.msg}")
    out = []
    for n, row in rows:
        where = f"{path}:{n}"
        if not isinstance(row, dict):
            problems.append(f"{where}: expected a JSON object, got {type(row).__name__}")
            continue
        unknown = [k for k in row if k not in ROW_KEYS and k not in PASSED_OVER]
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(unknown)} (the rLLM row keys are {', '.join(ROW_KEYS)})")
            continue
        out.append(_question(where, row, "question", "ground_truth", "question_id", "columns_used", "rows_used"))
    return out


def _csv_questions(path: Path, problems: list[str]) -> list[RawQuestion]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        problems.append(f"{path}: cannot read: {e}")
        return []
    reader = csv.DictReader(text.splitlines(keepends=True))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        problems.append(f"{path}:1: missing the columns {', '.join(missing)}")
        return []
    out, line = [], 1
    for row in reader:
        out.append(_question(f"{path}:{line + 1}", row, "user_query", "answer", "id", "columns_used_json",
                             "rows_used_json", core="question"))  # fmt: skip
        line = reader.line_num
    return out


def _question(where: str, row: dict[str, Any], q: str, gt: str, qid: str, cols: str, rows: str,
              core: str = "core_question") -> RawQuestion:  # fmt: skip
    def text(key: str) -> str:
        v = row.get(key)
        return "" if v is None else str(v).strip()

    return RawQuestion(
        where=where,
        question_id=text(qid),
        question=text(q),
        core_question=text(core) or text(q),
        ground_truth=row.get(gt),
        company=text("company"),
        question_type=text("question_type"),
        table_name=parse_json_list(row.get("table_name")),
        columns_used=parse_json_list(row.get(cols)),
        rows_used=parse_json_list(row.get(rows)),
        explanation=text("explanation"),
    )
