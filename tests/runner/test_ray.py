"""``evalkit run ... --ray``: the shards of a run as Ray tasks on a local instance (``ray.init(num_cpus=2)``),
merged into the store as they finish: equal to the unsharded run sample for sample, a failed shard leaves
the run incomplete (exit 2) and the same command again runs only that shard's samples, and the command
line works end to end. Skipped, with the reason, when Ray is not installed (``pip install 'evalkit[ray]'``)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.contracts.config import load_config, resolve_model
from evalkit.contracts.loader import load_suite
from evalkit.errors import ConfigError
from evalkit.runner import ray_plan
from evalkit.runner.options import RunOptions, fingerprint
from tests.cli_runner import run_cli
from tests.conftest import ROOT
from tests.runner.test_shards import MODELS, _samples

PROBE = """
import json, sys
from typer.testing import CliRunner
from evalkit.cli.main import app
CliRunner().invoke(app, ["run", "--help"])
print(json.dumps("ray" in sys.modules))
"""


def test_run_help_does_not_import_ray() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) is False


@pytest.mark.parametrize(
    ("given", "address"),
    [(None, None), ("local", None), ("auto", "auto"), ("ray://head:10001", "ray://head:10001"), ("h:6379", "h:6379")],
)
def test_the_address_of_ray(given: str | None, address: str | None) -> None:
    assert ray_plan.parse_address(given) == address


def test_what_is_no_address_or_no_resource_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a Ray address"):
        ray_plan.parse_address("finance-single")
    with pytest.raises(ConfigError, match="NAME=VALUE"):
        ray_plan.parse_pairs(["vllm"], "--ray-resources", number=True)
    assert ray_plan.parse_pairs(["a=1,b=0.5", "c=2"], "--ray-resources", number=True) == {"a": 1, "b": 0.5, "c": 2}


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'evalkit[ray]' to test --ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _whole_fingerprint(mini_suite: Path, **options: Any) -> str:
    config = load_config()
    models = [resolve_model(m, config) for m in MODELS]
    return fingerprint(load_suite(mini_suite), models, RunOptions.of(**options))


def test_four_ray_shards_equal_the_unsharded_run_and_a_failed_shard_is_resumed(
    ray_instance: Any, mini_suite: Path, tmp_path: Path
) -> None:
    whole = evalkit.run_suite(mini_suite, MODELS, store=tmp_path / "whole.duckdb", epochs=2, use_cache=False)
    store = tmp_path / "ray.duckdb"
    # shard 3's store cannot be written (a folder where its file goes): that shard's task fails
    blocked = ray_plan.shard_store(ray_plan.default_storage(store), _whole_fingerprint(mini_suite, epochs=2), 3, 4)
    blocked.mkdir(parents=True)
    seen: list[str] = []

    class Recorder:
        def start(self, total: int, done: int) -> None:
            seen.append(f"start {total} {done}")

        def advance(self, sample: Any, spent_usd: float) -> None:
            seen.append(sample.sample_id)

        def stop(self) -> None:
            pass

    first = evalkit.run_suite_on_ray(
        mini_suite, MODELS, shards=4, store=store, epochs=2, use_cache=False, progress=Recorder()
    )
    assert first.run.status == "interrupted" and first.total == 16
    assert any(h.startswith("shard 3/4 failed") for h in first.halts)
    assert seen[0] == "start 16 0" and len(seen) == 1 + first.ran == 1 + 12  # every finished sample reported
    assert sum(s.samples for s in first.summaries) == 12
    blocked.rmdir()
    second = evalkit.run_suite_on_ray(mini_suite, MODELS, shards=4, store=store, epochs=2, use_cache=False)
    assert second.run.run_id == first.run.run_id and second.run.status == "finished" and second.halts == ()
    assert second.resumed_from == 12 and second.ran == 4  # only the failed shard's samples ran
    assert _samples(store, second.run.run_id) == _samples(tmp_path / "whole.duckdb", whole.run.run_id)
    # the merged run is the unsharded command's: without --ray the same command shows it
    again = evalkit.run_suite(mini_suite, MODELS, store=store, epochs=2, use_cache=False)
    assert again.already_finished and again.run.run_id == second.run.run_id


def test_the_command_line_runs_on_ray(ray_instance: Any, mini_suite: Path, tmp_path: Path) -> None:
    store = tmp_path / "cli.duckdb"
    args = ["run", mini_suite, "-m", "scripted/disciplined", "--store", store, "--no-progress", "--no-report"]
    out = run_cli(*args, "--ray", "--shards", "2", "--ray-storage", tmp_path / "shared")
    assert out.exit_code == 0, out.stderr
    assert "finished" in out.stdout
    assert sorted(p.name for p in (tmp_path / "shared").glob("*/*.duckdb")) == [
        "shard-1-of-2.duckdb",
        "shard-2-of-2.duckdb",
    ]
    runs = evalkit.list_runs(store)
    assert len(runs) == 1 and runs[0].samples == 4
    out = run_cli(*args, "--ray", "--shard", "1/2")
    assert out.exit_code == 2 and "leave out --shard" in out.stderr


class _FakeRay:
    """Enough of Ray for ``run_shards``: tasks never end, and the first wait is cut by Ctrl-C."""

    def __init__(self) -> None:
        self.cancelled: list[tuple[str, bool]] = []
        self.waits = 0
        self.got: list[Any] = []

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        fake = self

        class Stop:
            def remote(self) -> str:
                return "stop"

        class Handle:
            def __init__(self, target: Any = None) -> None:
                self.drain = self
                self.stop = Stop()

            def __call__(self, target: Any) -> Handle:
                return self

            def options(self, **kw: Any) -> Handle:
                return self

            def remote(self, *a: Any) -> Any:
                if a:
                    return f"task-{a[0].shard}"
                return "drain" if fake.waits else self

        return Handle()

    def wait(self, refs: list[str], **kw: Any) -> tuple[list[str], list[str]]:
        self.waits += 1
        if self.waits == 1:
            raise KeyboardInterrupt
        return [], refs

    def get(self, ref: Any, timeout: float | None = None) -> Any:
        self.got.append(ref)
        return [], 0.0

    def cancel(self, ref: str, force: bool) -> None:
        self.cancelled.append((ref, force))


def test_ctrl_c_tells_every_task_to_stop_then_kills_what_is_left(tmp_path: Path) -> None:
    from evalkit.runner import ray_shards

    jobs = [
        ray_shards.ShardJob(k, 2, tmp_path / f"{k}.duckdb", "suite", (), RunOptions(), None, None, {}) for k in (1, 2)
    ]
    fake = _FakeRay()
    stopped: list[bool] = []

    class Bar:
        def start(self, total: int, done: int) -> None: ...
        def advance(self, sample: Any, spent_usd: float) -> None: ...
        def stop(self) -> None:
            stopped.append(True)

    outcome = ray_shards.run_shards(
        fake, jobs, lambda job, board: None, tmp_path / "t.duckdb", ray_shards.RayPlacement(), Bar(), (4, 0, {})
    )
    assert outcome.interrupted and outcome.merged is None and stopped == [True]
    assert "stop" in fake.got  # the board told the tasks to stop (each interrupts its own run)
    assert fake.cancelled == [("task-1", True), ("task-2", True)]  # then, past the grace, what was left
