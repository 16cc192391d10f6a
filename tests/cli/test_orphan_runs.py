"""A run that cannot start leaves nothing behind, and the same command again says what it does.

What can fail before a model is called (the store held by another run, an API key variable that is not set,
a bad rubric) ends with exit 2 and a clear message, and ``evalkit runs`` shows no new run: ``latest`` still
names the run it named before. A command whose run has finished shows that run (``--new`` for another)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import evalkit
from evalkit.runner import session as session_module
from tests.cli_runner import CliResult, run_cli


def _run(mini_suite: Path, store: Path, cwd: Path, *extra: str) -> CliResult:
    return run_cli("run", mini_suite, "--store", store, "--no-progress", "--no-report", *extra, cwd=cwd)


@pytest.fixture
def earlier(mini_suite: Path, store: Path, tmp_path: Path) -> str:
    """A finished run already in the store: what ``latest`` names before each case."""
    done = _run(mini_suite, store, tmp_path, "-m", "scripted/disciplined", "--tasks", "t1")
    assert done.exit_code == 0, done.stderr
    return evalkit.list_runs(store)[0].run_id


def _ids(store: Path) -> list[str]:
    return [r.run_id for r in evalkit.list_runs(store)]


def test_an_unset_api_key_variable_fails_before_the_run_is_recorded(
    mini_suite: Path, store: Path, tmp_path: Path, earlier: str
) -> None:
    (tmp_path / "evalkit.yaml").write_text(
        "models:\n  keyed:\n    model: openai/gpt-4.1-mini\n    api_key_env: EVALKIT_TEST_UNSET_KEY\n"
    )
    out = _run(mini_suite, store, tmp_path, "-m", "keyed")
    assert out.exit_code == 2
    assert "environment variable EVALKIT_TEST_UNSET_KEY (its API key) is not set" in out.stderr
    assert _ids(store) == [earlier]
    assert run_cli("show", "latest", "--store", store).stdout.count(earlier) >= 1


def test_a_bad_rubric_fails_before_the_run_is_recorded(
    mini_suite: Path, store: Path, tmp_path: Path, earlier: str
) -> None:
    out = _run(mini_suite, store, tmp_path, "-m", "scripted/reckless", "--rubric", str(tmp_path / "missing.yaml"))
    assert out.exit_code == 2 and "missing.yaml" in out.stderr
    assert _ids(store) == [earlier]


_SLOW = "models:\n  slow:\n    model: scripted/disciplined\n    extra: {latency_ms: 100}\n"


def test_a_losing_second_run_is_refused_and_leaves_no_run(
    mini_suite: Path, store: Path, tmp_path: Path, earlier: str
) -> None:
    (tmp_path / "evalkit.yaml").write_text(_SLOW)
    argv = [sys.executable, "-m", "evalkit.cli", "run", str(mini_suite), "-m", "slow", "--epochs", "10"]
    argv += ["--concurrency", "1", "--store", str(store), "--no-progress", "--no-report"]
    first = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(_ids(store)) < 2:  # the first run's record is written once its checks have passed
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first run never started"
            time.sleep(0.05)
        running = _ids(store)[0]
        second = _run(mini_suite, store, tmp_path, "-m", "scripted/reckless")
        assert second.exit_code == 2
        assert f"the store {store} is in use by another evalkit process (pid {first.pid}: " in second.stderr
        assert _ids(store) == [running, earlier]  # no run of the second command
    finally:
        first.kill()
        first.communicate(timeout=60)


def test_a_run_that_fails_before_any_sample_is_removed(
    mini_suite: Path, store: Path, tmp_path: Path, earlier: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: object, pending: object, already_done: int = 0) -> None:
        raise RuntimeError("the scheduler broke")

    monkeypatch.setattr(session_module.Scheduler, "run", broken)
    with pytest.raises(RuntimeError, match="the scheduler broke"):
        evalkit.run_suite(mini_suite, ["scripted/reckless"], store=store)
    assert _ids(store) == [earlier]


def test_the_same_command_again_shows_its_finished_run_and_new_starts_a_fresh_one(
    mini_suite: Path, store: Path, tmp_path: Path
) -> None:
    command = ("-m", "scripted/disciplined", "--tasks", "t1,t2")
    first = _run(mini_suite, store, tmp_path, *command)
    assert first.exit_code == 0, first.stderr
    (run_id,) = _ids(store)

    again = _run(mini_suite, store, tmp_path, *command)
    assert again.exit_code == 0, again.stderr
    assert f"run {run_id}" in again.stdout and "already finished" in again.stdout
    assert "--new for another run" in " ".join(again.stdout.split())
    assert _ids(store) == [run_id]

    fresh = _run(mini_suite, store, tmp_path, *command, "--new")
    assert fresh.exit_code == 0, fresh.stderr
    newest = _ids(store)[0]
    assert newest != run_id and "already finished" not in fresh.stdout
    _, samples = evalkit.get_samples(store, newest)
    calls = [e for s in samples for e in s.events if e.kind == "model"]
    assert calls and not any(e.cached for e in calls)  # fresh requests: nothing served from the cache

    cached = _run(mini_suite, store, tmp_path, *command, "--new", "--cache")
    assert cached.exit_code == 0, cached.stderr
    _, samples = evalkit.get_samples(store, _ids(store)[0])
    assert all(e.cached for s in samples for e in s.events if e.kind == "model")
    assert len(_ids(store)) == 3
    assert os.path.exists(f"{store}.lock")


def test_a_name_is_part_of_the_command_and_other_options_of_the_model_too(
    mini_suite: Path, store: Path, tmp_path: Path
) -> None:
    command = ("-m", "scripted/disciplined", "--tasks", "t1")
    assert _run(mini_suite, store, tmp_path, *command, "--name", "nightly").exit_code == 0
    named = _run(mini_suite, store, tmp_path, *command, "--name", "pr-123")  # CI names each run
    assert named.exit_code == 0, named.stderr
    assert "already finished" not in named.stdout and "(pr-123)" in named.stdout
    assert len(_ids(store)) == 2
    again = _run(mini_suite, store, tmp_path, *command, "--name", "pr-123")
    assert "already finished" in again.stdout and "(pr-123)" in again.stdout
    assert len(_ids(store)) == 2
    unnamed = _run(mini_suite, store, tmp_path, *command)  # no name: the latest run of these options
    assert "already finished" in unnamed.stdout and len(_ids(store)) == 2
