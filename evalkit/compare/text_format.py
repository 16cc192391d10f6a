"""Formatting shared by the text and HTML renderings of comparisons and gate decisions.

Numbers as the reports print them (signed points, p-values, MDE), the rows of the leaderboard, metric,
flipped-task and trend tables, and the cells of gate rules, so the terminal, Markdown and HTML say the same
thing in the same words. Every metric is "higher is better": ▲ marks a significant gain, ▼ a loss.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.compare.gate_model import GateResult, RuleResult
from evalkit.compare.model import CompareReport, FlippedTask, LeaderRow, MetricChange, PairComparison
from evalkit.report.model import RunInfo
from evalkit.report.text_format import pct, usd

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "contracts" / "schemas"
COMPARE_SCHEMA_PATH = SCHEMAS_DIR / "compare.schema.json"
"""The JSON Schema (draft 2020-12) of :func:`render_compare_json`'s output."""
GATE_SCHEMA_PATH = SCHEMAS_DIR / "gate-result.schema.json"
"""The JSON Schema (draft 2020-12) of :func:`render_gate_json`'s output."""

BETTER = "▲"
WORSE = "▼"
BEHAVIOURS_TOP = 5
"""Behaviours listed under "behaviours that changed most"."""
FLIPS_INLINE = 10
"""More fixed and broken tasks than this go in a ``<details>`` block (Markdown)."""
RULES_INLINE = 10
"""With more rules than this, the Markdown lists the failed ones and folds the passed ones."""
CRITICAL_MARK = "⚠"

METRIC_HEADER = ("metric", "A", "B", "Δ", "95% CI", "p", "test", "MDE (pts)")
METRIC_ALIGN = "lrrrrrlr"
LEADER_HEADER = ("#", "label", "run", "accuracy [95% CI]", "rubric score", "cost / sample", "tokens / sample")
LEADER_ALIGN = "rllrrrr"
FLIP_HEADER = ("task", "change", "correct A → B", "traces side by side")
RULE_HEADER = ("status", "rule", "model", "observed", "limit", "p", "detail")
RULE_ALIGN = "lllrrrl"
TEST_NAMES = {"mcnemar-exact": "McNemar exact", "paired-bootstrap": "paired bootstrap"}
STATUS_MD = {"fail": "❌ fail", "pass": "✅ pass", "not_enforced": "⚠️ not enforced"}
STATUS_TERM = {"fail": "[bold red]FAIL[/]", "pass": "[green]pass[/]", "not_enforced": "[yellow]not enforced[/]"}


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
    return TEST_NAMES.get(test, test)


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
    failed = len(result.failures)
    return f"{plural(len(result.rules), 'rule')}: {len(result.rules) - failed} passed, {failed} failed."


def run_text(run: RunInfo) -> str:
    return f"{run_name(run)} ({run.run_id}, suite {run.suite}, {', '.join(run.models) or 'no model'})"
