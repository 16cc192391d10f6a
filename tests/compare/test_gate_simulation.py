"""The gate's error rates, measured on real runs of ``scripted/noisy`` (the issue's acceptance test).

A 200-task suite is made from ``finance-single`` (its 104 tasks, and 96 of them again under new ids: the
noisy agent draws per task id, so a copy is a new task). Runs of ``noisy@0.7`` with different seeds have
no true difference between them; ``noisy@0.6`` is 10 points worse. The gate, with its default policy
(accuracy, rubric score and every criterion, Holm-corrected, alpha 0.05), must fail at most about alpha of
the equal pairs and catch the drop in most of the worse ones. The measured figures are printed (-s).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

import evalkit
from evalkit.compare.gate import run_gate
from evalkit.compare.policy import GatePolicy
from evalkit.trace.store import TraceStore
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SAME_SEEDS = range(1, 9)  # 8 runs of noisy@0.7: 28 pairs with no true difference
WORSE_SEEDS = range(101, 105)  # 4 runs of noisy@0.6: 32 pairs with a true drop of 10 points


def _suite_of_200(folder: Path) -> Path:
    source = ROOT / "suites" / "finance-single"
    tasks = yaml.safe_load((source / "tasks.yaml").read_text())["tasks"]
    copies = [{**t, "id": f"{t['id']}-b"} for t in tasks[:96]]
    suite = yaml.safe_load((source / "suite.yaml").read_text())
    suite.update(name="finance-200", database=str(ROOT / "suites" / "data" / "finance"))
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_text(yaml.safe_dump(suite))
    (folder / "tasks.yaml").write_text(yaml.safe_dump({"tasks": tasks + copies}, sort_keys=False))
    return folder


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, list[str], list[str]]:
    folder = tmp_path_factory.mktemp("simulation")
    suite = _suite_of_200(folder / "suite")
    store = folder / "store.duckdb"
    same, worse = [], []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALKIT_CACHE_DIR", str(cache_dir))
        for seed, p, out in [*((s, 0.7, same) for s in SAME_SEEDS), *((s, 0.6, worse) for s in WORSE_SEEDS)]:
            result = evalkit.run_suite(
                suite,
                [f"scripted/noisy@{p}"],
                seed=seed,
                store=store,
                name=f"noisy{p}-seed{seed}",
                rubrics=["tool-discipline", "answer"],
                concurrency=16,
            )
            assert result.summaries[0].samples == 200
            out.append(result.run.run_id)
    return store, same, worse


def _fail_rate(store: Path, pairs: list[tuple[str, str]]) -> float:
    policy = GatePolicy()
    failed = 0
    with TraceStore.open(store, write=False) as st:
        for baseline, candidate in pairs:
            failed += not run_gate(st, candidate, baseline, policy).passed
    return failed / len(pairs)


def test_no_true_difference_fails_at_most_about_alpha(simulated: tuple[Path, list[str], list[str]]) -> None:
    store, same, _ = simulated
    pairs = list(itertools.combinations(same, 2))
    rate = _fail_rate(store, pairs)
    print(f"\nfalse alarms with no true difference: {rate:.1%} of {len(pairs)} pairs (alpha 5%)")
    assert rate <= 0.10


def test_a_drop_of_ten_points_is_caught_in_most_runs(simulated: tuple[Path, list[str], list[str]]) -> None:
    store, same, worse = simulated
    pairs = list(itertools.product(same, worse))
    rate = _fail_rate(store, pairs)
    print(f"\ndrops of 10 points caught: {rate:.1%} of {len(pairs)} pairs")
    assert rate > 0.5
