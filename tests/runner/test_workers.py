"""``evalkit run --workers N``: the samples run in N worker processes and the parent writes them. The stored
run equals the one-process run sample for sample and score for score; a worker that dies is named and a
resume runs exactly its missing samples; the budget stops every worker; Ctrl-C keeps what finished."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.contracts.model_config import ModelConfig
from evalkit.runner.session import RunInterrupted
from evalkit.runner.workers import deal
from evalkit.trace.types import Sample, SampleKey
from tests.cli_runner import run_cli
from tests.fakeserver import serve

PERSONAS = ["scripted/noisy@0.6", "scripted/reckless", "scripted/disciplined"]
VOLATILE = frozenset({"run_id", "started_at", "finished_at", "latency_s", "created_at"})
ANSWER = {"content": "FINAL ANSWER: 1350 USD millions"}


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    return value


def _samples(store: Path, run: str = "latest") -> dict[str, Any]:
    _, samples = evalkit.get_samples(store, run)
    return {s.sample_id: _stable(s.to_dict()) for s in samples}


def _scores(store: Path, run: str = "latest") -> list[Any]:
    _, scores = evalkit.get_scores(store, run)
    return sorted((_stable(s.__dict__) for s in scores), key=lambda d: (d["sample_id"], d["rubric"], d["criterion"]))


def test_deal_gives_each_task_to_one_worker_in_turn() -> None:
    keys = [SampleKey(t, m, e) for e in range(2) for t in ("a", "b", "c") for m in ("x", "y")]
    slices = deal(keys, 2)
    assert sorted(k.sample_id for s in slices for k in s) == sorted(k.sample_id for k in keys)  # each once
    assert [(k.task_id, k.epoch) for k in slices[0]][::2] == [("a", 0), ("c", 0), ("b", 1)]
    assert deal(keys, 2) == slices and len(deal(keys[:2], 4)) == 1  # fixed; no empty worker


def test_two_workers_store_the_same_run_as_one(tmp_path: Path) -> None:
    common: dict[str, Any] = {"limit": 12, "epochs": 2, "use_cache": False, "rubrics": ["tool-discipline"]}
    one = evalkit.run_suite("finance-single", PERSONAS, store=tmp_path / "one.duckdb", **common)
    two = evalkit.run_suite("finance-single", PERSONAS, store=tmp_path / "two.duckdb", workers=2, **common)
    assert one.run.status == two.run.status == "finished" and one.ran == two.ran == 12 * 3 * 2
    first, second = _samples(tmp_path / "one.duckdb"), _samples(tmp_path / "two.duckdb")
    assert first == second
    assert all(s["events"] for s in first.values())  # the comparison covers every event
    scores = _scores(tmp_path / "one.duckdb")
    assert scores and scores == _scores(tmp_path / "two.duckdb")
    assert two.run.options["workers"] == 2 and one.run.options["fingerprint"] == two.run.options["fingerprint"]


class _KillAWorker:
    """A progress display that kills one worker process when the first sample arrives."""

    def __init__(self) -> None:
        self.killed: int | None = None

    def start(self, total: int, done: int) -> None:
        pass

    def advance(self, sample: Sample, spent_usd: float) -> None:
        if self.killed is None:
            (victim, *_) = [p for p in multiprocessing.active_children() if p.name.startswith("evalkit-worker-")]
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
            self.killed = int(victim.name.rsplit("-", 1)[1])

    def stop(self) -> None:
        pass


def _slow_model(base: str) -> ModelConfig:
    return ModelConfig(name="slow", model="openai/fake", api_base=base, api_key_env="FAKE_PROVIDER_KEY", concurrency=2)


def test_a_worker_killed_mid_run_is_named_and_resume_runs_only_its_missing_samples(
    mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    with serve([{**ANSWER, "delay_s": 0.3}], repeat_last=True) as (base, _server):
        run: dict[str, Any] = {"store": store, "epochs": 4, "use_cache": False, "workers": 2}
        killer = _KillAWorker()
        cut = evalkit.run_suite(mini_suite, [_slow_model(base)], progress=killer, **run)
        assert killer.killed is not None
        assert cut.run.status == "interrupted"
        assert any(f"worker {killer.killed} (pid" in line for line in cut.halts)
        stored = _samples(store)
        assert 0 < len(stored) < 16  # the mini suite's 4 tasks x 4 epochs
        again = evalkit.run_suite(mini_suite, [_slow_model(base)], **run)
    assert again.run.run_id == cut.run.run_id and again.resumed_from == len(stored)
    assert again.ran == 16 - len(stored) and again.run.status == "finished"
    final = _samples(store)
    assert len(final) == 16 and all(s["status"] == "ok" for s in final.values())
    assert all(final[sid] == sample for sid, sample in stored.items())  # nothing finished was run again


def test_the_budget_stops_every_worker(mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    with serve([{**ANSWER, "delay_s": 0.2}], repeat_last=True) as (base, _server):
        model = ModelConfig(
            name="priced", model="openai/gpt-4o-mini", api_base=base, api_key_env="FAKE_PROVIDER_KEY", concurrency=2
        )
        one = evalkit.run_suite(mini_suite, [model], tasks="t1", store=store, use_cache=False, keep_samples=True)
        cost = one.samples[0].cost_usd
        assert cost is not None and cost > 0
        result = evalkit.run_suite(
            mini_suite, [model], store=store, use_cache=False, keep_samples=True, epochs=4, workers=2,
            max_cost=cost * 2.5,
        )  # fmt: skip
    assert result.stopped_by_budget and result.run.status == "interrupted"
    ran = [s for s in result.samples if s.status == "ok"]
    # one call per sample: two workers with one sample in flight each pass 2.5 x its price within 4 samples
    assert 3 <= len(ran) <= 4 < 16
    assert sum(s.cost_usd or 0.0 for s in ran) < cost * 4.5


class _CtrlC(_KillAWorker):
    """A display during which the user presses Ctrl-C, at the second sample."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def advance(self, sample: Sample, spent_usd: float) -> None:
        self.seen += 1
        if self.seen == 2:
            raise KeyboardInterrupt


def test_ctrl_c_stops_the_workers_keeps_what_finished_and_the_run_resumes(
    mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    with serve([{**ANSWER, "delay_s": 0.3}], repeat_last=True) as (base, _server):
        run: dict[str, Any] = {"store": store, "epochs": 4, "use_cache": False, "workers": 2}
        with pytest.raises(RunInterrupted, match="--resume"):
            evalkit.run_suite(mini_suite, [_slow_model(base)], progress=_CtrlC(), **run)
        assert not [p for p in multiprocessing.active_children() if p.name.startswith("evalkit-worker-")]
        stored = _samples(store)
        finished = {sid for sid, s in stored.items() if s["status"] == "ok"}
        assert len(finished) >= 2 and len(finished) < 16  # both received samples, and more that were in flight
        again = evalkit.run_suite(mini_suite, [_slow_model(base)], **run)
    assert again.run.status == "finished" and again.ran == 16 - len(finished)
    assert all(s["status"] == "ok" for s in _samples(store).values())


def test_cli_runs_with_workers(mini_suite: Path, store: Path) -> None:
    out = run_cli(
        "run", mini_suite, "-m", "scripted/disciplined", "-m", "scripted/reckless", "-k", "2", "--workers", "2",
        "--store", store, "--no-progress", "--no-report",
    )  # fmt: skip
    assert out.exit_code == 0, out.stderr
    assert "scripted/disciplined" in out.stdout and "scripted/reckless" in out.stdout
    assert len(_samples(store)) == 4 * 2 * 2
    bad = run_cli("run", mini_suite, "-m", "scripted/disciplined", "--workers", "0", "--store", store)
    assert bad.exit_code == 2 and "--workers must be at least 1" in bad.stderr
