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


def isolated_env(folder: Path, cache_dir: Path) -> dict[str, str | None]:
    """The variables that keep evalkit to ``folder`` (its store and reports) and the shared database cache,
    with no config file or suite path from outside; ``None`` unsets. For ``run_cli(env=...)`` in fixtures
    wider than a test, which run before the per-test environment below is set."""
    return {
        "EVALKIT_CACHE_DIR": str(cache_dir),
        "EVALKIT_STORE": str(folder / "store.duckdb"),
        "EVALKIT_REPORTS_DIR": str(folder / "reports"),
        "EVALKIT_CONFIG": None,
        "EVALKIT_SUITES_PATH": None,
    }


def set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None]) -> None:
    """Set (or, for ``None``, unset) each variable of ``env`` until ``monkeypatch`` is undone."""
    for key, value in env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, cache_dir: Path, tmp_path: Path) -> Iterator[None]:
    """Each test gets its own store and config lookup; built databases are shared per session."""
    set_env(monkeypatch, isolated_env(tmp_path, cache_dir))
    yield


@pytest.fixture
def mini_suite() -> Path:
    return FIXTURES / "mini" / "suite"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture(params=["litellm", "direct"])
def client(request: pytest.FixtureRequest) -> str:
    """The client a model behind an OpenAI-compatible server is called with (``evalkit.models.direct``): a test
    taking this fixture runs on both paths, which is the contract the direct client keeps with litellm's."""
    return str(request.param)
