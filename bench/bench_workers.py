"""Samples per second of a CPU-bound run at ``--workers 1`` and ``--workers 2`` (a benchmark, not a test).

    python bench/bench_workers.py [--limit 104] [--epochs 8] [--models scripted/disciplined,scripted/reckless]

The scripted personas on finance-single (no network, no cache: every sample pays the whole engine, litellm's
custom-provider path included) are CPU-bound. Each worker count runs in a fresh process of its own, timed
around ``run_suite`` into a fresh store (start-up of the worker processes included), so both pay the same
cold start. Printed: samples, seconds and samples/s of each, the steady rate without the start-up (each
worker process pays its own imports, litellm's alone about 3 s of CPU), and both ratios. Target (issue 13):
>= 1.7x with two workers on a two-core machine.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.7


class Clock:
    """A progress display that only notes when each sample arrived."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []

    def start(self, total: int, done: int) -> None:
        pass

    def advance(self, sample: object, spent_usd: float) -> None:
        self.arrivals.append(time.perf_counter())

    def stop(self) -> None:
        pass


def one(workers: int, limit: int, epochs: int, models: list[str], store: Path) -> dict[str, float]:
    """Run the suite once with ``workers`` processes (in this process) and time it: the whole call, and the
    steady part (from the 10th sample to the last, without the start-up of the processes and their imports)."""
    sys.path.insert(0, str(ROOT))
    import evalkit

    clock = Clock()
    started = time.perf_counter()
    result = evalkit.run_suite(
        "finance-single", models, store=store, limit=limit, epochs=epochs, use_cache=False, workers=workers,
        progress=clock,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    assert result.run.status == "finished", result.run.status
    steady = (len(clock.arrivals) - 10) / (clock.arrivals[-1] - clock.arrivals[9])
    return {"workers": workers, "samples": result.ran, "seconds": seconds, "per_s": result.ran / seconds,
            "steady_per_s": steady}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=104)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--models", default="scripted/disciplined,scripted/reckless")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child: one worker count
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    if args.one is not None:
        print(json.dumps(one(args.one, args.limit, args.epochs, models, args.store)))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="evalkit-bench-workers-") as tmp:
        for workers in (1, 2):
            command = [
                sys.executable,
                __file__,
                "--one",
                str(workers),
                "--store",
                str(Path(tmp) / f"w{workers}.duckdb"),
            ]
            command += ["--limit", str(args.limit), "--epochs", str(args.epochs), "--models", args.models]
            out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        f"finance-single --limit {args.limit} -k {args.epochs}, {len(models)} scripted model(s), {os.cpu_count()} cores"
    )
    for row in rows:
        done, seconds = row["samples"], row["seconds"]
        print(
            f"  --workers {row['workers']:.0f}: {done:.0f} samples in {seconds:.2f} s = {row['per_s']:.1f}/s "
            f"(steady, start-up left out: {row['steady_per_s']:.1f}/s)"
        )
    for what, key in (("whole run", "per_s"), ("steady", "steady_per_s")):
        ratio = rows[1][key] / rows[0][key]
        verdict = "meets" if ratio >= TARGET else "misses"
        print(f"  ratio, {what}: {ratio:.2f}x ({verdict} the {TARGET}x target)")


if __name__ == "__main__":
    main()
