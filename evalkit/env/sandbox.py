"""Run an agent's SQL safely: check it before execution, then run it with a time limit and output caps.

Checks (before anything runs): exactly one statement, and a read-only SELECT (``WITH``, ``UNION`` and
friends allowed) according to DuckDB's own parser; then a keyword screen and an AST walk with sqlglot that
refuse writes, settings, extensions, attachments, file-reading and meta functions, file-path table
references, ``SELECT *`` and unfiltered scans (when enabled). Execution uses a read-only connection whose
locked configuration forbids file, network and extension access (see ``database.open_readonly``), so a
query the checks miss is still blocked. A shared watchdog thread interrupts queries past their time limit;
at most ``row_cap + 1`` rows are fetched, and output is capped at ``char_cap`` characters.

DuckDB does not bound everything itself (``len(range(10**8))`` ignores both its memory limit and its
interrupt), so a sandbox handed a ``QueryRunner`` (``env.isolation``: worker processes with an address-space
limit and a hard kill) checks here and executes there; :func:`execute` and :func:`fetch_first_column` are
what a worker runs, and what runs in-process without a runner.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self

import duckdb

from evalkit.env.sql_checks import FIRST_WORD, QueryCheck, analyse

if TYPE_CHECKING:
    from evalkit.contracts.suite import SuiteSettings
    from evalkit.env.database import BuiltDatabase

MAX_QUERY_CHARS = 20_000
MAX_CELL_CHARS = 200

ErrorKind = Literal["refused", "timeout", "resource_limit", "error"]


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


TIMEOUT_HINT = "add filters, aggregate earlier or simplify the joins"
MEMORY_HINT = "filter or aggregate earlier, and avoid building huge lists or strings"


@dataclass(frozen=True)
class Fetched:
    """A query's first-column values (for reference solutions): ``width`` columns, at most ``max_rows`` rows."""

    ok: bool
    width: int = 0
    values: tuple[Any, ...] = ()
    error_kind: ErrorKind | None = None
    text: str = ""


class QueryRunner(Protocol):
    """Executes a query that passed the checks (the isolation worker pool, see ``env.isolation``)."""

    def run(
        self, text: str, tables: tuple[str, ...], *, row_cap: int, char_cap: int, timeout_s: float
    ) -> SqlOutcome: ...

    def fetch(self, text: str, *, max_rows: int, timeout_s: float) -> Fetched: ...


def timeout_outcome(timeout_s: float, tables: tuple[str, ...] = (), error_class: str | None = None) -> SqlOutcome:
    return SqlOutcome(
        False,
        f"timeout: the query ran longer than {timeout_s:g} s and was cancelled; {TIMEOUT_HINT}",
        error_kind="timeout",
        error_class=error_class,
        tables=tables,
    )


def resource_outcome(why: str, tables: tuple[str, ...] = (), error_class: str | None = None) -> SqlOutcome:
    text = f"resource_limit: {why}; {MEMORY_HINT}"
    return SqlOutcome(False, text, error_kind="resource_limit", error_class=error_class, tables=tables)


OUT_OF_MEMORY = "the query needed more memory than the sandbox allows and was stopped"


def execute(
    cur: duckdb.DuckDBPyConnection,
    text: str,
    tables: tuple[str, ...],
    *,
    row_cap: int,
    char_cap: int,
    timeout_s: float,
) -> SqlOutcome:
    """Run a checked query on ``cur`` under the time limit, fetch at most ``row_cap + 1`` rows, render."""
    token = _WATCHDOG.arm(timeout_s, cur.interrupt)
    fired = False
    try:
        try:
            cur.execute(text)
            columns = tuple(d[0] for d in cur.description or ())
            rows = cur.fetchmany(row_cap + 1)
            total: int | None = len(rows)
            if len(rows) > row_cap:
                total = _count(cur, text)
        finally:
            fired = _WATCHDOG.disarm(token)
    except duckdb.OutOfMemoryException as e:
        return resource_outcome(OUT_OF_MEMORY, tables, type(e).__name__)
    except MemoryError:
        return resource_outcome(OUT_OF_MEMORY, tables, "MemoryError")
    except duckdb.Error as e:
        if fired or isinstance(e, duckdb.InterruptException):
            return timeout_outcome(timeout_s, tables, type(e).__name__)
        return SqlOutcome(False, str(e), error_kind="error", error_class=type(e).__name__, tables=tables)
    return render(columns, rows, total, tables, row_cap=row_cap, char_cap=char_cap)


def fetch_first_column(cur: duckdb.DuckDBPyConnection, text: str, *, max_rows: int, timeout_s: float) -> Fetched:
    """The first column of at most ``max_rows`` rows of a checked query, under the time limit."""
    token = _WATCHDOG.arm(timeout_s, cur.interrupt)
    fired = False
    try:
        try:
            cur.execute(text)
            width = len(cur.description or ())
            rows = cur.fetchmany(max_rows)
        finally:
            fired = _WATCHDOG.disarm(token)
    except duckdb.OutOfMemoryException:
        return Fetched(False, error_kind="resource_limit", text=OUT_OF_MEMORY)
    except MemoryError:
        return Fetched(False, error_kind="resource_limit", text=OUT_OF_MEMORY)
    except duckdb.Error as e:
        if fired or isinstance(e, duckdb.InterruptException):
            return Fetched(False, error_kind="timeout", text=f"the query ran longer than {timeout_s:g} s")
        return Fetched(False, error_kind="error", text=str(e))
    return Fetched(True, width, tuple(r[0] for r in rows))


class SqlSandbox:
    """Checks agent SQL on a sandboxed connection (from ``database.open_readonly``) and runs what passes:
    on that connection, or through ``runner`` (an isolated worker process) when one is given."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        row_cap: int = 50,
        char_cap: int = 4000,
        timeout_s: float = 5.0,
        refuse_select_star: bool = True,
        refuse_unfiltered: bool = True,
        runner: QueryRunner | None = None,
    ) -> None:
        self._cur = con.cursor()  # one cursor, reused: calls are serialised by the lock
        self._lock = threading.RLock()
        self.row_cap = max(1, row_cap)
        self.char_cap = max(200, char_cap)
        self.timeout_s = timeout_s
        self.refuse_select_star = refuse_select_star
        self.refuse_unfiltered = refuse_unfiltered
        self.runner = runner

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
            m = FIRST_WORD.match(text)
            word = m.group(1).upper() if m else kind
            return QueryCheck(refusal=f"refused: only read-only SELECT queries are allowed, not {word}")
        return analyse(text, self.refuse_select_star, self.refuse_unfiltered)

    def close(self) -> None:
        with self._lock:
            self._cur.close()

    def run(self, query: str) -> SqlOutcome:
        """Check ``query`` and, if allowed, run it under the time limit and the output caps."""
        check = self.check(query)
        if check.refusal is not None:
            return SqlOutcome(False, check.refusal, error_kind="refused", tables=check.tables)
        if check.error is not None:
            return SqlOutcome(False, check.error, error_kind="error", error_class=check.error_class)
        text = query.strip().rstrip(";").rstrip()
        row_cap, char_cap, timeout_s = self.row_cap, self.char_cap, self.timeout_s
        if self.runner is not None:
            return self.runner.run(text, check.tables, row_cap=row_cap, char_cap=char_cap, timeout_s=timeout_s)
        with self._lock:
            return execute(self._cur, text, check.tables, row_cap=row_cap, char_cap=char_cap, timeout_s=timeout_s)

    def fetch(self, query: str, max_rows: int) -> Fetched:
        """The first-column values of an already checked query (see :meth:`check`), under the time limit."""
        text = query.strip().rstrip(";").rstrip()
        if self.runner is not None:
            return self.runner.fetch(text, max_rows=max_rows, timeout_s=self.timeout_s)
        with self._lock:
            return fetch_first_column(self._cur, text, max_rows=max_rows, timeout_s=self.timeout_s)


def _count(cur: duckdb.DuckDBPyConnection, text: str) -> int | None:
    try:
        row = cur.execute(f"SELECT count(*) FROM ({text}\n) AS evalkit_q").fetchone()
    except duckdb.Error:  # interrupted or failed: the rows are shown without a total
        return None
    return int(row[0]) if row else None


def render(
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    total: int | None,
    tables: tuple[str, ...],
    *,
    row_cap: int,
    char_cap: int,
) -> SqlOutcome:
    """Rows as the agent sees them: a header line, then one ``a | b`` line per row, within both caps."""
    lines = [" | ".join(columns)]
    used = len(lines[0])
    shown = 0
    cut_by_chars = False
    for row in rows[:row_cap]:
        line = " | ".join(_cell(v) for v in row)
        if used + 1 + len(line) > char_cap:
            cut_by_chars = True
            break
        lines.append(line)
        used += 1 + len(line)
        shown += 1
    truncated = shown < len(rows)
    if not rows:
        lines.append("(no rows)")
    elif truncated:
        why = f"output capped at {char_cap:,} characters" if cut_by_chars else f"at most {row_cap} rows"
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


class SandboxedEnvironment:
    """What every tool profile's environment holds and releases: a read-only connection and its sandbox."""

    _con: Any
    _sandbox: SqlSandbox

    def _open(self, db: BuiltDatabase, settings: SuiteSettings, connection: Any) -> Any:
        """Keep the database, its catalog and the settings, and the connection to use (``connection``, a
        cursor of a pool's shared one, or a read-only connection of this environment's own)."""
        from evalkit.env.database import open_readonly

        self.db, self.catalog, self.settings = db, db.catalog, settings
        self._con = connection if connection is not None else open_readonly(db.path, threads=1)
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._sandbox.close()
            self._con.close()
            self._con = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
