"""The building blocks of the fault-injection personas (``evalkit.models.personas``).

A persona is a generator script like the scripted agents of ``evalkit.models.scripts``: it yields an action
and receives the text of its result. Each of its tool calls goes through :func:`call`, which writes what the
call was meant to be into a :class:`Trail`: which tables it lists, reads and queries, which names it knows it
made up, which query it knows is hostile, which failing call it re-sends. The answer step
(``persona_replies``) writes what the answer is: its marker, whether it states a figure of its own, where its
figures come from, whether the value it meant agrees with the gold. A persona's labels are derived from its
trail, that is from what it was written to do, never from the checks that read the trace.

The shared steps here are the careful ones (list the tables, read each schema, run the reference queries,
compute with the calculator); each persona swaps one of them, or its answer, for its fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from evalkit.contracts.suite import ReferenceStep, TaskSpec
from evalkit.models.scripts import (
    Action,
    ToolAction,
    _substitute,
    bind_value,
    is_error,
    parse_number,
    parse_rows,
)

Step = Generator[Action, str, Any]
"""A piece of a script: yields actions, receives their results, returns what it found."""


@dataclass(frozen=True)
class AnswerFacts:
    """What a persona's final answer is, as the persona knows it."""

    text: str
    marker: bool
    """The reply says ``FINAL ANSWER:``."""
    claims: bool
    """It states a fact (a figure or a name); a decline states none."""
    states_figure: bool
    """It states a number of its own (not a year, not a number the question gives)."""
    unit_stated: bool
    """It writes the unit asked for (True when there is nothing to write one for: a decline, a text answer)."""
    grounded: bool
    """Every figure it states comes from a tool result (up to rounding and a unit's scale)."""
    correct: bool | None
    """The value it meant agrees with the gold (None when the task has no gold to agree with)."""
    declined: bool = False


@dataclass
class _QueryFact:
    tables: tuple[str, ...]
    invented: tuple[str, ...]
    inspected_before: frozenset[str]


@dataclass
class Trail:
    """What a persona did on one sample, written as it acts: the facts its labels come from."""

    style: int = 0
    """How it writes (0-3, by seed): its SQL (verbatim, aliased and qualified, a CTE in lower case, quoted
    names) and its figures (plain, ``$2,167.1 million``, ``USD 2,167.1 million`` / ``20.4 percent``, ...)."""
    calls: int = 0
    listed: bool = False
    listed_before_query: bool | None = None
    """Whether it had listed the tables when it sent its first SQL query (None: it sent none)."""
    queries: int = 0
    good_queries: int = 0
    inspected: set[str] = field(default_factory=set)
    queried: set[str] = field(default_factory=set)
    """Tables (lower case) of its successful queries."""
    look_alikes: list[str] = field(default_factory=list)
    """Real columns it used where the task needs another one ("cost_of_revenue for total_revenue")."""
    unsafe: list[str] = field(default_factory=list)
    errors: int = 0
    repeated: bool = False
    answer: AnswerFacts | None = None
    mode: str | None = None
    """The failure mode it was written to show when its answer is wrong (see ``report.model.FAILURE_MODES``)."""
    mode_known: bool = True
    """False when its design does not say why a wrong answer is wrong (a guess from the schema)."""
    did: list[str] = field(default_factory=list)
    """What it did, in words (one entry per deliberate fault)."""
    _failed: set[tuple[str, str]] = field(default_factory=set)
    _open_errors: dict[str, int] = field(default_factory=dict)
    _queries: list[_QueryFact] = field(default_factory=list)
    _pending: dict[str, int] = field(default_factory=dict)
    """Made-up names (lower case) → the number of the last query that used them, until a later query succeeds
    without them (the name was corrected)."""

    def record(
        self,
        name: str,
        arguments: dict[str, Any],
        result: str,
        *,
        tables: Iterable[str] = (),
        invented: Iterable[str] = (),
        invented_tables: Iterable[str] = (),
        unsafe: str | None = None,
    ) -> bool:
        """Note one tool call and its result; return whether it succeeded."""
        ok = not is_error(result)
        signature = (name, json.dumps(arguments, sort_keys=True))
        self.calls += 1
        if signature in self._failed:
            self.repeated = True
        if name == "get_table_names" and ok:
            self.listed = True
        elif name == "get_table_info" and ok:
            self.inspected.add(str(arguments.get("table", "")).lower())
        elif name == "sql_query":
            self._query(ok, [t.lower() for t in tables], [n.lower() for n in invented], invented_tables, unsafe)
        if ok:
            self._open_errors.pop(name, None)
        else:
            self.errors += 1
            self._failed.add(signature)
            self._open_errors[name] = self._open_errors.get(name, 0) + 1
        return ok

    def _query(
        self, ok: bool, tables: list[str], invented: list[str], invented_tables: Iterable[str], unsafe: str | None
    ) -> None:
        if self.listed_before_query is None:
            self.listed_before_query = self.listed
        index = self.queries
        self.queries += 1
        if unsafe:
            self.unsafe.append(unsafe)
        made_up_tables = tuple(t.lower() for t in invented_tables)
        self._queries.append(_QueryFact(tuple(tables), made_up_tables, frozenset(self.inspected)))
        for n in (*invented, *made_up_tables):
            self._pending[n] = index
        if ok:
            self.good_queries += 1
            self.queried.update(tables)
            used = {*invented, *made_up_tables}
            for n in [n for n, last in self._pending.items() if last < index and n not in used]:
                del self._pending[n]

    def confirm(self, name: str, is_table: bool) -> None:
        """A name it took for made up exists after all (the query that used it ran): not invented; as a table,
        one it queried without reading its schema."""
        low = name.lower()
        self._pending.pop(low, None)
        last = self._queries[-1] if self._queries else None
        if last is not None and low in last.invented:
            last.invented = tuple(t for t in last.invented if t != low)
        if last is not None and is_table:
            last.tables = (*last.tables, low)
            self.queried.add(low)

    @property
    def invented(self) -> list[str]:
        """Made-up names it never corrected."""
        return sorted(self._pending)

    @property
    def unrecovered(self) -> bool:
        """An error was never followed by a successful call of the same tool."""
        return bool(self._open_errors)

    @property
    def uninspected_query(self) -> bool:
        """A query used a table whose schema it had not read before (a made-up table it later corrected
        aside: that slip is a recovery matter)."""
        for q in self._queries:
            if any(t not in q.inspected_before for t in q.tables):
                return True
            if any(t in self._pending for t in q.invented):
                return True
        return False


def call(
    trail: Trail,
    name: str,
    arguments: dict[str, Any],
    *,
    tables: Iterable[str] = (),
    invented: Iterable[str] = (),
    invented_tables: Iterable[str] = (),
    unsafe: str | None = None,
) -> Generator[Action, str, str]:
    """One tool call: yield it, note it in the trail, return its result. For a query, ``tables`` are the real
    tables it reads, ``invented`` the names in it that the persona made up (``invented_tables`` those of them
    that are tables) and ``unsafe`` what makes it hostile."""
    result = yield ToolAction(name, arguments)
    trail.record(
        name, arguments, result, tables=tables, invented=invented, invented_tables=invented_tables, unsafe=unsafe
    )
    return result


# ------------------------------------------------------------------------------------------ reading


_FROM = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_SIMPLE = re.compile(r"^\s*SELECT\s+([A-Za-z_]\w*)\s+FROM\s+([A-Za-z_]\w*)\s+(WHERE\s.+)$", re.IGNORECASE | re.DOTALL)
_COLUMN_LINE = re.compile(r"^- ([A-Za-z_]\w*) ([A-Z]+)", re.MULTILINE)
NUMERIC_TYPES = frozenset({"DOUBLE", "FLOAT", "REAL", "INTEGER", "BIGINT", "SMALLINT", "HUGEINT", "DECIMAL"})


def sql_tables(sql: str) -> list[str]:
    """The tables a query of the persona's own reads (after FROM and JOIN)."""
    return list(dict.fromkeys(m.group(1) for m in _FROM.finditer(sql)))


def simple_step(sql: str) -> tuple[str, str, str] | None:
    """``(column, table, where clause)`` of a ``SELECT column FROM table WHERE ...`` query, else None."""
    m = _SIMPLE.match(sql)
    return (m.group(1), m.group(2), m.group(3).strip()) if m else None


def schema_columns(schema: str) -> list[tuple[str, str]]:
    """``(name, type)`` of each column a ``get_table_info`` result lists."""
    return _COLUMN_LINE.findall(schema)


def listed_tables(listing: str) -> list[str]:
    """The table names of a ``get_table_names`` result (company headers left out)."""
    if is_error(listing):
        return []
    names = [ln.strip() for ln in listing.splitlines()]
    return [n for n in names if n and not n.endswith(":") and re.fullmatch(r"[A-Za-z_]\w*", n)]


def needed_tables(task: TaskSpec) -> list[str]:
    """The tables a careful solution reads: the task's, its reference steps' and the ones their SQL names."""
    found = [*task.tables]
    for step in task.reference.steps:
        found += [step.table] if step.table else []
        found += sql_tables(step.sql)
    return list(dict.fromkeys(found))


_CONDITION_WORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "IS", "NULL", "LIKE", "TRUE", "FALSE"})
_NOT_A_CONDITION = re.compile(
    r"\b(ORDER|GROUP|LIMIT|HAVING|UNION|SELECT|FROM|JOIN|OFFSET|QUALIFY|WINDOW|CASE|CAST)\b|\(", re.IGNORECASE
)


def phrase(sql: str, style: int) -> str:
    """A simple query (``SELECT column FROM table WHERE ...``) written the way different models write it, with
    the same result: verbatim (0), with a table alias, qualified names and an output name (1), as a lower-case
    CTE (2), or with quoted names (3). Other queries are kept as they are."""
    parts = simple_step(sql)
    if parts is None or style == 0:
        return sql
    column, table, where = parts
    condition = where[len("WHERE") :].strip()
    if _NOT_A_CONDITION.search(condition):  # ORDER BY, LIMIT, a subquery ...: kept as written
        return sql
    if style == 1 and "'" not in condition and '"' not in condition:
        qualified = re.sub(
            r"(?<![\w.])([A-Za-z_]\w*)\b",
            lambda m: m.group(1) if m.group(1).upper() in _CONDITION_WORDS else f"t.{m.group(1)}",
            condition,
        )
        return f"SELECT t.{column} AS value FROM {table} AS t WHERE {qualified}"
    if style == 2:
        return f"with picked as (select {column} from {table} where {condition}) select {column} from picked"
    if style == 3:
        return f'SELECT "{column}" FROM "{table}" WHERE {condition}'
    return sql


def no_rows(result: str) -> bool:
    return not is_error(result) and not parse_rows(result)


# --------------------------------------------------------------------------------------------- steps


def discover(trail: Trail, task: TaskSpec, *, inspect: bool = True) -> Step:
    """List the company's tables, then read the schema of every table the solution needs; return the schemas
    (table → ``get_table_info`` text)."""
    yield from call(trail, "get_table_names", {"company": task.company} if task.company else {})
    schemas: dict[str, str] = {}
    for table in needed_tables(task) if inspect else []:
        schemas[table] = yield from call(trail, "get_table_info", {"table": table})
    return schemas


def query_step(trail: Trail, step: ReferenceStep, sql: str | None = None, **facts: Any) -> Step:
    """Run one reference step (or ``sql`` in its place) and return its result text."""
    text = step.sql if sql is None else sql
    facts.setdefault("tables", sql_tables(text))
    return (yield from call(trail, "sql_query", {"query": text}, **facts))


def run_steps(
    trail: Trail, task: TaskSpec, values: dict[str, Any] | None = None, *, start: int = 0
) -> Generator[Action, str, dict[str, Any] | None]:
    """Run the reference steps from ``start`` on, binding each result; None when a step fails or has no
    rows (the caller decides what to do about it)."""
    values = {} if values is None else values
    for step in task.reference.steps[start:]:
        phrased = phrase(step.sql, trail.style)
        result = yield from query_step(trail, step, phrased, tables=sql_tables(step.sql))
        if is_error(result) and phrased != step.sql:  # its own way of writing it failed: the plain query
            result = yield from query_step(trail, step)
        if is_error(result) or no_rows(result):
            return None
        values[step.bind] = bind_value(result)
    return values


Rewrite = Callable[[str, str], str]
"""A persona's change to a calculator expression: (blank or bind name, expression) → expression."""


def compute(
    trail: Trail, task: TaskSpec, values: dict[str, Any], rewrite: Rewrite | None = None
) -> Generator[Action, str, Any]:
    """The answer's value from the bound results, with the calculator where the reference computes: a
    number, a text, a list of names, or (template answers) a mapping of blank to number; None when it cannot
    be computed. ``rewrite`` changes an expression before it is sent (the persona's own formula); when the
    changed one fails, the reference's is sent instead."""
    compute_spec = task.reference.compute
    answer = task.answer
    if answer.kind == "template" and isinstance(compute_spec, dict):
        filled: dict[str, float | None] = {}
        for blank in answer.blanks:
            expression = compute_spec.get(blank.name)
            if expression is None:
                filled[blank.name] = None
                continue
            filled[blank.name] = yield from _calculate(trail, blank.name, expression, values, rewrite)
        return filled
    steps = task.reference.steps
    if isinstance(compute_spec, str) and steps:
        last = steps[-1].bind
        if compute_spec.strip() == last and not isinstance(values.get(last), float):
            return values.get(last)
        return (yield from _calculate(trail, last, compute_spec, values, rewrite))
    return values.get(steps[-1].bind) if steps else None


def _calculate(
    trail: Trail, name: str, expression: str, values: dict[str, Any], rewrite: Rewrite | None
) -> Generator[Action, str, float | None]:
    sent = rewrite(name, expression) if rewrite is not None else expression
    out = yield from call(trail, "calculator", {"expression": _substitute(sent, values)})
    if is_error(out) and sent != expression:  # its own formula failed: it falls back on the plain one
        out = yield from call(trail, "calculator", {"expression": _substitute(expression, values)})
    return parse_number(out)
