"""Timing of the trace store's hot paths (a benchmark, not a test).

    python bench/bench_store.py [--samples 1000] [--events 15] [--batch 1000]

Writes ``--samples`` samples of ``--events`` events each into a fresh store, in batches of ``--batch``,
then reads them back with their events, and prints samples/s for both.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from evalkit.contracts.model_config import ModelConfig
from evalkit.trace.store import TraceStore
from evalkit.trace.types import Event, RunRecord, Sample, ToolCall, Usage


def make_sample(run_id: str, i: int, n_events: int) -> Sample:
    events = []
    for seq in range(n_events):
        turn = seq // 2
        if seq == 0:
            events.append(Event(seq=seq, kind="user", turn=0, content=f"Question {i}: how many orders in 2023?"))
        elif seq % 2:
            events.append(
                Event(
                    seq=seq, kind="model", turn=turn, content="Let me query the orders table.",
                    tool_calls=(ToolCall(id=f"c{seq}", name="sql", arguments={"query": "SELECT count(*) FROM o"}),),
                    usage=Usage(prompt_tokens=900 + seq, completion_tokens=40), latency_s=0.8, cost_usd=0.0004,
                )
            )  # fmt: skip
        else:
            events.append(
                Event(
                    seq=seq, kind="tool", turn=turn, tool="sql", call_id=f"c{seq - 1}",
                    arguments={"query": "SELECT count(*) FROM o"}, content="count\n1234", ok=seq % 3 != 0,
                    error_type=None if seq % 3 else "sql_error", data={"rows": 1}, latency_s=0.01,
                )
            )  # fmt: skip
    return Sample(
        run_id=run_id, task_id=f"task-{i // 3:04d}", model=f"m{i % 3}", epoch=0, status="ok",
        stop_reason="final_answer", final_answer="1234", correct=i % 2 == 0, expected="1234", turns=7,
        tool_calls=7, tool_errors=2, prompt_tokens=6300, completion_tokens=280, latency_s=5.7,
        cost_usd=0.0028, error=None, started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:06+00:00", events=tuple(events), metadata={"difficulty": "easy"},
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--events", type=int, default=15)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    run = RunRecord(
        run_id="bench-run", name="bench", suite="bench", suite_hash="0", suite_path="suites/bench",
        models=(ModelConfig(name="m0", model="fake/m0"),), options={}, evalkit_version="0",
        git_commit=None, created_at="2025-01-01T00:00:00+00:00",
    )  # fmt: skip
    samples = [make_sample(run.run_id, i, args.events) for i in range(args.samples)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        with TraceStore.open(path, write=True) as store:
            store.create_run(run)
            t0 = time.perf_counter()
            for start in range(0, len(samples), args.batch):
                store.write_samples(samples[start : start + args.batch])
            write_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            store.write_samples(samples[: args.batch])  # the upsert path: replaces existing samples
            rewrite_s = time.perf_counter() - t0
        with TraceStore.open(path, write=False) as store:
            t0 = time.perf_counter()
            loaded = store.samples(run.run_id, with_events=True)
            read_s = time.perf_counter() - t0
        assert len(loaded) == len(samples)
    n, n_ev = len(samples), len(samples) * args.events
    print(f"write:   {n} samples, {n_ev} events in {write_s:.3f}s = {n / write_s:,.0f} samples/s (batch {args.batch})")
    print(f"rewrite: {min(n, args.batch)} samples (upsert) in {rewrite_s:.3f}s")
    print(f"read:    {n} samples with events in {read_s:.3f}s = {n / read_s:,.0f} samples/s")


if __name__ == "__main__":
    main()
