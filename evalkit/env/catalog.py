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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evalkit.errors import SpecError

COLUMN_TYPES: tuple[str, ...] = ("INTEGER", "BIGINT", "DOUBLE", "VARCHAR", "DATE", "BOOLEAN")
DATA_SUFFIXES: tuple[str, ...] = (".csv", ".parquet")
CATALOG_FILE = "catalog.yaml"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

PathKey = tuple[str | int, ...]


def _norm(text: str) -> str:
    """The form company references are compared in: case-folded, letters and digits only."""
    return re.sub(r"[\W_]+", "", text.casefold())


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    unit: str | None = None
    description: str = ""


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
    """Load and validate a catalog file (or the ``catalog.yaml`` of a folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / CATALOG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SpecError(f"{path}: cannot read catalog: {e.strerror or e}") from e
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise SpecError(f"{where}: invalid YAML: {getattr(e, 'problem', None) or e}") from e
    checker = _Checker(path, node)
    catalog = checker.catalog(data)
    if checker.problems or catalog is None:
        raise SpecError(f"{path}: invalid catalog", checker.problems)
    return catalog


def _line_of(node: yaml.Node | None, key: PathKey) -> int | None:
    """The 1-based line of the YAML node at ``key`` (or of its closest existing ancestor)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in key:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _fmt_key(key: PathKey) -> str:
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


class _Checker:
    """Validates the plain data of a catalog, collecting every problem with its key path."""

    def __init__(self, path: Path, root: yaml.Node | None) -> None:
        self.path = path
        self.root = root
        self.problems: list[str] = []

    def err(self, key: PathKey, message: str) -> None:
        line = _line_of(self.root, key)
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        self.problems.append(f"{where} {_fmt_key(key)}: {message}")

    def mapping(self, value: Any, key: PathKey, required: tuple[str, ...], optional: tuple[str, ...]) -> bool:
        if not isinstance(value, dict):
            self.err(key, f"expected a mapping, got {type(value).__name__}")
            return False
        for k in value:
            if k not in required and k not in optional:
                allowed = ", ".join((*required, *optional))
                self.err((*key, str(k)), f"unknown key {k!r} (allowed: {allowed})")
        for k in required:
            if k not in value:
                self.err(key, f"missing required key {k!r}")
        return True

    def text(self, value: Any, key: PathKey, *, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.err(key, f"expected a string, got {type(value).__name__}")
            return ""
        text = str(value).strip()
        if pattern is not None and not pattern.match(text):
            self.err(key, f"{text!r} is not a valid {what}")
        return text

    def listing(self, value: Any, key: PathKey) -> list[Any]:
        if not isinstance(value, list) or not value:
            self.err(key, "expected a non-empty list")
            return []
        return value

    def catalog(self, data: Any) -> Catalog | None:
        if not self.mapping(data, (), ("name", "companies", "tables"), ("description",)):
            return None
        name = self.text(data.get("name"), ("name",))
        if not name and "name" in data:
            self.err(("name",), "must not be empty")
        raw_companies = self.listing(data.get("companies"), ("companies",))
        companies = [self.company(c, ("companies", i)) for i, c in enumerate(raw_companies)]
        seen: set[str] = set()
        for i, c in enumerate(companies):
            if c is not None and c.id in seen:
                self.err(("companies", i, "id"), f"duplicate company id {c.id!r}")
            if c is not None:
                seen.add(c.id)
        raw_tables = self.listing(data.get("tables"), ("tables",))
        tables = [self.table(t, ("tables", i), seen) for i, t in enumerate(raw_tables)]
        names: set[str] = set()
        for i, t in enumerate(tables):
            if t is not None and t.name.lower() in names:
                self.err(("tables", i, "name"), f"duplicate table name {t.name!r}")
            if t is not None:
                names.add(t.name.lower())
        if self.problems:
            return None
        return Catalog(
            name=name,
            description=self.text(data.get("description"), ("description",)),
            companies=tuple(c for c in companies if c is not None),
            tables=tuple(t for t in tables if t is not None),
        )

    def company(self, value: Any, key: PathKey) -> Company | None:
        optional = ("ticker", "sector", "fiscal_year_end")
        if not self.mapping(value, key, ("id", "name"), optional):
            return None
        cid = self.text(value.get("id"), (*key, "id"), pattern=_SLUG, what="company id (lowercase slug)")
        name = self.text(value.get("name"), (*key, "name"))
        extra = {k: (self.text(value.get(k), (*key, k)) or None) for k in optional}
        return Company(id=cid, name=name or cid, **extra)

    def table(self, value: Any, key: PathKey, companies: set[str]) -> TableInfo | None:
        if not self.mapping(value, key, ("name", "company", "file", "columns"), ("description",)):
            return None
        name = self.text(value.get("name"), (*key, "name"), pattern=_IDENT, what="table name (SQL identifier)")
        company = self.text(value.get("company"), (*key, "company"))
        if "company" in value and company not in companies:
            known = ", ".join(sorted(companies)) or "none"
            self.err((*key, "company"), f"unknown company {company!r} (known: {known})")
        file = self.file(value.get("file"), (*key, "file"))
        raw_columns = self.listing(value.get("columns"), (*key, "columns"))
        columns = [self.column(c, (*key, "columns", i)) for i, c in enumerate(raw_columns)]
        seen: set[str] = set()
        for i, c in enumerate(columns):
            if c is not None and c.name.lower() in seen:
                self.err((*key, "columns", i, "name"), f"duplicate column name {c.name!r}")
            if c is not None:
                seen.add(c.name.lower())
        return TableInfo(
            name=name,
            company=company,
            file=file,
            description=self.text(value.get("description"), (*key, "description")),
            columns=tuple(c for c in columns if c is not None),
        )

    def file(self, value: Any, key: PathKey) -> Path | None:
        rel = self.text(value, key)
        if not rel:
            return None
        p = Path(rel)
        if p.is_absolute() or ".." in p.parts:
            self.err(key, f"{rel!r} must be a path inside the catalog's folder")
            return None
        if p.suffix.lower() not in DATA_SUFFIXES:
            self.err(key, f"{rel!r} must be a .csv or .parquet file")
            return None
        full = self.path.parent / p
        if not full.is_file():
            self.err(key, f"{rel!r} does not exist (looked for {full})")
            return None
        return full

    def column(self, value: Any, key: PathKey) -> ColumnInfo | None:
        if not self.mapping(value, key, ("name", "type"), ("unit", "description")):
            return None
        name = self.text(value.get("name"), (*key, "name"), pattern=_IDENT, what="column name (SQL identifier)")
        ctype = self.text(value.get("type"), (*key, "type")).upper()
        if "type" in value and ctype not in COLUMN_TYPES:
            self.err((*key, "type"), f"{value.get('type')!r} is not one of {', '.join(COLUMN_TYPES)}")
        unit = self.text(value.get("unit"), (*key, "unit")) or None
        return ColumnInfo(name, ctype, unit, self.text(value.get("description"), (*key, "description")))
