"""The catalog of a finance database: companies, tables and columns, loaded from ``catalog.yaml``.

::

    name: finance
    description: ...
    companies:
      - {id: northwind, name: Northwind Analytics Inc., ticker: NWA, sector: Software, fiscal_year_end: June 30}
    tables:
      - name: northwind_income_statement
        company: northwind
        file: tables/northwind_income_statement.csv   # relative to the catalog's folder; .csv or .parquet
        description: Consolidated statement of operations, FY2020-2024.
        columns:
          - {name: fiscal_year, type: INTEGER, description: Fiscal year}
          - {name: total_revenue, type: DOUBLE, unit: USD millions, description: Total net revenue}

Every problem is reported at once as a :class:`~evalkit.errors.SpecError` whose lines read
``catalog.yaml:12 tables[3].columns[1].type: 'FLOAT8' is not one of INTEGER, BIGINT, ...`` (indexes from 0).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.contracts.yamlfile import load_yaml, schema_problems
from evalkit.errors import SpecError

COLUMN_TYPES: tuple[str, ...] = ("INTEGER", "BIGINT", "DOUBLE", "VARCHAR", "DATE", "BOOLEAN")
DATA_SUFFIXES: tuple[str, ...] = (".csv", ".parquet")
CATALOG_FILE = "catalog.yaml"


def _norm(text: str) -> str:
    """The form company references are compared in: case-folded, letters and digits only."""
    return re.sub(r"[\W_]+", "", text.casefold())


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    unit: str | None = None
    description: str = ""
    source_name: str | None = None
    """The column's name where the data came from, when another tool set names it otherwise (rLLM FinQA's
    SQLite tables: ``2023-01-01 00:00:00`` for ``c_2023``); read by checks of traces recorded there."""


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    ticker: str | None = None
    sector: str | None = None
    fiscal_year_end: str | None = None

    def label(self) -> str:
        """``Northwind Analytics Inc. (northwind, NWA)``."""
        keys = ", ".join(k for k in (self.id, self.ticker) if k)
        return f"{self.name} ({keys})" if self.name != self.id else self.id


@dataclass(frozen=True)
class TableInfo:
    name: str
    company: str
    file: Path | None
    description: str
    columns: tuple[ColumnInfo, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnInfo:
        """The column called ``name`` (case-insensitive); ``KeyError`` when there is none."""
        low = name.lower()
        for c in self.columns:
            if c.name.lower() == low:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Catalog:
    name: str
    description: str
    companies: tuple[Company, ...]
    tables: tuple[TableInfo, ...]
    _tables_by_name: dict[str, TableInfo] = field(init=False, repr=False, compare=False, hash=False)
    _companies_by_key: dict[str, Company] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tables_by_name", {t.name.lower(): t for t in self.tables})
        keys: dict[str, Company] = {}
        # Later entries win: names, then tickers, then ids (the most specific reference).
        for attr in ("name", "ticker", "id"):
            for c in self.companies:
                value = getattr(c, attr)
                if value:
                    keys[_norm(value)] = c
        object.__setattr__(self, "_companies_by_key", keys)

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    def table(self, name: str) -> TableInfo:
        """The table called ``name`` (case-insensitive); ``KeyError`` when there is none."""
        try:
            return self._tables_by_name[name.strip().lower()]
        except KeyError:
            raise KeyError(name) from None

    def company(self, id_or_name: str) -> Company:
        """The company whose slug, display name or ticker is ``id_or_name`` (case and punctuation ignored)."""
        key = _norm(id_or_name)
        if key and key in self._companies_by_key:
            return self._companies_by_key[key]
        raise KeyError(id_or_name)

    def tables_of(self, company: str) -> tuple[TableInfo, ...]:
        """The tables of a company, given as anything :meth:`company` accepts; ``KeyError`` if unknown."""
        cid = self.company(company).id
        return tuple(t for t in self.tables if t.company == cid)


# --------------------------------------------------------------------------------------------- loading


def load_catalog(path: Path) -> Catalog:
    """Load and validate a catalog file (or the ``catalog.yaml`` of a folder): the JSON Schema first, then
    what a schema cannot say (duplicates, unknown companies, files that must exist inside the folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / CATALOG_FILE
    if not path.is_file():
        raise SpecError(f"{path}: cannot read catalog: no such file")
    data, lines = load_yaml(path)
    problems = schema_problems(data, "catalog", lines)

    def err(key: tuple[str | int, ...], message: str) -> None:
        problems.append(f"{lines.where(key)}: {message}")

    if not isinstance(data, dict):
        raise SpecError(f"{path}: invalid catalog", problems)
    companies = [
        Company(
            id=c["id"],
            name=_text(c["name"]) or c["id"],
            ticker=_text(c.get("ticker")) or None,
            sector=_text(c.get("sector")) or None,
            fiscal_year_end=_text(c.get("fiscal_year_end")) or None,
        )
        for c in _items(data.get("companies"), ("id", "name"))
    ]
    for i, c in enumerate(companies):
        if c.id in {x.id for x in companies[:i]}:
            err(("companies", i, "id"), f"duplicate company id {c.id!r}")
    ids = {c.id for c in companies}
    tables: list[TableInfo] = []
    for i, t in enumerate(data.get("tables") or []):
        if not isinstance(t, dict) or not {"name", "company", "file"} <= set(t):
            continue  # the schema problems say what is missing
        key: tuple[str | int, ...] = ("tables", i)
        if str(t["name"]).lower() in {x.name.lower() for x in tables}:
            err((*key, "name"), f"duplicate table name {t['name']!r}")
        if t["company"] not in ids:
            err((*key, "company"), f"unknown company {t['company']!r} (known: {', '.join(sorted(ids)) or 'none'})")
        columns = tuple(
            ColumnInfo(
                str(c["name"]),
                str(c["type"]).upper(),
                c.get("unit") or None,
                _text(c.get("description")),
                str(c["source_name"]) if c.get("source_name") else None,
            )
            for c in _items(t.get("columns"), ("name", "type"))
        )
        raw_names = [str(c.get("name", "")).lower() if isinstance(c, dict) else "" for c in t.get("columns") or []]
        for j, name in enumerate(raw_names):
            if name and name in raw_names[:j]:
                err((*key, "columns", j, "name"), f"duplicate column name {name!r}")
        file = _data_file(path, str(t["file"]), (*key, "file"), err)
        tables.append(TableInfo(str(t["name"]), str(t["company"]), file, _text(t.get("description")), columns))
    if problems:
        raise SpecError(f"{path}: invalid catalog", sorted(set(problems), key=_line_key))
    return Catalog(
        name=data["name"], description=_text(data.get("description")), companies=tuple(companies), tables=tuple(tables)
    )


def _items(value: Any, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """The mappings of a list that have the required keys (the others are reported by the schema)."""
    return [v for v in value if isinstance(v, dict) and set(required) <= set(v)] if isinstance(value, list) else []


def _line_key(problem: str) -> tuple[str, int]:
    where = problem.split(" ", 1)[0]
    file, _, line = where.rpartition(":")
    return file, int(line) if line.isdigit() else 0


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _data_file(
    catalog: Path, rel: str, key: tuple[str | int, ...], err: Callable[[tuple[str | int, ...], str], None]
) -> Path | None:
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts:
        err(key, f"{rel!r} must be a path inside the catalog's folder")
        return None
    if p.suffix.lower() not in DATA_SUFFIXES:
        err(key, f"{rel!r} must be a .csv or .parquet file")
        return None
    full = catalog.parent / p
    if not full.is_file():
        err(key, f"{rel!r} does not exist (looked for {full})")
        return None
    return full
