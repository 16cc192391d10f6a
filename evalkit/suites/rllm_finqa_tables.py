"""The company tables of an rLLM FinQA import, cleaned and typed as ``evalkit suite import`` cleans a report's
table (:mod:`evalkit.suites.tabletext`), with what questions need to find their cells: each column under
the labels a question may name it by, each row under its first-column label, the cleaned cells, and each
column's scale.

A table's metadata ``description`` is its caption; a scale in a 10-K title (``(in millions, except per share
data)``) is the unit of its amount columns, also of those whose cells carry a ``$``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.suites.rllm_finqa_source import RawTable
from evalkit.suites.tabletext import SourceTable, split_label, stage_table

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCALE_IN_TEXT = re.compile(r"\((?:(?:dollars|amounts|USD|\$)\s+)?in\s+(thousands|millions|billions)\b", re.IGNORECASE)
"""A 10-K table's scale in its title: ``(in millions, except per share data)``, ``(dollars in thousands)``."""


@dataclass
class StagedTable:
    raw: RawTable
    source: SourceTable
    columns: dict[str, str] = field(default_factory=dict)  # a label as questions name it (folded) -> column
    index: dict[str, int] = field(default_factory=dict)  # a first-column value (folded) -> row number
    cells: list[list[str]] = field(default_factory=list)  # the cleaned rows
    scale: dict[str, float] = field(default_factory=dict)  # column -> the scale of its unit

    @property
    def name(self) -> str:
        return self.source.name


def fold(text: Any) -> str:
    name, _, _ = split_label(str(text))
    return " ".join(name.casefold().split())


def _caption(meta: dict[str, Any]) -> str:
    parts = [str(meta.get("description") or "").strip()]
    parts += [f"{k}: {v}" for k, v in meta.items() if k != "description" and isinstance(v, str | int | float)]
    return " ".join(" ".join(p for p in parts if p).split())


def _table_name(company: str, key: str) -> str:
    from evalkit.contracts.rllm_names import sql_name

    name = sql_name(company, key)
    if not _IDENT.match(name):
        name = re.sub(r"\W+", "_", name).strip("_") or "table"
        name = "t_" + name if name[0].isdigit() else name
    return name


def stage_tables(raw: list[RawTable], stage: Path, notes: list[str]) -> dict[tuple[str, str], StagedTable]:
    """Each table as a cleaned CSV file with its inferred column types, keyed by (company, identifier folded)."""
    import duckdb

    from evalkit.contracts.numbers import unit_scale
    from evalkit.suites.importer import _infer_columns

    (stage / "raw").mkdir()
    (stage / "clean").mkdir()
    out: dict[tuple[str, str], StagedTable] = {}
    taken: set[str] = set()
    con = duckdb.connect()
    try:
        for t in raw:
            name = _table_name(t.company, t.key)
            if name.lower() in taken:
                notes.append(f"{t.where}: table {t.key!r} is a second table named {name}; left out")
                continue
            taken.add(name.lower())
            path = stage / "raw" / f"{name}.csv"
            with path.open("w", encoding="utf-8", newline="") as f:
                caption = _caption(t.meta)
                if caption:
                    f.write(f"# caption: {caption}\n")
                m = _SCALE_IN_TEXT.search(caption)
                unit = f"USD {m.group(1).lower()}" if m else None
                if unit:
                    f.write(f"# unit: {unit}\n")
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(t.labels)
                writer.writerows(row + [""] * (len(t.labels) - len(row)) for row in t.rows)
            source = SourceTable(name, path, company=t.company)
            stage_table(source, stage / "clean", notes)
            for label, (col_unit, text) in source.meta.items():
                if unit and col_unit == "USD":  # a "$" in the cells, the scale in the title
                    source.meta[label] = (unit, text)
            _infer_columns(con, source, notes)
            if t.cookbook_names is not None and len(t.cookbook_names) == len(source.columns):
                source.source_names = {
                    staged: n for (_, staged, _), n in zip(source.columns, t.cookbook_names, strict=True)
                }
            source.origin = Path(t.where.rsplit(":", 1)[0])
            table = StagedTable(t, source)
            for new, staged, _ in source.columns:
                for label in (staged, source.labels.get(staged, staged), new):
                    table.columns.setdefault(fold(label), new)
                table.scale[new] = unit_scale((source.meta.get(staged) or (None, ""))[0]) or 1.0
            with source.source.open(encoding="utf-8", newline="") as f:
                table.cells = list(csv.reader(f))[1:]
            for i, row in enumerate(table.cells):
                table.index.setdefault(fold(row[0]) if row else "", i)
            out[(t.company, key_of(t.key))] = table
    finally:
        con.close()
    return out


def key_of(identifier: str) -> str:
    """The form the cookbook looks a table up in (``rllm_names.table_key``)."""
    from evalkit.contracts.rllm_names import table_key

    return table_key(identifier)
