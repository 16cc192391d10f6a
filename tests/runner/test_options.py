"""Run options have one definition: typed, validated, stored with the run and read back as they were."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.errors import ConfigError
from evalkit.runner.options import DEFAULT_CONCURRENCY, RunOptions


def test_of_overrides_and_rejects_unknown_names() -> None:
    base = RunOptions(epochs=3)
    assert RunOptions.of(base, limit=5) == RunOptions(epochs=3, limit=5)
    assert RunOptions.of(None) == RunOptions()
    with pytest.raises(ConfigError, match=r"unknown run option.*epoch\b"):
        RunOptions.of(base, epoch=2)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"epochs": 0}, "--epochs"), ({"concurrency": 0}, "--concurrency"), ({"limit": 0}, "--limit")],
)
def test_invalid_values_are_config_errors(change: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RunOptions(**change)  # type: ignore[arg-type]


@given(
    epochs=st.integers(1, 9),
    limit=st.none() | st.integers(1, 99),
    tasks=st.none() | st.text(min_size=1, max_size=8),
    max_cost=st.none() | st.floats(0.01, 10),
    sample_timeout_s=st.none() | st.floats(1, 900),
    rubrics=st.lists(st.sampled_from(["answer", "tool-discipline"]), max_size=2),
)
def test_the_stored_record_reads_back_as_the_same_options(
    epochs: int,
    limit: int | None,
    tasks: str | None,
    max_cost: float | None,
    sample_timeout_s: float | None,
    rubrics: list[str],
) -> None:
    options = RunOptions(
        epochs=epochs,
        limit=limit,
        tasks=tasks,
        max_cost=max_cost,
        sample_timeout_s=sample_timeout_s,
        rubrics=tuple(rubrics),
    )
    record = {**options.to_record(), "fingerprint": "abc"}
    assert RunOptions.from_record(record) == options


def test_a_record_of_an_older_evalkit_reads_with_the_defaults() -> None:
    old = {"epochs": 2, "limit": None, "tasks": None, "max_turns": None, "seed": 0, "fingerprint": "f"}
    assert RunOptions.from_record(old) == RunOptions(epochs=2)


def test_the_cli_shows_the_defaults_of_the_options() -> None:
    from tests.cli_runner import run_cli

    shown = " ".join(run_cli("run", "--help", env={"COLUMNS": "200", "NO_COLOR": "1"}).stdout.split())
    defaults = RunOptions()
    assert defaults.concurrency is None  # left out: the model's own concurrency, else the default below
    assert f"--concurrency -c <int> Samples in flight per model (default {DEFAULT_CONCURRENCY})" in shown
    assert f"[default: {defaults.call_timeout_s}]" in shown
