"""A real run to report on: the mini suite with the disciplined, reckless and noisy agents over two epochs,
scored with both built-in rubrics (scripted agents are deterministic, so the figures are stable)."""

from __future__ import annotations

from pathlib import Path

import pytest

import evalkit
from evalkit.report.build import build_report
from evalkit.report.model import Report
from evalkit.trace.store import TraceStore
from tests.conftest import isolated_env, set_env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPORT_MODELS = ("scripted/disciplined", "scripted/reckless", "scripted/noisy@0.5")
GENERATED_AT = "2026-01-01T00:00:00.000000+00:00"


@pytest.fixture(scope="session")
def report_store(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Path, str]:
    """(store path, run id) of the shared report run."""
    folder = tmp_path_factory.mktemp("report")
    store = folder / "store.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        set_env(mp, isolated_env(folder, cache_dir))
        result = evalkit.run_suite(
            FIXTURES / "mini" / "suite",
            list(REPORT_MODELS),
            epochs=2,
            seed=19,
            store=store,
            name="report-fixture",
            rubrics=["tool-discipline", "answer"],
        )
    return store, result.run.run_id


@pytest.fixture(scope="session")
def report(report_store: tuple[Path, str]) -> Report:
    store, run_id = report_store
    with TraceStore.open(store, write=False) as st:
        return build_report(st, [run_id], generated_at=GENERATED_AT)
