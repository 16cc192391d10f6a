"""A comparison of runs as one self-contained HTML page: inline CSS, an inline SVG chart, no script, no network.

The page holds what the Markdown holds (leaderboard, trend, each paired comparison with its behaviours and
the tasks that changed, notes) plus a chart: with several runs, one line per metric (accuracy and each
behaviour's pass rate) across the runs in order; with two, a dumbbell of A against B per metric. The text
helpers of :mod:`evalkit.compare.render_text` format every figure, so the page and the Markdown agree; the
jinja2 template (``templates/compare.html.j2``, autoescaped: labels and task ids are user text) only lays
them out. The chart is deterministic (a fixed hash salt, no date), so the same report gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalkit.compare.model import CompareReport, LeaderRow, PairComparison
from evalkit.compare.text_format import (
    BEHAVIOURS_TOP,
    CRITICAL_MARK,
    FLIP_HEADER,
    FLIPS_INLINE,
    LEADER_HEADER,
    METRIC_HEADER,
    TREND_NOTE,
    behaviour_line,
    change_class,
    flip_row,
    flips,
    is_criterion,
    leader_rows,
    metric_name,
    metric_row,
    pair_counts,
    pair_metrics,
    pair_title,
    run_name,
    significance_note,
    trend_cell,
    trend_columns,
    trend_metrics,
    trend_value,
)
from evalkit.report.build import OUTCOME_CHECKS
from evalkit.report.charts import new_figure, render_svg
from evalkit.report.html import template_environment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["render_compare_html"]

_COLORS = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
_STYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def render_compare_html(report: CompareReport) -> str:
    """The comparison as one self-contained HTML document."""
    from markupsafe import Markup

    svg = chart_svg(report)
    runs = {r.run_id: r for r in report.runs}
    return (
        template_environment("evalkit.compare")
        .get_template("compare.html.j2")
        .render(
            report=report,
            title="evalkit compare: " + ", ".join(run_name(r) for r in report.runs),
            reference=run_name(runs.get(report.reference), report.reference),
            leader_header=LEADER_HEADER,
            leaders=leader_rows(report),
            trend=_trend(report) if len(report.comparisons) > 1 else None,
            trend_note=TREND_NOTE,
            pairs=[_pair(pc) for pc in report.comparisons],
            metric_header=METRIC_HEADER,
            flip_header=FLIP_HEADER,
            chart=Markup(svg) if svg else None,
            chart_title=_chart_title(report),
        )
    )


def _trend(report: CompareReport) -> dict[str, Any]:
    cols = trend_columns(report)
    header = [row.label + (" (ref)" if pc is None and row.run_id == report.reference else "") for row, pc in cols]
    rows = []
    for key in trend_metrics(report):
        cells = []
        for row, pc in cols:
            text, change = trend_cell(row, pc, key)
            cells.append({"text": text, "cls": change_class(change)})
        rows.append({"name": metric_name(key), "cells": cells})
    return {"header": header, "rows": rows}


def _pair(pc: PairComparison) -> dict[str, Any]:
    metrics = []
    for m in pair_metrics(pc):
        cells = metric_row(m, critical_mark="")
        critical = is_criterion(m.metric) and m.severity == "critical"
        metrics.append({"cells": cells, "cls": change_class(m), "critical": critical})
    changed = [{"text": behaviour_line(m), "cls": change_class(m)} for m in pc.behaviours_by_change()[:BEHAVIOURS_TOP]]
    rows = [
        {"cells": flip_row(change, f), "cls": "worse" if change == "broken" else "better"} for change, f in flips(pc)
    ]
    return {
        "pc": pc,
        "title": pair_title(pc),
        "counts": pair_counts(pc),
        "note": significance_note(pc.alpha) + f" {CRITICAL_MARK} critical criterion.",
        "metrics": metrics,
        "changed": changed,
        "flips": rows,
        "collapse": len(rows) > FLIPS_INLINE,
    }


# --- the chart ----------------------------------------------------------------------------------------------------


def _behaviours(report: CompareReport) -> list[str]:
    """Criteria that are behaviours (not restating correctness), in the trend's order."""
    keys = [k for k in trend_metrics(report) if is_criterion(k)]
    return [k for k in keys if k.rsplit(".", 1)[-1] not in OUTCOME_CHECKS]


def _chart_title(report: CompareReport) -> str:
    if len(report.leaderboard) > 2:
        return "Accuracy and behaviour pass rates across the runs"
    return "Accuracy and behaviour pass rates, A against B"


def _text(label: str) -> str:
    """A label matplotlib shows as written: no mathtext (``$``), no hidden legend entry (leading ``_``)."""
    label = label.replace("$", r"\$")
    return " " + label if label.startswith("_") else label


def _percent(value: float | None) -> float:
    return math.nan if value is None else 100 * value


def chart_svg(report: CompareReport) -> str | None:
    """The page's chart as an ``<svg>`` element, or None when there is nothing to plot."""
    cols = [row for row, _ in trend_columns(report)]
    if not cols:
        return None
    metrics = ["accuracy", *_behaviours(report)]
    series = [(k, [_percent(trend_value(row, k)) for row in cols]) for k in metrics]
    series = [(k, v) for k, v in series if any(not math.isnan(x) for x in v)]
    if not series:
        return None
    draw = (lambda: _lines(cols, series)) if len(cols) > 2 else (lambda: _dumbbell(cols, series))
    return render_svg("trend", draw, font_size=8)


def _lines(cols: Sequence[LeaderRow], series: Sequence[tuple[str, list[float]]]) -> Figure:
    """One line per metric across the runs (x), the legend to the right of the plot."""
    fig, ax = new_figure(9.0, 3.8)
    x = list(range(len(cols)))
    for i, (key, values) in enumerate(series):
        ax.plot(
            x,
            values,
            label=_text(metric_name(key)),
            color="#222222" if key == "accuracy" else _COLORS[i % len(_COLORS)],
            linewidth=2.4 if key == "accuracy" else 1.2,
            linestyle=_STYLES[i % len(_STYLES)] if key != "accuracy" else "-",
            marker=_MARKERS[i % len(_MARKERS)],
            markersize=4,
            zorder=3 if key == "accuracy" else 2,
        )
    labels = [_text(row.label) for row in cols]
    crowded = sum(len(label) for label in labels) > 80
    ax.set_xticks(x, labels, rotation=20 if crowded else 0, ha="right" if crowded else "center")
    ax.set_ylim(-3, 103)
    ax.set_ylabel("pass rate (%)")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    return fig


def _dumbbell(cols: Sequence[LeaderRow], series: Sequence[tuple[str, list[float]]]) -> Figure:
    """Per metric, a segment from run A's value to run B's (with two runs)."""
    fig, ax = new_figure(9.0, max(2.2, 0.6 + 0.28 * len(series)))
    y = list(range(len(series)))
    names = ("A", "B") if len(cols) == 2 else ("A",)
    for j, (_, values) in enumerate(series):
        finite = [v for v in values if not math.isnan(v)]
        if len(finite) == 2:
            ax.plot(finite, [j, j], color="#bbbbbb", linewidth=2, zorder=1)
    for i, row in enumerate(cols):
        xs = [values[i] for _, values in series]
        label = _text(f"{names[i] if i < len(names) else ''}: {row.label}")
        if i == 0:  # a ring, so that an equal value of B (a dot) shows inside it
            ax.scatter(xs, y, facecolors="none", edgecolors=_COLORS[i], linewidths=1.5, s=70, zorder=2, label=label)
        else:
            ax.scatter(xs, y, color=_COLORS[i], s=24, zorder=3, label=label)
    ax.set_yticks(y, [_text(metric_name(k)) for k, _ in series])
    ax.invert_yaxis()
    ax.set_xlim(-3, 103)
    ax.set_xlabel("pass rate (%)")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    return fig
