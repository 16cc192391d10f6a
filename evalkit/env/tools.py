"""The four tools an agent gets: get_table_names, get_table_info, sql_query and calculator.

``FinanceEnvironment`` serves one episode: it opens the suite database read-only (sandbox settings),
answers tool calls with :class:`ToolResult` values, and is closed at the end. Errors are results too,
with an ``error_type`` (``unknown_company``, ``unknown_table``, ``unknown_column``, ``refused``,
``timeout``, ``resource_limit``, ``sql_error``, ``calc_error``, ``unknown_tool``, ``bad_arguments``) and a message that
names the closest valid choices.

The agent's own queries run in a sandbox worker process (``env.isolation``) that the operating system bounds
in memory and that is killed past the time limit; table descriptions are our own bounded queries and run
on the environment's connection.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from evalkit.contracts.suite import SuiteSettings
from evalkit.env.calculator import CalculatorError, calculate, format_number
from evalkit.env.catalog import Company, TableInfo
from evalkit.env.database import BuiltDatabase, open_readonly, quote_ident
from evalkit.env.isolation import runner_for, shared_pool
from evalkit.env.sandbox import SandboxedEnvironment, SqlOutcome, SqlSandbox

if TYPE_CHECKING:
    from evalkit.env.rllm_tools import RllmFinqaEnvironment

MAX_DISTINCT_VALUES = 8


def _params(name: str, description: str, *, required: bool) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": "string", "minLength": 1, "description": description}},
        "required": [name] if required else [],
        "additionalProperties": False,
    }


#: Tool name -> JSON Schema of its arguments (for validating a model's calls before running them).
TOOL_SCHEMAS: dict[str, dict[str, Any]] = {
    "get_table_names": _params(
        "company", "Optional: a company's id, name or ticker; omit to list every table.", required=False
    ),
    "get_table_info": _params("table", "The exact table name, as listed by get_table_names.", required=True),
    "sql_query": _params("query", "One DuckDB SQL SELECT statement.", required=True),
    "calculator": _params(
        "expression", "One arithmetic expression with numbers only, e.g. (1234.5 - 987.6) / 987.6 * 100.", required=True
    ),
}


def _descriptions(s: SuiteSettings) -> dict[str, str]:
    rules = ["Only one read-only SELECT statement per call (WITH, JOIN, UNION allowed); no files, no DDL/DML."]
    if s.refuse_select_star:
        rules.append("SELECT * is refused: name the columns you need.")
    if s.refuse_unfiltered:
        rules.append(
            "A query that would return every row of a table is refused: add a WHERE filter "
            "(e.g. on fiscal_year), GROUP BY, an aggregate or LIMIT."
        )
    rules.append(f"Queries running longer than {s.query_timeout_s:g} s are cancelled.")
    return {
        "get_table_names": "List the database's tables, grouped by company, one name per line. Pass `company` "
        "(id, name or ticker) to list only that company's tables. Use this first to find which tables exist.",
        "get_table_info": "Describe one table: its company, what it contains, and every column's name, SQL type, "
        "unit and meaning, with sample values of text columns (amounts stored as text, such as '$1,234.5' or "
        "'(12.0)' for negatives, must be converted before arithmetic). Read it before querying the table.",
        "sql_query": "Run a DuckDB SQL query and return the result as text: a header line of column names, then "
        f"one row per line with values separated by ' | '. At most {s.row_cap} rows and {s.char_cap:,} "
        "characters are returned; longer results are cut with a note. " + " ".join(rules),
        "calculator": "Evaluate ONE arithmetic expression and return the number (up to 10 significant digits). "
        "Supports + - * / // % ** (or ^), parentheses, abs, round, min, max, sqrt, log (natural; log(x, base)), "
        "log10, exp. Numbers may include $ € £, thousands separators (1,234.5) and percentages (12% = 0.12). "
        "No variables or text: substitute the numbers.",
    }


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    content: str
    error_type: str | None = None
    data: dict[str, Any] | None = None


def _closest(word: str, choices: list[str], n: int = 3) -> list[str]:
    by_lower = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=0.4)
    if not found:  # fall back to substring matches, e.g. "income" -> "northwind_income_statement"
        found = [k for k in by_lower if word.lower() in k][:n]
    return [by_lower[f] for f in found]


MAX_CANDIDATES = 5


def shorten_error(message: str, max_candidates: int = MAX_CANDIDATES) -> str:
    """A DuckDB error as an agent can act on it: DuckDB lists every overload of a function called with the
    wrong argument types (``extract`` has 20, some errors run to thousands of characters); keep the first
    ``max_candidates`` of that list, say how many were left out, and keep the rest (the first line, and the
    ``LINE 1:`` pointer to where the query failed). Blank lines are dropped."""
    out: list[str] = []
    listed = dropped = 0

    def close_list() -> None:
        nonlocal listed, dropped
        if dropped:
            out.append(f"\t(… and {dropped} more candidate functions)")
        listed = dropped = 0

    for line in message.splitlines():
        if listed or (out and out[-1].strip() == "Candidate functions:"):
            if line[:1] == "\t" and line.strip():
                listed += 1
                if listed > max_candidates:
                    dropped += 1
                else:
                    out.append(line)
                continue
            close_list()
        if line.strip():
            out.append(line)
    close_list()
    return "\n".join(out)


_MISSING_TABLE = re.compile(r"Table with name (.+?) does not exist")
_MISSING_COLUMN = re.compile(r'(?:Referenced column|does not have a column named) "([^"]+)"')


class FinanceEnvironment(SandboxedEnvironment):
    """The tools over one built database, for one episode."""

    def __init__(
        self,
        db: BuiltDatabase,
        settings: SuiteSettings,
        *,
        connection: duckdb.DuckDBPyConnection | None = None,
        info_cache: dict[str, ToolResult] | None = None,
        isolated: bool = True,
    ) -> None:
        """``connection`` (a cursor of a shared sandboxed connection, see ``EnvironmentPool``) and
        ``info_cache`` let the episodes of a run share what is expensive to make; by default the environment
        opens its own read-only connection, configured as ``EnvironmentPool``'s (DuckDB refuses a second
        connection to a file with another configuration in one process). ``isolated`` runs the agent's
        queries in the shared worker pool (``env.isolation``); ``False`` runs them in-process (for measuring
        what isolation costs)."""
        con = self._open(db, settings, connection)
        self._sandbox = SqlSandbox(
            con,
            row_cap=settings.row_cap,
            char_cap=settings.char_cap,
            timeout_s=settings.query_timeout_s,
            refuse_select_star=settings.refuse_select_star,
            refuse_unfiltered=settings.refuse_unfiltered,
            runner=runner_for(db.path) if isolated else None,
        )
        self._tools = {t for t in settings.tools if t in TOOL_SCHEMAS}
        self._table_names = list(self.catalog.table_names)
        self._company_keys = {
            k: c for c in self.catalog.companies for k in (c.id, c.name, c.ticker) if k
        }  # for suggestions
        self._info: dict[str, ToolResult] = info_cache if info_cache is not None else {}
        self._handlers = {
            "get_table_names": self._get_table_names,
            "get_table_info": self._get_table_info,
            "sql_query": self._sql_query,
            "calculator": self._calculator,
        }

    # ---------------------------------------------------------------------------------------- protocol

    def tool_specs(self) -> list[dict[str, Any]]:
        text = _descriptions(self.settings)
        return [
            {"type": "function", "function": {"name": n, "description": text[n], "parameters": TOOL_SCHEMAS[n]}}
            for n in TOOL_SCHEMAS
            if n in self._tools
        ]

    def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        if name not in self._tools:
            known = ", ".join(t for t in TOOL_SCHEMAS if t in self._tools)
            return ToolResult(False, f"Error: unknown tool {name!r}. Available tools: {known}.", "unknown_tool")
        if self._con is None:
            return ToolResult(False, "Error: the environment is closed.", "closed")
        schema = TOOL_SCHEMAS[name]
        (param,) = schema["properties"]
        args = arguments if isinstance(arguments, dict) else {}
        extra = sorted(k for k in args if k != param)
        value = args.get(param)
        if extra or not isinstance(arguments, dict):
            return ToolResult(False, f"Error: {name} takes only the argument {param!r}.", "bad_arguments")
        if value is None and param in schema["required"]:
            return ToolResult(False, f"Error: {name} needs the argument {param!r}.", "bad_arguments")
        if value is not None and not isinstance(value, str):
            return ToolResult(False, f"Error: {param!r} must be a string.", "bad_arguments")
        return self._handlers[name](value)

    # ------------------------------------------------------------------------------------------- tools

    def _get_table_names(self, company: str | None) -> ToolResult:
        if company is None or not company.strip():
            groups = [(c, self.catalog.tables_of(c.id)) for c in self.catalog.companies]
            lines = []
            for c, tables in groups:
                if tables:
                    lines.append(f"{c.label()}:")
                    lines.extend(f"  {t.name}" for t in tables)
            return ToolResult(True, "\n".join(lines), data={"tables": self._table_names, "company": None})
        try:
            found = self.catalog.company(company)
        except KeyError:
            close = [self._company_keys[k].label() for k in _closest(company, list(self._company_keys))]
            close = list(dict.fromkeys(close))
            hint = f" Closest matches: {'; '.join(close)}." if close else ""
            everyone = "; ".join(c.label() for c in self.catalog.companies)
            return ToolResult(
                False,
                f"Error: unknown company {company!r}.{hint} Companies: {everyone}.",
                "unknown_company",
                {"company": company, "suggestions": close},
            )
        names = [t.name for t in self.catalog.tables_of(found.id)]
        content = "\n".join(names) if names else f"(no tables for {found.label()})"
        return ToolResult(True, content, data={"tables": names, "company": found.id})

    def _get_table_info(self, table: str | None) -> ToolResult:
        name = (table or "").strip()
        try:
            info = self.catalog.table(name)
        except KeyError:
            close = _closest(name, self._table_names)
            hint = f" Closest matches: {', '.join(close)}." if close else " Use get_table_names to list tables."
            return ToolResult(
                False, f"Error: unknown table {name!r}.{hint}", "unknown_table", {"missing": name, "suggestions": close}
            )
        if info.name not in self._info:
            self._info[info.name] = self._describe(info)
        return self._info[info.name]

    def _describe(self, info: TableInfo) -> ToolResult:
        company = self._company(info.company)
        assert self._con is not None
        cur = self._con.cursor()
        try:
            count_row = cur.execute(f"SELECT count(*) FROM {quote_ident(info.name)}").fetchone()
            columns = []
            for c in info.columns:
                values: list[str] | None = None
                if c.type.upper() == "VARCHAR":
                    col = quote_ident(c.name)
                    rows = cur.execute(
                        f"SELECT DISTINCT {col} FROM {quote_ident(info.name)} WHERE {col} IS NOT NULL "
                        f"ORDER BY 1 LIMIT {MAX_DISTINCT_VALUES + 1}"
                    ).fetchall()
                    values = [str(r[0]) for r in rows]
                columns.append((c, values))
        finally:
            cur.close()
        rows_total = int(count_row[0]) if count_row else 0
        fye = f"; fiscal year ends {company.fiscal_year_end}" if company and company.fiscal_year_end else ""
        lines = [f"Table {info.name} (company: {company.label() if company else info.company}{fye})"]
        if info.description:
            lines.append(info.description)
        lines.append(f"{rows_total} rows. Columns:")
        col_data = []
        for c, values in columns:
            line = f"- {c.name} {c.type}" + (f" [{c.unit}]" if c.unit else "")
            if c.description:
                line += f": {c.description}"
            if values is not None:
                shown = ", ".join(repr(v) for v in values[:MAX_DISTINCT_VALUES])
                more = ", …" if len(values) > MAX_DISTINCT_VALUES else ""
                line += f" (values: {shown}{more})" if values else " (no values)"
            lines.append(line)
            col_data.append(
                {"name": c.name, "type": c.type, "unit": c.unit, "description": c.description, "values": values}
            )
        data = {"table": info.name, "company": info.company, "rows": rows_total, "columns": col_data}
        return ToolResult(True, "\n".join(lines), data=data)

    def _company(self, cid: str) -> Company | None:
        try:
            return self.catalog.company(cid)
        except KeyError:
            return None

    def _sql_query(self, query: str | None) -> ToolResult:
        out = self._sandbox.run(query or "")
        tables = list(out.tables)
        if out.ok:
            data = {
                "tables": tables,
                "columns": list(out.columns),
                "rows": out.total_rows if out.total_rows is not None else out.rows,
                "shown": out.rows,
                "truncated": out.truncated,
            }
            return ToolResult(True, out.text, data=data)
        if out.error_kind in ("refused", "timeout", "resource_limit"):
            return ToolResult(False, f"Error: {out.text}", out.error_kind, {"tables": tables})
        return self._sql_error(out, tables)

    def _sql_error(self, out: SqlOutcome, tables: list[str]) -> ToolResult:
        message = shorten_error(out.text)
        m = _MISSING_TABLE.search(message) if out.error_class == "CatalogException" else None
        if m:
            missing = m.group(1).strip('"')
            close = _closest(missing, self._table_names)
            hint = f"\nClosest table names: {', '.join(close)}." if close else ""
            return ToolResult(
                False,
                f"Error: {message}{hint}",
                "unknown_table",
                {"missing": missing, "tables": tables, "suggestions": close},
            )
        m = _MISSING_COLUMN.search(message) if out.error_class == "BinderException" else None
        if m:
            known: dict[str, list[str]] = {}
            for t in tables:
                try:
                    info = self.catalog.table(t)
                except KeyError:
                    continue
                known[info.name] = list(info.column_names)
            listing = "".join(f"\nColumns of {t}: {', '.join(cols)}." for t, cols in known.items())
            return ToolResult(
                False,
                f"Error: {message}{listing}",
                "unknown_column",
                {"missing": m.group(1), "tables": tables, "columns": known},
            )
        return ToolResult(False, f"Error: {message}", "sql_error", {"tables": tables})

    def _calculator(self, expression: str | None) -> ToolResult:
        try:
            value = calculate(expression or "")
        except CalculatorError as e:
            return ToolResult(False, f"Error: {e}", "calc_error", {"expression": expression})
        return ToolResult(True, format_number(value), data={"value": value})


class EnvironmentPool:
    """Makes the environments of a run's episodes from one shared read-only connection.

    Opening a DuckDB file costs tens of milliseconds; a cursor of an open connection costs a fraction of
    one, and table descriptions are computed once for the run. Each environment still has its own cursor,
    so a time-limit interrupt stops only its own query. The shared connection has the same sandbox settings
    (read-only, no external access, configuration locked) as a private one. The agent's queries run in the
    sandbox worker pool, whose first worker starts here so the first query does not wait for it.
    """

    def __init__(self, db: BuiltDatabase, settings: SuiteSettings) -> None:
        self.db = db
        self.settings = settings
        # One thread: agents' queries are small, and DuckDB's task scheduling costs more than it saves there.
        self._con = open_readonly(db.path, threads=1)
        self._info: dict[str, ToolResult] = {}
        self._rllm: dict[str, str] = {}
        pool = shared_pool()
        if pool is not None:
            pool.warm()

    def __call__(self) -> FinanceEnvironment | RllmFinqaEnvironment:
        if self.settings.profile == "rllm-finqa":  # the suite's tool profile decides the tools
            from evalkit.env.rllm_tools import RllmFinqaEnvironment

            return RllmFinqaEnvironment(self.db, self.settings, connection=self._con.cursor(), info_cache=self._rllm)
        return FinanceEnvironment(self.db, self.settings, connection=self._con.cursor(), info_cache=self._info)

    def close(self) -> None:
        self._con.close()
