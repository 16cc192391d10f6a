"""``evalkit run --shard K/N`` runs a deterministic slice of the samples into its own store, and
``evalkit merge`` combines the shards into the run the unsharded command makes: equal to it sample for
sample, idempotent, refusing shards of different commands, and resumable when a shard is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.errors import ConfigError
from evalkit.runner.merge import MergeError, merge_shards
from tests.cli_runner import run_cli

MODELS = ["scripted/noisy@0.6", "scripted/reckless"]
VOLATILE = frozenset({"run_id", "started_at", "finished_at", "latency_s"})


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    return value


def _run(mini_suite: Path, store: Path, **options: Any) -> Any:
    return evalkit.run_suite(mini_suite, MODELS, store=store, epochs=2, use_cache=False, **options)


def _samples(store: Path, run: str = "latest") -> dict[str, Any]:
    _, samples = evalkit.get_samples(store, run)
    return {s.sample_id: _stable(s.to_dict()) for s in samples}


def _shards(mini_suite: Path, folder: Path, count: int, only: range | None = None) -> list[Path]:
    stores = []
    for k in only or range(1, count + 1):
        store = folder / f"shard-{k}.duckdb"
        _run(mini_suite, store, shard=f"{k}/{count}")
        stores.append(store)
    return stores


def test_four_shards_merged_equal_the_unsharded_run_sample_for_sample(mini_suite: Path, tmp_path: Path) -> None:
    whole = _run(mini_suite, tmp_path / "whole.duckdb")
    stores = _shards(mini_suite, tmp_path, 4)
    slices = [set(_samples(s)) for s in stores]
    assert all(slices) and sum(len(s) for s in slices) == len(set().union(*slices))  # disjoint, none empty
    result = merge_shards(stores, tmp_path / "merged.duckdb")
    assert result.shards == ("1/4", "2/4", "3/4", "4/4") and result.missing == () and result.unfinished == 0
    assert result.run.status == "finished"
    merged = _samples(tmp_path / "merged.duckdb", result.run.run_id)
    assert merged == _samples(tmp_path / "whole.duckdb", whole.run.run_id)
    assert len(merged) == 4 * len(MODELS) * 2  # the mini suite's four tasks, two models, two epochs
    # the merged run is the unsharded command's run: running that command against it shows it, runs nothing
    again = _run(mini_suite, tmp_path / "merged.duckdb")
    assert again.run.run_id == result.run.run_id and again.already_finished


def test_merging_again_rebuilds_the_same_run(mini_suite: Path, tmp_path: Path) -> None:
    stores = _shards(mini_suite, tmp_path, 2)
    first = merge_shards(stores, tmp_path / "merged.duckdb")
    second = merge_shards(stores, tmp_path / "merged.duckdb")
    assert second.run.run_id == first.run.run_id
    runs = evalkit.list_runs(tmp_path / "merged.duckdb")
    assert [r.run_id for r in runs] == [first.run.run_id] and runs[0].samples == first.samples


def test_a_missing_shard_leaves_a_run_that_the_unsharded_command_completes(mini_suite: Path, tmp_path: Path) -> None:
    whole = _run(mini_suite, tmp_path / "whole.duckdb")
    stores = _shards(mini_suite, tmp_path, 4, only=range(1, 4))  # shard 4 was cut
    result = merge_shards(stores, tmp_path / "merged.duckdb")
    assert result.missing == ("4/4",) and result.run.status == "interrupted"
    assert result.unfinished == 16 - result.samples > 0
    resumed = _run(mini_suite, tmp_path / "merged.duckdb")
    assert resumed.run.run_id == result.run.run_id and resumed.resumed_from == result.samples
    assert resumed.ran == result.unfinished  # only what the missing shard held was run
    completed = _samples(tmp_path / "merged.duckdb", result.run.run_id)
    assert completed == _samples(tmp_path / "whole.duckdb", whole.run.run_id)


def test_shards_of_different_commands_are_refused(mini_suite: Path, tmp_path: Path) -> None:
    one = tmp_path / "a.duckdb"
    other = tmp_path / "b.duckdb"
    _run(mini_suite, one, shard="1/2")
    evalkit.run_suite(mini_suite, MODELS, store=other, epochs=3, use_cache=False, shard="2/2")
    with pytest.raises(MergeError, match="shards of different runs"):
        merge_shards([one, other], tmp_path / "merged.duckdb")
    out = run_cli("merge", one, other, "--into", tmp_path / "merged.duckdb")
    assert out.exit_code == 2 and "shards of different runs" in out.stderr
    assert not (tmp_path / "merged.duckdb").exists() or evalkit.list_runs(tmp_path / "merged.duckdb") == []
    out = run_cli("merge", tmp_path / "none.duckdb", "--into", tmp_path / "merged.duckdb")
    assert out.exit_code == 2 and "no such store" in out.stderr


@pytest.mark.parametrize("shard", ["0/4", "5/4", "2", "a/b", "1/0"])
def test_a_malformed_shard_is_refused_before_anything_runs(shard: str, mini_suite: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--shard"):
        _run(mini_suite, tmp_path / "s.duckdb", shard=shard)
    assert not (tmp_path / "s.duckdb").exists() or evalkit.list_runs(tmp_path / "s.duckdb") == []


def test_the_command_line_runs_shards_and_merges_them(mini_suite: Path, tmp_path: Path) -> None:
    for k in (1, 2):
        out = run_cli(
            "run", mini_suite, "-m", "scripted/disciplined", "--shard", f"{k}/2", "--store", tmp_path / f"{k}.duckdb",
            "--no-progress", "--no-report",
        )  # fmt: skip
        assert out.exit_code == 0, out.stderr
    out = run_cli("merge", tmp_path / "1.duckdb", tmp_path / "2.duckdb", "--into", tmp_path / "all.duckdb")
    assert out.exit_code == 0, out.stderr
    assert "merged shards 1/2, 2/2" in out.stdout and "(finished, 4 samples)" in out.stdout
