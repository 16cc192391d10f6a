"""A read-only view of one sample's trace with the facts that checks ask about, computed once.

SQL is parsed with sqlglot (DuckDB dialect); parses are cached by query text, because agents (and the
scripted ones above all) send the same queries again and again across samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from evalkit.trace.types import Event, Sample


@dataclass(frozen=True)
class SqlRefs:
    """The identifiers a query references. ``error`` is set when it could not be parsed."""

    tables: tuple[str, ...]
    columns: tuple[tuple[str | None, str], ...]  # (table qualifier or alias as written, column)
    aliases: tuple[tuple[str, str], ...]  # (alias, table)
    output_aliases: tuple[str, ...]  # names defined in the query (SELECT x AS name, CTE names)
    error: str | None = None


@lru_cache(maxsize=65536)
def sql_refs(query: str) -> SqlRefs:
    """Tables and columns referenced by a query (CTE names and output aliases are not tables/columns)."""
    import sqlglot
    from sqlglot import exp

    try:
        trees = [t for t in sqlglot.parse(query, read="duckdb") if t is not None]
    except sqlglot.errors.SqlglotError as exc:
        return SqlRefs((), (), (), (), error=str(exc).splitlines()[0][:200])
    tables: list[str] = []
    columns: list[tuple[str | None, str]] = []
    aliases: list[tuple[str, str]] = []
    defined: list[str] = []
    for tree in trees:
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        defined += sorted(ctes)
        for t in tree.find_all(exp.Table):
            name = t.name
            if not name or name.lower() in ctes:
                continue
            tables.append(name)
            if t.alias:
                aliases.append((t.alias, name))
        for a in tree.find_all(exp.Alias):
            defined.append(a.alias)
        for sub in tree.find_all(exp.Subquery):
            if sub.alias:
                defined.append(sub.alias)
        for c in tree.find_all(exp.Column):
            if c.name and not isinstance(c.this, exp.Star):
                columns.append((c.table or None, c.name))
    return SqlRefs(
        tuple(dict.fromkeys(tables)),
        tuple(dict.fromkeys(columns)),
        tuple(dict.fromkeys(aliases)),
        tuple(dict.fromkeys(defined)),
    )


@dataclass(frozen=True)
class QueryStep:
    event: Event
    query: str

    @property
    def refs(self) -> SqlRefs:
        return sql_refs(self.query)


class TraceView:
    """Facts about one sample's events."""

    def __init__(self, sample: Sample) -> None:
        self.sample = sample
        self.events = sample.events

    @cached_property
    def tool_events(self) -> list[Event]:
        return [e for e in self.events if e.kind == "tool"]

    @cached_property
    def model_events(self) -> list[Event]:
        return [e for e in self.events if e.kind == "model"]

    @cached_property
    def errors(self) -> list[Event]:
        return [e for e in self.tool_events if not e.ok]

    @cached_property
    def queries(self) -> list[QueryStep]:
        out = []
        for e in self.tool_events:
            if e.tool == "sql_query" and e.arguments and isinstance(e.arguments.get("query"), str):
                out.append(QueryStep(e, e.arguments["query"]))
        return out

    @cached_property
    def listings(self) -> list[Event]:
        """Successful ``get_table_names`` calls."""
        return [e for e in self.tool_events if e.tool == "get_table_names" and e.ok]

    @cached_property
    def inspections(self) -> dict[str, int]:
        """Table name (lower case) → seq of the first successful ``get_table_info`` of it."""
        out: dict[str, int] = {}
        for e in self.tool_events:
            if e.tool == "get_table_info" and e.ok and e.arguments:
                name = str(e.arguments.get("table", "")).lower()
                out.setdefault(name, e.seq)
        return out

    @cached_property
    def final_event(self) -> Event | None:
        """The model turn that gave the final answer (the last model turn without tool calls)."""
        if self.sample.stop_reason != "final_answer":
            return None
        for e in reversed(self.model_events):
            if not e.tool_calls:
                return e
        return None

    @property
    def has_error(self) -> bool:
        return bool(self.errors)

    @property
    def has_query(self) -> bool:
        return bool(self.queries)
