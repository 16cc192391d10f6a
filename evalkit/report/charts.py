"""The HTML report's charts, drawn with matplotlib and returned as inline SVG text.

Each function takes a ``Report`` and returns the ``<svg>`` element as a string, or ``None`` when there is
nothing to plot. matplotlib is imported only when a chart is drawn, never at import of evalkit, and pyplot
never: figures are made directly, so a notebook's backend and figures are left alone. The output is
deterministic: a fixed hash salt, no date in the metadata, text kept as text (``svg.fonttype = "none"``),
and every ``id`` prefixed with the chart's name so that several charts can live in one HTML document
without their clip paths clashing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from evalkit.report.build import OUTCOME_CHECKS
from evalkit.report.model import ModelReport, Report
from evalkit.stats.proportions import Rate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["behaviours_chart", "by_kind_chart", "cost_chart", "new_figure", "render_svg"]

_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
_WIDTH_IN = 7.5


def _color(i: int) -> str:
    return _COLORS[i % len(_COLORS)]


def render_svg(name: str, draw: Callable[[], Figure | None], *, font_size: float = 9) -> str | None:
    """Run ``draw`` under evalkit's matplotlib settings and return its figure as inline SVG (None if it drew
    nothing). Figures are made without pyplot (``new_figure``), so a caller's backend and open figures are
    left alone, and nothing is kept once the SVG is written."""
    import matplotlib

    buf = io.StringIO()
    # A fixed hash salt makes the SVG ids stable; "none" keeps text as text (smaller, searchable).
    with matplotlib.rc_context({"svg.hashsalt": "evalkit", "svg.fonttype": "none", "font.size": font_size}):
        fig = draw()
        if fig is None:
            return None
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return _inline(buf.getvalue(), name)


def new_figure(width_in: float, height_in: float) -> tuple[Figure, Axes]:
    """A figure and its axes, made without pyplot: no global state, no backend switch."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    ax = fig.subplots()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _inline(svg: str, name: str) -> str:
    """The ``<svg>`` element alone (no XML prolog, doctype or metadata), its ids prefixed with ``name``."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    ids = set(re.findall(r'\bid="([^"]+)"', svg))

    def rename(m: re.Match[str]) -> str:
        ident = m.group(2)
        return f"{m.group(1)}{name}-{ident}" if ident in ids else m.group(0)

    return re.sub(r'(\bid="|url\(#|href="#)([^")]+)', rename, svg).strip()


def _figure(height_in: float) -> tuple[Figure, Axes]:
    fig, ax = new_figure(_WIDTH_IN, height_in)
    ax.tick_params(labelsize=8)
    return fig, ax


def _err(rates: Sequence[Rate]) -> tuple[list[float], list[list[float]]]:
    """Bar values in % and asymmetric error bars from the Wilson bounds (0 where there is no rate)."""
    values, lows, highs = [], [], []
    for r in rates:
        if r.rate is None or r.low is None or r.high is None:
            values.append(0.0)
            lows.append(0.0)
            highs.append(0.0)
        else:
            values.append(100 * r.rate)
            lows.append(max(0.0, 100 * (r.rate - r.low)))
            highs.append(max(0.0, 100 * (r.high - r.rate)))
    return values, [lows, highs]


def _legend(ax: Axes, groups: Sequence[ModelReport], **kwargs: Any) -> None:
    if len(groups) > 1:
        ax.legend(fontsize=8, frameon=False, **kwargs)


def behaviours_chart(report: Report) -> str | None:
    """Pass rate of each behaviour criterion, one bar per group, with Wilson intervals."""
    return render_svg("behaviours", lambda: _draw_behaviours(report))


def _draw_behaviours(report: Report) -> Figure | None:
    outcome = {(c.rubric, c.criterion) for c in report.criteria if (c.check or c.criterion) in OUTCOME_CHECKS}
    keys = [(c.rubric, c.criterion) for c in report.criteria if (c.rubric, c.criterion) not in outcome]
    stats = [{(s.rubric, s.criterion): s.rate for s in g.criteria} for g in report.groups]
    keys = [k for k in keys if any(k in s and s[k].n for s in stats)]
    if not keys or not report.groups:
        return None
    n = len(report.groups)
    band = 0.8 / n
    fig, ax = _figure(max(2.5, 0.8 + len(keys) * (0.12 + 0.13 * n)))
    for i, g in enumerate(report.groups):
        rates = [stats[i].get(k, Rate(0, 0, None, None, None)) for k in keys]
        values, err = _err(rates)
        pos = [j + (i - (n - 1) / 2) * band for j in range(len(keys))]
        ax.barh(pos, values, height=band * 0.9, xerr=err, color=_color(i), label=g.label,
                error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"})  # fmt: skip
    ax.set_yticks(range(len(keys)), [f"{r}.{c}" for r, c in keys])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("pass rate (%), 95% Wilson interval", fontsize=9)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    _legend(ax, report.groups, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(n, 3))
    return fig


def by_kind_chart(report: Report) -> str | None:
    """Accuracy per task kind and difficulty, one bar per group, with Wilson intervals."""
    return render_svg("by-kind", lambda: _draw_by_kind(report))


def _draw_by_kind(report: Report) -> Figure | None:
    cats: list[tuple[str, str]] = []
    for g in report.groups:
        for s in g.slices:
            if s.dimension in ("kind", "difficulty") and (s.dimension, s.value) not in cats:
                cats.append((s.dimension, s.value))
    cats.sort(key=lambda c: c[0] != "kind")
    if not cats:
        return None
    n = len(report.groups)
    band = 0.8 / n
    fig, ax = _figure(3.6)
    for i, g in enumerate(report.groups):
        acc = {(s.dimension, s.value): s.accuracy for s in g.slices}
        values, err = _err([acc.get(c, Rate(0, 0, None, None, None)) for c in cats])
        pos = [j + (i - (n - 1) / 2) * band for j in range(len(cats))]
        ax.bar(pos, values, width=band * 0.9, yerr=err, color=_color(i), label=g.label,
               error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"})  # fmt: skip
    ax.set_xticks(range(len(cats)), [f"{v}\n({d})" for d, v in cats])
    ax.set_ylim(0, 100)
    ax.set_ylabel("accuracy (%), 95% Wilson interval", fontsize=9)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    _legend(ax, report.groups, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(n, 3))
    return fig


def cost_chart(report: Report) -> str | None:
    """Accuracy against cost per sample (one labelled point per group); tokens per sample when no group has
    a known cost."""
    return render_svg("cost", lambda: _draw_cost(report))


def _draw_cost(report: Report) -> Figure | None:
    groups = [g for g in report.groups if g.accuracy.rate is not None]
    priced = [g for g in groups if g.usage.cost_per_sample_usd is not None]
    by_cost = any(g.usage.cost_per_sample_usd for g in priced)
    if by_cost:
        points = [(g, float(g.usage.cost_per_sample_usd or 0.0)) for g in priced]
        xlabel = "cost per sample (USD)"
        if len(priced) < len(groups):
            xlabel += f"; {len(groups) - len(priced)} group(s) without a known price not shown"
    else:
        points = [(g, float(g.usage.tokens_per_sample)) for g in groups if g.usage.tokens_per_sample is not None]
        why = "every known cost is 0" if priced else "no group has a known cost"
        xlabel = f"tokens per sample ({why})"
    if not points:
        return None
    fig, ax = _figure(3.6)
    index = {g.label: i for i, g in enumerate(report.groups)}
    for g, x in points:
        values, err = _err([g.accuracy])
        ax.errorbar([x], values, yerr=err, fmt="o", color=_color(index[g.label]), ecolor="#999999",
                    elinewidth=0.8, capsize=2, markersize=7)  # fmt: skip
        ax.annotate(g.label, (x, values[0]), xytext=(6, 4), textcoords="offset points", fontsize=8)
    xs = [x for _, x in points]
    lo, hi = min(xs), max(xs)
    pad = (hi - lo) * 0.15 or max(abs(hi) * 0.15, 1e-6 if by_cost else 1.0)
    ax.set_xlim(max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad * 2.5)
    ax.set_ylim(0, 105)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel("accuracy (%), 95% Wilson interval", fontsize=9)
    ax.xaxis.set_major_formatter((lambda x, _: f"${x:.3g}") if by_cost else (lambda x, _: f"{x:,.0f}"))
    ax.grid(color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig
