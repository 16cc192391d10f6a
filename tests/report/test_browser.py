"""The HTML report in a real headless Chromium: it loads offline without errors, draws its charts, sorts its
task table and opens its traces. Skipped when no Chromium is installed (Debian: ``apt-get install chromium``);
``playwright install`` is never needed, the system browser is used."""

from __future__ import annotations

import shutil
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


@pytest.fixture
def loaded(browser: Browser, report_file: Path) -> Iterator[Loaded]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
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
    page.goto(report_file.as_uri(), wait_until="load")
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
    assert trace.locator(".event.evidence").first.is_visible()
    trace.locator(":scope > summary").click()
    assert page.locator("details.trace[open]").count() == 0

    link = page.locator("#task-table tr.failing a[href^='#trace-']").first
    target = (link.get_attribute("href") or "")[1:]
    link.click()
    assert page.locator(f"details#{target}[open]").count() == 1
    assert page.locator(f"#{target} .trace-body").is_visible()

    total = page.locator("details.trace").count()
    page.get_by_role("button", name="Expand all").click()
    assert page.locator("details.trace[open]").count() == total
    page.get_by_role("button", name="Collapse all").click()
    assert page.locator("details.trace[open]").count() == 0
    loaded.assert_clean()
