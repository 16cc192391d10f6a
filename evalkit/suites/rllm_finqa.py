"""``evalkit suite import-rllm-finqa DIR``: rLLM's FinQA dataset as one evalkit suite per split.

The dataset (see :mod:`evalkit.suites.rllm_finqa_source` for its layout) becomes ``OUT/data`` (every company's
tables, cleaned by :mod:`evalkit.suites.tabletext` as any imported report table, in evalkit's catalog format:
company id = the company's folder, table ``{company}_{identifier}`` as the cookbook's ``_get_sql_name`` names
it, so the ``rllm-finqa`` tool profile lists it under the cookbook's identifier) and ``OUT/<split>/`` with
``suite.yaml`` (``tools: {profile: rllm-finqa}``, ``database: ../data``) and ``tasks.yaml``:

- the kind from ``question_type`` (``multi_table...`` is multi-table, as ``finqa_eval`` decides), the needed
  tables from ``table_name``;
- the cells named by ``columns_used`` x ``rows_used`` become the reference solution's queries (one per cell),
  so ``right_tables`` and ``valid_identifiers`` judge against the columns the question really needs; the
  arithmetic over them that reproduces the answer (:func:`~evalkit.suites.rllm_finqa_answers.find_formula`) is
  its ``compute``, checked by ``verify_suite`` before anything is moved into place;
- a ground truth that is no figure (a sentence) is kept as a ``text`` answer tagged ``judge_graded`` and
  counted: the cookbook grades it with an LLM judge, and so should a rubric with a judge criterion.

Rows that cannot become a task (an unknown company or table, no answer) are skipped and listed with their
``file:line``; a company file that is not JSON stops the import with its line.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.contracts.rllm_names import task_id as rllm_task_id
from evalkit.errors import ConfigError, SpecError
from evalkit.suites.rllm_finqa_answers import ParsedAnswer, find_formula, parse_ground_truth
from evalkit.suites.rllm_finqa_source import SPLITS, RawQuestion, question_files, read_company_tables
from evalkit.suites.rllm_finqa_source import read_questions as read_question_rows
from evalkit.suites.rllm_finqa_tables import StagedTable, fold, key_of, stage_tables

PROFILE = "rllm-finqa"
JUDGE_TAG = "judge_graded"


@dataclass(frozen=True)
class SplitSummary:
    split: str
    path: Path
    tasks: int
    kinds: dict[str, int]
    judge_graded: int
    verified: int  # tasks whose reference reproduces the answer
    without_reference: int


@dataclass(frozen=True)
class RllmImportSummary:
    """What an import wrote: the suites per split, the tables, and the rows and tables it skipped (with why)."""

    path: Path
    splits: tuple[SplitSummary, ...]
    companies: int
    tables: int
    skipped: tuple[tuple[str, str], ...]  # (file:line, why)
    notes: tuple[str, ...] = ()

    @property
    def tasks(self) -> int:
        return sum(s.tasks for s in self.splits)

    @property
    def judge_graded(self) -> int:
        return sum(s.judge_graded for s in self.splits)


def import_rllm_finqa(
    source: Path, out: Path, *, split: str = "all", name: str = "rllm-finqa", force: bool = False,
    profile: str | None = PROFILE,
) -> RllmImportSummary:  # fmt: skip
    """Write ``out/data`` and ``out/<split>/`` (see the module docstring); ``profile=None`` leaves the suite's
    tool profile out (evalkit's own tools)."""
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise ConfigError(f"{source} is not a folder (give the folder holding company_tables/ and *_finqa.csv)")
    if out.exists() and not force:
        raise ConfigError(f"{out} already exists; pass --force to replace it")
    if out.exists() and not (out / "data" / "catalog.yaml").is_file():
        raise ConfigError(f"{out} exists and is not an imported rLLM FinQA folder; refusing to replace it")
    splits = SPLITS if split == "all" else (split,)
    if split != "all" and split not in SPLITS:
        raise ConfigError(f"--split {split!r}: use train, val, test or all")
    problems: list[str] = []
    skipped: list[tuple[str, str]] = []
    notes: list[str] = []
    raw_tables = read_company_tables(source, problems, skipped)
    files = {s: question_files(source, s) for s in splits}
    for s, found in files.items():
        if not found:
            (problems if split != "all" else notes).append(f"{source}: no question file for the {s} split "
                                                           f"({s}_finqa.csv, {s}.jsonl or {s}.json)")  # fmt: skip
    if not any(files.values()) and not problems:
        problems.append(f"{source}: no question files (train_finqa.csv, val_finqa.csv, test_finqa.csv)")
    if problems:
        raise SpecError(f"cannot import {source} ({len(problems)} problem(s))", problems)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="evalkit-rllm-"))
    tmp = out.parent / f".{out.name}.import-{secrets.token_hex(4)}"
    try:
        tables = stage_tables(raw_tables, stage, notes)
        written: list[tuple[str, list[dict[str, Any]]]] = []
        for s in splits:
            if files[s]:
                rows = read_question_rows(files[s][0], problems)
                tasks = [t for q in rows if (t := _task(q, tables, skipped)) is not None]
                _unique_ids(tasks)
                if tasks:
                    written.append((s, tasks))
                else:
                    notes.append(f"{files[s][0]}: no question could be imported; the {s} split is not written")
        if problems:
            raise SpecError(f"cannot import {source} ({len(problems)} problem(s))", problems)
        if not written:
            raise SpecError(
                f"cannot import {source}: no question could be imported", [f"{w}: {why}" for w, why in skipped]
            )
        summaries = _write(tmp, name, source, tables, written, profile)
        from evalkit.suites.importer import _move_into_place

        _move_into_place(tmp, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    moved = tuple(SplitSummary(s.split, out / s.split, *_counts(s)) for s in summaries)
    companies = len({t.raw.company for t in tables.values()})
    return RllmImportSummary(out, moved, companies, len(tables), tuple(skipped), tuple(notes))


def _counts(s: SplitSummary) -> tuple[int, dict[str, int], int, int, int]:
    return s.tasks, s.kinds, s.judge_graded, s.verified, s.without_reference


# -------------------------------------------------------------------------------------------- tasks


def _task(
    q: RawQuestion, tables: dict[tuple[str, str], StagedTable], skipped: list[tuple[str, str]]
) -> dict[str, Any] | None:
    """The ``tasks.yaml`` entry of a row, or None (the row is in ``skipped`` with why)."""
    from evalkit.contracts.rllm_names import identifier
    from evalkit.env.database import quote_ident

    company = q.company.lower().strip()
    if not q.question:
        skipped.append((q.where, "no question text"))
        return None
    if not company or not any(c == company for c, _ in tables):
        skipped.append((q.where, f"unknown company {q.company!r}"))
        return None
    names = [str(n) for n in q.table_name if str(n).strip()]
    if not names:
        skipped.append((q.where, "names no table (table_name is empty)"))
        return None
    used: list[StagedTable] = []
    for n in names:
        table = tables.get((company, key_of(n))) or tables.get((company, key_of(identifier(company, n))))
        if table is None:
            skipped.append((q.where, f"table {n!r} does not exist for company {company!r}"))
            return None
        if table not in used:
            used.append(table)
    parsed = parse_ground_truth(q.ground_truth)
    if parsed.judge_graded:
        parsed = _as_list(str(q.ground_truth), used) or parsed
    if q.ground_truth is None or not str(q.ground_truth).strip():
        skipped.append((q.where, "no answer (ground_truth / answer is empty)"))
        return None
    kind = "multi_table" if q.question_type.lower().startswith("multi_table") else "single_table"
    if not q.question_type:
        kind = "multi_table" if len(used) > 1 else "single_table"
    task: dict[str, Any] = {"id": q.question_id or None, "question": q.question, "kind": kind}
    task["tags"] = [t for t in (q.question_type, JUDGE_TAG if parsed.judge_graded else "") if t]
    task["company"] = company
    task["tables"] = [t.name for t in used]
    task["answer"] = parsed.answer or {"kind": "text", "value": " ".join(str(q.ground_truth).split())}
    steps, values, scales = _cell_steps(q, used, quote_ident)
    if parsed.answer and parsed.answer["kind"] == "number" and steps:
        scale = scales[0] if len(set(scales)) == 1 else 1.0
        formula = find_formula(parsed, values, scale)
        if formula is not None:
            task["reference"] = {"steps": steps, "compute": formula}
    elif parsed.answer and parsed.answer["kind"] == "list":
        step = _list_step(parsed.items, used, quote_ident)
        if step is not None:
            task["reference"] = {"steps": [step]}
    return task


def _as_list(text: str, used: list[StagedTable]) -> ParsedAnswer | None:
    """``Americas, EMEA`` as a list answer when every item is a row label of one of the tables (a list the
    suite's own export writes as text)."""
    items = [i.strip() for i in re.split(r",|;|\band\b", text) if i.strip()]
    if len(items) < 2 or not any(all(fold(i) in t.index for i in items) for t in used):
        return None
    return ParsedAnswer({"kind": "list", "value": items, "ordered": False}, items=tuple(items))


def _columns_per_table(q: RawQuestion, used: list[StagedTable]) -> list[list[str]]:
    """``columns_used`` for each table: one list per table when the row gives lists, else the flat list."""
    cols = q.columns_used
    if len(cols) == len(used) and all(isinstance(c, list) for c in cols):
        return [[str(x) for x in c] for c in cols]
    flat = [str(x) for c in cols for x in (c if isinstance(c, list) else [c])]
    return [flat for _ in used]


def _cell_steps(
    q: RawQuestion, used: list[StagedTable], quote: Any
) -> tuple[list[dict[str, str]], list[float], list[float]]:
    """One reference query per numeric cell named by the row's columns and rows, in the row's order."""
    steps: list[dict[str, str]] = []
    values: list[float] = []
    scales: list[float] = []
    for table, cols in zip(used, _columns_per_table(q, used), strict=True):
        first = table.source.columns[0][0]
        columns = [table.columns[fold(c)] for c in cols if fold(c) in table.columns]
        columns = [c for c in dict.fromkeys(columns) if c != first]
        rows = [table.index[fold(r)] for r in q.rows_used if fold(r) in table.index]
        for r in dict.fromkeys(rows):
            for c in columns:
                j = next(i for i, col in enumerate(table.source.columns) if col[0] == c)
                text = table.cells[r][j] if j < len(table.cells[r]) else ""
                try:
                    value = float(text)
                except ValueError:
                    continue
                label = table.cells[r][0].replace("'", "''")
                bind = f"c{len(steps) + 1}"
                sql = f"SELECT {quote(c)} FROM {table.name} WHERE {quote(first)} = '{label}'"
                steps.append({"bind": bind, "table": table.name, "sql": sql})
                values.append(value)
                scales.append(table.scale.get(c, 1.0))
    return steps, values, scales


def _list_step(items: tuple[str, ...], used: list[StagedTable], quote: Any) -> dict[str, str] | None:
    """The query listing a list answer's items from the first column of the table holding them all."""
    for table in used:
        if all(fold(i) in table.index for i in items):
            first = table.source.columns[0][0]
            labels = ", ".join("'" + table.cells[table.index[fold(i)]][0].replace("'", "''") + "'" for i in items)
            sql = f"SELECT {quote(first)} FROM {table.name} WHERE {quote(first)} IN ({labels})"
            return {"bind": "answer", "table": table.name, "sql": sql}
    return None


def _unique_ids(tasks: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for n, task in enumerate(tasks, 1):
        base = rllm_task_id(str(task["id"] or "")) or f"q{n:04d}"
        tid, k = base, 2
        while tid in seen:
            tid, k = f"{base}-{k}", k + 1
        seen.add(tid)
        task["id"] = tid


# -------------------------------------------------------------------------------------------- write


def _write(
    folder: Path, name: str, source: Path, tables: dict[tuple[str, str], StagedTable],
    splits: list[tuple[str, list[dict[str, Any]]]], profile: str | None,
) -> list[SplitSummary]:  # fmt: skip
    from evalkit.contracts.loader import load_suite
    from evalkit.suites.importer import _dump, _write_tables
    from evalkit.suites.verify import verify_suite

    folder.mkdir()
    desc = f"rLLM FinQA ({source.name}), imported by evalkit suite import-rllm-finqa."
    sources = [t.source for t in tables.values()]
    _write_tables(folder / "data", name, desc, sources, {t.raw.company: t.raw.company for t in tables.values()})
    out: list[SplitSummary] = []
    problems: list[str] = []
    for split, tasks in splits:
        (folder / split).mkdir()
        suite: dict[str, Any] = {"name": f"{name}-{split}", "version": "1.0", "description": desc,
                                 "database": "../data", "tasks": "tasks.yaml"}  # fmt: skip
        if profile:
            suite["tools"] = {"profile": profile}
        header = f"Written by evalkit suite import-rllm-finqa from {source}"
        _dump(folder / split / "suite.yaml", suite, header)
        _dump(folder / split / "tasks.yaml", {"tasks": tasks}, header)
        report = verify_suite(load_suite(folder / split))
        problems += [f"{split} task {r.task_id}: reference gives {r.got}, not {r.expected} ({r.reason})"
                     for r in report.failures]  # fmt: skip
        kinds: dict[str, int] = {}
        for t in tasks:
            kinds[t["kind"]] = kinds.get(t["kind"], 0) + 1
        judged = sum(JUDGE_TAG in t["tags"] for t in tasks)
        out.append(SplitSummary(split, folder / split, len(tasks), kinds, judged, report.verified, report.unverifiable))
    if problems:
        raise SpecError(f"the imported suites do not verify ({len(problems)} problem(s))", problems)
    return out
