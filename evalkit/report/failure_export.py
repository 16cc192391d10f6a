"""Write the tasks a behaviour failed on as training data: ``evalkit export-failures``.

Two layouts, one JSON object per line and per task:

- ``openai``: a question row ``evalkit suite import`` reads (``id``, ``question``, ``answer`` with
  ``answer_kind`` / ``unit`` / ``tolerance`` / ``ordered``, ``tables``, ``company`` as the import names it
  from the suite's database file, ``kind``, ``difficulty``, ``tags``, and ``sql`` when one query reproduces
  the answer), plus ``messages`` (the reference solution as a
  demonstration trajectory, ``evalkit.report.demonstration``; ``null`` for a task without reference SQL),
  ``tools`` (the tools' JSON Schemas, as a chat fine-tuning file carries them) and ``export`` (the run, the
  criterion, the suite's company, how many samples failed of how many, per model, the failing sample ids, and
  why a line has no trajectory). Re-imported with the suite's built database file as ``--tables``
  (``ExportSummary.database``: text amounts stay text, as the reference SQL expects), they verify. The import
  reads past ``messages``, ``tools`` and ``export``.
- ``rllm``: the row rLLM's FinQA cookbook trains and evaluates on (``prepare_finqa_data.py``'s
  ``preprocess_fn``; schema ``contracts/schemas/rllm-finqa-row.schema.json``), with the company and table
  names as the suite has them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from evalkit.contracts.answers import expected_text
from evalkit.errors import EvalkitError
from evalkit.report.demonstration import Demonstration, demonstrate, filled_template, single_query

if TYPE_CHECKING:
    from evalkit.contracts.suite import TaskSpec
    from evalkit.env.tools import FinanceEnvironment
    from evalkit.report.failures import FailedTask, FailureSelection
    from evalkit.report.tool_calls import ToolEnvironment

ExportFormat = Literal["openai", "rllm"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("openai", "rllm")
PASSED_OVER = ("messages", "tools", "export")
"""Keys of an ``openai`` line that are not question fields (``evalkit suite import`` reads past them)."""
RLLM_DATA_SOURCE = "finqa"


@dataclass(frozen=True)
class ExportSummary:
    """What was written: tasks, the samples behind them, and the lines without a demonstration."""

    path: Path
    format: ExportFormat
    run_id: str
    rubric: str
    criterion: str
    tasks: int
    failed_samples: int
    samples: int
    with_trajectory: int
    without_reference: int
    """Tasks without reference SQL: exported without a trajectory."""
    without_trajectory: tuple[tuple[str, str], ...]
    """(task, why) of every task exported without a trajectory."""
    without_sql: int
    """``openai`` lines with no single query reproducing the answer: they re-import unverifiable."""
    notes: tuple[str, ...]
    database: Path
    """The suite's built database file: the ``--tables`` that re-imports the ``openai`` lines as they ran."""


def write_failures(selection: FailureSelection, output: Path, fmt: ExportFormat = "openai") -> ExportSummary:
    """Write one line per selected task to ``output`` (atomically) and say what was written."""
    from evalkit.env.database import build_database
    from evalkit.env.profiles import profile_system_prompt
    from evalkit.env.tools import EnvironmentPool, FinanceEnvironment
    from evalkit.fileio import write_atomic

    suite = selection.suite
    db = build_database(suite.database)
    lines: list[dict[str, Any]] = []
    missing: list[tuple[str, str]] = []
    without_sql = 0
    pool = EnvironmentPool(db, suite.settings)  # the suite's tool profile decides the tools
    try:
        with pool() as env, FinanceEnvironment(db, suite.settings) as checker:  # checker: as the import checks
            system = profile_system_prompt(suite.settings, selection.run.options.get("system_prompt_text"))
            for failed in selection.tasks:
                task = failed.task
                if fmt == "rllm":
                    if not task.reference.steps:
                        missing.append((task.id, "no reference SQL"))
                    lines.append(rllm_row(task, checker))
                    continue
                demo = demonstrate(task, env, system)
                if demo.messages is None:
                    missing.append((task.id, demo.reason or "no trajectory"))
                sql = single_query(task, checker)
                without_sql += sql is None
                lines.append(openai_line(selection, failed, demo, sql, env))
    finally:
        pool.close()
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    try:
        write_atomic(output, text)
    except OSError as e:
        raise EvalkitError(f"cannot write {output}: {e.strerror or e}") from e
    return ExportSummary(
        path=output,
        format=fmt,
        run_id=selection.run.run_id,
        rubric=selection.rubric,
        criterion=selection.criterion,
        tasks=len(selection.tasks),
        failed_samples=sum(t.failed for t in selection.tasks),
        samples=sum(t.samples for t in selection.tasks),
        with_trajectory=0 if fmt == "rllm" else len(lines) - len(missing),
        without_reference=sum(1 for t in selection.tasks if not t.task.reference.steps),
        without_trajectory=tuple(missing),
        without_sql=without_sql if fmt == "openai" else 0,
        notes=selection.notes,
        database=db.path,
    )


# ------------------------------------------------------------------------------------------------ openai


def question_fields(task: TaskSpec, sql: str | None, company: str | None) -> dict[str, Any]:
    """The task as a question row of ``evalkit suite import`` (see ``evalkit.suites.questions.FIELDS``)."""
    a = task.answer
    row: dict[str, Any] = {"id": task.id, "question": task.question}
    if a.kind == "number" and isinstance(a.value, float):
        row |= {"answer": a.value, "answer_kind": "number"}
        if a.unit:
            row["unit"] = a.unit
        tolerance = {k: v for k, v in (("abs", a.tolerance.abs), ("rel", a.tolerance.rel)) if v is not None}
        if tolerance:
            row["tolerance"] = tolerance
    elif a.kind == "list" and isinstance(a.value, tuple):
        row |= {"answer": list(a.value), "answer_kind": "list", "ordered": a.ordered}
    elif a.kind == "template":  # the import has no template answers: the wording with its blanks filled
        row |= {"answer": filled_template(a, {b.name: b.value for b in a.blanks}), "answer_kind": "text"}
    else:
        row |= {"answer": str(a.value), "answer_kind": "text"}
    row["tables"] = list(task.tables)
    if company:
        row["company"] = company
    row |= {"kind": task.kind, "difficulty": task.difficulty, "tags": list(task.tags)}
    if sql is not None:
        row["sql"] = sql
    return row


def openai_line(
    selection: FailureSelection, failed: FailedTask, demo: Demonstration, sql: str | None, env: ToolEnvironment
) -> dict[str, Any]:
    """The ``openai`` line of one failed task."""
    line = question_fields(failed.task, sql, import_company(failed.task, env.catalog.table_names))
    line["messages"] = demo.messages
    line["tools"] = env.tool_specs()
    line["export"] = {
        "run_id": selection.run.run_id,
        "run": selection.run.name,
        "suite": selection.suite.name,
        "rubric": selection.rubric,
        "criterion": selection.criterion,
        "company": failed.task.company,
        "failed": failed.failed,
        "samples": failed.samples,
        "by_model": {m: {"failed": f, "samples": n} for m, (f, n) in failed.by_model.items()},
        "sample_ids": list(failed.sample_ids),
        "no_trajectory": demo.reason,
    }
    return line


def import_company(task: TaskSpec, table_names: Sequence[str]) -> str | None:
    """The company ``evalkit suite import`` gives the task's tables when it reads the suite's database file:
    the prefix before the first ``_`` that two or more tables share (``evalkit.env.database
    .catalog_from_duckdb``), when all the task's tables have the same one; else None (no company)."""
    prefixes = Counter(n.split("_", 1)[0] for n in table_names if "_" in n)
    owners = {t.split("_", 1)[0] if "_" in t and prefixes[t.split("_", 1)[0]] > 1 else None for t in task.tables}
    return owners.pop() if len(owners) == 1 else None


# ------------------------------------------------------------------------------------------------- rllm


def rllm_row(task: TaskSpec, env: FinanceEnvironment) -> dict[str, Any]:
    """The task as a row of rLLM's FinQA dataset (``preprocess_fn``'s keys and value types)."""
    a = task.answer
    truth = filled_template(a, {b.name: b.value for b in a.blanks}) if a.kind == "template" else expected_text(task)
    return {
        "question": task.question,
        "ground_truth": truth,
        "data_source": RLLM_DATA_SOURCE,
        "company": company_id(task, env),
        "question_id": task.id,
        "question_type": task.kind,
        "core_question": task.question,
        "table_name": list(task.tables),
        "columns_used": columns_used(task),
        "rows_used": [],
        "explanation": explanation(task),
    }


def company_id(task: TaskSpec, env: FinanceEnvironment) -> str:
    """The task's company, else the owner of its first table in the catalog."""
    if task.company:
        return task.company
    for table in task.tables:
        try:
            return env.catalog.table(table).company
        except KeyError:
            continue
    return "default"


def columns_used(task: TaskSpec) -> list[str]:
    """The column names the reference SQL reads, in first-use order."""
    import sqlglot
    from sqlglot import exp

    out: list[str] = []
    for step in task.reference.steps:
        try:
            tree = sqlglot.parse_one(step.sql, read="duckdb")
        except sqlglot.errors.SqlglotError:
            continue
        out.extend(c.name for c in tree.find_all(exp.Column) if c.name)
    return list(dict.fromkeys(out))


def explanation(task: TaskSpec) -> str:
    """The reference solution in words: each query and what it binds, then the arithmetic."""
    parts = [f"{s.bind} = {' '.join(s.sql.split())}" for s in task.reference.steps]
    compute = task.reference.compute
    if isinstance(compute, dict):
        parts.extend(f"{k} = {v}" for k, v in compute.items())
    elif compute and compute.strip() != (task.reference.steps[-1].bind if task.reference.steps else None):
        parts.append(f"answer = {compute}")
    text = "; ".join(parts)
    return f"Reference solution: {text}. Answer: {expected_text(task)}." if text else f"Answer: {expected_text(task)}."
