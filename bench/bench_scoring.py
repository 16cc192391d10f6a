"""Scoring speed on a large stored run.

Builds a store holding one run of N samples (default 100,000) made of real traces of both scripted agents
on the built-in finance-single suite (each recorded episode replicated under new sample ids, epochs
0..k), then times ``score_run`` with the tool-discipline and answer rubrics: loading samples with their
events from the store, running every check, and writing the scores back.

    .venv/bin/python bench/bench_scoring.py [--samples 100000] [--keep DIR]

Prints samples per second for the whole re-score and for the checks alone, and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def build_store(store: Path, samples: int) -> str:
    import evalkit
    from evalkit.trace.store import TraceStore

    seed_store = store.with_name("seed.duckdb")
    result = evalkit.run_suite(
        "finance-single",
        ["scripted/disciplined", "scripted/reckless"],
        store=seed_store,
        use_cache=False,
        keep_samples=True,
    )
    base = list(result.samples)
    run = result.run
    epochs = -(-samples // len(base))
    with TraceStore.open(store, write=True) as st:
        st.create_run(replace(run, options={**run.options, "epochs": epochs}))
        batch = []
        made = 0
        for epoch in range(epochs):
            for s in base:
                if made >= samples:
                    break
                batch.append(replace(s, epoch=epoch))
                made += 1
            if len(batch) >= 5000 or made >= samples:
                st.write_samples(batch)
                batch = []
        st.finish_run(run.run_id, "finished", run.created_at)
    return run.run_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, default=None, help="Build the store in this folder and keep it")
    args = parser.parse_args()

    from evalkit.contracts.loader import load_suite
    from evalkit.contracts.rubric import load_rubric
    from evalkit.scoring.engine import RubricEngine
    from evalkit.scoring.service import score_run
    from evalkit.trace.store import TraceStore

    folder = args.keep or Path(tempfile.mkdtemp(prefix="evalkit-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "big.duckdb"
    os.environ.setdefault("EVALKIT_CACHE_DIR", str(folder / "cache"))
    t0 = time.perf_counter()
    if store.exists():
        with TraceStore.open(store, write=False) as st:
            run_id = st.list_runs()[0].run_id
    else:
        run_id = build_store(store, args.samples)
    build_s = time.perf_counter() - t0

    # The checks alone, on samples already in memory (a slice, to separate them from I/O).
    suite = load_suite("finance-single")
    from evalkit.env.database import build_database

    catalog = build_database(suite.database).catalog
    with TraceStore.open(store, write=False) as st:
        t0 = time.perf_counter()
        sample_slice = next(st.iter_samples(run_id, batch=20_000))
        load_slice_s = time.perf_counter() - t0
    engine = RubricEngine(load_rubric("tool-discipline"), tasks={t.id: t for t in suite.tasks}, catalog=catalog)
    engine2 = RubricEngine(load_rubric("answer"), tasks={t.id: t for t in suite.tasks}, catalog=catalog)
    t0 = time.process_time()
    n_scores = len(engine.score_samples(sample_slice)) + len(engine2.score_samples(sample_slice))
    checks_cpu = time.process_time() - t0

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    result = score_run(store, run_id, ["tool-discipline", "answer"])
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0

    figures = {
        "samples": result.samples,
        "scores_written": len(result.scores),
        "rescore_wall_s": round(wall, 2),
        "rescore_cpu_s": round(cpu, 2),
        "rescore_samples_per_s": round(result.samples / wall),
        "checks_only_samples_per_s": round(len(sample_slice) / checks_cpu),
        "checks_only_scores_per_s": round(n_scores / checks_cpu),
        "load_20k_samples_with_events_s": round(load_slice_s, 2),
        "store_build_s": round(build_s, 1),
    }
    width = max(map(len, figures))
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
