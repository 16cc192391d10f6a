"""Shared fixtures. Nothing here reaches the network: litellm uses its local price map and the only
servers are ones the tests start on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ.setdefault("LITELLM_TELEMETRY", "False")

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("evalkit-cache")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, cache_dir: Path, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own store and config lookup; built databases are shared per session."""
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("EVALKIT_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("EVALKIT_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.delenv("EVALKIT_CONFIG", raising=False)
    monkeypatch.delenv("EVALKIT_SUITES_PATH", raising=False)
    yield


@pytest.fixture
def mini_suite() -> Path:
    return FIXTURES / "mini" / "suite"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"
