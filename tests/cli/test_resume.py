"""A run killed mid-way (SIGINT, SIGKILL) and started again finishes with exactly one record per sample and
does not re-run the samples that had finished."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import evalkit
from tests.cli_runner import run_cli

EPOCHS = 8
TASKS = 4
TOTAL = EPOCHS * TASKS


def _command(mini_suite: Path, store: Path) -> list[str]:
    run = ["run", str(mini_suite), "-m", "slow", "--epochs", str(EPOCHS), "--concurrency", "2"]
    return [*run, "--store", str(store), "--no-progress", "--no-report"]


def _start(mini_suite: Path, store: Path, cwd: Path) -> subprocess.Popen[str]:
    """The run in a real process: killing it is the subject."""
    (cwd / "evalkit.yaml").write_text(
        "models:\n  slow:\n    model: scripted/disciplined\n    extra: {latency_ms: 60}\n", encoding="utf-8"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "evalkit.cli", *_command(mini_suite, store)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def _cached_replies(store: Path) -> int:
    cache = store.with_suffix(".cache.sqlite")
    if not cache.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("SELECT count(*) FROM replies").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _wait_for_progress(proc: subprocess.Popen[str], store: Path, replies: int) -> None:
    deadline = time.monotonic() + 120
    while _cached_replies(store) < replies:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_interrupted_run_resumes_without_rerunning_finished_samples(
    sig: signal.Signals, mini_suite: Path, store: Path, tmp_path: Path
) -> None:
    proc = _start(mini_suite, store, tmp_path)
    _wait_for_progress(proc, store, replies=30)  # a handful of samples have finished
    time.sleep(1.2)  # past one flush interval (Scheduler.flush_every_s), so finished samples are on disk
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "evalkit run --resume" in err
    else:
        assert proc.returncode == -signal.SIGKILL

    record, before = evalkit.get_samples(store, "latest", with_events=False)
    assert 0 < len(before) < TOTAL
    assert record.status in ("running", "interrupted")
    started = {s.sample_id: s.started_at for s in before}

    again = run_cli(*_command(mini_suite, store), cwd=tmp_path)  # the same command again (in-process)
    assert again.exit_code == 0, again.stderr
    assert f"resumed: {len(before)} already done" in again.stdout

    record2, after = evalkit.get_samples(store, "latest", with_events=True)
    assert record2.run_id == record.run_id and record2.status == "finished"
    ids = [s.sample_id for s in after]
    assert len(ids) == TOTAL and len(set(ids)) == TOTAL  # exactly one record per sample
    for s in after:
        if s.sample_id in started:
            assert s.started_at == started[s.sample_id]  # finished samples were not run again
        assert s.correct is True
        assert [e.seq for e in s.events] == list(range(len(s.events)))
    assert len(evalkit.list_runs(store)) == 1


def test_resume_by_reference(mini_suite: Path, store: Path, tmp_path: Path) -> None:
    proc = _start(mini_suite, store, tmp_path)
    _wait_for_progress(proc, store, replies=20)
    time.sleep(1.2)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    record, before = evalkit.get_samples(store, "latest", with_events=False)
    result = evalkit.run_suite(mini_suite, [], resume=record.run_id[:10], store=store)
    assert result.run.run_id == record.run_id and result.resumed_from == len(before)
    assert result.ran == TOTAL - len(before)
