"""The cost column of ``evalkit runs``: an unknown price is "unknown", a partly known cost is a lower bound
that says how much is missing, and $0 means that the run truly made no model call.

The runs are real: models served by an OpenAI-compatible server on 127.0.0.1 (``openai/gpt-4o-mini`` has a
price in litellm's local price map, ``openai/local-model`` has none, as a local model has none), and a model
whose server is down, so every call fails with a connection error.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path

import pytest

import evalkit
from evalkit.contracts.model_config import ModelConfig
from evalkit.trace.store import TraceStore
from tests.cli_runner import run_cli
from tests.fakeserver import serve
from tests.trace import make_run

ANSWER = [{"content": "Acme Widgets' total revenue in fiscal 2023 was about $1.35 billion."}]


def _model(name: str, model: str, base: str) -> ModelConfig:
    return ModelConfig(name=name, model=model, api_base=base, api_key_env="FAKE_PROVIDER_KEY")


def _run(mini_suite: Path, store: Path, name: str, models: list[ModelConfig]) -> None:
    evalkit.run_suite(
        mini_suite, models, tasks="t1", store=store, use_cache=False, max_attempts=1, name=name, preflight=False
    )


def _cost_cells(store: Path) -> dict[str, str]:
    """run name → its cost cell in ``evalkit runs``."""
    result = run_cli("runs", "--store", store, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.stderr
    lines = [line.split("│") for line in result.stdout.splitlines() if "│" in line]
    header = next(line for line in result.stdout.splitlines() if "cost" in line and "status" in line)
    names = [c.strip() for c in header.replace("┃", "│").split("│")]
    return {cells[names.index("name")].strip(): cells[names.index("cost")].strip() for cells in lines}


@pytest.fixture
def runs_store(mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    with serve(ANSWER, repeat_last=True) as (base, _):
        _run(mini_suite, store, "priced", [_model("mini", "openai/gpt-4o-mini", base)])
        _run(mini_suite, store, "unpriced", [_model("local", "openai/local-model", base)])
        _run(
            mini_suite,
            store,
            "mixed",
            [_model("mini", "openai/gpt-4o-mini", base), _model("local", "openai/local-model", base)],
        )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    _run(mini_suite, store, "down", [_model("local", "openai/local-model", f"http://127.0.0.1:{closed}/v1")])
    with TraceStore.open(store, write=True) as st:
        st.create_run(dataclasses.replace(make_run("20250101-000000-e0e0e0", name="empty"), models=()))
    return store


def test_unknown_prices_read_unknown_and_zero_means_no_call(runs_store: Path) -> None:
    cells = _cost_cells(runs_store)
    assert cells["priced"] == "$0.000027"  # 100 + 20 tokens of gpt-4o-mini: known, and not $0
    assert cells["unpriced"] == "unknown"  # every price unknown: not "$0.0000+?"
    assert cells["mixed"] == "≥ $0.000027 (1 sample unpriced)"
    assert cells["down"] == "unknown (no reply)"  # calls were made and failed: not "$0"
    assert cells["empty"] == "$0"  # no sample, no call


def test_runs_json_keeps_unknown_cost_unknown(runs_store: Path) -> None:
    result = run_cli("runs", "--json", "--store", runs_store)
    by_name = {r["name"]: r for r in json.loads(result.stdout)}
    assert by_name["unpriced"]["cost_usd"] is None and by_name["unpriced"]["cost_unknown"] == 1
    assert by_name["down"]["cost_usd"] is None and by_name["down"]["model_calls"] == 0
    assert by_name["priced"]["cost_usd"] == pytest.approx(100 * 1.5e-07 + 20 * 6e-07)
    assert by_name["priced"]["cost_complete"] and by_name["priced"]["model_calls"] == 1
    assert by_name["mixed"]["cost_unknown"] == 1 and not by_name["mixed"]["cost_complete"]
    assert by_name["empty"]["cost_usd"] == 0.0 and by_name["empty"]["model_calls"] == 0
