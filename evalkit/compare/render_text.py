"""Comparisons of runs and gate decisions as terminal tables, GitHub-flavoured Markdown and JSON.

A comparison reads top-down like a review of checkpoints: the leaderboard, the trend across the runs (with
more than two), then for each run against the reference its paired metric table (Δ in points, 95% interval,
p-value, test, minimum detectable effect), the behaviours that changed most and the tasks that were fixed or
broken, with the commands that show their traces. A gate decision leads with its verdict and the rules
(failures first), then what changed against the baseline: it is meant to be read as a pull-request comment or
a ``$GITHUB_STEP_SUMMARY``.

Significant changes (p < alpha) are marked ▲ (better) or ▼ (worse); every metric is "higher is better".
The formatting helpers at the top are shared with the HTML rendering; the Markdown building blocks (table
cells escape ``|``, ``<`` and newlines) come from :mod:`evalkit.report.markdown`. No line ends in whitespace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.compare.gate_model import GateResult, RuleResult
from evalkit.compare.model import CompareReport, FlippedTask, LeaderRow, MetricChange, PairComparison
from evalkit.report.markdown import code, details, inline, pct, table, usd
from evalkit.report.model import RunInfo

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

_SCHEMAS = Path(__file__).resolve().parent.parent / "spec" / "schemas"
COMPARE_SCHEMA_PATH = _SCHEMAS / "compare.schema.json"
"""The JSON Schema (draft 2020-12) of :func:`render_compare_json`'s output."""
GATE_SCHEMA_PATH = _SCHEMAS / "gate-result.schema.json"
"""The JSON Schema (draft 2020-12) of :func:`render_gate_json`'s output."""

BETTER = "▲"
WORSE = "▼"
BEHAVIOURS_TOP = 5
"""Behaviours listed under "behaviours that changed most"."""
FLIPS_INLINE = 10
RULES_INLINE = 10
"""With more rules than this, the Markdown lists the failed and skipped ones and folds the passed ones."""
"""More fixed and broken tasks than this go in a ``<details>`` block (Markdown)."""
CRITICAL_MARK = "⚠"

METRIC_HEADER = ("metric", "A", "B", "Δ", "95% CI", "p", "test", "MDE (pts)")
METRIC_ALIGN = "lrrrrrlr"
LEADER_HEADER = ("#", "label", "run", "accuracy [95% CI]", "rubric score", "cost / sample", "tokens / sample")
LEADER_ALIGN = "rllrrrr"
FLIP_HEADER = ("task", "change", "correct A → B", "traces side by side")
RULE_HEADER = ("status", "rule", "model", "observed", "limit", "p", "detail")
RULE_ALIGN = "lllrrrl"
_TESTS = {"mcnemar-exact": "McNemar exact", "paired-bootstrap": "paired bootstrap"}
_STATUS_MD = {"fail": "❌ fail", "pass": "✅ pass", "skip": "➖ skip"}
_STATUS_TERM = {"fail": "[bold red]FAIL[/]", "pass": "[green]pass[/]", "skip": "[dim]skip[/]"}


# --- formatting shared with the HTML rendering ---------------------------------------------------------------


def signed(x: float, digits: int = 1) -> str:
    """A fraction as signed points: 0.019 → ``"+1.9"``, −0.25 → ``"−25.0"``, 0 → ``"0.0"``."""
    v = round(100 * x, digits)
    if v == 0:
        return f"{0:.{digits}f}"
    return f"{'+' if v > 0 else '−'}{abs(v):.{digits}f}"


def pts(x: float) -> str:
    """``"−12.5 pts"``."""
    return f"{signed(x)} pts"


def ci_text(m: MetricChange) -> str:
    """The interval of B − A in points: ``"[−25.0, +1.9]"``."""
    return f"[{signed(m.low)}, {signed(m.high)}]"


def p_text(p: float | None) -> str:
    """Three significant digits (``0.0432``, ``1.00``), ``<0.001`` below that, ``—`` when there is none."""
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:#.3g}"


def marker(m: MetricChange) -> str:
    """▲ for a significant improvement, ▼ for a significant drop, nothing otherwise."""
    if not m.significant or round(100 * m.diff, 1) == 0:
        return ""
    return BETTER if m.diff > 0 else WORSE


def change_class(m: MetricChange | None) -> str:
    """``better``, ``worse`` or ``""`` (for styling)."""
    mark = marker(m) if m is not None else ""
    return "better" if mark == BETTER else "worse" if mark == WORSE else ""


def delta_text(m: MetricChange) -> str:
    """``"−12.5 pts ▼"``."""
    mark = marker(m)
    return pts(m.diff) + (f" {mark}" if mark else "")


def metric_name(metric: str) -> str:
    """How a metric is called in tables: ``rubric_score`` reads "rubric score", criteria keep their key."""
    return "rubric score" if metric == "rubric_score" else metric


def is_criterion(metric: str) -> bool:
    return metric not in ("accuracy", "rubric_score")


def mde_text(m: MetricChange) -> str:
    """The minimum detectable effect in points; ``≥100`` when no difference this many pairs show would do."""
    if m.mde is None:
        return "—"
    return "≥100" if m.mde >= 1 else f"{100 * m.mde:.1f}"


def test_text(test: str) -> str:
    return _TESTS.get(test, test)


def run_name(run: RunInfo | None, run_id: str = "") -> str:
    """A run's name, else its id."""
    if run is None:
        return run_id
    return run.name or run.run_id


def cost_per_sample(row: LeaderRow) -> str:
    return "unknown" if row.cost_per_sample_usd is None else usd(row.cost_per_sample_usd)


def tokens_per_sample(row: LeaderRow) -> str:
    return "—" if row.tokens_per_sample is None else f"{row.tokens_per_sample:,.0f}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- rows shared by the terminal, Markdown and HTML renderings ------------------------------------------------


def leader_rows(report: CompareReport) -> list[list[str]]:
    runs = {r.run_id: r for r in report.runs}
    rows = []
    for i, row in enumerate(report.leaderboard, start=1):
        run = run_name(runs.get(row.run_id), row.run_id) + (" (reference)" if row.run_id == report.reference else "")
        score = pct(row.rubric_score)
        rows.append([str(i), row.label, run, row.accuracy.fmt(), score, cost_per_sample(row), tokens_per_sample(row)])
    return rows


def pair_title(pc: PairComparison) -> str:
    return f"{pc.label_a} → {pc.label_b}"


def pair_counts(pc: PairComparison) -> str:
    """``"12 pairs over 4 tasks"`` and, when some samples could not be paired, which."""
    text = f"{plural(pc.pairs, 'pair')} (task × epoch) over {plural(pc.tasks, 'task')}"
    if pc.only_a or pc.only_b or pc.unfinished:
        text += (
            f"; compared on the {pc.pairs} shared samples; {pc.only_a} only in A, {pc.only_b} only in B, "
            f"{pc.unfinished} unfinished"
        )
    return text


def pair_metrics(pc: PairComparison, *, top: int | None = None) -> list[MetricChange]:
    """Accuracy and the rubric score, then every criterion (rubric order), or only the ``top`` that changed
    most."""
    head = [m for m in (pc.metric("accuracy"), pc.metric("rubric_score")) if m is not None]
    rest = pc.behaviours_by_change()[:top] if top is not None else [m for m in pc.metrics if is_criterion(m.metric)]
    return head + rest


def metric_row(m: MetricChange, *, critical_mark: str = CRITICAL_MARK) -> list[str]:
    name = metric_name(m.metric)
    if critical_mark and is_criterion(m.metric) and m.severity == "critical":
        name += f" {critical_mark}"
    return [
        name,
        pct(m.mean_a),
        pct(m.mean_b),
        delta_text(m),
        ci_text(m),
        p_text(m.p_value),
        test_text(m.test),
        mde_text(m),
    ]


def behaviour_line(m: MetricChange) -> str:
    """``tool-discipline.valid_identifiers: 100.0% → 0.0%, −100.0 pts ▼ (p <0.001)``."""
    return f"{m.metric}: {pct(m.mean_a)} → {pct(m.mean_b)}, {delta_text(m)} (p {p_text(m.p_value)})"


def flips(pc: PairComparison) -> list[tuple[str, FlippedTask]]:
    """Broken tasks first (they matter more), then fixed ones."""
    return [("broken", f) for f in pc.broken] + [("fixed", f) for f in pc.fixed]


def flip_row(change: str, f: FlippedTask) -> list[str]:
    return [f.task_id, change, f"{f.correct_a}/{f.epochs} → {f.correct_b}/{f.epochs}", f.side_by_side]


def significance_note(alpha: float) -> str:
    return f"{BETTER}/{WORSE}: significantly better/worse (p < {alpha:g}); Δ and its 95% interval in points, B − A."


# --- the trend across runs (more than two) --------------------------------------------------------------------


def trend_columns(report: CompareReport) -> list[tuple[LeaderRow, PairComparison | None]]:
    """Every group (a model in a run) in the order the runs were given, with its comparison to the reference
    (None for the reference itself, or a model the reference does not have)."""
    order = {r.run_id: (i, r.models) for i, r in enumerate(report.runs)}

    def key(row: LeaderRow) -> tuple[int, int, str]:
        i, models = order.get(row.run_id, (len(order), ()))
        return i, models.index(row.model) if row.model in models else len(models), row.model

    by_b = {(pc.run_b, pc.model_b): pc for pc in report.comparisons}
    return [(row, by_b.get((row.run_id, row.model))) for row in sorted(report.leaderboard, key=key)]


def trend_metrics(report: CompareReport) -> list[str]:
    """accuracy, rubric_score, then every criterion any group has a figure for (first-seen order)."""
    keys: list[str] = []
    for row in report.leaderboard:
        keys.extend(k for k in row.criteria if k not in keys)
    for pc in report.comparisons:
        keys.extend(m.metric for m in pc.metrics if is_criterion(m.metric) and m.metric not in keys)
    return ["accuracy", "rubric_score", *keys]


def trend_value(row: LeaderRow, metric: str) -> float | None:
    if metric == "accuracy":
        return row.accuracy.rate
    if metric == "rubric_score":
        return row.rubric_score
    return row.criteria.get(metric)


def trend_cell(row: LeaderRow, pc: PairComparison | None, metric: str) -> tuple[str, MetricChange | None]:
    """``"91.7% (−8.3)"`` (Δ in points against the reference, ▲/▼ when significant) and the change."""
    text = pct(trend_value(row, metric))
    m = pc.metric(metric) if pc is not None else None
    if m is None:
        return text, None
    mark = marker(m)
    return f"{text} ({signed(m.diff)}{' ' + mark if mark else ''})", m


def trend_rows(report: CompareReport) -> tuple[list[str], list[list[str]]]:
    cols = trend_columns(report)
    header = [
        "metric",
        *(row.label + (" (ref)" if pc is None and row.run_id == report.reference else "") for row, pc in cols),
    ]
    rows = [[metric_name(k), *(trend_cell(row, pc, k)[0] for row, pc in cols)] for k in trend_metrics(report)]
    return header, rows


TREND_NOTE = (
    "Values over each run's finished samples; in brackets the paired Δ in points against the reference "
    "(on the samples both finished), ▲/▼ when significant."
)


# --- gate rules -------------------------------------------------------------------------------------------------


def rule_unit(rule: RuleResult) -> str:
    """``pts`` (a regression: a difference), ``rate``, ``usd`` or ``count``, read from the rule's kind and name."""
    name = rule.rule.lower()
    if rule.kind == "regression":
        return "pts"
    if name.startswith(("criterion", "accuracy", "rubric")) or "rate" in name:
        return "rate"
    if "cost" in name or "usd" in name:
        return "usd"
    if rule.kind == "invariant" or any(w in name for w in ("samples", "tables", "columns", "failures", "count")):
        return "count"
    return "number"


def rule_value(rule: RuleResult, value: float | None, *, limit: bool = False) -> str:
    if value is None:
        return "—"
    unit = rule_unit(rule)
    if unit == "pts":
        return pts(-abs(value)) if limit else pts(value)  # the limit of a regression rule is its margin
    if unit == "rate":
        return pct(value)
    if unit == "usd":
        return usd(value)
    if unit == "count":
        return f"{round(value):,}"
    return f"{value:g}"


def ordered_rules(result: GateResult) -> list[RuleResult]:
    """Failed rules first, the others in the policy's order."""
    return sorted(result.rules, key=lambda r: r.status != "fail")


def rule_cells(rule: RuleResult) -> list[str]:
    """(rule, model, observed, limit, p, detail): the row without its status."""
    return [
        rule.rule,
        rule.label or "—",
        rule_value(rule, rule.observed),
        rule_value(rule, rule.limit, limit=True),
        p_text(rule.p_value),
        rule.detail,
    ]


def gate_headline(result: GateResult) -> str:
    if result.passed:
        return "✅ evalkit gate passed"
    return f"❌ evalkit gate failed: {plural(len(result.failures), 'rule')}"


def gate_tally(result: GateResult) -> str:
    n = {s: sum(1 for r in result.rules if r.status == s) for s in ("pass", "fail", "skip")}
    return f"{plural(len(result.rules), 'rule')}: {n['pass']} passed, {n['fail']} failed, {n['skip']} skipped."


def run_text(run: RunInfo) -> str:
    return f"{run_name(run)} ({run.run_id}, suite {run.suite}, {', '.join(run.models) or 'no model'})"


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
    return [_STATUS_MD.get(rule.status, rule.status), name, label, observed, limit, p, detail]


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
    from rich import box
    from rich.table import Table

    t = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0),
        collapse_padding=True,
    )
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
            t.add_row(_STATUS_TERM.get(rule.status, _esc(rule.status)), *(_esc(c) for c in rule_cells(rule)))
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
