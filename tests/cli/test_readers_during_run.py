"""Users watch long runs: ``runs``, ``show``, ``report``, ``export`` and ``score`` work while a run writes.

A slowed-down run writes in a process of its own while 20 reader processes call the real CLI over and over.
Every call exits 0, the sample count each reader sees never goes down, and the run finishes with every
sample. (A run holds the store's file only while it writes a batch; readers that find it busy wait.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import evalkit

ROOT = Path(__file__).resolve().parents[2]
READERS = 20
EPOCHS = 12
TASKS = 4

_READER = """
import json, sys
from pathlib import Path
from tests.cli_runner import run_cli

store, stop, out, me = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
calls, counts, rounds = [], [], 0
while rounds < 2 or not stop.exists():
    listing = run_cli("runs", "--json", "--store", store)
    calls.append(("runs", listing.exit_code, listing.stderr[-300:]))
    if listing.exit_code == 0:
        counts.append(json.loads(listing.stdout)[0]["samples"])
    shown = run_cli("show", "latest", "--store", store)
    calls.append(("show", shown.exit_code, shown.stderr[-300:]))
    report = run_cli("report", "latest", "-f", "json", "-o", out / f"report-{me}.json", "--store", store)
    calls.append(("report", report.exit_code, report.stderr[-300:]))
    if rounds == 0 and me % 10 == 0:  # a few readers also export, and score (a writer that takes turns)
        exported = run_cli("export", "latest", "-o", out / f"export-{me}.jsonl", "--store", store)
        calls.append(("export", exported.exit_code, exported.stderr[-300:]))
        scored = run_cli("score", "latest", "--rubric", "answer", "--store", store)
        calls.append(("score", scored.exit_code, scored.stderr[-300:]))
    rounds += 1
print(json.dumps({"calls": calls, "counts": counts}))
"""


def test_twenty_readers_work_while_a_run_writes(mini_suite: Path, store: Path, tmp_path: Path) -> None:
    (tmp_path / "evalkit.yaml").write_text(
        "models:\n  slow:\n    model: scripted/disciplined\n    extra: {latency_ms: 40}\n", encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "evalkit.cli", "run", str(mini_suite), "-m", "slow", "--epochs", str(EPOCHS)]
    run += ["--concurrency", "2", "--store", str(store), "--no-progress", "--no-report"]
    writer = subprocess.Popen(run, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = tmp_path / "stop"
    readers: list[subprocess.Popen[str]] = []
    try:
        deadline = time.monotonic() + 120
        while not store.exists() or not evalkit.list_runs(store):  # the run's record is written
            assert writer.poll() is None, writer.communicate()
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        for i in range(READERS):
            argv = [sys.executable, "-c", _READER, str(store), str(stop), str(tmp_path), str(i)]
            readers.append(
                subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            )
        out, err = writer.communicate(timeout=900)
        stop.touch()
        results = []
        for proc in readers:
            r_out, r_err = proc.communicate(timeout=900)
            assert proc.returncode == 0, r_err
            results.append(json.loads(r_out.strip().splitlines()[-1]))
    finally:
        stop.touch()
        for proc in [writer, *readers]:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert writer.returncode == 0, err
    failed = [(name, code, why) for r in results for name, code, why in r["calls"] if code != 0]
    assert failed == []
    kinds = {name for r in results for name, _, _ in r["calls"]}
    assert kinds == {"runs", "show", "report", "export", "score"}
    for r in results:
        assert r["counts"] == sorted(r["counts"])  # never fewer samples than a reader saw before
    seen = sorted({c for r in results for c in r["counts"]})
    assert len(seen) > 1, f"every reader saw the same count {seen}: the run did not write while they read"
    record, samples = evalkit.get_samples(store, "latest", with_events=False)
    assert record.status == "finished" and "finished" in out
    assert len(samples) == TASKS * EPOCHS == len({s.sample_id for s in samples})
