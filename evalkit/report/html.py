"""The self-contained HTML diagnostic report: one file, no network, CSS and JS inline, charts as inline SVG.

``render_html`` turns a ``Report`` and the traces for its drill-down (``evalkit.report.traces.load_traces``)
into the page. This module shapes the data into plain view dicts and formatted strings; the jinja2 template
(``templates/report.html.j2``, autoescaped: trace content is model output) only lays them out. The summary,
tables and charts are plain markup (readable without JavaScript); the traces' bodies are compressed blocks
that the page's script decodes when a trace is opened (``evalkit.report.html_traces``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from evalkit.report.html_traces import BLOCK_MEDIA_TYPE, TOOL_RESULT_CHARS, trace_blocks, trace_view
from evalkit.report.model import FAILURE_MODES, ModelReport, Report, TaskRow, Trace
from evalkit.report.text_format import endpoint_lines, infra_error_lines, task_correct_text, unscored

if TYPE_CHECKING:
    import jinja2

__all__ = ["TOOL_RESULT_CHARS", "render_html"]

_CHARTS = (
    ("behaviours", "Behaviour pass rates", "no rubric criteria to plot: score the runs with a rubric"),
    ("by-kind", "Accuracy by task kind and difficulty", "no task kinds or difficulties: the suite was not found"),
    ("cost", "Cost against accuracy", "no finished samples to plot"),
)


@lru_cache(maxsize=4)
def template_environment(package: str) -> jinja2.Environment:
    """The jinja2 environment of a package's ``templates/``: autoescaped, strict about undefined names."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        # "report.html.j2" does not end in ".html": default=True keeps autoescaping on for every template.
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(report: Report, traces: Sequence[Trace], omitted: int = 0) -> str:
    """The report as one self-contained HTML document; ``omitted`` is the number of traces left out."""
    index = {(t.run_id, t.sample_id): i for i, t in enumerate(traces)}
    modes = {t.failure_mode for t in traces} | {r.failure_mode for r in report.tasks}
    labels = {m: FAILURE_MODES.get(m, m) for m in modes if m is not None}
    env = template_environment("evalkit.report")
    views = [trace_view(i, t, report, labels) for i, t in enumerate(traces)]
    return env.get_template("report.html.j2").render(
        report=report,
        title=_title(report),
        summary=_summary(report),
        criteria=_criteria(report),
        slices=_slices(report),
        behaviour_slices=[(dim, *report.criteria_by_slice(dim)) for dim in ("kind", "difficulty")],
        charts=_charts(report),
        tasks=[_task(row, traces, index, labels) for row in report.tasks],
        traces=views,
        blocks=trace_blocks(env, views),
        block_type=BLOCK_MEDIA_TYPE,
        omitted=omitted,
        modes=labels,
        pts=_pts,
        pct=_pct,
        accuracy=_accuracy,
        infra_errors=infra_error_lines(report),
        replicas=endpoint_lines(report),
    )


def _title(report: Report) -> str:
    suites = sorted({r.suite for r in report.runs})
    runs = ", ".join(r.name or r.run_id for r in report.runs)
    return f"evalkit report: {', '.join(suites) or 'no run'}" + (f" ({runs})" if runs else "")


def _pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def _pts(cost: float) -> str:
    """An accuracy cost (a fraction) as signed percentage points: 0.312 → "−31.2 pts"."""
    return f"{'−' if cost > 0 else ''}{100 * abs(cost):.1f} pts"


def _usd(x: float | None) -> str:
    if x is None:
        return "unknown"
    return f"${x:,.2f}" if x >= 1 else f"${x:.4f}"


def _secs(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f} s"


def _accuracy(g: ModelReport) -> str:
    """The accuracy with its interval; "not scored" when no sample had an expected answer to judge it by."""
    if unscored(g):
        return f"not scored ({g.not_scored} sample{'s' if g.not_scored != 1 else ''} without an expected answer)"
    return g.accuracy.fmt() + (f"; {g.not_scored} not scored" if g.not_scored else "")


def _latency(g: ModelReport) -> str:
    u = g.usage
    if u.latency_p50_s is None and u.latency_unknown:
        return "unknown"
    return f"{_secs(u.latency_p50_s)} / {_secs(u.latency_p95_s)}" + (
        f" ({u.latency_unknown} samples unknown)" if u.latency_unknown else ""
    )


def _summary(report: Report) -> list[tuple[str, list[str]]]:
    """Rows (figure, one cell per group) of the summary table."""

    def unknown(g: ModelReport) -> str:
        n = g.usage.cost_unknown
        return f" ({n} sample{'s' if n != 1 else ''} with unknown price)" if n else ""

    def pass_k(d: dict[str, float], sym: str) -> str:
        return " · ".join(f"pass{sym}{k} {_pct(v)}" for k, v in d.items()) or "—"

    def infra(g: ModelReport) -> str:
        return f"{g.infra_errors}" + (f"; {g.cancelled} cancelled" if g.cancelled else "")

    def per_correct(g: ModelReport) -> str:
        if g.usage.cost_usd is not None and not g.accuracy.k:
            return "— (no correct answer)"
        return _usd(g.usage.cost_per_correct_usd)

    rows: list[tuple[str, Any]] = [
        ("run", lambda g: g.run_id),
        ("samples", lambda g: str(g.samples)),
        ("finished", lambda g: str(g.finished)),
        ("infra errors (left out of accuracy)", infra),
        ("accuracy (95% interval)", _accuracy),
        ("pass@k", lambda g: pass_k(g.pass_at_k, "@")),
        ("pass^k", lambda g: pass_k(g.pass_hat_k, "^")),
        ("rubric score", lambda g: _pct(g.rubric_score)),
        ("stop reasons", lambda g: ", ".join(f"{k} {v}" for k, v in g.stop_reasons.items()) or "—"),
        ("tokens", lambda g: _tokens(g)),
        ("latency p50 / p95", _latency),
        ("cost", lambda g: _usd(g.usage.cost_usd) + unknown(g)),
        ("cost per correct answer", per_correct),
    ]
    if len(report.runs) < 2:
        rows = rows[1:]
    if not any(g.pass_at_k for g in report.groups):
        rows = [r for r in rows if not r[0].startswith("pass")]
    return [(name, [fn(g) for g in report.groups]) for name, fn in rows]


def _tokens(g: ModelReport) -> str:
    u = g.usage
    if u.tokens_per_sample is None and u.tokens_unknown:
        return "unknown"
    per = f" ({u.tokens_per_sample:,.0f} per sample)" if u.tokens_per_sample is not None else ""
    unknown = f"; {u.tokens_unknown} samples unknown" if u.tokens_unknown else ""
    return f"{u.prompt_tokens:,} prompt + {u.completion_tokens:,} completion{per}{unknown}"


def _criteria(report: Report) -> list[dict[str, Any]]:
    out = []
    for c in report.criteria:
        cells = []
        for g in report.groups:
            stat = next((s for s in g.criteria if s.rubric == c.rubric and s.criterion == c.criterion), None)
            if stat is None:
                cells.append({"text": "—", "na": None, "errors": 0, "cls": ""})
                continue
            rate = stat.rate.rate
            cls = "" if rate is None else "good" if rate >= 0.9 else "bad" if rate < 0.5 else "mid"
            cells.append({"text": stat.rate.fmt(), "na": stat.na, "errors": stat.errors, "cls": cls})
        out.append(
            {"key": f"{c.rubric}.{c.criterion}", "info": c, "critical": c.severity == "critical", "cells": cells}
        )
    return out


def _slices(report: Report) -> list[dict[str, Any]]:
    keys: list[tuple[str, str]] = []
    for g in report.groups:
        keys.extend((s.dimension, s.value) for s in g.slices if (s.dimension, s.value) not in keys)
    order = {"kind": 0, "difficulty": 1, "tag": 2}
    keys.sort(key=lambda k: order.get(k[0], 3))
    table = [{(s.dimension, s.value): s.accuracy.fmt() for s in g.slices} for g in report.groups]
    return [{"dimension": d, "value": v, "cells": [t.get((d, v), "—") for t in table]} for d, v in keys]


def _charts(report: Report) -> list[dict[str, Any]]:
    from markupsafe import Markup

    from evalkit.report.charts import behaviours_chart, by_kind_chart, cost_chart

    svgs = {"behaviours": behaviours_chart(report), "by-kind": by_kind_chart(report), "cost": cost_chart(report)}
    return [
        {"name": name, "title": title, "svg": Markup(svgs[name]) if svgs[name] else None, "empty": empty}
        for name, title, empty in _CHARTS
    ]


def _task(
    row: TaskRow, traces: Sequence[Trace], index: dict[tuple[str, str], int], labels: dict[str, str]
) -> dict[str, Any]:
    links = []
    for sid in row.sample_ids:
        i = index.get((row.run_id, sid))
        if i is not None:
            t = traces[i]
            mark = "✓" if t.correct else "✗" if t.correct is False else "–"
            state = "ok" if t.correct else "bad" if t.correct is False else "na"
            links.append({"href": f"#trace-{i}", "text": f"e{t.epoch} {mark}", "ok": bool(t.correct), "state": state})
    first = next((x["href"] for x in links if not x["ok"]), links[0]["href"] if links else None)
    return {
        "row": row,
        "tags": ", ".join(row.tags),
        "ratio": row.correct / row.scored if row.scored else -1,
        "failing": row.correct < row.scored,
        "correct": task_correct_text(row),
        "scored": bool(row.scored),
        "tokens": "unknown" if row.tokens is None else f"{row.tokens:,}",
        "mode": labels.get(row.failure_mode, "") if row.failure_mode else "",
        "cost": "" if row.cost_usd is None else _usd(row.cost_usd),
        "links": links,
        "first": first,
    }
