"""The fault-injection personas' scripts: the careful steps of ``persona_kit`` with one known fault each.

Every script is a pure function of (task, seed, epoch, the results so far); its seeded choices (which hostile
query, how many repeats, which decline wording) come from ``unit_hash`` of the seed, the task and the epoch.
Each writes its deliberate fault into the trail (``did``, and ``mode``: the failure mode its wrong answer
should be diagnosed as), so the labels follow from what it was written to do. A task without reference SQL is
solved from the schema where that can be done (``schema_solver``), else declined.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from evalkit.contracts.suite import TaskSpec
from evalkit.models.persona_kit import (
    NUMERIC_TYPES,
    Step,
    Trail,
    bind_value,
    compute,
    discover,
    needed_tables,
    no_rows,
    query_step,
    run_steps,
    schema_columns,
    simple_step,
    sql_tables,
)
from evalkit.models.persona_replies import answer_plainly, decline
from evalkit.models.schema_solver import from_schema
from evalkit.models.scripts import _SQL_WORDS, is_error, unit_hash

_UNSOLVED = "I could not get the figures from the data. FINAL ANSWER: unknown"


def careful_rest(trail: Trail, task: TaskSpec, values: dict[str, Any] | None, **kw: Any) -> Step:
    """Compute and answer from the bound values (a decline when a step gave nothing)."""
    if values is None:
        yield from decline(trail, task, _UNSOLVED, marker=True)
        return
    value = yield from compute(trail, task, values, kw.get("rewrite"))
    yield from answer_plainly(trail, task, value)


def skips_discovery(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Never lists the tables or reads a schema; sends the right queries straight away."""
    if not task.reference.steps:
        yield from from_schema(trail, task, inspect=False)
        return
    trail.did.append("queried without listing the tables or reading a schema")
    values = yield from run_steps(trail, task)
    yield from careful_rest(trail, task, values)


_GENERIC = frozenset(
    {
        "total", "net", "of", "and", "the", "in", "per", "from", "end", "year", "fiscal", "to", "on",
        # qualifiers: two columns that share only one of these are different things (current assets, debt)
        "current", "other", "operating", "long", "short", "term", "gross", "basic", "diluted", "average", "avg",
        "weighted", "attributable", "before", "after", "beginning", "portion",
    }
)  # fmt: skip


def look_alike(column: str, columns: list[tuple[str, str]]) -> str | None:
    """The column a hurried reader takes for ``column``: another numeric column that shares a word naming the
    same kind of thing (``cost_of_revenue`` for ``total_revenue``, ``eps_basic`` for ``eps_diluted``, not
    ``total_current_assets`` for ``current_portion_of_debt``), the closest in spelling among those; None when
    there is none."""
    words = set(column.lower().split("_")) - _GENERIC
    best: tuple[int, float, str] | None = None
    for name, kind in columns:
        if name.lower() == column.lower() or kind not in NUMERIC_TYPES or "year" in name.lower():
            continue
        shared = len(words & set(name.lower().split("_")))
        if shared:
            key = (shared, difflib.SequenceMatcher(None, name.lower(), column.lower()).ratio(), name)
            best = key if best is None or key > best else best
    return best[2] if best else None


def wrong_column(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Lists and reads the schemas, then queries a look-alike of the column the task needs in the first step
    that has one, and answers from it without noticing."""
    if not task.reference.steps:
        yield from from_schema(trail, task)
        return
    schemas = yield from discover(trail, task)
    values: dict[str, Any] = {}
    swapped = task.answer.kind not in ("number", "template")  # names and rankings: no look-alike figure
    for step in task.reference.steps:
        parts = simple_step(step.sql)
        other = None if swapped or parts is None else look_alike(parts[0], schema_columns(schemas.get(parts[1], "")))
        if parts is not None and other is not None:
            column, table, where = parts
            result = yield from query_step(trail, step, f"SELECT {other} FROM {table} {where}")
            if isinstance(bind_value(result), float):
                swapped = True
                trail.look_alikes.append(f"{table}.{other} for {table}.{column}")
                trail.did.append(f"queried {other} where the task needs {column}")
                trail.mode = "invented_identifier"
                values[step.bind] = bind_value(result)
                continue
        result = yield from query_step(trail, step)
        if is_error(result) or no_rows(result):
            yield from careful_rest(trail, task, None)
            return
        values[step.bind] = bind_value(result)
    yield from careful_rest(trail, task, values)


def misspelt(sql: str, schema: str) -> tuple[str, str, str] | None:
    """``(query, wrong name, right name)``: the query with its first real name misspelt the way a model
    half-remembers it (a word dropped, or ``_total`` added), or None when every variant exists."""
    for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", sql):
        word = m.group(0)
        if word.lower() in _SQL_WORDS or not re.search(rf"\b{re.escape(word)}\b", schema):
            continue
        parts = word.split("_")
        wrong = "_".join(parts[1:]) if len(parts) > 1 else word + "_total"
        if wrong and not re.search(rf"\b{re.escape(wrong)}\b", schema):
            return sql[: m.start()] + wrong + sql[m.end() :], wrong, word
    return None


def recovers(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Careful, but its first query misspells a name; it reads the error, fixes the query and goes on."""
    if not task.reference.steps:
        yield from from_schema(trail, task)
        return
    schemas = yield from discover(trail, task)
    first = task.reference.steps[0]
    slip = misspelt(first.sql, "\n".join(schemas.values()))
    if slip is not None:
        sql, wrong, right = slip
        is_table = right in needed_tables(task)
        tables = [t for t in sql_tables(sql) if t != wrong]
        result = yield from query_step(
            trail, first, sql, tables=tables, invented=(wrong,), invented_tables=(wrong,) if is_table else ()
        )
        if is_error(result):
            trail.did.append(f"misspelt {right} as {wrong}, then fixed it after the error")
        else:
            trail.confirm(wrong, is_table)
    values = yield from run_steps(trail, task)
    yield from careful_rest(trail, task, values)


def star_query(sql: str) -> str:
    """The query with its select list replaced by ``*`` (a refusal under the usual sandbox settings)."""
    return re.sub(r"^\s*SELECT\s+.*?\s+FROM\s", "SELECT * FROM ", sql, count=1, flags=re.IGNORECASE | re.DOTALL)


def _first_try(task: TaskSpec, seed: int, epoch: int) -> str:
    """A first query a sandbox with the usual settings refuses: ``SELECT *``, or no filter."""
    first = task.reference.steps[0]
    parts = simple_step(first.sql)
    if parts is not None and unit_hash("unfiltered", seed, task.id, epoch) < 0.5:
        return f"SELECT {parts[0]} FROM {parts[1]}"
    return star_query(first.sql)


_GIVE_UP = (
    ("The database refused my query, so I cannot determine this. FINAL ANSWER: unknown", True),
    ("FINAL ANSWER: I cannot determine this from the data available.", True),
    ("The database refused my query, so I can't retrieve the figure and won't guess.", False),
)


def gives_up(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Careful until its first query is refused; then declines instead of fixing it."""
    if not task.reference.steps:
        yield from from_schema(trail, task)
        return
    yield from discover(trail, task)
    result = yield from query_step(trail, task.reference.steps[0], _first_try(task, seed, epoch))
    if is_error(result):
        trail.did.append("declined after its first query was refused")
        trail.mode = "made_up_after_error"
        text, marker = _GIVE_UP[int(unit_hash("give-up", seed, task.id, epoch) * len(_GIVE_UP))]
        yield from decline(trail, task, text, marker=marker)
        return
    values = yield from run_steps(trail, task)
    yield from careful_rest(trail, task, values)


def repeats(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Careful, but re-sends its refused first query unchanged (once, twice or four times) before fixing it."""
    if not task.reference.steps:
        yield from from_schema(trail, task)
        return
    yield from discover(trail, task)
    first = task.reference.steps[0]
    sql = star_query(first.sql)
    result = yield from query_step(trail, first, sql)
    if is_error(result):
        times = (1, 2, 4)[int(unit_hash("repeats", seed, task.id, epoch) * 3)]  # 4: stuck long enough to overrun
        for _ in range(times):
            yield from query_step(trail, first, sql)
        trail.did.append(f"re-sent a refused query unchanged {times}×, then fixed it")
    values = yield from run_steps(trail, task)
    yield from careful_rest(trail, task, values)
