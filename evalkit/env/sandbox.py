"""Run an agent's SQL safely: check it before execution, then run it with a time limit and output caps.

Checks (before anything runs): exactly one statement, and a read-only SELECT (``WITH``, ``UNION`` and
friends allowed) according to DuckDB's own parser; then a keyword screen and an AST walk with sqlglot that
refuse writes, settings, extensions, attachments, file-reading and meta functions, file-path table
references, ``SELECT *`` and unfiltered scans (when enabled). Execution uses a read-only connection whose
locked configuration forbids file, network and extension access (see ``database.open_readonly``), so a
query the checks miss is still blocked. A shared watchdog thread interrupts queries past their time limit;
at most ``row_cap + 1`` rows are fetched, and output is capped at ``char_cap`` characters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

MAX_QUERY_CHARS = 20_000
MAX_CELL_CHARS = 200

ErrorKind = Literal["refused", "timeout", "error"]


@dataclass(frozen=True)
class SqlOutcome:
    """The result of one query: rendered rows, or a refusal / error message in ``text``."""

    ok: bool
    text: str
    columns: tuple[str, ...] = ()
    rows: int = 0  # rows shown
    total_rows: int | None = None  # all rows of the result, when known
    truncated: bool = False
    error_kind: ErrorKind | None = None
    error_class: str | None = None  # DuckDB's exception class, e.g. "BinderException"
    tables: tuple[str, ...] = ()  # tables the query references (not CTE names)


@dataclass(frozen=True)
class QueryCheck:
    """The verdict of the pre-execution checks: a refusal, a parse error, or fine (both None)."""

    refusal: str | None = None
    error: str | None = None
    error_class: str | None = None
    tables: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------------- checks

_DIALECT = sqlglot.Dialect.get_or_raise("duckdb")
_FORBIDDEN_KEYWORDS = frozenset(
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
#: Functions that read files, the network, settings or the environment, or run SQL from a string.
_FORBIDDEN_FUNCS = frozenset(
    {
        "getenv", "current_setting", "glob", "sniff_csv", "query", "query_table", "parquet_scan",
        "iceberg_scan", "delta_scan", "sqlite_scan", "sqlite_attach", "postgres_scan", "postgres_attach",
        "mysql_scan", "st_read", "load_aws_credentials", "which_secret", "checkpoint", "force_checkpoint",
        "enable_profiling", "disable_profiling", "set_variable", "arrow_scan", "pandas_scan",
        "python_map_function", "from_csv_auto", "json_execute_serialized_sql", "sql_auto_complete",
    }
)  # fmt: skip
_FORBIDDEN_PREFIXES = (
    "read_", "parquet_", "duckdb_", "pragma_", "json_execute", "sqlite_", "postgres_", "mysql_",
    "iceberg_", "delta_", "http", "s3_", "azure_", "gcs_", "st_read", "enable_", "disable_",
)  # fmt: skip
_TABLE_FUNCS = frozenset({"range", "generate_series", "unnest"})
_DESCRIBE_NODES = ("DESCRIBE", "SUMMARIZE", "SHOW")
_FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*\n?|/\*.*?\*/)*([A-Za-z_]+)", re.S)
_READ_ROUTE = "query the tables listed by get_table_names instead"
_BOUNDING_ARGS = ("where", "group", "having", "limit", "qualify", "distinct", "sample")


def _func_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _forbidden_func(name: str) -> bool:
    return name in _FORBIDDEN_FUNCS or name.startswith(_FORBIDDEN_PREFIXES)


def _arg(node: exp.Expr, key: str) -> Any:
    return node.args.get(key + "_", node.args.get(key))


@functools.lru_cache(maxsize=512)
def analyse(query: str, refuse_select_star: bool, refuse_unfiltered: bool) -> QueryCheck:
    """The sqlglot checks of one statement (already known to DuckDB as a single SELECT)."""
    try:
        tokens = _DIALECT.tokenize(query)
    except sqlglot.errors.SqlglotError as e:
        return QueryCheck(refusal=f"refused: the query could not be analysed ({e}); use standard SQL")
    for tok in tokens:
        if tok.token_type not in _LITERAL_TOKENS and tok.text.upper() in _FORBIDDEN_KEYWORDS:
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
        if _forbidden_func(name):
            return f"refused: {name}() reads files, settings or the environment and is not allowed; {_READ_ROUTE}"
        return None
    if not isinstance(node, exp.Table):
        return None
    if isinstance(node.this, exp.Func):
        name = _func_name(node.this)
        if _forbidden_func(name):
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


class _Watchdog:
    """One daemon thread that calls ``interrupt`` on queries that outlive their deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._jobs: dict[int, tuple[float, Callable[[], None]]] = {}
        self._fired: set[int] = set()
        self._next = 0
        self._thread: threading.Thread | None = None

    def arm(self, timeout_s: float, interrupt: Callable[[], None]) -> int:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="evalkit-sql-watchdog", daemon=True)
                self._thread.start()
            self._next += 1
            self._jobs[self._next] = (time.monotonic() + timeout_s, interrupt)
            self._cond.notify()
            return self._next

    def disarm(self, token: int) -> bool:
        """Forget a job; True when it had fired. After this returns its interrupt is never called."""
        with self._cond:
            self._jobs.pop(token, None)
            if token in self._fired:
                self._fired.discard(token)
                return True
            return False

    def _loop(self) -> None:
        with self._cond:
            while True:
                if not self._jobs:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                for token, (deadline, interrupt) in list(self._jobs.items()):
                    if deadline <= now:
                        del self._jobs[token]
                        self._fired.add(token)
                        with contextlib.suppress(Exception):  # the cursor may be closed already
                            interrupt()
                if self._jobs:
                    self._cond.wait(max(0.0, min(d for d, _ in self._jobs.values()) - now))


_WATCHDOG = _Watchdog()


class _Timeout(Exception):
    pass


class SqlSandbox:
    """Checks and runs agent SQL on a sandboxed connection (from ``database.open_readonly``)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        row_cap: int = 50,
        char_cap: int = 4000,
        timeout_s: float = 5.0,
        refuse_select_star: bool = True,
        refuse_unfiltered: bool = True,
    ) -> None:
        self._cur = con.cursor()  # one cursor, reused: calls are serialised by the lock
        self._lock = threading.RLock()
        self.row_cap = max(1, row_cap)
        self.char_cap = max(200, char_cap)
        self.timeout_s = timeout_s
        self.refuse_select_star = refuse_select_star
        self.refuse_unfiltered = refuse_unfiltered

    def check(self, query: str) -> QueryCheck:
        """The pre-execution verdict on ``query`` (DuckDB's parser, then the sqlglot analysis)."""
        text = query.strip()
        if not text:
            return QueryCheck(refusal="refused: the query is empty; send one SELECT statement")
        if len(text) > MAX_QUERY_CHARS:
            return QueryCheck(refusal=f"refused: the query is longer than {MAX_QUERY_CHARS:,} characters")
        try:
            with self._lock:
                statements = self._cur.extract_statements(text)
        except duckdb.Error as e:
            return QueryCheck(error=str(e), error_class=type(e).__name__)
        if len(statements) != 1:
            return QueryCheck(
                refusal=f"refused: send exactly one SQL statement per call (got {len(statements)}); "
                "run them one at a time"
            )
        kind = str(statements[0].type).rsplit(".", 1)[-1]
        if kind != "SELECT":
            m = _FIRST_WORD.match(text)
            word = m.group(1).upper() if m else kind
            return QueryCheck(refusal=f"refused: only read-only SELECT queries are allowed, not {word}")
        return analyse(text, self.refuse_select_star, self.refuse_unfiltered)

    def close(self) -> None:
        with self._lock:
            self._cur.close()

    def run(self, query: str) -> SqlOutcome:
        """Check ``query`` and, if allowed, run it under the time limit and the output caps."""
        with self._lock:
            return self._run(query)

    def _run(self, query: str) -> SqlOutcome:
        check = self.check(query)
        if check.refusal is not None:
            return SqlOutcome(False, check.refusal, error_kind="refused", tables=check.tables)
        if check.error is not None:
            return SqlOutcome(False, check.error, error_kind="error", error_class=check.error_class)
        text = query.strip().rstrip(";").rstrip()
        cur = self._cur
        token = _WATCHDOG.arm(self.timeout_s, cur.interrupt)
        fired = False
        try:
            try:
                cur.execute(text)
                columns = tuple(d[0] for d in cur.description or ())
                rows = cur.fetchmany(self.row_cap + 1)
                total: int | None = len(rows)
                if len(rows) > self.row_cap:
                    total = self._count(cur, text)
            finally:
                fired = _WATCHDOG.disarm(token)
        except duckdb.Error as e:
            if fired or isinstance(e, duckdb.InterruptException):
                return SqlOutcome(
                    False,
                    f"timeout: the query ran longer than {self.timeout_s:g} s and was cancelled; "
                    "add filters, aggregate earlier or simplify the joins",
                    error_kind="timeout",
                    error_class=type(e).__name__,
                    tables=check.tables,
                )
            return SqlOutcome(False, str(e), error_kind="error", error_class=type(e).__name__, tables=check.tables)
        return self._render(columns, rows, total, check.tables)

    @staticmethod
    def _count(cur: duckdb.DuckDBPyConnection, text: str) -> int | None:
        try:
            row = cur.execute(f"SELECT count(*) FROM ({text}\n) AS evalkit_q").fetchone()
        except duckdb.Error:  # interrupted or failed: the rows are shown without a total
            return None
        return int(row[0]) if row else None

    def _render(
        self, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]], total: int | None, tables: tuple[str, ...]
    ) -> SqlOutcome:
        lines = [" | ".join(columns)]
        used = len(lines[0])
        shown = 0
        cut_by_chars = False
        for row in rows[: self.row_cap]:
            line = " | ".join(_cell(v) for v in row)
            if used + 1 + len(line) > self.char_cap:
                cut_by_chars = True
                break
            lines.append(line)
            used += 1 + len(line)
            shown += 1
        truncated = shown < len(rows)
        if not rows:
            lines.append("(no rows)")
        elif truncated:
            why = f"output capped at {self.char_cap:,} characters" if cut_by_chars else f"at most {self.row_cap} rows"
            if total is not None:
                lines.append(f"… {total - shown:,} more rows not shown ({why}); add a filter or LIMIT")
            else:
                lines.append(f"… more rows not shown ({why}); add a filter or LIMIT")
        return SqlOutcome(
            True,
            "\n".join(lines),
            columns=columns,
            rows=shown,
            total_rows=total,
            truncated=truncated,
            tables=tables,
        )


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<blob {len(bytes(value))} bytes>"
    text = str(value).replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"
