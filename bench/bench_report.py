"""Report and comparison speed on a large scored run.

Builds a store with one run of N samples (default 20,000: real traces of both scripted agents on
finance-single, replicated as in ``bench_scoring.py``), scores it with the tool-discipline and answer
rubrics, then times: building the report (samples, error types, verdicts, failure modes, every figure),
each file rendering (Markdown, JSON, JUnit, HTML with up to 2,000 embedded traces), and a paired comparison
of the run with itself.

    .venv/bin/python bench/bench_report.py [--samples 20000]

Prints the seconds of each step and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000)
    args = parser.parse_args()

    from bench_scoring import build_store

    import evalkit
    from evalkit.compare.pairing import compare_runs
    from evalkit.report.build import build_report
    from evalkit.report.write import render
    from evalkit.trace.store import TraceStore

    figures: dict[str, float] = {"samples": args.samples}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["EVALKIT_CACHE_DIR"] = str(Path(tmp) / "cache")
        store = Path(tmp) / "bench.duckdb"
        run_id = build_store(store, args.samples)
        evalkit.score_run(store, run_id, ["tool-discipline", "answer"])
        other = _copy_run(store, run_id)
        with TraceStore.open(store, write=False) as st:
            t = time.perf_counter()
            report = build_report(st, [run_id])
            figures["build_s"] = time.perf_counter() - t
            for fmt in ("md", "json", "junit", "html"):
                t = time.perf_counter()
                text = render(report, fmt, st)
                figures[f"{fmt}_s"] = time.perf_counter() - t
                figures[f"{fmt}_mb"] = len(text.encode()) / 1e6
            t = time.perf_counter()
            compare_runs(st, [run_id, other])
            figures["compare_s"] = time.perf_counter() - t
    for key, value in figures.items():
        print(f"{key:>12}: {value:,.2f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
