"""Re-execute every task's reference solution and compare the result with the stored answer.

Each step's SQL must pass the agent's own sandbox checks (``SqlSandbox.check`` with the suite's settings: a
reference the agent could not run is a failure), then runs where the agent's queries run (a sandbox worker
process, ``env.isolation``: a reference is untrusted SQL too) under the suite's query time limit and row
cap. A 1×1 result binds a scalar; anything else binds the list of first-column values. ``compute`` is
evaluated with the agent's calculator after substituting the bound numbers (one expression per blank for
template answers). Numbers are compared with the task's tolerance, text and lists
after the scorer's normalisation (lists in order or as a set, as the task says), templates blank by blank.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from evalkit.contracts.answers import normalise_text
from evalkit.contracts.suite import ExpectedAnswer, SuiteSettings, SuiteSpec, TaskSpec, Tolerance
from evalkit.env.calculator import CalculatorError, calculate, format_number

if TYPE_CHECKING:
    import duckdb

    from evalkit.env.sandbox import SqlSandbox

Status = Literal["ok", "mismatch", "error", "unverifiable"]
Value = float | str | tuple[str, ...] | dict[str, float]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class TaskVerification:
    """The verdict on one task: ``ok`` (the reference reproduces the answer), ``mismatch`` (it gives
    another answer), ``error`` (it cannot run: refused, SQL error, timeout, bad compute) or
    ``unverifiable`` (the task has no reference solution; not a failure)."""

    task_id: str
    status: Status
    expected: str
    got: str | None = None
    reason: str = ""
    line: int | None = None

    @property
    def ok(self) -> bool:
        """Not a failure (verified, or nothing to verify)."""
        return self.status in ("ok", "unverifiable")

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task_id,
            "ok": self.ok,
            "status": self.status,
            "expected": self.expected,
            "got": self.got,
            "reason": self.reason,
            "line": self.line,
        }


@dataclass(frozen=True)
class VerifyReport:
    suite: str
    version: str
    results: tuple[TaskVerification, ...]
    elapsed_s: float

    @property
    def failures(self) -> tuple[TaskVerification, ...]:
        return tuple(r for r in self.results if not r.ok)

    @property
    def verified(self) -> int:
        return sum(r.status == "ok" for r in self.results)

    @property
    def unverifiable(self) -> int:
        return sum(r.status == "unverifiable" for r in self.results)

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        """``58/60 tasks verified (2 unverifiable: no reference)`` or ``... 3 disagree``."""
        checkable = len(self.results) - self.unverifiable
        text = f"{self.verified}/{checkable} tasks verified"
        extra = []
        if self.failures:
            extra.append(f"{len(self.failures)} disagree")
        if self.unverifiable:
            extra.append(f"{self.unverifiable} unverifiable: no reference")
        return text + (f" ({'; '.join(extra)})" if extra else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "version": self.version,
            "tasks": len(self.results),
            "verified": self.verified,
            "failed": len(self.failures),
            "unverifiable": self.unverifiable,
            "passed": self.passed,
            "elapsed_s": round(self.elapsed_s, 3),
            "results": [r.to_dict() for r in self.results],
        }


class _Failed(Exception):
    """A reference step or its arithmetic could not produce a value."""


def verify_suite(suite: SuiteSpec) -> VerifyReport:
    """Run every task's reference solution against the suite's database and compare with its answer."""
    from evalkit.env.database import build_database, open_readonly
    from evalkit.env.isolation import runner_for
    from evalkit.env.sandbox import SqlSandbox

    start = time.perf_counter()
    db = build_database(suite.database)
    con = open_readonly(db.path)
    try:
        s = suite.settings
        sandbox = SqlSandbox(
            con,
            row_cap=s.row_cap,
            char_cap=s.char_cap,
            timeout_s=s.query_timeout_s,
            refuse_select_star=s.refuse_select_star,
            refuse_unfiltered=s.refuse_unfiltered,
            runner=runner_for(db.path),
        )
        try:
            results = tuple(verify_task(t, sandbox, con, s) for t in suite.tasks)
        finally:
            sandbox.close()
    finally:
        con.close()
    return VerifyReport(suite.name, suite.version, results, time.perf_counter() - start)


def verify_task(
    task: TaskSpec, sandbox: SqlSandbox, con: duckdb.DuckDBPyConnection, settings: SuiteSettings
) -> TaskVerification:
    """Verify one task with an open sandbox (for its checks) and connection (to run the queries)."""
    expected = describe(task.answer, _expected_value(task.answer))
    line = task.source_line
    if not task.reference.steps:
        return TaskVerification(task.id, "unverifiable", expected, None, "unverifiable (no reference)", line)
    bound: dict[str, Any] = {}
    for i, step in enumerate(task.reference.steps, 1):
        try:
            bound[step.bind] = _run_step(step.sql, sandbox, con, settings)
        except _Failed as e:
            return TaskVerification(task.id, "error", expected, None, f"step {i} ({step.bind}): {e}", line)
    try:
        got = _result(task, bound)
    except _Failed as e:
        return TaskVerification(task.id, "error", expected, None, str(e), line)
    ok, reason = compare(task.answer, got)
    return TaskVerification(task.id, "ok" if ok else "mismatch", expected, describe(task.answer, got), reason, line)


# ------------------------------------------------------------------------------------------ running


def _run_step(sql: str, sandbox: SqlSandbox, con: duckdb.DuckDBPyConnection, settings: SuiteSettings) -> Any:
    """The bound value of one query: a scalar for a 1×1 result, else the list of first-column values."""
    check = sandbox.check(sql)
    if check.refusal is not None:
        raise _Failed(f"refused by the agent's sandbox: {check.refusal.removeprefix('refused: ')}")
    if check.error is not None:
        raise _Failed(f"SQL error: {check.error}")
    got = sandbox.fetch(sql, settings.row_cap + 1)
    if not got.ok:
        prefix = "SQL error" if got.error_kind == "error" else str(got.error_kind)
        raise _Failed(f"{prefix}: {got.text}")
    rows = got.values
    if len(rows) > settings.row_cap:
        raise _Failed(f"the result has more than {settings.row_cap} rows, more than the agent is shown")
    if len(rows) == 1 and got.width == 1:
        return rows[0]
    return list(rows)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _show(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)} values"
    return "NULL" if value is None else repr(value)


def _evaluate(expression: str, bound: dict[str, Any]) -> float:
    expression = expression.strip()
    if expression in bound:  # the answer is a bound value itself
        number = _number(bound[expression])
        if number is None:
            raise _Failed(f"{expression} is {_show(bound[expression])}, not a number")
        return number

    def substitute(m: re.Match[str]) -> str:
        name = m.group(0)
        if name not in bound:
            return name
        number = _number(bound[name])
        if number is None:
            raise _Failed(f"compute {expression!r}: {name} is {_show(bound[name])}, not a number")
        return f"({number!r})"

    text = _NAME.sub(substitute, expression)
    try:
        return calculate(text)
    except CalculatorError as e:
        raise _Failed(f"compute {expression!r}: {e}") from None


def _as_text(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _result(task: TaskSpec, bound: dict[str, Any]) -> Value:
    answer, compute = task.answer, task.reference.compute
    if answer.kind == "template":
        if not isinstance(compute, dict):
            raise _Failed("a template answer needs one compute expression per blank")
        return {b.name: _evaluate(compute.get(b.name, b.name), bound) for b in answer.blanks}
    if isinstance(compute, dict):
        raise _Failed("a compute mapping is only for template answers")
    last = task.reference.steps[-1].bind
    if answer.kind == "number":
        return _evaluate(compute if compute is not None else last, bound)
    if compute is None:
        value = bound[last]
    elif compute.strip() in bound:
        value = bound[compute.strip()]
    else:
        value = _evaluate(compute, bound)
    if answer.kind == "list":
        return tuple(_as_text(v) for v in value) if isinstance(value, list) else (_as_text(value),)
    if isinstance(value, list):
        if len(value) != 1:
            raise _Failed(f"a text answer needs a single value; the reference returned {len(value)} rows")
        value = value[0]
    if value is None:
        raise _Failed("the reference returned NULL")
    return value if isinstance(value, str) else format_number(value) if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------------------- comparing


def _expected_value(answer: ExpectedAnswer) -> Value:
    if answer.kind == "template":
        return {b.name: b.value for b in answer.blanks}
    if isinstance(answer.value, float | str | tuple):
        return answer.value
    return ""


def _tolerance(t: Tolerance) -> str:
    parts = ([f"abs {t.abs:g}"] if t.abs is not None else []) + ([f"rel {t.rel:g}"] if t.rel is not None else [])
    return " or ".join(parts) or "exact"


def compare(answer: ExpectedAnswer, got: Value) -> tuple[bool, str]:
    """Whether ``got`` (a reference solution's result) agrees with the expected answer, and why not."""
    if answer.kind == "number" and isinstance(answer.value, float) and isinstance(got, float):
        if answer.tolerance.accepts(answer.value, got):
            return True, ""
        return False, f"outside the tolerance ({_tolerance(answer.tolerance)})"
    if answer.kind == "text" and isinstance(answer.value, str) and isinstance(got, str):
        if normalise_text(answer.value) == normalise_text(got):
            return True, ""
        return False, "text differs after normalisation"
    if answer.kind == "list" and isinstance(answer.value, tuple) and isinstance(got, tuple):
        want = [normalise_text(v) for v in answer.value]
        have = [normalise_text(v) for v in got]
        if have == want if answer.ordered else sorted(have) == sorted(want):
            return True, ""
        if not answer.ordered or sorted(have) != sorted(want):
            return False, "list items differ" + ("" if answer.ordered else " (compared as a set)")
        return False, "list order differs"
    if answer.kind == "template" and isinstance(got, dict):
        wrong = [
            f"{b.name} outside the tolerance ({_tolerance(b.tolerance)})"
            for b in answer.blanks
            if not b.tolerance.accepts(b.value, got[b.name])
        ]
        return (not wrong), "; ".join(wrong)
    return False, f"cannot compare a {type(got).__name__} with a {answer.kind} answer"


def describe(answer: ExpectedAnswer, value: Value) -> str:
    """A value in the answer's terms, for messages: ``2167.1 USD millions``, ``[a, b] (any order)``."""
    if isinstance(value, dict):
        units = {b.name: b.unit for b in answer.blanks}
        return ", ".join(f"{k}={format_number(v)}" + (f" {units[k]}" if units.get(k) else "") for k, v in value.items())
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]" + ("" if answer.ordered else " (any order)")
    if isinstance(value, float):
        return format_number(value) + (f" {answer.unit}" if answer.unit else "")
    return value
