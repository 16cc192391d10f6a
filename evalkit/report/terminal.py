"""The report in the terminal: compact rich tables, in the style of ``evalkit score``.

One screen answers "how good is each model, at what cost, and why does it fail": per group (a model in a
run) its accuracy with a 95% interval, pass@k/pass^k, rubric score and usage; the criteria's pass rates side
by side (critical ones marked ``!``); the failure modes of wrong answers; the behaviours to train next; the
tasks no model gets right; and the notes. The Markdown and HTML renderings carry the full detail.

Only the report command imports this module, so rich is imported at the top (pandas never is).
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evalkit.report.model import CriterionStat, ModelReport, Report
from evalkit.report.text_format import (
    EXPORT_INTRO,
    POOLED_NOTE,
    SUSPECT_RULE,
    TRAIN_NEXT_HEADER,
    TRAIN_NEXT_TOP,
    accuracy_text,
    correct_text,
    cost_per_correct_text,
    cost_text,
    endpoint_lines,
    export_lines,
    groups_with_stats,
    infra_error_lines,
    is_critical,
    latency_text,
    none_finished,
    none_scored,
    pass_k_text,
    pct,
    shared_k,
    stat_of,
    tokens_per_sample_text,
    tokens_text,
    train_next_line,
)


def section_table(title: str) -> Table:
    """A titled, borderless rich table in the style of every evalkit report and comparison."""
    return Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0),
        collapse_padding=True,
    )


def _header(report: Report, console: Console) -> None:
    for run in report.runs:
        name = f" [bold]{escape(run.name)}[/]" if run.name else ""
        rubrics = ", ".join(f"{n} {v}" for n, v in run.rubrics) or "none"
        console.print(
            f"run {run.run_id}{name}  suite {escape(run.suite)}  {len(run.models)} models  {run.epochs} epochs  "
            f"{escape(run.status)}"
        )
        console.print(f"  rubrics: {escape(rubrics)}")
    console.print(f"[dim]generated {escape(report.generated_at)} by evalkit {escape(report.evalkit_version)}[/]")


def _models(report: Report, console: Console) -> None:
    table = section_table("Models")
    k = shared_k(report.groups)
    any_k = any(g.pass_at_k for g in report.groups)
    table.add_column("group", no_wrap=True)
    for col in ("accuracy [95% CI]", "correct", *((f"pass@{k or 'k'}", f"pass^{k or 'k'}") if any_k else ())):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("rubric score", justify="right", no_wrap=True)
    for g in report.groups:
        passes = (pass_k_text(g.pass_at_k, k, k is None), pass_k_text(g.pass_hat_k, k, k is None)) if any_k else ()
        table.add_row(escape(g.label), accuracy_text(g), correct_text(g), *passes, pct(g.rubric_score))
    console.print(table)
    for line in infra_error_lines(report):
        console.print(f"[red]![/] {escape(line)}")
    for line in endpoint_lines(report):
        console.print(f"  replica {escape(line)}")


def _usage(report: Report, console: Console) -> None:
    table = section_table("Usage")
    table.add_column("group", no_wrap=True)
    cols = ("finished", "infra errors", "tokens", "tokens/sample", "p50", "p95", "cost", "cost/correct")
    for col in cols:
        table.add_column(col, justify="right", no_wrap=True)
    for g in report.groups:
        u = g.usage
        table.add_row(
            escape(g.label),
            f"{g.finished}/{g.samples}",
            str(g.infra_errors),
            tokens_text(u),
            tokens_per_sample_text(u),
            latency_text(u, u.latency_p50_s),
            latency_text(u, u.latency_p95_s),
            cost_text(u),
            cost_per_correct_text(g),
        )
    console.print(table)


def _criterion_cell(stat: CriterionStat | None) -> str:
    if stat is None:
        return "—"
    if stat.rate.n == 0:
        return "n/a"
    text = f"{pct(stat.rate.rate)} {stat.rate.k}/{stat.rate.n}"
    return text + (f" {stat.errors} err" if stat.errors else "")


def _criteria(report: Report, console: Console) -> None:
    keys = groups_with_stats(report)
    if not keys:
        console.print("[dim]no rubric scores[/]")
        return
    table = section_table("Criteria (pass rate, passed/judged)")
    table.add_column("criterion", no_wrap=True)
    table.add_column("rubric", no_wrap=True)
    for g in report.groups:
        table.add_column(escape(g.label), justify="right", no_wrap=True)
    for rubric, criterion in keys:
        mark = " !" if is_critical(report, rubric, criterion) else ""
        cells = (_criterion_cell(stat_of(g, rubric, criterion)) for g in report.groups)
        table.add_row(escape(criterion) + mark, escape(rubric), *cells)
    console.print(table)
    console.print("[dim]! critical criterion[/]")


def _failure_modes(report: Report, console: Console) -> None:
    rows = [(g, fm) for g in report.groups for fm in g.failure_modes]
    if not rows and none_finished(report):
        console.print("failure modes: no sample finished, so none can be diagnosed")
        return
    if not rows and none_scored(report):
        console.print("failure modes: correctness not scored (no expected answers), so no answer is wrong")
        return
    if not rows:
        console.print("failure modes: no wrong answers")
        return
    table = section_table("Failure modes of wrong answers")
    table.add_column("group", no_wrap=True)
    table.add_column("failure mode", no_wrap=True)
    table.add_column("wrong", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("tasks", overflow="fold")
    for g, fm in rows:
        tasks = ", ".join(fm.tasks[:8]) + (f" (+{len(fm.tasks) - 8} more)" if len(fm.tasks) > 8 else "")
        table.add_row(escape(g.label), escape(fm.label), str(fm.count), pct(fm.share, 0), escape(tasks))
    console.print(table)


def _train_next(report: Report, console: Console) -> None:
    table = section_table(f"What to train next (top {TRAIN_NEXT_TOP} per group)")
    table.add_column("group", no_wrap=True)
    table.add_column("criterion", no_wrap=True)
    lost, explains, split = TRAIN_NEXT_HEADER
    table.add_column(lost, justify="right", no_wrap=True)
    table.add_column(explains, no_wrap=True)
    table.add_column(split, justify="right", no_wrap=True)
    silent: list[ModelReport] = []
    for g in report.groups:
        for b in g.train_next[:TRAIN_NEXT_TOP]:
            table.add_row(escape(g.label), escape(b.criterion), *train_next_line(b))
        if not g.train_next and g.accuracy.k < g.accuracy.n:
            silent.append(g)
    if table.row_count:
        console.print(table)
        if any(b.pooled for g in report.groups for b in g.train_next[:TRAIN_NEXT_TOP]):
            console.print(f"[dim]{escape(POOLED_NOTE)}[/]")
        console.print(EXPORT_INTRO)
        for command in export_lines(report):
            console.print(f"  {command}", markup=False, soft_wrap=True, highlight=False)
    else:
        console.print("what to train next: nothing to rank")
    if silent:
        labels = escape(", ".join(g.label for g in silent))
        console.print(f"[dim]no behaviour separates right from wrong answers for {labels}[/]")


def _tail(report: Report, console: Console) -> None:
    failed = ", ".join(report.failed_by_all) if report.failed_by_all else "none"
    console.print(f"tasks every model fails: {escape(failed)} [dim]({escape(SUSPECT_RULE)})[/]")
    for note in report.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")


def render_terminal(report: Report, console: Console) -> None:
    """Print the report's summary to ``console``."""
    _header(report, console)
    for part in (_models, _usage, _criteria, _failure_modes, _train_next, _tail):
        console.print()
        part(report, console)
