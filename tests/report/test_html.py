"""The HTML report, read as markup (no browser): self-contained, complete, escaped and deterministic.

The traces' bodies are compressed blocks in the page; ``unpacked`` decodes them as the page's script does and
puts each body where the script would, so the tests read the page as a reader who opened every trace sees it.
"""

from __future__ import annotations

import base64
import dataclasses
import gzip
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from evalkit.report.charts import behaviours_chart, by_kind_chart, cost_chart
from evalkit.report.html import TOOL_RESULT_CHARS, render_html
from evalkit.report.html_traces import BLOCK_MEDIA_TYPE
from evalkit.report.model import Report, Trace
from evalkit.report.traces import load_traces
from evalkit.trace.store import TraceStore

EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.I)
BLOCK = re.compile(r'<script type="([^"]+)" id="trace-block-(\d+)" data-encoding="gzip\+base64">([^<]*)</script>\n')
BODY = re.compile(
    r'(<details class="trace [^"]*" id="(trace-\d+)"[^>]*>\n<summary>.*?</summary>\n)'
    r'<div class="trace-body" data-block="(\d+)">.*?</div>\n</details>',
    re.S,
)


def blocks(html: str) -> dict[int, dict[str, str]]:
    """Each compressed block of the page, decoded: block number → {trace id: body HTML}."""
    out = {}
    for media, n, data in BLOCK.findall(html):
        assert media == BLOCK_MEDIA_TYPE
        out[int(n)] = json.loads(gzip.decompress(base64.b64decode(data)))
    return out


def unpacked(html: str) -> str:
    """The page with every trace's body decoded into it and the blocks removed."""
    decoded = blocks(html)

    def body(m: re.Match[str]) -> str:
        return f'{m[1]}<div class="trace-body">\n{decoded[int(m[3])][m[2]]}</div>\n</details>'

    return BLOCK.sub("", BODY.sub(body, html))


class Page(HTMLParser):
    """What the tests look at: every start tag, the charts, the task table's rows and the ids' classes."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.charts: dict[str, int] = {}
        self.task_rows: list[dict[str, str]] = []
        self.task_cells: list[list[dict[str, str]]] = []
        self.classes: dict[str, set[str]] = {}
        self._chart: str | None = None
        self._table: str | None = None
        self._tbody = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if "id" in a:
            self.classes[a["id"]] = set(a.get("class", "").split())
        if tag == "figure" and "chart" in a.get("class", "").split():
            self._chart = a.get("data-chart", "")
            self.charts[self._chart] = 0
        elif tag == "svg" and self._chart is not None:
            self.charts[self._chart] += 1
        elif tag == "table":
            self._table = a.get("id")
        elif tag == "tbody":
            self._tbody = True
        elif tag == "tr" and self._table == "task-table" and self._tbody:
            self.task_rows.append(a)
            self.task_cells.append([])
        elif tag == "td" and self._table == "task-table" and self._tbody:
            self.task_cells[-1].append(a)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._chart = None
        elif tag == "table":
            self._table = None
        elif tag == "tbody":
            self._tbody = False

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and (cls is None or cls in a.get("class", "").split())]


@pytest.fixture(scope="module")
def traces(report_store: tuple[Path, str], report: Report) -> tuple[list[Trace], int]:
    store, _ = report_store
    with TraceStore.open(store, write=False) as st:
        return load_traces(st, report)


@pytest.fixture(scope="module")
def html(report: Report, traces: tuple[list[Trace], int]) -> str:
    return render_html(report, traces[0], traces[1])


@pytest.fixture(scope="module")
def full(html: str) -> str:
    return unpacked(html)


@pytest.fixture(scope="module")
def page(full: str) -> Page:
    return Page(full)


def test_is_self_contained(html: str, page: Page) -> None:
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action", "poster", "data"):
            assert not EXTERNAL.match(attrs.get(name, "")), f"<{tag} {name}={attrs[name]!r}> fetches from the network"
        assert not (tag == "script" and "src" in attrs)
        assert tag not in ("link", "iframe", "img", "object", "embed"), f"<{tag}> refers to another file"
    scripts = [a for t, a in Page(html).tags if t == "script"]
    assert [a for a in scripts if "type" not in a] == [{}], "one script runs; the others are trace blocks"
    assert all(a["type"] == BLOCK_MEDIA_TYPE for a in scripts if "type" in a) and len(scripts) > 1
    assert len(page.find("style")) >= 1
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", html, re.I)


def test_has_every_section(page: Page) -> None:
    ids = {a.get("id") for _, a in page.tags if a.get("id")}
    assert {"summary", "criteria", "slices", "diagnosis", "charts", "tasks", "traces", "task-table"} <= ids


def test_three_inline_svg_charts(page: Page) -> None:
    assert page.charts == {"behaviours": 1, "by-kind": 1, "cost": 1}


def test_every_group_and_figure_appears(html: str, report: Report) -> None:
    for g in report.groups:
        assert g.label in html
        assert g.accuracy.fmt() in html
    assert "left out of accuracy" in html or all(g.infra_errors == 0 for g in report.groups)
    noisy = next(g for g in report.groups if g.label == "scripted/noisy@0.5")
    assert noisy.train_next and "−50.0 pts" in html
    assert "explains 4 wrong answers" in html
    assert "invented a table or column" in html


def test_task_table_has_a_sortable_row_per_task(page: Page, report: Report, traces: tuple[list[Trace], int]) -> None:
    assert len(page.task_rows) == len(report.tasks)
    heads = len([a for t, a in page.tags if t == "th" and "tabindex" in a])
    assert all(len(cells) == heads for cells in page.task_cells)
    assert all("data-sort" in cell for cells in page.task_cells for cell in cells)
    failing = [i for i, r in enumerate(report.tasks) if r.correct < r.finished]
    assert failing and [i for i, a in enumerate(page.task_rows) if a.get("class") == "failing"] == failing
    wrong = {f"#trace-{i}" for i, t in enumerate(traces[0]) if t.correct is False}
    links = [a["href"] for t, a in page.tags if t == "a" and a.get("href", "").startswith("#trace-")]
    assert wrong <= set(links)


def test_every_trace_is_a_collapsed_details(page: Page, traces: tuple[list[Trace], int]) -> None:
    found = page.find("details", "trace")
    assert [a["id"] for a in found] == [f"trace-{i}" for i in range(len(traces[0]))]
    assert [a["data-sample"] for a in found] == [t.sample_id for t in traces[0]]
    assert not any("open" in a for a in found)


def test_failing_verdicts_evidence_is_highlighted(page: Page, traces: tuple[list[Trace], int]) -> None:
    checked = 0
    for n, t in enumerate(traces[0]):
        seqs = {e["seq"] for e in t.events}
        failing = {s for v in t.verdicts if v.verdict == "fail" for s in v.evidence if s in seqs}
        for seq in seqs:
            classes = page.classes[f"trace-{n}-e{seq}"]
            assert "event" in classes
            assert ("evidence" in classes) == (seq in failing), (t.sample_id, seq)
        checked += len(failing)
    assert checked > 0


def test_model_output_is_escaped(report: Report, traces: tuple[list[Trace], int]) -> None:
    evil = "<script>alert(1)</script>"
    first = traces[0][0]
    events = (*first.events[:-1], {**first.events[-1], "content": f"FINAL ANSWER: {evil}"})
    trace = dataclasses.replace(first, final_answer=evil, events=events, question=f"<b>{evil}</b>")
    out = unpacked(render_html(report, [trace]))
    assert evil not in out
    assert out.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3
    assert out.count("<script") == 1


def test_long_tool_results_are_cut(report: Report, traces: tuple[list[Trace], int]) -> None:
    first = traces[0][0]
    i = next(i for i, e in enumerate(first.events) if e["kind"] == "tool")
    long = "x" * (TOOL_RESULT_CHARS + 500)
    events = (*first.events[:i], {**first.events[i], "content": long}, *first.events[i + 1 :])
    out = unpacked(render_html(report, [dataclasses.replace(first, events=events)]))
    assert long not in out and "x" * TOOL_RESULT_CHARS in out
    assert "500 more characters not shown" in out


def test_omitted_traces_are_announced(report: Report, traces: tuple[list[Trace], int]) -> None:
    assert "left out" not in render_html(report, traces[0][:2]).split('id="traces"')[1]
    out = render_html(report, traces[0][:2], omitted=22)
    assert "22 more traces left out (wrong answers are shown first); use <code>evalkit show RUN TASK</code>" in out


def test_output_is_deterministic(report: Report, traces: tuple[list[Trace], int], html: str) -> None:
    assert render_html(report, traces[0], traces[1]) == html


def test_unknown_cost_is_shown_as_unknown(report: Report) -> None:
    groups = tuple(
        dataclasses.replace(
            g,
            usage=dataclasses.replace(
                g.usage, cost_usd=None, cost_unknown=g.samples, cost_per_sample_usd=None, cost_per_correct_usd=None
            ),
        )
        for g in report.groups
    )
    tasks = tuple(dataclasses.replace(t, cost_usd=None) for t in report.tasks)
    unpriced = dataclasses.replace(report, groups=groups, tasks=tasks)
    out = render_html(unpriced, [])
    assert "unknown (8 samples with unknown price)" in out
    assert "tokens per sample (no group has a known cost)" in (cost_chart(unpriced) or "")


def test_cost_chart_axis(report: Report) -> None:
    # The scripted agents are free: a chart of zero costs says nothing, so tokens are plotted.
    assert "tokens per sample (every known cost is 0)" in (cost_chart(report) or "")
    groups = tuple(
        dataclasses.replace(g, usage=dataclasses.replace(g.usage, cost_per_sample_usd=0.001 * (i + 1)))
        for i, g in enumerate(report.groups)
    )
    svg = cost_chart(dataclasses.replace(report, groups=groups)) or ""
    assert "cost per sample (USD)" in svg and "tokens" not in svg


def test_charts_without_data_say_so(report: Report) -> None:
    bare = dataclasses.replace(
        report,
        criteria=(),
        groups=tuple(dataclasses.replace(g, criteria=(), slices=()) for g in report.groups),
    )
    assert behaviours_chart(bare) is None and by_kind_chart(bare) is None
    page = Page(render_html(bare, []))
    assert page.charts == {"behaviours": 0, "by-kind": 0, "cost": 1}
    empty = Report(1, "2026-01-01T00:00:00+00:00", "0", (), (), (), (), ())
    page = Page(render_html(empty, []))
    assert page.charts == {"behaviours": 0, "by-kind": 0, "cost": 0}
    assert page.task_rows == []


def test_svg_ids_are_unique_across_charts(full: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', full)
    assert len(ids) == len(set(ids))
    for ref in set(re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', full)):
        target = ref[0] or ref[1]
        assert target in ids, f"dangling reference #{target}"


def test_importing_the_renderer_does_not_import_matplotlib() -> None:
    code = "import sys, evalkit.report.html, evalkit.report.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_drawing_charts_leaves_pyplot_and_the_backend_alone(report: Report) -> None:
    """A notebook that calls evalkit keeps its matplotlib backend and figures: no pyplot, no backend switch."""
    import matplotlib

    backend = matplotlib.get_backend()
    assert behaviours_chart(report) is not None
    assert matplotlib.get_backend() == backend
    assert "matplotlib.pyplot" not in sys.modules or sys.modules["matplotlib.pyplot"].get_fignums() == []
    code = (
        "import sys, pickle; from evalkit.report.charts import behaviours_chart; "
        "r = pickle.load(sys.stdin.buffer); behaviours_chart(r); print('matplotlib.pyplot' in sys.modules)"
    )
    import pickle

    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(report), capture_output=True, check=True)
    assert out.stdout.decode().strip() == "False"


def test_traces_are_packed_not_embedded(html: str, traces: tuple[list[Trace], int]) -> None:
    """The page carries each trace's summary line; its events are only in the compressed blocks, and every
    trace is in the block its placeholder names, with every one of its events."""
    shown = traces[0]
    placeholders = re.findall(r'<div class="trace-body" data-block="(\d+)">', html)
    assert len(placeholders) == len(shown)
    decoded = blocks(html)
    assert sorted(tid for b in decoded.values() for tid in b) == sorted(f"trace-{i}" for i in range(len(shown)))
    for i, (n, t) in enumerate(zip(placeholders, shown, strict=True)):
        body = decoded[int(n)][f"trace-{i}"]
        assert [int(x) for x in re.findall(r'data-seq="(\d+)"', body)] == [e["seq"] for e in t.events]
    results = [e["content"] for t in shown for e in t.events if e["kind"] == "tool" and len(e["content"] or "") > 40]
    assert results and not any(r.replace('"', "&#34;") in html or r in html for r in results)
    assert 'data-seq="' not in html and len(decoded) > 1


def test_packed_page_is_far_smaller(html: str, full: str) -> None:
    assert len(html) < len(full) / 2
