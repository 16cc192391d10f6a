"""Identifier checks: did the agent's SQL name tables and columns that exist, and the ones it meant?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from evalkit.contracts.rllm_names import is_rllm_call
from evalkit.scoring.checks._common import arg, corrected, listed, seqs, similar, similar_column
from evalkit.scoring.registry import CheckContext, Verdict, check
from evalkit.scoring.trace_view import TraceView, column_refs, sql_refs

if TYPE_CHECKING:
    from evalkit.contracts.suite import TaskSpec
    from evalkit.env.catalog import Catalog
    from evalkit.trace.types import Sample


@dataclass
class _Invented:
    kind: str  # "table" or "column"
    name: str
    seqs: list[int] = field(default_factory=list)
    rejected: bool = False  # the tool itself reported it unknown


def _known(catalog: Catalog, table: str) -> bool:
    try:
        catalog.table(table)
    except KeyError:
        return False
    return True


def _column_name(catalog: Catalog, table: str, column: str, by_source: bool = False) -> str | None:
    """The catalog name of ``table``'s column ``column``, or None; with ``by_source``, a column may also be
    named as the tool set the trace was recorded with named it (its ``source_name``: an rLLM episode's query
    against the cookbook's SQLite tables)."""
    try:
        info = catalog.table(table)
    except KeyError:
        return None
    try:
        return info.column(column).name
    except KeyError:
        pass
    if by_source:
        low = column.lower()
        for c in info.columns:
            if c.source_name is not None and c.source_name.lower() == low:
                return c.name
    return None


def recorded_in_cookbook(sample: Sample) -> bool:
    """Whether the sample's SQL may name the cookbook's columns: an rLLM episode imported from its run
    (``trace.rllm_episodes``), or a run through the rllm-finqa profile, whose tables answer to those names."""
    from evalkit.trace.rllm_episodes import SOURCE

    if sample.metadata.get("source") == SOURCE:
        return True
    return any(e.kind == "tool" and is_rllm_call(e.tool, e.arguments) for e in sample.events)


def invented_names(view: TraceView, catalog: Catalog, by_source: bool = False) -> dict[tuple[str, str], _Invented]:
    """Tables and columns that do not exist, from the tool's errors and from parsing every query that did not
    run successfully (a query that ran is proof that its names exist)."""
    found: dict[tuple[str, str], _Invented] = {}

    def add(kind: str, name: str, seq: int, rejected: bool = False) -> None:
        item = found.setdefault((kind, name.lower()), _Invented(kind, name))
        if seq not in item.seqs:
            item.seqs.append(seq)
        item.rejected = item.rejected or rejected

    for q in view.failed_queries:
        e = q.event
        missing = str((e.data or {}).get("missing") or "")
        if missing and e.error_type in ("unknown_table", "unknown_column"):
            add("table" if e.error_type == "unknown_table" else "column", missing, q.seq, rejected=True)
        for t in q.tables:
            if not _known(catalog, t):
                add("table", t, q.seq)
        for ref in column_refs(q.query) or ():
            if not ref.tables or not all(_known(catalog, t) for t in ref.tables):
                continue  # no table to check against, or an unknown table (reported as such)
            if not any(_column_name(catalog, t, ref.name, by_source) for t in ref.tables) and not ref.opaque:
                add("column", ref.name, q.seq)
    return found


def resolved(query: str, catalog: Catalog, by_source: bool = False) -> tuple[set[str], set[tuple[str, str]]]:
    """The real tables and (table, column) pairs a query uses, lower case."""
    tables = {catalog.table(t).name.lower() for t in sql_refs(query).tables if _known(catalog, t)}
    columns = set()
    for ref in column_refs(query) or ():
        for t in ref.tables:
            name = _column_name(catalog, t, ref.name, by_source)
            if name is not None:
                columns.add((catalog.table(t).name.lower(), name.lower()))
    return tables, columns


def reference_names(task: TaskSpec, catalog: Catalog) -> tuple[set[str], set[tuple[str, str]]]:
    tables: set[str] = set()
    columns: set[tuple[str, str]] = set()
    for step in task.reference.steps:
        t, c = resolved(step.sql, catalog)
        tables |= t
        columns |= c
        if step.table and _known(catalog, step.table):
            tables.add(catalog.table(step.table).name.lower())
    return tables, columns


def wrong_resolutions(
    view: TraceView, catalog: Catalog, task: TaskSpec, by_source: bool = False
) -> list[tuple[str, str, list[int]]]:
    """Real names the agent used that the reference does not, where the reference uses a similar one the
    agent never used: ``(used, intended, query seqs)``."""
    ref_tables, ref_columns = reference_names(task, catalog)
    used: dict[str, list[int]] = {}
    used_cols: dict[tuple[str, str], list[int]] = {}
    for q in view.successful_queries:
        tables, columns = resolved(q.query, catalog, by_source)
        for t in tables:
            used.setdefault(t, []).append(q.seq)
        for tc in columns:
            used_cols.setdefault(tc, []).append(q.seq)
    out = []
    for t, where in used.items():
        if t in ref_tables:
            continue
        intended = [r for r in sorted(ref_tables) if r not in used and similar(t, r)]
        if intended:
            out.append((t, intended[0], where))
    for (t, c), where in used_cols.items():
        if t not in ref_tables or (t, c) in ref_columns:
            continue
        intended = [
            rc for (rt, rc) in sorted(ref_columns) if rt == t and (t, rc) not in used_cols and similar_column(c, rc)
        ]
        if intended:
            out.append((f"{t}.{c}", f"{t}.{intended[0]}", where))
    return out


def _describe(items: list[_Invented]) -> str:
    parts = []
    for kind in ("table", "column"):
        names = [i.name for i in items if i.kind == kind]
        if names:
            parts.append(f"{kind}{'s' if len(names) > 1 else ''} {listed(names)}")
    return "; ".join(parts)


@check("valid_identifiers", args=("strict",))
def valid_identifiers(ctx: CheckContext) -> Verdict:
    """No table or column that does not exist (checked against the catalog, both the names the tool rejected
    and those found by parsing the SQL), and no real name used where the reference solution uses a similar
    one (``resolved to ... instead of ...``, needs the task). A non-existent name in a failed query that the
    agent then corrected is a *slip*: reported, but not a failure, unless ``args: {strict: true}``."""
    catalog = ctx.catalog
    if catalog is None:
        return Verdict.not_applicable("needs the suite's catalog")
    view = ctx.view
    if not view.queries:
        return Verdict.not_applicable("made no SQL query")
    strict = bool(arg(ctx.args, "strict", False))
    by_source = recorded_in_cookbook(ctx.sample)
    invented = list(invented_names(view, catalog, by_source).values())
    slips = [i for i in invented if not strict and corrected(view, i.name, min(i.seqs))]
    bad = [i for i in invented if i not in slips]
    wrong = wrong_resolutions(view, catalog, ctx.task, by_source) if ctx.task is not None else []
    problems = []
    if bad:
        rejected = sum(1 for i in bad if i.rejected)
        problems.append(f"invented {_describe(bad)} ({rejected} rejected by the tool)")
    if wrong:
        problems.append("; ".join(f"resolved to {u} instead of {i}" for u, i, _ in wrong))
    slip_note = f" ({len(slips)} slip(s) corrected after the tool's error: {_describe(slips)})" if slips else ""
    if problems:
        evidence = [s for i in bad for s in i.seqs] + [s for *_, where in wrong for s in where]
        return Verdict.failed("; ".join(problems) + slip_note, seqs(evidence))
    n_tables = len({t.lower() for q in view.queries for t in q.tables})
    return Verdict.passed(
        f"all {n_tables} referenced table(s) and their columns exist{slip_note}", seqs(s for i in slips for s in i.seqs)
    )
