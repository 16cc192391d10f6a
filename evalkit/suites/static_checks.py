"""What ``suite validate`` checks of a task file against its catalog, without running anything.

A task that names a table, a company or a reference step's table the catalog does not have, a reference
query the agent's sandbox would refuse or DuckDB cannot parse, or a ``compute`` the calculator cannot read,
would pass the schemas and fail only at ``verify`` (or never, for a table list nobody checks): each is a
problem ``tasks.yaml:LINE tasks[i].key: message`` here. Reference SQL goes through the same static checks
as the agent's (DuckDB's parser, then :func:`evalkit.env.sql_checks.analyse`); nothing is executed.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from evalkit.env.calculator import CalculatorError, calculate
from evalkit.env.sql_checks import analyse

if TYPE_CHECKING:
    import duckdb

    from evalkit.contracts.suite import SuiteSettings, TaskSpec
    from evalkit.contracts.yamlfile import LineMap
    from evalkit.env.catalog import Catalog

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Calculator errors that depend on the values, not on the expression (stand-in values may cause them).
_VALUE_ERRORS = ("division by zero", "cannot evaluate", "not finite", "too large", "domain", "negative")


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known[:8])})"


def task_problems(tasks: tuple[TaskSpec, ...], lines: LineMap, catalog: Catalog, settings: SuiteSettings) -> list[str]:
    """Every problem of the tasks against the catalog, reference SQL and compute, as ``file:line key: msg``."""
    import duckdb

    tables = list(catalog.table_names)
    known = {t.lower() for t in tables}
    problems: list[str] = []
    con = duckdb.connect(":memory:", config={"enable_external_access": False})
    try:
        for i, task in enumerate(tasks):
            path: tuple[str | int, ...] = ("tasks", i)

            def err(key: tuple[str | int, ...], message: str) -> None:
                problems.append(f"{lines.where((*path, *key))}: {message}")  # noqa: B023

            for j, table in enumerate(task.tables):
                if table.lower() not in known:
                    err(("tables", j), f"unknown table {table!r}{_did_you_mean(table, tables)}")
            if task.company is not None:
                try:
                    catalog.company(task.company)
                except KeyError:
                    ids = [c.id for c in catalog.companies]
                    err(("company",), f"unknown company {task.company!r}{_did_you_mean(task.company, ids)}")
            for j, step in enumerate(task.reference.steps):
                if step.table is not None and step.table.lower() not in known:
                    hint = _did_you_mean(step.table, tables)
                    err(("reference", "steps", j, "table"), f"unknown table {step.table!r}{hint}")
                problem = sql_problem(con, step.sql, settings)
                if problem is not None:
                    err(("reference", "steps", j, "sql"), problem)
            binds = [s.bind for s in task.reference.steps]
            compute = task.reference.compute
            expressions = compute.items() if isinstance(compute, dict) else [(None, compute)] if compute else []
            for blank, expression in expressions:
                problem = compute_problem(expression, binds)
                if problem is not None:
                    err(("reference", "compute", *([blank] if blank else [])), problem)
    finally:
        con.close()
    return problems


def sql_problem(con: duckdb.DuckDBPyConnection, sql: str, settings: SuiteSettings) -> str | None:
    """Why the agent's sandbox would not run ``sql`` (DuckDB's parser, then the sqlglot checks), or None."""
    import duckdb

    text = sql.strip()
    try:
        statements = con.extract_statements(text)
    except duckdb.Error as e:
        return f"the reference SQL does not parse: {str(e).splitlines()[0]}"
    if len(statements) != 1:
        return f"refused: a reference step must be exactly one SQL statement (got {len(statements)})"
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind != "SELECT":
        return f"refused: only read-only SELECT queries are allowed, not {kind}"
    check = analyse(text, settings.refuse_select_star, settings.refuse_unfiltered)
    if check.refusal is not None:
        return f"the agent's sandbox would refuse the reference SQL: {check.refusal}"
    if check.error is not None:
        return f"the reference SQL does not parse: {check.error}"
    return None


def compute_problem(expression: str, binds: list[str]) -> str | None:
    """Why the calculator cannot read ``expression`` with the step names bound to numbers, or None.

    The bound names stand for distinct primes; an error that depends on the values (a division by zero for
    these stand-ins) is not a problem of the expression."""
    if expression.strip() in binds:
        return None
    stand_ins = {name: f"({p})" for name, p in zip(binds, (2, 3, 5, 7, 11, 13, 17, 19, 23, 29) * 10, strict=False)}
    unknown = [n for n in dict.fromkeys(_NAME.findall(expression)) if n not in stand_ins and n not in _CALLABLE]
    if unknown:
        return f"compute {expression!r}: {unknown[0]!r} is not a step's bind name (binds: {', '.join(binds)})"
    text = _NAME.sub(lambda m: stand_ins.get(m.group(0), m.group(0)), expression)
    try:
        calculate(text)
    except CalculatorError as e:
        if any(word in str(e) for word in _VALUE_ERRORS):
            return None
        return f"compute {expression!r}: {e}"
    return None


#: Names the calculator knows (its functions and constants).
_CALLABLE = frozenset({"abs", "round", "min", "max", "sqrt", "log", "ln", "log10", "exp", "floor", "ceil", "pi", "e"})
