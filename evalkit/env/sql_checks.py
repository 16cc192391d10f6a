"""The pre-execution checks on an agent's SQL: a sqlglot walk of the parsed query.

It refuses writes, settings, extensions, attachments, file-reading and meta functions, file-path table
references, ``SELECT *`` and unfiltered scans (when enabled), and names the tables a query reads. DuckDB's own
parser runs first (in ``sandbox.SqlSandbox.check``); this module never executes anything.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType


@dataclass(frozen=True)
class QueryCheck:
    """The verdict of the pre-execution checks: a refusal, a parse error, or fine (both None)."""

    refusal: str | None = None
    error: str | None = None
    error_class: str | None = None
    tables: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------- checks

_DIALECT = sqlglot.Dialect.get_or_raise("duckdb")
UNSAFE_KEYWORDS = frozenset(
    {
        "COPY", "ATTACH", "DETACH", "INSTALL", "LOAD", "PRAGMA", "SET", "RESET", "CALL", "EXPORT", "IMPORT",
        "CREATE", "INSERT", "UPDATE", "DELETE", "DROP", "ALTER", "TRUNCATE", "VACUUM", "CHECKPOINT", "USE",
        "GRANT", "REVOKE", "MERGE",
    }
)  # fmt: skip
_LITERAL_TOKEN_NAMES = (
    "STRING", "IDENTIFIER", "BIT_STRING", "HEX_STRING", "BYTE_STRING", "NATIONAL_STRING",
    "NATIONAL_RAW_STRING", "RAW_STRING", "HEREDOC_STRING", "UNICODE_STRING",
)  # fmt: skip
_LITERAL_TOKENS = frozenset(getattr(TokenType, n) for n in _LITERAL_TOKEN_NAMES if hasattr(TokenType, n))
_FORBIDDEN_NODE_NAMES = (
    "Command", "Create", "Insert", "Update", "Delete", "Drop", "Alter", "Copy", "Set", "Pragma", "Use",
    "Attach", "Detach", "Install", "Into", "Merge", "TruncateTable", "Describe", "Summarize", "Show",
    "Export", "Import", "LoadData", "Transaction", "Commit", "Rollback",
)  # fmt: skip
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = tuple(
    t for t in (getattr(exp, n, None) for n in _FORBIDDEN_NODE_NAMES) if isinstance(t, type)
)
#: Functions that read files, the network, settings, secrets or the environment, or run SQL from a string.
UNSAFE_FUNCTIONS = frozenset(
    {
        "getenv", "current_setting", "glob", "sniff_csv", "query", "query_table", "parquet_scan",
        "iceberg_scan", "delta_scan", "sqlite_scan", "sqlite_attach", "postgres_scan", "postgres_attach",
        "mysql_scan", "st_read", "load_aws_credentials", "which_secret", "checkpoint", "force_checkpoint",
        "enable_profiling", "disable_profiling", "set_variable", "arrow_scan", "pandas_scan",
        "python_map_function", "from_csv_auto", "json_execute_serialized_sql", "sql_auto_complete",
    }
)  # fmt: skip
UNSAFE_PREFIXES = (
    "read_", "parquet_", "duckdb_", "pragma_", "json_execute", "sqlite_", "postgres_", "mysql_",
    "iceberg_", "delta_", "http", "s3_", "azure_", "gcs_", "st_read", "load_aws", "enable_", "disable_",
)  # fmt: skip
"""With ``UNSAFE_KEYWORDS`` and ``UNSAFE_FUNCTIONS``, the one deny list: the sandbox refuses what it names
before a query runs, and the ``safe_sql`` check fails a trace that tried it."""
_TABLE_FUNCS = frozenset({"range", "generate_series", "unnest"})
_DESCRIBE_NODES = ("DESCRIBE", "SUMMARIZE", "SHOW")
FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*\n?|/\*.*?\*/)*([A-Za-z_]+)", re.S)
_READ_ROUTE = "query the tables listed by get_table_names instead"
_BOUNDING_ARGS = ("where", "group", "having", "limit", "qualify", "distinct", "sample")


def _func_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def unsafe_function(name: str) -> bool:
    """Whether a (lower-case) function reads files, the network, settings or secrets, or runs SQL text."""
    return name in UNSAFE_FUNCTIONS or name.startswith(UNSAFE_PREFIXES) or name.endswith("_scan")


def _arg(node: exp.Expr, key: str) -> Any:
    return node.args.get(key + "_", node.args.get(key))


@functools.lru_cache(maxsize=512)
def analyse(query: str, refuse_select_star: bool, refuse_unfiltered: bool) -> QueryCheck:
    """The sqlglot checks of one statement (already known to DuckDB as a single SELECT).

    sqlglot parses and walks recursively: a query nested deeper than Python's recursion limit allows
    (50 levels of parentheses are enough) is refused rather than analysed halfway."""
    try:
        return _analyse(query, refuse_select_star, refuse_unfiltered)
    except RecursionError:
        return QueryCheck(refusal="refused: the query is nested too deeply to be checked; simplify it")


def _analyse(query: str, refuse_select_star: bool, refuse_unfiltered: bool) -> QueryCheck:
    try:
        tokens = _DIALECT.tokenize(query)
    except sqlglot.errors.SqlglotError as e:
        return QueryCheck(refusal=f"refused: the query could not be analysed ({e}); use standard SQL")
    for tok in tokens:
        if tok.token_type not in _LITERAL_TOKENS and tok.text.upper() in UNSAFE_KEYWORDS:
            return QueryCheck(
                refusal=f"refused: {tok.text.upper()} is not allowed; only read-only SELECT queries may run "
                f'(quote it as "{tok.text}" if it is a column name)'
            )
    try:
        trees = [t for t in _DIALECT.parser().parse(tokens, query) if t is not None]
    except sqlglot.errors.SqlglotError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return QueryCheck(refusal=f"refused: the query could not be analysed ({first}); use standard SQL")
    if len(trees) != 1:
        return QueryCheck(refusal="refused: send exactly one SQL statement per call")
    root = trees[0]
    while isinstance(root, exp.Subquery):
        root = root.this
    if not isinstance(root, exp.Select | exp.SetOperation):
        kind = type(root).__name__.upper()
        hint = "; get_table_names and get_table_info describe the tables" if kind in _DESCRIBE_NODES else ""
        return QueryCheck(refusal=f"refused: only read-only SELECT queries are allowed, not {kind}{hint}")
    ctes = {str(c.alias).lower(): c.this for c in root.find_all(exp.CTE)}
    tables: list[str] = []
    for node in root.walk():
        refusal = _node_refusal(node, ctes, tables)
        if refusal:
            return QueryCheck(refusal=refusal, tables=tuple(tables))
    found = tuple(dict.fromkeys(tables))
    if refuse_select_star:
        for sel in root.find_all(exp.Select):
            if any(_bare_star(p) for p in sel.expressions):
                return QueryCheck(
                    refusal="refused: SELECT * is not allowed; name the columns you need explicitly "
                    "(get_table_info lists them)",
                    tables=found,
                )
    if refuse_unfiltered:
        full = _full_scan(root, ctes, 0)
        if full is not None:
            return QueryCheck(
                refusal=f"refused: this query would return every row of {full}; add a filter or an aggregate "
                "(WHERE, GROUP BY, an aggregate such as SUM or COUNT, or LIMIT)",
                tables=found,
            )
    return QueryCheck(tables=found)


def _node_refusal(node: exp.Expr, ctes: dict[str, exp.Expr], tables: list[str]) -> str | None:
    if isinstance(node, _FORBIDDEN_NODES):
        return f"refused: {type(node).__name__.upper()} is not allowed; only read-only SELECT queries may run"
    if isinstance(node, exp.Func):
        name = _func_name(node)
        if unsafe_function(name):
            return f"refused: {name}() reads files, settings or the environment and is not allowed; {_READ_ROUTE}"
        return None
    if not isinstance(node, exp.Table):
        return None
    if isinstance(node.this, exp.Func):
        name = _func_name(node.this)
        if unsafe_function(name):
            return _node_refusal(node.this, ctes, tables)
        if name not in _TABLE_FUNCS:
            return f"refused: the table function {name}() is not allowed; {_READ_ROUTE}"
        return None
    name = str(node.name)
    schema = str(_arg(node, "db") or "").lower()
    if any(ch in name for ch in "./\\:") or not name:
        return f"refused: reading files ({name!r}) is not allowed; {_READ_ROUTE}"
    if name.lower().startswith(("duckdb_", "pg_")) or schema == "pg_catalog":
        return f"refused: the system table {name} is not allowed; {_READ_ROUTE}"
    if schema or name.lower() not in ctes:
        tables.append(name)
    return None


def _bare_star(projection: exp.Expr) -> bool:
    """A ``*`` (or ``t.*``, ``COLUMNS(*)``) in a projection, other than inside an aggregate like COUNT(*)."""
    for star in projection.find_all(exp.Star):
        node: exp.Expr | None = star
        while node is not None and node is not projection and not isinstance(node, exp.AggFunc):
            node = node.parent
        if not isinstance(node, exp.AggFunc):
            return True
    return False


def _aggregates(sel: exp.Select) -> bool:
    for projection in sel.expressions:
        for agg in projection.find_all(exp.AggFunc):
            if not isinstance(agg.parent, exp.Window) and agg.find_ancestor(exp.Select) is sel:
                return True
    return False


def _full_scan(node: exp.Expr, ctes: dict[str, exp.Expr], depth: int) -> str | None:
    """The name of a table whose every row the query would return, if any."""
    if depth > 30:
        return None
    if isinstance(node, exp.Subquery):
        return None if node.args.get("limit") else _full_scan(node.this, ctes, depth + 1)
    if isinstance(node, exp.SetOperation):
        if node.args.get("limit"):
            return None
        return _full_scan(node.left, ctes, depth + 1) or _full_scan(node.right, ctes, depth + 1)
    if not isinstance(node, exp.Select) or any(node.args.get(k) for k in _BOUNDING_ARGS) or _aggregates(node):
        return None
    from_ = _arg(node, "from")
    sources = ([from_.this] if from_ is not None else []) + [j.this for j in node.args.get("joins") or ()]
    for src in sources:
        if isinstance(src, exp.Table) and not isinstance(src.this, exp.Func):
            name = str(src.name)
            if not _arg(src, "db") and name.lower() in ctes:
                hit = _full_scan(ctes[name.lower()], ctes, depth + 1)
            else:
                hit = name
        elif isinstance(src, exp.Subquery):
            hit = _full_scan(src, ctes, depth + 1)
        else:
            hit = None
        if hit:
            return hit
    return None


# ------------------------------------------------------------------------------------------ execution
