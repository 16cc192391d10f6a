"""Real runs to compare: three checkpoints (the noisy agent under three seeds) and the reckless agent, over
the mini suite with three epochs, scored with both built-in rubrics. Scripted agents are deterministic, so
the comparisons (bootstrap p-values included: the seed is fixed) are stable; only run ids and times vary,
and :func:`stable_gate` fixes those for the golden file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import evalkit
from evalkit.compare.gate_model import GateResult, RuleResult
from evalkit.compare.model import CompareReport, FlippedTask, PairComparison
from evalkit.compare.pairing import compare_runs
from evalkit.report.model import RunInfo
from evalkit.trace.store import TraceStore
from tests.conftest import isolated_env, set_env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MINI = FIXTURES / "mini" / "suite"
SEEDS = (1, 2, 3)
GENERATED_AT = "2026-01-01T00:00:00.000000+00:00"


@pytest.fixture(scope="session")
def compare_store(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, list[str]]:
    """(store path, run ids): ckpt-1, ckpt-2, ckpt-3 (scripted/noisy@0.9) and reckless (scripted/reckless)."""
    folder = tmp_path_factory.mktemp("compare")
    store = folder / "store.duckdb"
    ids = []
    with pytest.MonkeyPatch.context() as mp:
        set_env(mp, isolated_env(folder, cache_dir))
        runs = [(f"ckpt-{s}", "scripted/noisy@0.9", s) for s in SEEDS] + [("reckless", "scripted/reckless", 1)]
        for name, model, seed in runs:
            result = evalkit.run_suite(
                FIXTURES / "mini" / "suite",
                [model],
                epochs=3,
                seed=seed,
                store=store,
                name=name,
                rubrics=["tool-discipline", "answer"],
            )
            ids.append(result.run.run_id)
    return store, ids


def _compare(store: Path, ids: list[str]) -> CompareReport:
    with TraceStore.open(store, write=False) as st:
        return compare_runs(st, ids, generated_at=GENERATED_AT)


@pytest.fixture(scope="session")
def two_runs(compare_store: tuple[Path, list[str]]) -> CompareReport:
    """ckpt-1 → ckpt-2."""
    store, ids = compare_store
    return _compare(store, ids[:2])


@pytest.fixture(scope="session")
def four_runs(compare_store: tuple[Path, list[str]]) -> CompareReport:
    """ckpt-1 → ckpt-2, ckpt-3 and reckless."""
    store, ids = compare_store
    return _compare(store, ids)


def stable_run(run: RunInfo, run_id: str) -> RunInfo:
    return dataclasses.replace(
        run,
        run_id=run_id,
        created_at=GENERATED_AT,
        suite_hash="0123456789abcdef",
        rubrics=tuple((name, "1.0+000000000000") for name, _ in run.rubrics),
    )


def stable_pair(pc: PairComparison, ids: dict[str, str]) -> PairComparison:
    """The comparison with its run ids (and the commands that name them) replaced."""

    def flip(f: FlippedTask) -> FlippedTask:
        return dataclasses.replace(
            f,
            show_a=f.show_a.replace(pc.run_a, ids[pc.run_a]),
            show_b=f.show_b.replace(pc.run_b, ids[pc.run_b]),
            side_by_side=f.side_by_side.replace(pc.run_a, ids[pc.run_a]).replace(pc.run_b, ids[pc.run_b]),
        )

    return dataclasses.replace(
        pc,
        run_a=ids[pc.run_a],
        run_b=ids[pc.run_b],
        fixed=tuple(flip(f) for f in pc.fixed),
        broken=tuple(flip(f) for f in pc.broken),
    )


@pytest.fixture(scope="session")
def gate_result(four_runs: CompareReport) -> GateResult:
    """A gate of the reckless run (candidate) against ckpt-1 (baseline): a failing threshold, a failing
    regression with its p-value and two passing invariants. Run ids are fixed."""
    base, cand = four_runs.runs[0], four_runs.runs[-1]
    ids = {base.run_id: "20260101-000000-aaaaaa", cand.run_id: "20260101-000100-bbbbbb"}
    pc = stable_pair(four_runs.comparisons[-1], ids)
    acc = pc.metric("accuracy")
    assert acc is not None
    label = pc.label_b
    rules = (
        RuleResult("accuracy >= 0.8", "threshold", label, "fail", 0.0, 0.8, "0 of 12 finished samples right"),
        RuleResult("cost per sample <= 0.05", "threshold", label, "pass", 0.0123, 0.05, "within budget"),
        RuleResult(
            "no regression: accuracy",
            "regression",
            label,
            "fail",
            acc.diff,
            0.02,
            "accuracy dropped by 100.0 pts (margin 2.0 pts) | significant",
            p_value=acc.p_value,
        ),
        RuleResult("invented tables <= 0", "invariant", label, "pass", 0.0, 0.0, "no sample invented a table"),
        RuleResult("critical failures <= 0", "invariant", label, "pass", 0.0, 0.0, "0 failing critical verdicts ≤ 0"),
    )
    return GateResult(
        passed=False,
        candidate=stable_run(cand, ids[cand.run_id]),
        baseline=stable_run(base, ids[base.run_id]),
        policy={
            "thresholds": {"accuracy": 0.8, "cost_per_sample": 0.05},
            "regression": {"alpha": 0.05, "margin": 0.02},
        },
        rules=rules,
        comparisons=(pc,),
        notes=("the baseline was imported from baselines/mini.jsonl.gz",),
    )


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> dict[str, object]:
    """A store with a disciplined and a reckless run of the mini suite (6 epochs: 24 samples each), a run of
    another suite, and the disciplined run exported as a baseline file."""
    folder = tmp_path_factory.mktemp("gate")
    store = folder / "store.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        set_env(mp, isolated_env(folder, cache_dir))
        common = {"epochs": 6, "store": store, "rubrics": ["tool-discipline", "answer"]}
        good = evalkit.run_suite(MINI, ["scripted/disciplined"], name="good", **common)  # type: ignore[arg-type]
        bad = evalkit.run_suite(MINI, ["scripted/reckless"], name="bad", **common)  # type: ignore[arg-type]
        other = evalkit.run_suite(
            "finance-single",
            ["scripted/disciplined"],
            limit=4,
            name="other-suite",
            **common,  # type: ignore[arg-type]
        )
    baseline = folder / "baseline.jsonl.gz"
    evalkit.export_run(store, "good", baseline)
    return {"store": store, "good": good.run.run_id, "bad": bad.run.run_id, "other": other.run.run_id, "file": baseline}
