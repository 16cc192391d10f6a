"""Read a user's questions (JSONL or CSV) into task entries for ``evalkit suite import``.

Every problem is collected as ``file:line field: message`` (the line of the JSONL object or of the CSV
row), so all of them can be reported at once.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.contracts.answers import parse_amount
from evalkit.contracts.suite import Tolerance
from evalkit.errors import ImportFormatError
from evalkit.fileio import read_jsonl

#: The fields of a question row and what they mean (the CLI's help repeats this).
FIELDS: dict[str, str] = {
    "question": "the question text (required)",
    "answer": "the expected answer (required): a number, a text, or a list (JSON list; in CSV items separated by ';')",
    "answer_kind": "number, text or list; inferred when omitted (a number, or anything with a unit or tolerance, "
    "is a number; a JSON list is a list; anything else text)",
    "unit": "unit of a number answer: USD, USD thousands, USD millions, USD billions, %, bps, x, count, shares, "
    "shares thousands, shares millions, employees, days or years ('12.5%' implies %)",
    "tolerance": "of a number answer: 0.5 or abs:0.5 (absolute), rel:0.01 or 1% (relative, a fraction of the "
    "answer), or both, 'abs:0.5 rel:0.01' (within either passes); default rel:0.005 (--default-tolerance)",
    "ordered": "for list answers: whether the order matters (true/false; default true)",
    "tables": "tables the question needs (JSON list; in CSV separated by ';'); default: the tables its sql "
    "reads, else its company's tables, else all tables",
    "company": "the company the question is about; its tables are listed under it",
    "kind": "single_table or multi_table; default from the number of tables",
    "tags": "labels for reports (JSON list; in CSV separated by ';')",
    "id": "task id (letters, digits, _ . -); default q001, q002, ...",
    "difficulty": "easy, medium or hard (default medium)",
    "sql": "a reference query whose result is the answer (1x1 for numbers and text, one column for lists); "
    "checked by the agent's sandbox and against the answer at import",
}
REQUIRED = ("question", "answer")
PASSED_OVER = ("messages", "tools", "export")
"""Keys a JSONL row may carry beside the question that import reads past: the demonstration trajectory, the
tools' schemas and the provenance ``evalkit export-failures`` writes, so its output re-imports as it is."""
DEFAULT_TOLERANCE = Tolerance(rel=0.005)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


def slug(text: str, sep: str = "_") -> str:
    """``Acme Widgets, Inc.`` -> ``acme_widgets_inc``."""
    return re.sub(r"[^a-z0-9]+", sep, text.casefold()).strip(sep)


def units() -> list[str]:
    """The units a number answer may have (from the tasks schema)."""
    from evalkit.contracts.yamlfile import load_schema

    return [u for u in load_schema("tasks")["$defs"]["unit"]["enum"] if u is not None]


@dataclass
class Question:
    where: str  # file:line
    id: str | None
    question: str
    answer: dict[str, Any]
    tables: list[str] = field(default_factory=list)
    company: str | None = None  # company id (a slug of the given name)
    company_name: str | None = None
    kind: str | None = None
    difficulty: str | None = None
    tags: list[str] = field(default_factory=list)
    sql: str | None = None
    valid: bool = True  # no problem in the row: it can be written and its sql checked

    @property
    def task(self) -> dict[str, Any]:
        """The entry of ``tasks.yaml``."""
        task: dict[str, Any] = {"id": self.id, "question": self.question}
        task["kind"] = self.kind or ("multi_table" if len(self.tables) > 1 else "single_table")
        if self.difficulty:
            task["difficulty"] = self.difficulty
        if self.tags:
            task["tags"] = self.tags
        if self.company:
            task["company"] = self.company
        task["tables"] = self.tables
        task["answer"] = self.answer
        if self.sql:
            step = {"bind": "answer", "sql": self.sql} | ({"table": self.tables[0]} if len(self.tables) == 1 else {})
            task["reference"] = {"steps": [step]}
        return task


def read_rows(path: Path, problems: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(``file:line``, row) of every question in a JSONL or CSV file."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(path, problems)
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        for i, data in read_jsonl(path, problems):
            if not isinstance(data, dict):
                problems.append(f"{path}:{i}: expected a JSON object, got {type(data).__name__}")
                continue
            for key in data:
                if key not in FIELDS and key not in PASSED_OVER:
                    problems.append(f"{path}:{i} {key}: unknown field (allowed: {', '.join(FIELDS)})")
            rows.append((f"{path}:{i}", {k: v for k, v in data.items() if k in FIELDS}))
    except ImportFormatError as e:  # a missing or unreadable file
        problems.append(str(e))
    return rows


def _csv_rows(path: Path, problems: list[str]) -> list[tuple[str, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        problems.append(f"{path}: cannot read the file: {e}")
        return []
    rows: list[tuple[str, dict[str, Any]]] = []
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    for name in header:
        if name not in FIELDS:
            problems.append(f"{path}:1 {name or '(empty)'}: unknown column (allowed: {', '.join(FIELDS)})")
    for name in REQUIRED:
        if name not in header:
            problems.append(f"{path}:1: missing the column {name!r}")
    line = 1
    for row in reader:
        rows.append((f"{path}:{line + 1}", {k: v for k, v in row.items() if k in FIELDS}))
        line = reader.line_num
    return rows


class _Row:
    def __init__(self, where: str, data: dict[str, Any], problems: list[str]) -> None:
        self.where, self.data, self.problems = where, data, problems

    def err(self, name: str, message: str) -> None:
        self.problems.append(f"{self.where} {name}: {message}")

    def text(self, name: str, *, choices: tuple[str, ...] = ()) -> str | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.err(name, f"expected text, got {type(value).__name__}")
            return None
        text = str(value).strip()
        if choices and text not in choices:
            self.err(name, f"{text!r} is not one of {', '.join(choices)}")
            return None
        return text or None

    def items(self, name: str) -> list[str]:
        value = self.data.get(name)
        if isinstance(value, list):
            if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
                self.err(name, "expected a list of texts")
                return []
            return [str(v).strip() for v in value if str(v).strip()]
        text = self.text(name)
        return [p.strip() for p in text.split(";") if p.strip()] if text else []


def parse_number(value: Any) -> tuple[float, bool] | None:
    """(value, had a % sign) of ``1350``, ``"1,234.5"``, ``"$12"``, ``"(3.5)"``, ``"12.5%"``; None if not one
    (``parse_amount`` reads it: a number with no unit or with ``%``)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    amount = parse_amount(str(value))
    if amount is None or amount[1] not in (None, "%"):
        return None
    return amount[0], amount[1] == "%"


def parse_tolerance(value: Any) -> Tolerance:
    """``0.5`` / ``abs:0.5`` absolute, ``rel:0.01`` / ``1%`` relative, both separated by space or comma;
    ``ValueError`` with a message otherwise."""
    if isinstance(value, dict):
        extra = set(value) - {"abs", "rel"}
        if extra:
            raise ValueError(f"unknown keys {', '.join(sorted(extra))} (use abs and rel)")
        parts = [f"{k}:{v}" for k, v in value.items()]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parts = [f"abs:{value}"]
    elif isinstance(value, str):
        parts = [p for p in re.split(r"[\s,]+", value.strip()) if p]
    else:
        raise ValueError(f"expected a number or text such as rel:0.01, got {type(value).__name__}")
    found: dict[str, float] = {}
    for part in parts:
        kind, _, raw = part.rpartition(":")
        kind = kind.strip().lower() or ("rel" if raw.strip().endswith("%") else "abs")
        raw = raw.strip()
        scale = 0.01 if raw.endswith("%") else 1.0
        try:
            number = float(raw.rstrip("%")) * scale
        except ValueError:
            raise ValueError(f"{part!r} is not abs:N, rel:N, N or N%") from None
        if kind not in ("abs", "rel") or kind in found or not math.isfinite(number) or number < 0:
            raise ValueError(f"{part!r}: give abs and/or rel once each, as numbers >= 0")
        found[kind] = number
    if not found:
        raise ValueError("empty tolerance")
    return Tolerance(abs=found.get("abs"), rel=found.get("rel"))


def _answer(row: _Row, default_tolerance: Tolerance) -> dict[str, Any] | None:
    value = row.data.get("answer")
    if value is None or value == "" or value == []:
        row.err("answer", "missing")
        return None
    kind = row.text("answer_kind", choices=("number", "text", "list"))
    has_unit = row.data.get("unit") not in (None, "")
    has_tol = row.data.get("tolerance") not in (None, "")
    if kind is None:
        if isinstance(value, list):
            kind = "list"
        elif has_unit or has_tol or parse_number(value) is not None:
            kind = "number"
        else:
            kind = "text"
    for name, given in (("unit", has_unit), ("tolerance", has_tol)):
        if given and kind != "number":
            row.err(name, f"only for number answers (this answer is {kind})")
    if row.data.get("ordered") not in (None, "") and kind != "list":
        row.err("ordered", f"only for list answers (this answer is {kind})")
    if kind == "list":
        items = row.items("answer")
        out: dict[str, Any] = {"kind": "list", "value": items}
        raw = row.data.get("ordered")
        ordered = str(raw).strip().lower() if raw not in (None, "") else None
        if ordered is not None and ordered not in _TRUE | _FALSE:
            row.err("ordered", f"{raw!r} is not true or false")
        elif ordered is not None:
            out["ordered"] = ordered in _TRUE
        if not items:
            row.err("answer", "the list has no items")
        return out if items else None
    if kind == "text":
        text = row.text("answer")
        if text is None and isinstance(value, str):
            row.err("answer", "missing")
        return {"kind": "text", "value": text} if text else None
    parsed = parse_number(value)
    if parsed is None:
        row.err("answer", f"not a number: {value!r}")
        return None
    out = {"kind": "number", "value": parsed[0]}
    unit = row.text("unit") or ("%" if parsed[1] else None)
    if unit is not None:
        known = {u.casefold(): u for u in units()}
        if unit.casefold() not in known:
            row.err("unit", f"{unit!r} is not one of {', '.join(known.values())}")
        elif parsed[1] and known[unit.casefold()] != "%":
            row.err("answer", f"{value!r} is a percentage but the unit is {unit!r}")
        else:
            out["unit"] = known[unit.casefold()]
    tolerance = default_tolerance
    if has_tol:
        try:
            tolerance = parse_tolerance(row.data["tolerance"])
        except ValueError as e:
            row.err("tolerance", str(e))
    out["tolerance"] = {k: v for k, v in (("abs", tolerance.abs), ("rel", tolerance.rel)) if v is not None}
    return out


def _tables(row: _Row, names: dict[str, str], sql: str | None) -> list[str]:
    given = row.items("tables")
    if not given and sql:
        from evalkit.env.sql_checks import analyse

        given = [t for t in analyse(sql, False, False).tables if t.lower() in names]
    out = []
    for t in given:
        if t.lower() not in names:
            from difflib import get_close_matches

            close = get_close_matches(t.lower(), list(names), n=3)
            hint = f"closest: {', '.join(names[c] for c in close)}" if close else f"tables: {', '.join(names.values())}"
            row.err("tables", f"unknown table {t!r} ({hint})")
        elif names[t.lower()] not in out:
            out.append(names[t.lower()])
    return out


def _kind(row: _Row) -> str | None:
    kind = row.data.get("kind")
    if kind in ("number", "text", "list"):
        row.err("kind", f"{kind!r} is a kind of answer: write answer_kind: {kind} (kind: single_table or multi_table)")
        return None
    return row.text("kind", choices=("single_table", "multi_table"))


def parse_questions(
    path: Path,
    table_names: list[str],
    owners: dict[str, str] | None,
    problems: list[str],
    default_tolerance: Tolerance = DEFAULT_TOLERANCE,
) -> list[Question]:
    """The questions of a JSONL/CSV file; ``owners`` (table -> company id) when the companies are fixed (a
    DuckDB file), else companies come from the rows. Problems are appended to ``problems``."""
    names = {n.lower(): n for n in table_names}
    out: list[Question] = []
    first_at: dict[str, str] = {}
    rows = read_rows(path, problems)
    if not rows and not problems:
        problems.append(f"{path}: no questions")
    for where, data in rows:
        row = _Row(where, data, problems)
        before = len(problems)
        qid = row.text("id")
        if qid is not None and not _ID.match(qid):
            row.err("id", f"{qid!r} is not a valid id (letters, digits, _ . -)")
        elif qid is not None and qid in first_at:
            row.err("id", f"duplicate id {qid!r} (first at {first_at[qid]})")
        elif qid is not None:
            first_at[qid] = where
        question = row.text("question")
        if question is None:
            row.err("question", "missing")
        answer = _answer(row, default_tolerance)
        sql = row.text("sql")
        company_name = row.text("company")
        company = slug(company_name) if company_name else None
        if company_name is not None and not company:
            row.err("company", f"{company_name!r} has no letters or digits")
        if owners is not None and company and company not in set(owners.values()):
            known = ", ".join(sorted(set(owners.values())))
            row.err("company", f"unknown company {company_name!r}; the DuckDB file's companies (from table-name "
                    f"prefixes) are: {known}; leave company empty or use one of them")  # fmt: skip
        q = Question(
            where=where,
            id=qid,
            question=question or "",
            answer=answer or {},
            tables=_tables(row, names, sql),
            company=company,
            company_name=company_name,
            kind=_kind(row),
            difficulty=row.text("difficulty", choices=("easy", "medium", "hard")),
            tags=row.items("tags"),
            sql=sql,
        )
        q.valid = len(problems) == before
        out.append(q)
    n = 0
    for q in out:
        while q.id is None:
            n += 1
            candidate = f"q{n:03d}"
            q.id = candidate if candidate not in first_at else None
    return out


def fill_tables(questions: list[Question], owners: dict[str, str], all_tables: list[str]) -> None:
    """Questions that named no tables (and gave no sql) get their company's tables, else all tables."""
    for q in questions:
        if not q.tables:
            own = [t for t in all_tables if q.company and owners.get(t) == q.company]
            q.tables = own or list(all_tables)
