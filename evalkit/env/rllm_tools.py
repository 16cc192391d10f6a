"""The rllm-finqa tool profile: the four tools of rLLM's FinQA cookbook over an evalkit suite's database.

A checkpoint trained with the cookbook (rllm-org/rllm, ``cookbooks/finqa``, Apache-2.0) learned its tool
signatures and replies; this profile gives it those: ``get_table_names(company_name)``,
``get_table_info(company_name, table_name)``, ``sql_query(company_name, table_name, query)`` and
``calculator(expression)``, offered as the cookbook's ``TOOL_SPECS``, answering with its texts (a Python list
of table identifiers, table metadata as JSON, rows as ``to_json(orient="records")``, a float), refusing what
it refuses (an empty query, ``SELECT *``, a query with no filter or aggregate, one without ``FROM``) in its
words, with its "Available columns are: ..." hints, its dispatcher's messages for unknown tools and bad
arguments, and every output cut to 8,000 characters as ``finqa_flow._truncate`` cuts it.

Underneath stays evalkit's sandbox: a query that passes the cookbook's checks still goes through
``SqlSandbox.check`` (DuckDB's parser, the one deny list of ``env.sql_checks``) and runs in an isolation
worker under the time and memory limits; those refusals and limits come back as evalkit's structured
errors (``refused``, ``timeout``, ``resource_limit``). The engine is DuckDB, not the cookbook's SQLite, so an
SQL error names DuckDB's message inside pandas' ``Execution failed on sql '...': ...`` wrapper.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

import duckdb

from evalkit.contracts.rllm_names import identifier, normalize_company, rewrite_query, table_key
from evalkit.contracts.suite import SuiteSettings
from evalkit.env.calculator import CalculatorError, calculate
from evalkit.env.catalog import TableInfo
from evalkit.env.database import BuiltDatabase, quote_ident
from evalkit.env.isolation import runner_for
from evalkit.env.rllm_table_info import records_json, table_info_json
from evalkit.env.sandbox import SandboxedEnvironment, SqlSandbox
from evalkit.env.tools import ToolResult, shorten_error

MAX_TURNS = 20
"""``finqa_flow.MAX_TURNS``."""
MAX_TOOL_OUTPUT_CHARS = 8000
"""``finqa_flow.MAX_TOOL_OUTPUT_CHARS``."""
MAX_ROWS = 10_000
"""Rows fetched of one result (the cookbook fetches all; 8,000 characters are shown of them anyway)."""

#: The cookbook's ``TOOL_SPECS``, verbatim.
TOOL_SPECS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_table_names",
            "description": "List the tables available for a given company. Returns table identifiers (no extension) suitable for use with get_table_info / sql_query.",  # noqa: E501
            "parameters": {
                "type": "object",
                "properties": {
                    "company_name": {"type": "string", "description": "Company name (case-insensitive)."},
                },
                "required": ["company_name"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_table_info",
            "description": "Return metadata (description, column names, dtypes, sample values) for a specific table. Use the identifier returned by get_table_names.",  # noqa: E501
            "parameters": {
                "type": "object",
                "properties": {"company_name": {"type": "string"}, "table_name": {"type": "string"}},
                "required": ["company_name", "table_name"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "sql_query",
            "description": (
                "Execute a filtered SQLite query against a pre-loaded company table. "
                "Must include a WHERE / LIMIT / GROUP BY / ORDER BY clause or an aggregate "
                "(COUNT/MAX/MIN/SUM/AVG). SELECT * is rejected — list columns explicitly."
            ),
            "parameters": {
                "type": "object",
                "properties": {
                    "company_name": {"type": "string"},
                    "table_name": {"type": "string"},
                    "query": {"type": "string", "description": "SQLite query string."},
                },
                "required": ["company_name", "table_name", "query"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": "Safely evaluate a numeric expression and return the float result.",
            "parameters": {
                "type": "object",
                "properties": {"expression": {"type": "string", "description": "Arithmetic expression."}},
                "required": ["expression"],
            },
        },
    },
]

SQL_FILTER_TOKENS = (
    " WHERE ", " HAVING ", " GROUP BY ", " ORDER BY ", " LIMIT ", " OFFSET ", " IN ", " NOT IN ", " EXISTS ",
    " NOT EXISTS ", " LIKE ", " BETWEEN ", " FILTER ", " COUNT(", " MAX(", " MIN(", " SUM(", " AVG(",
)  # fmt: skip
"""``finqa_tools._SQL_FILTER_TOKENS``: one of these must be in the upper-cased query."""

_MISSING_COLUMN = re.compile(r'(?:Referenced column|does not have a column named) "([^"]+)"')
_MISSING_TABLE = re.compile(r"Table with name (\S+?) does not exist")


def truncate(s: str, n: int = MAX_TOOL_OUTPUT_CHARS) -> str:
    """``finqa_flow._truncate``: the head and the tail of an over-long output around a note."""
    if len(s) <= n:
        return s
    return s[: n // 2] + f"\n…(truncated {len(s) - n} chars)…\n" + s[-n // 2 :]


class RllmFinqaEnvironment(SandboxedEnvironment):
    """The cookbook's tools over one built database, for one episode (``EnvironmentPool`` makes them)."""

    profile = "rllm-finqa"

    def __init__(
        self,
        db: BuiltDatabase,
        settings: SuiteSettings,
        *,
        connection: duckdb.DuckDBPyConnection | None = None,
        info_cache: dict[str, str] | None = None,
        isolated: bool = True,
    ) -> None:
        con = self._open(db, settings, connection)
        # The cookbook's own checks replace evalkit's SELECT * and unfiltered refusals; the safety checks stay.
        self._sandbox = SqlSandbox(
            con,
            timeout_s=settings.query_timeout_s,
            refuse_select_star=False,
            refuse_unfiltered=False,
            runner=runner_for(db.path) if isolated else None,
        )
        self._info: dict[str, str] = info_cache if info_cache is not None else {}
        self._companies = {c.id.lower(): c.id for c in self.catalog.companies}
        self._tables: dict[tuple[str, str], TableInfo] = {}  # (company id, identifier lower) -> table
        self._listed: dict[str, list[str]] = {}
        for c in self.catalog.companies:
            tables = self.catalog.tables_of(c.id)
            self._listed[c.id] = [identifier(c.id, t.name) for t in tables]
            for t in tables:
                self._tables[(c.id, identifier(c.id, t.name).lower())] = t
        self._tools = [s for s in TOOL_SPECS if s["function"]["name"] in settings.tools]
        self._fns: dict[str, Any] = {
            "get_table_names": get_table_names,
            "get_table_info": get_table_info,
            "sql_query": sql_query,
            "calculator": calculator,
        }
        self._fns = {n: f for n, f in self._fns.items() if n in settings.tools}

    def tool_specs(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._tools)

    def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        return self.dispatch(name, arguments, None)

    def dispatch(self, name: str, arguments: dict[str, Any] | None, raw: str | None) -> ToolResult:
        """``finqa_flow._exec_tool_call``: one call → its reply, errors included (the loop hands every call
        here, malformed ones too, so the model reads the cookbook's messages)."""
        fn = self._fns.get(name)
        if fn is None:
            return ToolResult(False, f"Error: unknown tool '{name}'. Valid tools: {list(self._fns)}", "unknown_tool")
        if self._con is None:
            return ToolResult(False, "Error: the environment is closed.", "closed")
        args: Any = arguments
        if args is None:
            try:
                args = json.loads(raw or "{}")
            except json.JSONDecodeError as e:
                return ToolResult(False, f"Error: failed to parse tool arguments: {e}", "malformed_call")
        try:
            result: ToolResult = fn(self, **args)
        except TypeError as e:
            return ToolResult(False, f"Error: bad arguments for {name}: {e}", "bad_arguments")
        except Exception as e:  # as the cookbook: the tool's exception becomes the reply
            return ToolResult(False, f"Error: {name} raised {type(e).__name__}: {e}", "tool_crash")
        text = truncate(result.content)
        if text != result.content:
            result = ToolResult(result.ok, text, result.error_type, {**(result.data or {}), "truncated": True})
        return result

    # ------------------------------------------------------------------------------------------ lookups

    def company(self, company_name: str) -> str | None:
        return self._companies.get(normalize_company(company_name))

    def table(self, company: str | None, table_name: str) -> TableInfo | None:
        return self._tables.get((company, table_key(table_name))) if company is not None else None

    def listing(self, company: str) -> list[str]:
        return self._listed[company]

    def describe(self, info: TableInfo) -> str:
        if info.name not in self._info:
            assert self._con is not None
            cur = self._con.cursor()
            try:
                cols = ", ".join(quote_ident(c) for c in info.column_names)
                rows = cur.execute(f"SELECT {cols} FROM {quote_ident(info.name)}").fetchall()
            finally:
                cur.close()
            self._info[info.name] = table_info_json(cookbook_view(info), rows)
        return self._info[info.name]

    def run_query(self, info: TableInfo, query: str, table_name: str) -> ToolResult:
        """The rewritten query through the sandbox: rows as JSON records, or the error as the cookbook words it."""
        checked = rewrite_query(query, table_name, f'"{info.name}"')
        derived = _derived(info)
        executed = rewrite_query(query, table_name, derived) if derived else checked
        base: dict[str, Any] = {"table": info.name, "company": info.company, "executed": executed}
        if derived:
            base["checked"] = checked  # the query over the catalog's table, as the checks read it
        check = self._sandbox.check(executed)
        if check.refusal is not None:
            return ToolResult(False, f"Error: {check.refusal}", "refused", {**base, "tables": list(check.tables)})
        tables = list(check.tables)
        base["tables"] = tables
        if check.error is not None:
            return self._sql_error(info, executed, check.error, base)
        text = executed.strip().rstrip(";").rstrip()
        fetched = self._sandbox.fetch(f"SELECT to_json(evalkit_row) FROM ({text}\n) AS evalkit_row", MAX_ROWS)
        if not fetched.ok:
            if fetched.error_kind in ("timeout", "resource_limit"):
                return ToolResult(False, f"Error: {fetched.error_kind}: {fetched.text}", fetched.error_kind, base)
            return self._sql_error(info, executed, fetched.text, base)
        rows = [json.loads(str(v)) for v in fetched.values]
        columns = list(rows[0]) if rows else []
        view = cookbook_view(info)
        if rows:  # SQLite reads an unknown "name" as the text 'name': the cookbook catches it by the value
            valid = {c.lower() for c in (*view.column_names, *info.column_names)}
            for col in columns:
                clean = col.strip("\"'`")
                if clean.lower() not in valid and str(rows[0][col]) == clean:
                    return ToolResult(
                        False,
                        f'Error: Column "{clean}" not found. Available columns are: {", ".join(sorted(valid))}',
                        "unknown_column",
                        {**base, "missing": clean, "columns": {info.name: list(view.column_names)}},
                    )
        data = {**base, "columns": columns, "rows": len(rows), "shown": len(rows), "truncated": False}
        return ToolResult(True, records_json(columns, rows), data=data)

    def _sql_error(self, info: TableInfo, executed: str, message: str, base: dict[str, Any]) -> ToolResult:
        # DuckDB's "LINE 1:" pointer shows the query as the sandbox wrapped it: the message stops before it
        message = shorten_error(message).split("\nLINE ", 1)[0].rstrip()
        m = _MISSING_COLUMN.search(message)
        if m:
            names = list(cookbook_view(info).column_names)
            return ToolResult(
                False,
                "Error : Column not found in table. Available columns are: " + ", ".join(names),
                "unknown_column",
                {**base, "missing": m.group(1), "columns": {info.name: names}},
            )
        text = f"Error: Execution failed on sql '{executed}': {message}"
        m = _MISSING_TABLE.search(message)
        if m:
            return ToolResult(False, text, "unknown_table", {**base, "missing": m.group(1).strip('"')})
        return ToolResult(False, text, "sql_error", base)


def cookbook_view(info: TableInfo) -> TableInfo:
    """The table as the cookbook's SQLite table has it: each column by its ``source_name`` (``NaT``,
    ``2023-01-01 00:00:00``, as ``suite import-rllm-finqa`` records them), where it has one that no other column
    is called; a table of another suite is itself."""
    taken = {c.name.lower() for c in info.columns}
    renamed = tuple(
        dataclasses.replace(c, name=c.source_name) if c.source_name and c.source_name.lower() not in taken else c
        for c in info.columns
    )
    return info if renamed == info.columns else dataclasses.replace(info, columns=renamed)


def _derived(info: TableInfo) -> str | None:
    """What ``FROM <table>`` becomes when the table has cookbook names: the table with every column under its
    catalog name and, beside it, its cookbook name, so a query may use either; None when it has none."""
    view = cookbook_view(info)
    if view is info:
        return None
    names = [quote_ident(c.name) for c in info.columns]
    aliases = [
        f"{quote_ident(c.name)} AS {quote_ident(v.name)}"
        for c, v in zip(info.columns, view.columns, strict=True)
        if c.name != v.name
    ]
    return f"(SELECT {', '.join(names + aliases)} FROM {quote_ident(info.name)}) AS {quote_ident(info.name)}"


# ---------------------------------------------------------------------------------- the four tools
# Named and shaped as the cookbook's functions, so a call with wrong arguments fails with Python's own
# message ("sql_query() missing 1 required positional argument: 'query'"), as it does there.


def get_table_names(env: RllmFinqaEnvironment, /, company_name: str) -> ToolResult:
    company = env.company(company_name)
    if company is None:
        text = f"Error: Company name {company_name} not found, use a valid company name."
        return ToolResult(False, text, "unknown_company", {"company": company_name, "suggestions": []})
    names = env.listing(company)
    tables = [t.name for t in env.catalog.tables_of(company)]
    return ToolResult(True, str(names), data={"tables": tables, "company": company, "identifiers": names})


def get_table_info(env: RllmFinqaEnvironment, /, company_name: str, table_name: str) -> ToolResult:
    company = env.company(company_name)
    if company is None:
        return ToolResult(False, f'Error: Company "{company_name}" not found.', "unknown_company")
    info = env.table(company, table_name)
    if info is None:
        text = f'Error: Table "{table_name}" not found for company "{company_name}". Use get_table_names for full list.'
        return ToolResult(False, text, "unknown_table", {"missing": table_name, "company": company})
    return ToolResult(True, env.describe(info), data={"table": info.name, "company": company})


def sql_query(env: RllmFinqaEnvironment, /, company_name: str, table_name: str, query: str) -> ToolResult:
    if not query or not query.strip():
        return ToolResult(False, "Error : query must not be empty.", "refused")
    company = env.company(company_name)
    info = env.table(company, table_name)
    if info is None:
        text = f"Error: table {table_name} for company {company_name} could not be found."
        kind = "unknown_company" if company is None else "unknown_table"
        return ToolResult(False, text, kind, {"missing": table_name, "company": company})
    query_upper = re.sub(r"(\\r|\\n|\\t|[\r\n\t])+", " ", query).upper()
    shown = identifier(info.company, info.name)  # the cookbook names the table as it found it
    if "SELECT *" in query_upper:
        text = (
            f'Error : "SELECT *" is not allowed. Please list columns explicitly, e.g., '
            f"SELECT column1, column2 FROM {shown} LIMIT 5."
        )
        return ToolResult(False, text, "refused", {"table": info.name})
    if not any(clause in query_upper for clause in SQL_FILTER_TOKENS):
        text = "Error: Query needs a filter (WHERE, LIMIT, GROUP BY) or aggregate (COUNT, SUM, AVG, MIN, MAX)."
        return ToolResult(False, text, "refused", {"table": info.name})
    if "SELECT" in query_upper and "FROM" not in query_upper:
        text = f"Error: Missing FROM clause. Use: SELECT ... FROM {table_name} ..."
        return ToolResult(False, text, "refused", {"table": info.name})
    return env.run_query(info, query, table_name)


def calculator(env: RllmFinqaEnvironment, /, expression: str) -> ToolResult:
    """The cookbook's normalisation of the expression, then evalkit's bounded evaluator (not asteval)."""
    if not isinstance(expression, str):
        return ToolResult(False, "Error: Input expression must be a string.", "calc_error")
    expr = expression.strip().replace("\n", " ").replace("\r", " ").replace("^", "**")
    expr = expr.replace("$", "").replace("€", "").replace("£", "").replace("\u00a0", " ")
    expr = expr.replace("–", "-").replace("—", "-").replace("−", "-").replace("×", "*").replace("÷", "/")
    for i, fw in enumerate("０１２３４５６７８９"):
        expr = expr.replace(fw, str(i))
    expr = re.sub(r"(\d+(?:\.\d+)?)%", r"(\1/100)", expr)
    expr = re.sub(r"\d{1,3}(?:,\d{3})+", lambda m: m.group(0).replace(",", ""), expr)
    try:
        value = float(calculate(expr))
    except CalculatorError as e:
        text = f"Error evaluating expression: '{expression}'. Details: {e}"
        return ToolResult(False, text, "calc_error", {"expression": expression})
    return ToolResult(True, str(value), data={"value": value})
