"""Report and comparison speed on a large scored run.

Builds a store with one run of N samples (default 20,000: real traces of both scripted agents on
finance-single, replicated as in ``bench_scoring.py``), scores it with the tool-discipline and answer
rubrics, then times: building the report (samples, error types, verdicts, failure modes, every figure),
each file rendering (Markdown, JSON, JUnit, HTML with up to 2,000 traces), and a paired comparison of the
run with itself. Then it opens the HTML in headless Chromium (``/usr/bin/chromium`` through Playwright, as
``tests/report/test_browser.py`` does; skipped without it): the seconds until the page's load event, and
until the first trace, once clicked, shows its events (the traces are decoded on demand).

    .venv/bin/python bench/bench_report.py [--samples 20000] [--trace-limit 2000] [--keep DIR]

Prints the seconds of each step and a JSON line. ``--keep DIR`` builds the store in DIR and reuses it on the
next run (building and scoring 20,000 samples takes minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).parent))


def _copy_run(store: Path, run_id: str) -> str:
    """The run again under another id (samples, events and scores), to compare with."""
    from dataclasses import replace

    from evalkit.trace.store import TraceStore

    new_id = run_id[:-6] + "c0ffee"
    with TraceStore.open(store, write=True) as st:
        st.create_run(replace(st.get_run(run_id), run_id=new_id, name="copy"))
        for batch in st.iter_samples(run_id):
            st.write_samples([replace(s, run_id=new_id) for s in batch])
        st.write_scores([replace(s, run_id=new_id) for s in st.scores(run_id)])
    return new_id


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


def browser_figures(html: Path) -> dict[str, float]:
    """Seconds to open the report in headless Chromium (to its load event, best of three fresh pages) and to
    show the first trace's events once its summary is clicked; nothing without a Chromium."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        print("no chromium: browser figures skipped", file=sys.stderr)
        return {}
    from playwright.sync_api import sync_playwright

    opens, firsts = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for _ in range(3):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                page.set_default_timeout(120_000)
                t = time.perf_counter()
                page.goto(html.as_uri(), wait_until="load")
                opens.append(time.perf_counter() - t)
                trace = page.locator("details.trace").first
                t = time.perf_counter()
                trace.locator(":scope > summary").click()
                trace.locator(".event").first.wait_for(state="visible")
                firsts.append(time.perf_counter() - t)
                context.close()
        finally:
            browser.close()
    return {"html_open_s": min(opens), "html_first_trace_s": min(firsts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--trace-limit", type=int, default=2000, help="Most traces the HTML carries")
    parser.add_argument("--keep", type=Path, default=None, help="Build the store in this folder and reuse it")
    args = parser.parse_args()

    from bench_scoring import build_store

    import evalkit
    from evalkit.compare.pairing import compare_runs
    from evalkit.report.build import build_report
    from evalkit.report.write import render
    from evalkit.trace.store import TraceStore

    figures: dict[str, float] = {"samples": args.samples}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["EVALKIT_CACHE_DIR"] = str(folder / "cache")
        store = folder / f"bench-{args.samples}.duckdb"
        ids = folder / f"bench-{args.samples}.ids"
        if ids.exists() and store.exists():
            run_id, other = ids.read_text().split()
        else:
            run_id = build_store(store, args.samples)
            evalkit.score_run(store, run_id, ["tool-discipline", "answer"])
            other = _copy_run(store, run_id)
            ids.write_text(f"{run_id} {other}")
        html = Path(tmp) / "report.html"
        with TraceStore.open(store, write=False) as st:
            t = time.perf_counter()
            report = build_report(st, [run_id])
            figures["build_s"] = time.perf_counter() - t
            for fmt in ("md", "json", "junit", "html"):
                t = time.perf_counter()
                text = render(report, fmt, st, trace_limit=args.trace_limit)
                figures[f"{fmt}_s"] = time.perf_counter() - t
                figures[f"{fmt}_mb"] = len(text.encode()) / 1e6
                if fmt == "html":
                    html.write_text(text, encoding="utf-8")
            t = time.perf_counter()
            compare_runs(st, [run_id, other])
            figures["compare_s"] = time.perf_counter() - t
        figures.update(browser_figures(html))
    for key, value in figures.items():
        print(f"{key:>12}: {value:,.2f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
