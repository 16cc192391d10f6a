"""A sweep's comparison (:class:`~evalkit.compare.sweep.SweepComparison`) as terminal tables, Markdown, HTML
and JSON, and written to ``reports/sweep__<name>.<ext>``.

It reads top-down: the runs of the sweep, then per suite the leaderboard and the trend over the checkpoints in
series order (the rows and cells of ``evalkit compare``, from :mod:`evalkit.compare.text_format`), then the
single→multi-table transfer view: per checkpoint, accuracy on each kind of task with its 95% interval, the
change against the first checkpoint and the gap between the kinds, and each criterion's pass rate on both.
The HTML page adds each suite's trend chart (the one ``evalkit compare -f html`` draws) and a chart of both
kinds' accuracy, with its intervals, across the checkpoints.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.compare.sweep import KindFigures, SuiteSeries, SweepComparison, TransferView
from evalkit.compare.text_format import (
    LEADER_ALIGN,
    LEADER_HEADER,
    TREND_NOTE,
    leader_rows,
    metric_name,
    signed,
    trend_rows,
)
from evalkit.errors import ConfigError
from evalkit.report.text_format import inline, pct, table

if TYPE_CHECKING:
    from rich.console import Console

SWEEP_FORMATS = {"md": ".md", "html": ".html", "json": ".json"}
TRANSFER_HEADER = (
    "checkpoint",
    "single-table accuracy [95% CI]",
    "Δ vs first",
    "multi-table accuracy [95% CI]",
    "Δ vs first",
    "multi − single",
)
TRANSFER_ALIGN = "lrrrrr"
TRANSFER_NOTE = (
    "Accuracy over each checkpoint's finished samples of each kind of task (every suite swept), with its 95% "
    "Wilson interval; Δ in points against the first checkpoint (a difference of rates, not a paired test)."
)
CRITERIA_NOTE = "Pass rate on single-table / multi-table tasks; in brackets the change in points against the first."


# --- rows shared by every format -----------------------------------------------------------------------------------


def _change(value: float | None) -> str:
    return "—" if value is None else signed(value)


def transfer_rows(view: TransferView) -> list[list[str]]:
    """One row per checkpoint: each kind's accuracy and change, and the gap (in points) between them."""
    return [
        [
            r.checkpoint,
            r.single.accuracy.fmt(),
            _change(r.single.accuracy_change),
            r.multi.accuracy.fmt(),
            _change(r.multi.accuracy_change),
            _change(r.gap),
        ]
        for r in view.rows
    ]


def _criterion_cell(fig: KindFigures, key: str, first: bool) -> str:
    rate = fig.criteria.get(key)
    text = pct(rate.rate if rate is not None else None)
    change = fig.criteria_change.get(key)
    return text if first or change is None else f"{text} ({signed(change)})"


def criteria_rows(view: TransferView) -> tuple[list[str], list[list[str]]]:
    """A row per criterion, a column per checkpoint: ``single / multi`` pass rates."""
    header = ["criterion", *(r.checkpoint for r in view.rows)]
    rows = [
        [
            metric_name(key),
            *(
                f"{_criterion_cell(r.single, key, i == 0)} / {_criterion_cell(r.multi, key, i == 0)}"
                for i, r in enumerate(view.rows)
            ),
        ]
        for key in view.criteria
    ]
    return header, rows


def run_lines(result: SweepComparison) -> list[str]:
    """``suite: checkpoint → run id`` lines, in the order of the series."""
    return [
        f"{s.suite}: " + ", ".join(f"{c} → {r}" for c, r in zip(s.checkpoints, s.run_ids, strict=True))
        for s in result.suites
    ]


def title(result: SweepComparison) -> str:
    named = "" if result.name == "sweep" else f" {result.name}"
    return f"evalkit sweep{named}: " + ", ".join(result.checkpoints)


# --- Markdown --------------------------------------------------------------------------------------------------


def _md_suite(s: SuiteSeries) -> list[str]:
    lines = [f"## Suite {inline(s.suite)}", ""]
    if s.comparison is None:
        return [*lines, inline(s.note or "nothing to compare"), ""]
    lines += ["### Leaderboard", "", *table(LEADER_HEADER, leader_rows(s.comparison), LEADER_ALIGN), ""]
    header, rows = trend_rows(s.comparison)
    lines += [
        "### Trend over the checkpoints",
        "",
        TREND_NOTE,
        "",
        *table(header, rows, "l" + "r" * (len(header) - 1)),
        "",
    ]
    return [*lines, *(f"- note: {inline(n)}" for n in s.comparison.notes), ""]


def _md_transfer(view: TransferView | None) -> list[str]:
    if view is None:
        return []
    lines = ["## Single → multi-table transfer", "", TRANSFER_NOTE, ""]
    lines += [*table(TRANSFER_HEADER, transfer_rows(view), TRANSFER_ALIGN), ""]
    if view.criteria:
        header, rows = criteria_rows(view)
        lines += [CRITERIA_NOTE, "", *table(header, rows, "l" + "r" * (len(header) - 1)), ""]
    return lines


def render_sweep_markdown(result: SweepComparison) -> str:
    lines = [f"# {inline(title(result))}", ""]
    lines += [*(f"- {inline(line)}" for line in run_lines(result)), ""]
    lines += [f"Generated {inline(result.generated_at)} by evalkit {inline(result.evalkit_version)}.", ""]
    for s in result.suites:
        lines += _md_suite(s)
    lines += _md_transfer(result.transfer)
    if result.notes:
        lines += ["## Notes", "", *(f"- {inline(n)}" for n in result.notes), ""]
    return "\n".join(line.rstrip() for line in lines).rstrip("\n") + "\n"


# --- terminal --------------------------------------------------------------------------------------------------


def _term_table(
    console: Console, caption: str, header: Sequence[str], rows: Sequence[Sequence[str]], align: str
) -> None:
    from rich.markup import escape

    from evalkit.report.terminal import section_table

    t = section_table(escape(caption))
    for i, col in enumerate(header):
        t.add_column(escape(col), justify="right" if align[i : i + 1] == "r" else "left", no_wrap=True)
    for row in rows:
        t.add_row(*(escape(c) for c in row))
    console.print(t)


def render_sweep_terminal(result: SweepComparison, console: Console) -> None:
    """Print the sweep's comparison to ``console``."""
    from rich.markup import escape

    console.print(f"[bold]{escape(title(result))}[/]")
    for line in run_lines(result):
        console.print(f"  {escape(line)}", soft_wrap=True)
    for s in result.suites:
        console.print()
        if s.comparison is None:
            console.print(f"suite {escape(s.suite)}: {escape(s.note or 'nothing to compare')}")
            continue
        _term_table(console, f"Leaderboard: {s.suite}", LEADER_HEADER, leader_rows(s.comparison), LEADER_ALIGN)
        header, rows = trend_rows(s.comparison)
        _term_table(console, f"Trend over the checkpoints: {s.suite}", header, rows, "l" + "r" * (len(header) - 1))
        console.print(f"[dim]{escape(TREND_NOTE)}[/]")
        for note in s.comparison.notes:
            console.print(f"[yellow]note:[/] {escape(note)}")
    view = result.transfer
    if view is not None:
        console.print()
        _term_table(console, "Single → multi-table transfer", TRANSFER_HEADER, transfer_rows(view), TRANSFER_ALIGN)
        console.print(f"[dim]{escape(TRANSFER_NOTE)}[/]")
        if view.criteria:
            header, rows = criteria_rows(view)
            _term_table(console, "Criteria: single / multi-table", header, rows, "l" + "r" * (len(header) - 1))
            console.print(f"[dim]{escape(CRITERIA_NOTE)}[/]")
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")


# --- HTML ------------------------------------------------------------------------------------------------------

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border-bottom:1px solid #ddd;padding:.25em .6em}"
    "td.r,th.r{text-align:right}.note{color:#666;font-size:.9em}"
)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    def cls(i: int) -> str:
        return ' class="r"' if align[i : i + 1] == "r" else ""

    head = "".join(f"<th{cls(i)}>{html.escape(h)}</th>" for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{html.escape(c)}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_sweep_html(result: SweepComparison) -> str:
    """One self-contained page: inline CSS and SVG, no script."""
    from evalkit.compare.render_html import chart_svg

    e = html.escape
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(title(result))}</title>",
        f"<style>{_CSS}</style></head><body><h1>{e(title(result))}</h1><ul>",
        *(f"<li>{e(line)}</li>" for line in run_lines(result)),
        f"</ul><p class='note'>Generated {e(result.generated_at)} by evalkit {e(result.evalkit_version)}.</p>",
    ]
    for s in result.suites:
        parts.append(f"<h2>Suite {e(s.suite)}</h2>")
        if s.comparison is None:
            parts.append(f"<p>{e(s.note or 'nothing to compare')}</p>")
            continue
        parts += ["<h3>Leaderboard</h3>", _html_table(LEADER_HEADER, leader_rows(s.comparison), LEADER_ALIGN)]
        header, rows = trend_rows(s.comparison)
        parts += ["<h3>Trend over the checkpoints</h3>", _html_table(header, rows, "l" + "r" * (len(header) - 1))]
        parts.append(f"<p class='note'>{e(TREND_NOTE)}</p>")
        parts += [f"<p class='note'>note: {e(n)}</p>" for n in s.comparison.notes]
        svg = chart_svg(s.comparison)
        if svg:
            parts.append(f"<figure>{svg}</figure>")  # matplotlib's SVG: the chart's own labels are escaped in it
    view = result.transfer
    if view is not None:
        parts += ["<h2>Single → multi-table transfer</h2>", f"<p class='note'>{e(TRANSFER_NOTE)}</p>"]
        parts.append(_html_table(TRANSFER_HEADER, transfer_rows(view), TRANSFER_ALIGN))
        svg = transfer_svg(view)
        if svg:
            parts.append(f"<figure>{svg}</figure>")
        if view.criteria:
            header, rows = criteria_rows(view)
            parts += [
                f"<p class='note'>{e(CRITERIA_NOTE)}</p>",
                _html_table(header, rows, "l" + "r" * (len(header) - 1)),
            ]
    if result.notes:
        parts += ["<h2>Notes</h2><ul>", *(f"<li>{e(n)}</li>" for n in result.notes), "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def transfer_svg(view: TransferView) -> str | None:
    """Accuracy on single-table and on multi-table tasks across the checkpoints, with the 95% intervals."""
    from evalkit.report.charts import new_figure, render_svg

    def draw() -> Any:
        fig, ax = new_figure(9.0, 3.2)
        x = list(range(len(view.rows)))
        kinds = (("single", "#4e79a7", "single-table", -0.04), ("multi", "#e15759", "multi-table", 0.04))
        for side, colour, label, dodge in kinds:  # dodged a little, so equal figures do not hide each other
            rates = [getattr(r, side).accuracy for r in view.rows]
            y = [100 * (a.rate if a.rate is not None else math.nan) for a in rates]
            low = [100 * ((a.rate or 0) - (a.low or 0)) if a.rate is not None else 0 for a in rates]
            high = [100 * ((a.high or 0) - (a.rate or 0)) if a.rate is not None else 0 for a in rates]
            at = [i + dodge for i in x]
            ax.errorbar(at, y, yerr=[low, high], label=label, color=colour, marker="o", capsize=3, linewidth=1.6)
        labels = [r.checkpoint.replace("$", r"\$") for r in view.rows]
        ax.set_xticks(x, labels, rotation=20 if sum(len(t) for t in labels) > 80 else 0)
        ax.set_ylim(-3, 103)
        ax.set_ylabel("accuracy (%)")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
        return fig

    return render_svg("transfer", draw, font_size=8)


# --- files -----------------------------------------------------------------------------------------------------


def render_sweep(result: SweepComparison, fmt: str) -> str:
    """The comparison as ``md``, ``html`` or ``json`` text."""
    if fmt == "md":
        return render_sweep_markdown(result)
    if fmt == "html":
        return render_sweep_html(result)
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    raise ConfigError(f"unknown format {fmt!r} for a sweep (known: {', '.join(SWEEP_FORMATS)})")


def write_sweep(result: SweepComparison, fmt: str, output: str | Path | None = None) -> Path:
    """Write the comparison in ``fmt`` to ``output``, by default ``reports/sweep__<name>.<ext>`` (the folder is
    ``$EVALKIT_REPORTS_DIR`` when set)."""
    import re

    from evalkit.report.write import reports_dir, write_text

    text = render_sweep(result, fmt)
    if output is not None:
        return write_text(Path(output), text)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", result.name).strip("-.") or "sweep"
    return write_text(reports_dir() / f"sweep__{stem}{SWEEP_FORMATS[fmt]}", text)
