"""The HTML report in a real headless Chromium: it loads offline without errors, draws its charts, sorts its
task table, decodes and opens its traces, keeps its layout at 1,280 and 1,920 px (element positions against
``golden/layout-<width>.json``; rewrite them with ``EVALKIT_UPDATE_GOLDEN=1`` and review the diff, and the
full-page screenshot the test saves in its tmp folder) and reads without JavaScript. Skipped when no Chromium
is installed (Debian: ``apt-get install chromium``); ``playwright install`` is never needed, the system
browser is used."""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from evalkit.report.html import render_html
from evalkit.report.model import Report
from evalkit.report.traces import load_traces
from evalkit.trace.store import TraceStore

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

pytestmark = pytest.mark.browser

GOLDEN = Path(__file__).parent / "golden"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@dataclass
class Loaded:
    page: Page
    blocked: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.blocked == [], f"the page tried to reach the network: {self.blocked}"
        assert self.messages == [], f"console errors or warnings: {self.messages}"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory, report_store: tuple[Path, str], report: Report) -> Path:
    store, _ = report_store
    with TraceStore.open(store, write=False) as st:
        traces, omitted = load_traces(st, report)
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(report, traces, omitted), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "no headless Chromium: install Debian's chromium (apt-get install chromium) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser: Browser, url: str, width: int = 1280, *, javascript: bool = True) -> tuple[Any, Loaded]:
    """A new browser context at ``width`` px with ``url`` loaded, its network requests and console watched."""
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    out = Loaded(page)

    def route(r: Route) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            out.blocked.append(r.request.url)
            r.abort()

    def console(msg: Any) -> None:
        if msg.type in ("error", "warning"):
            out.messages.append(f"{msg.type}: {msg.text}")

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda exc: out.messages.append(f"pageerror: {exc}"))
    page.goto(url, wait_until="load")
    return context, out


@pytest.fixture
def loaded(browser: Browser, report_file: Path) -> Iterator[Loaded]:
    context, out = _open(browser, report_file.as_uri())
    try:
        yield out
    finally:
        context.close()


def test_loads_offline_without_errors(loaded: Loaded) -> None:
    page = loaded.page
    assert page.title().startswith("evalkit report")
    for section in ("summary", "criteria", "slices", "diagnosis", "charts", "tasks", "traces"):
        assert page.locator(f"section#{section}").is_visible()
    loaded.assert_clean()


def test_charts_are_rendered(loaded: Loaded) -> None:
    charts = loaded.page.locator(".chart svg")
    assert charts.count() == 3
    for i in range(3):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    loaded.assert_clean()


def _column(page: Page, col: int) -> list[str]:
    return page.locator(f"#task-table tbody tr td:nth-child({col})").all_inner_texts()


def test_task_table_sorts_on_header_click(loaded: Loaded, report: Report) -> None:
    page = loaded.page
    heads = page.locator("#task-table thead th")
    assert _column(page, 1) == [r.label for r in report.tasks]
    tasks = [r.task_id for r in report.tasks]

    heads.nth(1).click()
    assert _column(page, 2) == sorted(tasks)
    assert heads.nth(1).get_attribute("aria-sort") == "ascending"
    heads.nth(1).click()
    assert _column(page, 2) == sorted(tasks, reverse=True)
    assert heads.nth(1).get_attribute("aria-sort") == "descending"

    heads.nth(8).click()  # tokens: numeric, not lexicographic
    tokens = [int(t.replace(",", "")) for t in _column(page, 9)]
    assert tokens == sorted(tokens) and tokens != [r.tokens for r in report.tasks]
    heads.nth(5).click()  # correct / finished
    first = page.locator("#task-table tbody tr").first
    assert first.get_attribute("class") == "failing"
    assert _column(page, 1)[0] == "scripted/reckless"
    loaded.assert_clean()


def test_traces_open_on_click_and_from_links(loaded: Loaded) -> None:
    page = loaded.page
    trace = page.locator("details.trace").first
    body = trace.locator(".trace-body")
    assert page.locator("details.trace[open]").count() == 0
    assert not body.is_visible()
    trace.locator(":scope > summary").click()
    assert page.locator("details.trace[open]").count() == 1
    assert body.is_visible()
    trace.locator(".event.evidence").first.wait_for(state="visible")
    trace.locator(":scope > summary").click()
    assert page.locator("details.trace[open]").count() == 0

    link = page.locator("#task-table tr.failing a[href^='#trace-']").first
    target = (link.get_attribute("href") or "")[1:]
    link.click()
    assert page.locator(f"details#{target}[open]").count() == 1
    page.locator(f"#{target} .trace-body .event").first.wait_for(state="visible")

    total = page.locator("details.trace").count()
    page.get_by_role("button", name="Expand all").click()
    assert page.locator("details.trace[open]").count() == total
    page.wait_for_function("() => document.querySelectorAll('.trace-body .loading').length === 0")
    page.get_by_role("button", name="Collapse all").click()
    assert page.locator("details.trace[open]").count() == 0
    loaded.assert_clean()


def test_an_opened_trace_shows_every_event(loaded: Loaded, report_store: tuple[Path, str], report: Report) -> None:
    """Decoded from its compressed block, a trace shows each of its events, in order, with its content."""
    store, _ = report_store
    with TraceStore.open(store, write=False) as st:
        traces, _ = load_traces(st, report)
    page = loaded.page
    for n in (0, len(traces) - 1):
        trace = page.locator(f"details#trace-{n}")
        assert trace.locator(".event").count() == 0  # not decoded before it is opened
        trace.locator(":scope > summary").click()
        trace.locator(".event").first.wait_for(state="visible")
        seqs = [int(x or "") for x in trace.locator(".event").evaluate_all("els => els.map(e => e.dataset.seq)")]
        assert seqs == [e["seq"] for e in traces[n].events]
        last = next(e for e in reversed(traces[n].events) if e["kind"] == "model" and e.get("content"))
        assert last["content"].strip()[:60] in trace.locator(".event").last.inner_text()
    loaded.assert_clean()


def test_a_link_to_an_event_opens_its_trace_below_the_bar(browser: Browser, report_file: Path) -> None:
    """Opened at #trace-N-eS, the page decodes trace N and scrolls its event S into view, below the sticky bar
    (the event's anchor does not exist before the trace is decoded)."""
    context, loaded = _open(browser, report_file.as_uri() + "#trace-3-e4")
    try:
        page = loaded.page
        event = page.locator("#trace-3-e4")
        event.wait_for(state="visible")
        page.wait_for_function("() => document.getElementById('trace-3-e4').getBoundingClientRect().top < 200")
        nav = page.locator("nav").bounding_box()
        box = event.bounding_box()
        assert nav is not None and box is not None
        assert nav["y"] + nav["height"] <= box["y"] < nav["y"] + nav["height"] + 60
        loaded.assert_clean()
    finally:
        context.close()


def test_summary_reads_without_javascript(browser: Browser, report_file: Path, report: Report) -> None:
    context, loaded = _open(browser, report_file.as_uri(), javascript=False)
    try:
        page = loaded.page
        assert page.locator("table.groups").is_visible()
        text = page.locator("section#summary").inner_text()
        assert all(g.label in text and g.accuracy.fmt() in text for g in report.groups)
        assert page.locator("#task-table tbody tr").count() == len(report.tasks)
        assert page.locator(".chart svg").count() == 3
        assert "A trace opens with JavaScript" in page.locator("section#traces").inner_text()
    finally:
        context.close()


LAYOUT = {
    "nav": "nav",
    "title": "main > h1",
    "summary table": "section#summary table.groups",
    "first chart": "section#charts .chart >> nth=0",
    "task table": "#task-table",
    "task table frame": "section#tasks .wide",
    "traces header": "#task-table thead th >> nth=-1",
    "first trace links": "#task-table tbody tr >> nth=0 >> td.links",
    "first trace link": "#task-table tbody tr >> nth=0 >> td.links a >> nth=0",
    "first trace": "details.trace >> nth=0",
}
"""The elements whose boxes make the golden layout: the frame, the summary, and the task table's far edge."""


def _boxes(page: Page) -> dict[str, list[int]]:
    out = {}
    for name, selector in LAYOUT.items():
        box = page.locator(selector).bounding_box()
        assert box is not None, f"{name} ({selector}) is not laid out"
        out[name] = [round(box[k]) for k in ("x", "y", "width", "height")]
    return out


def _png_width(path: Path) -> int:
    (width,) = struct.unpack(">I", path.read_bytes()[16:20])
    return int(width)


def _near(a: int, b: int) -> bool:
    """Within 8 px and 2 % (text metrics differ slightly between font builds)."""
    return abs(a - b) <= 8 + 0.02 * abs(b)


@pytest.mark.parametrize("width", [1280, 1920])
def test_layout_fits_and_matches_its_golden(browser: Browser, report_file: Path, tmp_path: Path, width: int) -> None:
    context, loaded = _open(browser, report_file.as_uri(), width)
    try:
        page = loaded.page
        shot = tmp_path / f"layout-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert _png_width(shot) == width, f"the page scrolls sideways at {width} px: see {shot}"
        overflow = page.evaluate(
            "() => Array.from(document.querySelectorAll('.wide')).filter(w => w.scrollWidth > w.clientWidth + 1)"
            ".map(w => (w.closest('section') || {}).id + ': ' + w.scrollWidth + ' > ' + w.clientWidth)"
        )
        assert overflow == [], f"tables that need a horizontal scroll at {width} px: {overflow} (see {shot})"
        boxes = _boxes(page)
        x, _, w, _ = boxes["first trace links"]
        frame_x, _, frame_w, _ = boxes["task table frame"]
        assert frame_x <= x and x + w <= frame_x + frame_w <= width, "the trace links are cut off"

        golden = GOLDEN / f"layout-{width}.json"
        if os.environ.get("EVALKIT_UPDATE_GOLDEN") == "1":
            lines = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in boxes.items())
            golden.write_text(f'{{"viewport": [{width}, 900], "boxes": {{\n{lines}\n}}}}\n')
        assert golden.exists(), f"{golden} is missing: run with EVALKIT_UPDATE_GOLDEN=1 to write it"
        expected = json.loads(golden.read_text())["boxes"]
        moved = {
            name: (boxes.get(name), box)
            for name, box in expected.items()
            if name not in boxes or not all(_near(a, b) for a, b in zip(boxes[name], box, strict=True))
        }
        assert moved == {}, f"layout changed at {width} px (now, golden): {moved}; screenshot {shot}"

        link = page.locator(LAYOUT["first trace link"])
        target = (link.get_attribute("href") or "")[1:]
        link.click()
        page.locator(f"#{target} .event").first.wait_for(state="visible")
        page.wait_for_function(
            f"() => document.getElementById('{target}').getBoundingClientRect().top >= "
            "document.querySelector('nav').getBoundingClientRect().bottom"
        )
        nav = page.locator("nav").bounding_box()
        head = page.locator(f"#{target} > summary").bounding_box()
        assert nav is not None and head is not None
        assert head["y"] >= nav["y"] + nav["height"], "the followed trace's header is under the sticky bar"
        assert head["y"] < nav["y"] + nav["height"] + 60, "the followed trace is not scrolled to the top"
        loaded.assert_clean()
    finally:
        context.close()
