"""How a persona answers a task that has no reference SQL (an imported suite without ``sql``): from the schema.

It lists the tables, reads the schemas of the likeliest ones (the task's tables, ranked by the words they
share with the question), and answers a single-figure lookup ("the total revenue of Northwind in fiscal 2021")
with one query: the numeric column that shares the most words with the question, filtered on the year the
question names, converted to the scale asked for. Anything else (growth, ratios, rankings, several figures)
it declines without querying. What it answers is its best reading of the schema, not a known solution: its
answer is labelled right or wrong against the gold, but its failure mode is not known by design.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from evalkit.contracts.suite import TaskSpec
from evalkit.models.persona_kit import NUMERIC_TYPES, Step, Trail, call, listed_tables
from evalkit.models.persona_replies import decline, finish, value_text
from evalkit.models.scripts import bind_value, is_error

_NOT_A_LOOKUP = re.compile(
    r"\b(growth|grow|grew|change[ds]?|increase[ds]?|decrease[ds]?|ratio|margin|per|percentage|share|average|mean|"
    r"cagr|compare[ds]?|difference|which|rank\w*|highest|lowest|most|least|sum|combined|between|versus|vs)\b",
    re.IGNORECASE,
)
_STOP = frozenset(
    {
        "the", "of", "in", "for", "what", "was", "is", "a", "an", "and", "to", "its", "it", "fiscal", "year", "fy",
        "answer", "report", "how", "much", "did", "usd", "millions", "thousands", "billions", "inc", "corp", "ltd",
        "give", "state", "value", "amount", "figure", "end",
    }
)  # fmt: skip
_COLUMN = re.compile(r"^- ([A-Za-z_]\w*) ([A-Z]+)(?: \[([^\]]+)\])?", re.MULTILINE)
_SCALES = {"USD": 1.0, "USD thousands": 1e3, "USD millions": 1e6, "USD billions": 1e9}
_DECLINE = "This needs more than one figure looked up, and I have no way to check a calculation. FINAL ANSWER: unknown"


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP and len(w) > 1}


def _overlap(question: set[str], name: str) -> int:
    return len(question & set(name.lower().split("_")))


def from_schema(
    trail: Trail, task: TaskSpec, *, inspect: bool = True, prelude: Callable[[], Step] | None = None
) -> Step:
    """Solve ``task`` from the schema, or decline (see the module docstring). ``inspect=False`` skips reading
    the schemas (it then takes the first table the question's words point to and a column named after them);
    ``prelude`` runs after the schemas are read and before the query (a persona's own fault)."""
    question = words(task.question)
    years = re.findall(r"\b(?:19|20)\d\d\b", task.question)
    listing = yield from call(trail, "get_table_names", {"company": task.company} if task.company else {})
    names = listed_tables(listing)
    candidates = [t for t in task.tables if t in names] or list(task.tables) or names
    lookup = len(set(years)) == 1 and not _NOT_A_LOOKUP.search(task.question) and task.answer.kind == "number"
    if not lookup or not candidates:
        trail.did.append("declined without querying: no single figure to look up")
        trail.mode = "gave_up_without_query"
        yield from decline(trail, task, _DECLINE, marker=True)
        return
    ranked = sorted(candidates, key=lambda t: (-_overlap(question, t), candidates.index(t)))[:2]
    best: tuple[int, str, str, str, str | None] | None = None  # (score, table, column, year column, unit)
    for table in ranked if inspect else []:
        schema = yield from call(trail, "get_table_info", {"table": table})
        columns = [] if is_error(schema) else _COLUMN.findall(schema)
        year_column = next((c for c, _, _ in columns if "year" in c.lower()), None)
        for column, kind, unit in columns:
            score = _overlap(question, column)
            fits = year_column and column != year_column and kind in NUMERIC_TYPES and score
            if fits and (best is None or score > best[0]):
                best = (score, table, column, year_column or "", unit or None)
    guessed: tuple[str, ...] = ()
    if not inspect:  # it names the column after the question's words, unseen
        column = "_".join(sorted(question & {"revenue", "income", "cash", "debt", "assets", "equity"})) or "revenue"
        best, guessed = (1, ranked[0], column, "fiscal_year", None), (column, "fiscal_year")
    if prelude is not None:
        yield from prelude()
    if best is None:
        trail.did.append("declined: no column of the schema matches the question")
        trail.mode = "gave_up_without_query"
        yield from decline(trail, task, _DECLINE, marker=True)
        return
    _, table, column, year_column, unit = best
    sql = f"SELECT {column} FROM {table} WHERE {year_column} = {years[0]}"
    result = yield from call(trail, "sql_query", {"query": sql}, tables=(table,), invented=guessed)
    value = bind_value(result) if not is_error(result) else None
    for name in guessed if not is_error(result) else ():
        trail.confirm(name, False)
    trail.mode_known = False
    trail.did.append(f"looked the figure up from the schema: {sql}")
    if not isinstance(value, float):
        yield from decline(trail, task, "The table does not give this figure. FINAL ANSWER: unknown", marker=True)
        return
    asked = task.answer.unit or ""
    if unit in _SCALES and asked in _SCALES:
        value = value * _SCALES[unit] / _SCALES[asked]
    yield from finish(trail, task, value, "FINAL ANSWER: " + value_text(value, task))
