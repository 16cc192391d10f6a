"""Comparisons of runs and gate decisions as terminal tables, GitHub-flavoured Markdown and JSON.

A comparison reads top-down like a review of checkpoints: the leaderboard, the trend across the runs (with
more than two), then for each run against the reference its paired metric table (Δ in points, 95% interval,
p-value, test, minimum detectable effect), the behaviours that changed most and the tasks that were fixed or
broken, with the commands that show their traces. A gate decision leads with its verdict and the rules
(failures first), then what changed against the baseline: it is meant to be read as a pull-request comment or
a ``$GITHUB_STEP_SUMMARY``.

Significant changes (p < alpha) are marked ▲ (better) or ▼ (worse); every metric is "higher is better".
Numbers and table rows come from :mod:`evalkit.compare.text_format` (shared with the HTML rendering); the
Markdown building blocks (table cells escape ``|``, ``<`` and newlines) come from
:mod:`evalkit.report.text_format`. No line ends in whitespace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.compare.gate_model import GateResult, RuleResult
from evalkit.compare.model import CompareReport, FlippedTask, MetricChange, PairComparison
from evalkit.compare.text_format import (
    BEHAVIOURS_TOP,
    COMPARE_SCHEMA_PATH,
    CRITICAL_MARK,
    FLIP_HEADER,
    FLIPS_INLINE,
    GATE_SCHEMA_PATH,
    LEADER_ALIGN,
    LEADER_HEADER,
    METRIC_ALIGN,
    METRIC_HEADER,
    RULE_ALIGN,
    RULE_HEADER,
    RULES_INLINE,
    STATUS_MD,
    STATUS_TERM,
    TREND_NOTE,
    behaviour_line,
    change_class,
    delta_text,
    flip_row,
    flips,
    gate_headline,
    gate_tally,
    leader_rows,
    metric_name,
    metric_row,
    ordered_rules,
    pair_counts,
    pair_metrics,
    pair_title,
    plural,
    rule_cells,
    run_name,
    run_text,
    significance_note,
    trend_cell,
    trend_columns,
    trend_metrics,
    trend_rows,
)
from evalkit.report.model import RunInfo
from evalkit.report.text_format import code, details, inline, table

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = [
    "COMPARE_SCHEMA_PATH",
    "GATE_SCHEMA_PATH",
    "render_compare_json",
    "render_compare_markdown",
    "render_compare_terminal",
    "render_gate_json",
    "render_gate_markdown",
    "render_gate_terminal",
]

# --- Markdown ---------------------------------------------------------------------------------------------------


def _join(sections: Iterable[list[str]]) -> str:
    lines: list[str] = []
    for line in (line.rstrip() for section in sections if section for line in [*section, ""]):
        if line or (lines and lines[-1]):  # no run of blank lines
            lines.append(line)
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_run(run: RunInfo, reference: str = "") -> str:
    name = f" **{inline(run.name)}**" if run.name else ""
    models = ", ".join(run.models) or "no model"
    ref = " (reference)" if run.run_id == reference else ""
    return f"{code(run.run_id)}{name}{ref}: suite {inline(run.suite)}, {inline(models)}, {plural(run.epochs, 'epoch')}"


def md_metric_table(pc: PairComparison, metrics: Sequence[MetricChange]) -> list[str]:
    """The paired metric table of one comparison (shared with the gate)."""
    if not metrics:
        return ["No sample was finished in both runs: nothing to compare."]
    return table(METRIC_HEADER, [metric_row(m) for m in metrics], METRIC_ALIGN)


def _md_pair_intro(pc: PairComparison) -> list[str]:
    return [
        f"A: {inline(pc.label_a)} ({code(pc.run_a)}); B: {inline(pc.label_b)} ({code(pc.run_b)}).",
        f"{inline(pair_counts(pc))}.",
    ]


def _md_flips(pc: PairComparison) -> list[str]:
    rows = flips(pc)
    if not rows:
        return ["No task changed its number of right answers."]
    body = table(FLIP_HEADER, [_md_flip_row(c, f) for c, f in rows], "llrl")
    summary = f"Tasks that changed: {len(pc.broken)} broken, {len(pc.fixed)} fixed"
    if len(rows) > FLIPS_INLINE:
        return details(summary, body)
    return [f"**{summary}**", "", *body]


def _md_flip_row(change: str, f: FlippedTask) -> list[str]:
    task, change, counts, command = flip_row(change, f)
    return [code(task), change, counts, code(command)]


def _md_behaviours(pc: PairComparison) -> list[str]:
    top = pc.behaviours_by_change()[:BEHAVIOURS_TOP]
    if not top:
        return []
    return ["**Behaviours that changed most**", "", *(f"- {inline(behaviour_line(m))}" for m in top)]


def _md_pair(pc: PairComparison, level: str, *, top: int | None) -> list[str]:
    lines = [f"{level} {inline(pair_title(pc))}", "", *_md_pair_intro(pc), ""]
    lines += [*md_metric_table(pc, pair_metrics(pc, top=top)), ""]
    lines += [inline(significance_note(pc.alpha)) + f" {CRITICAL_MARK} critical criterion.", ""]
    lines += [*_md_behaviours(pc), ""] if top is None else []
    lines += [f"- note: {inline(n)}" for n in pc.notes]
    return lines


def _md_leaderboard(report: CompareReport) -> list[str]:
    note = "Accuracy is correct over finished samples, with its 95% Wilson interval; best accuracy first."
    return ["## Leaderboard", "", *table(LEADER_HEADER, leader_rows(report), LEADER_ALIGN), "", note]


def _md_trend(report: CompareReport) -> list[str]:
    if len(report.comparisons) < 2:
        return []
    header, rows = trend_rows(report)
    return ["## Trend", "", TREND_NOTE, "", *table(header, rows, "l" + "r" * (len(header) - 1))]


def _md_comparisons(report: CompareReport) -> list[str]:
    lines = ["## Comparisons"]
    if not report.comparisons:
        return [*lines, "", "No two runs share a model to compare."]
    for pc in report.comparisons:
        lines += ["", *_md_pair(pc, "###", top=None), "", *_md_flips(pc)]
    return lines


def _md_notes(notes: Sequence[str], level: str = "##") -> list[str]:
    if not notes:
        return []
    return [f"{level} Notes", "", *(f"- {inline(n)}" for n in notes)]


def render_compare_markdown(report: CompareReport) -> str:
    """The comparison as GitHub-flavoured Markdown (ends with a newline)."""
    runs = {r.run_id: r for r in report.runs}
    title = "evalkit compare: " + ", ".join(run_name(r) for r in report.runs)
    ref = runs.get(report.reference)
    intro = [
        f"# {inline(title)}",
        "",
        f"Reference: **{inline(run_name(ref, report.reference))}**; every other run is compared with it sample by "
        "sample (the same task and epoch), on the samples both finished.",
        "",
        *(f"- {_md_run(r, report.reference)}" for r in report.runs),
        "",
        f"Generated {inline(report.generated_at)} by evalkit {inline(report.evalkit_version)}.",
    ]
    return _join([intro, _md_leaderboard(report), _md_trend(report), _md_comparisons(report), _md_notes(report.notes)])


def _md_rule_row(rule: RuleResult) -> list[str]:
    name, label, observed, limit, p, detail = rule_cells(rule)
    return [STATUS_MD.get(rule.status, rule.status), name, label, observed, limit, p, detail]


def render_gate_markdown(result: GateResult) -> str:
    """The gate decision as GitHub-flavoured Markdown, for a pull-request comment or a step summary."""
    head = [f"## {gate_headline(result)}", "", f"Candidate: {_md_run(result.candidate)}."]
    if result.baseline is not None:
        head.append(f"Baseline: {_md_run(result.baseline)}.")
    rules = ["### Rules", "", gate_tally(result)]
    ordered = ordered_rules(result)
    shown = [r for r in ordered if r.status != "pass"] if len(ordered) > RULES_INLINE else ordered
    folded = [r for r in ordered if r not in shown]
    if shown:
        rules += ["", *table(RULE_HEADER, [_md_rule_row(r) for r in shown], RULE_ALIGN)]
    if folded:
        body = table(RULE_HEADER, [_md_rule_row(r) for r in folded], RULE_ALIGN)
        rules += ["", *details(f"{plural(len(folded), 'rule')} passed", body)]
    changes: list[str] = []
    if result.comparisons:
        changes = ["### Against the baseline"]
        for pc in result.comparisons:
            changes += ["", *_md_pair(pc, "####", top=BEHAVIOURS_TOP)]
    policy = details(
        "Policy as applied", ["```json", *json.dumps(result.policy, indent=2, default=str).split("\n"), "```"]
    )
    return _join([head, rules, changes, _md_notes(result.notes, "###"), policy])


# --- terminal ---------------------------------------------------------------------------------------------------


def _table(title: str, header: Sequence[str], align: str) -> Table:
    from evalkit.report.terminal import section_table

    t = section_table(title)
    for i, col in enumerate(header):
        t.add_column(_esc(col), justify="right" if align[i : i + 1] == "r" else "left", no_wrap=col != "detail")
    return t


def _esc(text: object) -> str:
    from rich.markup import escape

    return escape(str(text))


def _coloured(text: str, m: MetricChange | None) -> str:
    cls = change_class(m)
    colour = {"better": "green", "worse": "red"}.get(cls)
    return f"[{colour}]{_esc(text)}[/]" if colour else _esc(text)


def term_metric_table(pc: PairComparison, metrics: Sequence[MetricChange], title: str, console: Console) -> None:
    """The paired metric table of one comparison, significant changes in colour (shared with the gate)."""
    if not metrics:
        console.print("no sample was finished in both runs: nothing to compare")
        return
    t = _table(title, METRIC_HEADER, METRIC_ALIGN)
    for m in metrics:
        cells = [_esc(c) for c in metric_row(m, critical_mark="!")]
        cells[3] = _coloured(delta_text(m), m)
        t.add_row(*cells)
    console.print(t)


def _term_pair(pc: PairComparison, console: Console, *, top: int | None) -> None:
    console.print(f"[bold]{_esc(pair_title(pc))}[/]")
    console.print(f"  A {_esc(pc.run_a)}  B {_esc(pc.run_b)}  {_esc(pair_counts(pc))}")
    term_metric_table(pc, pair_metrics(pc, top=top), "", console)
    console.print(f"[dim]{_esc(significance_note(pc.alpha))} ! critical criterion.[/]")
    for note in pc.notes:
        console.print(f"[yellow]note:[/] {_esc(note)}")


def _term_behaviours(pc: PairComparison, console: Console) -> None:
    top = pc.behaviours_by_change()[:BEHAVIOURS_TOP]
    if top:
        console.print("behaviours that changed most:")
        for m in top:
            console.print("  " + _coloured(behaviour_line(m), m))


def _term_flips(pc: PairComparison, console: Console) -> None:
    rows = flips(pc)
    if not rows:
        console.print("no task changed its number of right answers")
        return
    t = _table(f"Tasks that changed: {len(pc.broken)} broken, {len(pc.fixed)} fixed", FLIP_HEADER, "llrl")
    for change, f in rows:
        cells = [_esc(c) for c in flip_row(change, f)]
        cells[1] = f"[{'red' if change == 'broken' else 'green'}]{cells[1]}[/]"
        t.add_row(*cells)
    console.print(t)


def _term_trend(report: CompareReport, console: Console) -> None:
    header, _ = trend_rows(report)
    t = _table("Trend", header, "l" + "r" * (len(header) - 1))
    cols = trend_columns(report)
    for k in trend_metrics(report):
        cells = [_coloured(*trend_cell(row, pc, k)) for row, pc in cols]
        t.add_row(_esc(metric_name(k)), *cells)
    console.print(t)
    console.print(f"[dim]{_esc(TREND_NOTE)}[/]")


def render_compare_terminal(report: CompareReport, console: Console) -> None:
    """Print the comparison to ``console``."""
    for run in report.runs:
        ref = " [bold](reference)[/]" if run.run_id == report.reference else ""
        name = f" [bold]{_esc(run.name)}[/]" if run.name else ""
        console.print(
            f"run {_esc(run.run_id)}{name}{ref}  suite {_esc(run.suite)}  {_esc(', '.join(run.models))}  "
            f"{plural(run.epochs, 'epoch')}"
        )
    console.print()
    t = _table("Leaderboard", LEADER_HEADER, LEADER_ALIGN)
    for row in leader_rows(report):
        t.add_row(*(_esc(c) for c in row))
    console.print(t)
    if len(report.comparisons) > 1:
        console.print()
        _term_trend(report, console)
    for pc in report.comparisons:
        console.print()
        _term_pair(pc, console, top=None)
        _term_behaviours(pc, console)
        _term_flips(pc, console)
    if not report.comparisons:
        console.print("no two runs share a model to compare")
    for note in report.notes:
        console.print(f"[yellow]note:[/] {_esc(note)}")


def render_gate_terminal(result: GateResult, console: Console) -> None:
    """Print the gate decision to ``console``: the verdict, the rules (failures first), the changes."""
    style = "bold green" if result.passed else "bold red"
    console.print(f"[{style}]{_esc(gate_headline(result))}[/]")
    console.print(f"candidate {_esc(run_text(result.candidate))}")
    if result.baseline is not None:
        console.print(f"baseline  {_esc(run_text(result.baseline))}")
    console.print(_esc(gate_tally(result)))
    if result.rules:
        t = _table("Rules", RULE_HEADER, RULE_ALIGN)
        for rule in ordered_rules(result):
            t.add_row(STATUS_TERM.get(rule.status, _esc(rule.status)), *(_esc(c) for c in rule_cells(rule)))
        console.print(t)
    for pc in result.comparisons:
        console.print()
        _term_pair(pc, console, top=BEHAVIOURS_TOP)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {_esc(note)}")


# --- JSON -------------------------------------------------------------------------------------------------------


def render_compare_json(report: CompareReport) -> str:
    """``report.to_dict()`` as indented JSON (documented by :data:`COMPARE_SCHEMA_PATH`)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_gate_json(result: GateResult) -> str:
    """``result.to_dict()`` (with its ``failures`` count) as indented JSON (see :data:`GATE_SCHEMA_PATH`)."""
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"


def load_schema(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return schema
