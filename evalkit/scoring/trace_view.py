"""A read-only view of one sample's trace with the facts that checks ask about, computed once.

SQL is parsed with sqlglot (DuckDB dialect); parses are cached by query text, because agents (and the
scripted ones above all) send the same queries again and again across samples.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

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

    try:
        trees = [t for t in sqlglot.parse(query, read="duckdb") if t is not None]
        return _refs(trees)
    except sqlglot.errors.SqlglotError as exc:
        return SqlRefs((), (), (), (), error=str(exc).splitlines()[0][:200])
    except RecursionError:  # sqlglot recurses: 50 levels of parentheses are enough
        return SqlRefs((), (), (), (), error="the query is nested too deeply to be analysed")


def _refs(trees: list[Any]) -> SqlRefs:
    from sqlglot import exp

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
        for ta in tree.find_all(exp.TableAlias):  # WITH x(a, b) AS ..., range(10) AS t(a)
            defined += [c.name for c in ta.columns if isinstance(c, exp.Identifier)]
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
class ColumnRef:
    """One column reference, resolved within its query scope (without a catalog).

    ``tables`` are the real tables (names as written) it may come from; ``opaque`` is set when it may also
    come from something that is not a table (a CTE, a subquery, a table function, an outer query, an output
    alias), so a checker cannot call it invented just because no table in ``tables`` has it.
    """

    qualifier: str | None
    name: str
    tables: tuple[str, ...]
    opaque: bool


def _real_table(source: Any) -> str | None:
    from sqlglot import exp

    if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier) and source.name:
        return str(source.name)
    return None


@lru_cache(maxsize=65536)
def column_refs(query: str) -> tuple[ColumnRef, ...] | None:
    """Every column reference of a query, scope by scope (sqlglot scopes); None when it cannot be analysed."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    out: list[ColumnRef] = []
    try:
        trees = [t for t in sqlglot.parse(query, read="duckdb") if t is not None]
        scopes = [sc for tree in trees for sc in traverse_scope(tree)]
    except (sqlglot.errors.SqlglotError, RecursionError, ValueError, KeyError, TypeError, AttributeError):
        return None
    own = {id(sc.expression) for sc in scopes}
    for sc in scopes:
        visible = _visible_scopes(sc)
        real = [_real_table(src) for v in visible for src in v.sources.values()]
        derived = any(name is None for name in real)
        outputs = {a.alias.lower() for a in sc.expression.find_all(exp.Alias) if a.alias}
        for col in sc.columns:
            if not col.name or isinstance(col.this, exp.Star):
                continue
            home = col.find_ancestor(exp.Select)
            if home is not None and home is not sc.expression and id(home) in own:
                continue  # sqlglot also lists a subquery's columns in the outer scope; judge them in their own
            qualifier = col.table or None
            if qualifier is not None:
                table = _lookup_qualifier(sc, qualifier)
                out.append(ColumnRef(qualifier, col.name, (table,) if table else (), table is None))
            else:
                tables = tuple(dict.fromkeys(t for t in real if t))
                opaque = derived or col.name.lower() in outputs or not tables
                out.append(ColumnRef(None, col.name, tables, opaque))
    return tuple(dict.fromkeys(out))


def _visible_scopes(scope: Any) -> list[Any]:
    """A scope and, for a subquery (``WHERE x IN (SELECT ...)``), the scopes whose columns it can see."""
    chain = [scope]
    while scope.is_subquery and scope.parent is not None:
        scope = scope.parent
        chain.append(scope)
    return chain


def _lookup_qualifier(scope: Any, qualifier: str) -> str | None:
    """The real table a qualifier names in this scope or an enclosing one (correlated references)."""
    current = scope
    while current is not None:
        if qualifier in current.sources:
            return _real_table(current.sources[qualifier])
        current = current.parent
    return None


_WS = re.compile(r"\s+")


def call_signature(event: Event) -> tuple[str, str]:
    """What makes two tool calls identical: the tool and its arguments (whitespace in text collapsed,
    a trailing ``;`` of a query ignored)."""

    def norm(value: Any) -> Any:
        if isinstance(value, str):
            return _WS.sub(" ", value).strip().rstrip(";").strip()
        if isinstance(value, dict):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value

    return (event.tool or "", json.dumps(norm(event.arguments or {}), sort_keys=True, default=str))


@dataclass(frozen=True)
class QueryStep:
    event: Event
    query: str

    @property
    def refs(self) -> SqlRefs:
        return sql_refs(self.query)

    @property
    def ok(self) -> bool:
        return bool(self.event.ok)

    @property
    def seq(self) -> int:
        return self.event.seq

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the query references: parsed, or (when it cannot be parsed) as the tool reported them."""
        refs = self.refs
        if refs.error is None:
            return refs.tables
        reported = (self.event.data or {}).get("tables") or ()
        return tuple(str(t) for t in reported)


class TraceView:
    """Facts about one sample's events."""

    def __init__(self, sample: Sample) -> None:
        from evalkit.scoring.profile_view import as_evalkit_events

        self.sample = sample
        self.events = as_evalkit_events(sample.events)  # rllm-finqa calls read as evalkit's (same facts)

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

    @cached_property
    def successful_queries(self) -> list[QueryStep]:
        return [q for q in self.queries if q.ok]

    @cached_property
    def failed_queries(self) -> list[QueryStep]:
        return [q for q in self.queries if not q.ok]

    @cached_property
    def final_text(self) -> str | None:
        """The full text of the final model turn (with ``FINAL ANSWER:``), else the recorded final answer."""
        if self.final_event is not None and self.final_event.content:
            return self.final_event.content
        return self.sample.final_answer

    @cached_property
    def result_events(self) -> list[Event]:
        """Successful ``sql_query`` and ``calculator`` results: where an answer's numbers can come from."""
        return [e for e in self.tool_events if e.ok and e.tool in ("sql_query", "calculator")]

    def later_success(self, event: Event, tool: str | None = None) -> Event | None:
        """The first successful call of ``tool`` (default: the same tool) after ``event``."""
        name = tool or event.tool
        for e in self.tool_events:
            if e.seq > event.seq and e.ok and e.tool == name:
                return e
        return None

    @property
    def has_error(self) -> bool:
        return bool(self.errors)

    @property
    def has_query(self) -> bool:
        return bool(self.queries)
