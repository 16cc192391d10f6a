"""Discovery and schema checks: did the agent look before it queried, and at the right tables?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit.scoring.checks._common import arg, corrected, fail_with, listed, pct, seqs
from evalkit.scoring.registry import CheckContext, Verdict, check
from evalkit.scoring.trace_view import TraceView

if TYPE_CHECKING:
    from evalkit.env.catalog import Catalog


@check("discovered_tables", args=())
def discovered_tables(ctx: CheckContext) -> Verdict:
    """Listed the tables (a successful ``get_table_names``) before its first SQL query."""
    view = ctx.view
    if not view.queries:
        return Verdict.not_applicable("made no SQL query")
    first = view.queries[0]
    before = [e for e in view.listings if e.seq < first.seq]
    if before:
        return Verdict.passed(f"listed the tables (event {before[0].seq}) before querying", [before[0].seq, first.seq])
    later = " (only later)" if view.listings else ""
    return Verdict.failed(f"queried (event {first.seq}) without listing the tables first{later}", [first.seq])


def unknown_tables(view: TraceView, catalog: Catalog | None) -> set[str]:
    """Lower-case names of queried tables that do not exist: as the tool reported, or as the catalog says."""
    out = {
        str((e.data or {}).get("missing", "")).lower()
        for e in view.errors
        if e.error_type == "unknown_table" and e.tool == "sql_query"
    }
    if catalog is not None:
        for q in view.queries:
            for t in q.tables:
                try:
                    catalog.table(t)
                except KeyError:
                    out.add(t.lower())
    out.discard("")
    return out


def considered_tables(view: TraceView, catalog: Catalog | None) -> list[tuple[int, str]]:
    """(query seq, table) pairs whose table must have been inspected: every table every query references,
    except a non-existent name in a failed query that the agent corrected (a slip, which
    ``recovered_after_error`` judges)."""
    unknown = unknown_tables(view, catalog)
    out = []
    for q in view.queries:
        for t in q.tables:
            if not q.ok and t.lower() in unknown and corrected(view, t, q.seq):
                continue
            out.append((q.seq, t))
    return out


@check("inspected_schema", args=("mode",))
def inspected_schema(ctx: CheckContext) -> Verdict:
    """Every table a query referenced (successful or not) was described with ``get_table_info`` before that
    query. ``args: {mode: fraction}`` gives the share of tables inspected in time as a value instead."""
    view = ctx.view
    pairs = considered_tables(view, ctx.catalog)
    if not pairs:
        return Verdict.not_applicable("made no query that references a table")
    inspected = view.inspections
    late = [(seq, t) for seq, t in pairs if not inspected.get(t.lower(), seq) < seq]
    first_use: dict[str, int] = {}
    for seq, t in pairs:
        first_use.setdefault(t.lower(), seq)
    names = {t.lower(): t for _, t in pairs}
    ok = [t for t, seq in first_use.items() if inspected.get(t, seq) < seq]
    share = len(ok) / len(first_use)
    missing = [names[t] for t in first_use if t not in ok]
    evidence = seqs(seq for seq, _ in late)
    if arg(ctx.args, "mode", "pass_fail") == "fraction":
        why = f"; not inspected before use: {listed(missing)}" if missing else ""
        return Verdict.score(share, f"{len(ok)}/{len(first_use)} tables inspected before querying{why}", evidence)
    if not late:
        return Verdict.passed(
            f"inspected all {len(first_use)} queried table(s) before querying them",
            seqs(inspected[t] for t in ok),
        )
    return Verdict.failed(
        f"queried {listed(missing)} without inspecting first ({pct(share)} of queried tables inspected in time)",
        evidence,
    )


@check("right_tables", args=("min_share",))
def right_tables(ctx: CheckContext) -> Verdict:
    """The share of the task's required tables that the agent both inspected and queried successfully.
    ``args: {min_share: 1.0}`` turns it into pass/fail (failing keeps the share as its value)."""
    if ctx.task is None:
        return Verdict.not_applicable("needs the task")
    view = ctx.view
    required = list(dict.fromkeys(ctx.task.tables))
    if not required:
        return Verdict.not_applicable("the task names no required tables")
    evidence: list[int] = []
    covered = []
    for t in required:
        low = t.lower()
        queried = [q.seq for q in view.successful_queries if low in {x.lower() for x in q.tables}]
        if low in view.inspections and queried:
            covered.append(t)
            evidence += [view.inspections[low], queried[0]]
    share = len(covered) / len(required)
    missing = [t for t in required if t not in covered]
    reason = f"inspected and queried {len(covered)}/{len(required)} required tables"
    if missing:
        reason += f"; missing: {listed(missing)}"
        evidence += [q.seq for q in view.queries]  # what it queried instead
    min_share = ctx.args.get("min_share")
    if min_share is None:
        return Verdict.score(share, reason, seqs(evidence))
    if share >= float(min_share):
        return Verdict.passed(reason, seqs(evidence))
    return fail_with(share, reason, evidence)
