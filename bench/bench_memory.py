"""Peak memory and store size of a long run (a benchmark, not a test).

    python bench/bench_memory.py [--samples 10000] [--in-flight 64]

The mini suite's 7-call task t3 run ``--samples`` times (as epochs) through the full path over the direct
client, against the loopback replay server of ``bench_client.py`` (its own process). Printed: this process's
peak RSS (``ru_maxrss``) after a 200-sample warm-up run and after the long run (flat in the number of samples
when finished samples are flushed, not kept), and the store's bytes per sample. Targets (issue 13): peak RSS
<= 200 MB for 10,000 samples, store <= 5 KB per sample.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_client import SUITE, TASK, Fixture, completions, replay_server  # noqa: E402

TARGET_RSS_MB = 200
TARGET_STORE_KB = 5


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(base: str, store: Path, samples: int, in_flight: int) -> float:
    import evalkit
    from evalkit.contracts.model_config import ModelConfig

    model = ModelConfig(name="served", model="openai/scripted-disciplined", api_base=base, client="direct")
    started = time.perf_counter()
    result = evalkit.run_suite(
        SUITE, [model], tasks=TASK, epochs=samples, concurrency=in_flight, store=store, use_cache=False,
        preflight=False, name=store.stem,
    )  # fmt: skip
    if result.ran != samples:
        raise SystemExit(f"{store.stem}: ran {result.ran} of {samples} samples")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--in-flight", type=int, default=64)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="evalkit-bench-memory-"))
    os.environ.setdefault("EVALKIT_CACHE_DIR", str(tmp / "cache"))
    try:
        replies = completions(Fixture())
        with replay_server(replies) as base:
            run(base, tmp / "warm.duckdb", 200, args.in_flight)
            warm_rss = peak_rss_mb()
            wall = run(base, tmp / "long.duckdb", args.samples, args.in_flight)
            long_rss = peak_rss_mb()
        store_bytes = sum(p.stat().st_size for p in tmp.glob("long.duckdb*"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    per_sample_kb = store_bytes / args.samples / 1024

    def ok(good: bool) -> str:
        return "ok" if good else "OVER"

    print(f"{args.samples} samples of task {TASK} ({args.in_flight} in flight) in {wall:.1f} s")
    print(f"peak RSS after a 200-sample run {warm_rss:.0f} MB, after the {args.samples}-sample run {long_rss:.0f} MB "
          f"(target <= {TARGET_RSS_MB} MB) {ok(long_rss <= TARGET_RSS_MB)}")  # fmt: skip
    print(f"store {store_bytes / 1e6:.1f} MB = {per_sample_kb:.2f} KB per sample (target <= {TARGET_STORE_KB} KB) "
          f"{ok(per_sample_kb <= TARGET_STORE_KB)}")  # fmt: skip
    print(json.dumps({"samples": args.samples, "wall_s": round(wall, 2), "peak_rss_mb_warm": round(warm_rss, 1),
                      "peak_rss_mb": round(long_rss, 1), "store_kb_per_sample": round(per_sample_kb, 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
