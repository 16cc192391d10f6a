"""``evalkit sweep`` with scripted agents standing in for checkpoints, over finance-single and finance-multi:
one run per checkpoint × suite, named after both; the same command again runs nothing, a checkpoint added
later runs alone; the leaderboard, trend and single→multi-table transfer figures are the ones computed by
hand below, in every format."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.errors import ConfigError
from tests.cli_runner import run_cli
from tests.fakeserver import closed_port

SERIES = ("-m", "scripted/reckless", "-m", "scripted/disciplined")
TASKS = ("--tasks", "fs-00[1-3],fm-00[1-2]")  # three single-table tasks, two multi-table ones
Z = 1.959963984540054


def _wilson(k: int, n: int) -> tuple[float, float]:
    """The 95% Wilson interval, written out: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    p = k / n
    centre = p + Z * Z / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - half) / (1 + Z * Z / n), (centre + half) / (1 + Z * Z / n)


def _sweep(*extra: str) -> Any:
    # wide enough that the transfer table's cells are not wrapped, whatever terminal the tests run in
    return run_cli("sweep", "finance-single", "finance-multi", *SERIES, *TASKS, "--no-progress", *extra,
                   env={"COLUMNS": "220"})  # fmt: skip


def _names(store: Path) -> dict[str, str]:
    runs = evalkit.list_runs(store)
    assert len({r.name for r in runs}) == len(runs)
    return {str(r.name): r.run_id for r in runs}


def test_a_sweep_makes_one_run_per_checkpoint_and_suite_and_the_figures_are_the_hand_computed_ones(
    store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sweep.json"
    first = _sweep("--rubric", "tool-discipline", "-f", "json", "-o", str(out))
    assert first.exit_code == 0, first.stderr
    runs = _names(store)
    assert set(runs) == {
        "sweep/finance-single/scripted/reckless",
        "sweep/finance-single/scripted/disciplined",
        "sweep/finance-multi/scripted/reckless",
        "sweep/finance-multi/scripted/disciplined",
    }
    data = json.loads(out.read_text())
    assert data["checkpoints"] == ["scripted/reckless", "scripted/disciplined"]
    single, multi = data["suites"]
    assert (single["suite"], multi["suite"]) == ("finance-single", "finance-multi")
    assert single["run_ids"] == [
        runs["sweep/finance-single/scripted/reckless"],
        runs["sweep/finance-single/scripted/disciplined"],
    ]
    # the per-suite comparison: the first checkpoint is the reference, accuracy 0/3 → 3/3 and 0/2 → 2/2
    board = {row["label"]: row["accuracy"] for row in single["comparison"]["leaderboard"]}
    assert (board["scripted/reckless"]["k"], board["scripted/reckless"]["n"]) == (0, 3)
    assert (board["scripted/disciplined"]["k"], board["scripted/disciplined"]["n"]) == (3, 3)
    (pair,) = multi["comparison"]["comparisons"]
    accuracy = next(m for m in pair["metrics"] if m["metric"] == "accuracy")
    assert (accuracy["mean_a"], accuracy["mean_b"], accuracy["diff"], accuracy["b_only"]) == (0.0, 1.0, 1.0, 2)

    # the transfer view: per checkpoint, each kind of task with its Wilson interval and the change from the first
    reckless, disciplined = data["transfer"]["rows"]
    for row, k_single, k_multi in ((reckless, 0, 0), (disciplined, 3, 2)):
        for side, k, n in (("single", k_single, 3), ("multi", k_multi, 2)):
            acc = row[side]["accuracy"]
            assert (acc["k"], acc["n"]) == (k, n)
            assert math.isclose(acc["low"], _wilson(k, n)[0], abs_tol=1e-9)
            assert math.isclose(acc["high"], _wilson(k, n)[1], abs_tol=1e-9)
    assert reckless["single"]["accuracy_change"] is None
    assert disciplined["single"]["accuracy_change"] == 1.0 and disciplined["multi"]["accuracy_change"] == 1.0
    assert reckless["gap"] == 0.0 and disciplined["gap"] == 0.0
    crit = "tool-discipline.discovered_tables"
    assert crit in data["transfer"]["criteria"]
    assert reckless["single"]["criteria"][crit]["rate"] == 0.0 and reckless["multi"]["criteria"][crit]["n"] == 2
    assert disciplined["multi"]["criteria"][crit]["rate"] == 1.0
    assert disciplined["single"]["criteria_change"][crit] == 1.0

    # the same figures in words: 0/3 is 0.0% [0.0, 56.1], 3/3 100.0% [43.9, 100.0], 2/2 100.0% [34.2, 100.0]
    assert [round(100 * x, 1) for x in (*_wilson(0, 3), *_wilson(3, 3), *_wilson(2, 2))] == [
        0.0, 56.1, 43.9, 100.0, 34.2, 100.0,
    ]  # fmt: skip
    md = run_cli("sweep", "finance-single", "finance-multi", *SERIES, *TASKS, "--rubric", "tool-discipline",
                 "--no-progress", "-f", "md")  # fmt: skip
    assert md.exit_code == 0, md.stderr
    text = next((tmp_path / "reports").glob("sweep__sweep.md")).read_text()
    row = "| scripted/disciplined | 100.0% [43.9, 100.0] (n=3) | +100.0 | 100.0% [34.2, 100.0] (n=2) | +100.0 | 0.0 |"
    assert "## Single → multi-table transfer" in text and row in text
    assert "| scripted/reckless | 0.0% [0.0, 56.1] (n=3) | — | 0.0% [0.0, 65.8] (n=2) | — | 0.0 |" in text
    assert "| tool-discipline.discovered_tables | 0.0% / 0.0% | 100.0% (+100.0) / 100.0% (+100.0) |" in text
    assert "### Trend over the checkpoints" in text and "100.0% (+100.0" in text
    html = run_cli("sweep", "finance-single", "finance-multi", *SERIES, *TASKS, "--no-progress", "-f", "html")
    assert html.exit_code == 0
    page = (tmp_path / "reports" / "sweep__sweep.html").read_text()
    assert '<td class="r">100.0% [34.2, 100.0] (n=2)</td>' in page
    assert page.count("<svg") == 3  # each suite's trend, and the two kinds of task across the checkpoints
    term = _sweep()
    assert "Single → multi-table transfer" in term.stdout and "100.0% [43.9, 100.0] (n=3)" in term.stdout
    assert "Leaderboard: finance-multi" in term.stdout
    assert _names(store) == runs  # none of these commands made another run


def test_the_same_sweep_again_runs_nothing_and_an_added_checkpoint_runs_alone(store: Path) -> None:
    first = _sweep()
    assert first.exit_code == 0, first.stderr
    runs = _names(store)
    samples = {name: _started(store, run_id) for name, run_id in runs.items()}
    again = _sweep()
    assert again.exit_code == 0 and again.stdout.count("already finished, nothing run") == 4
    assert _names(store) == runs
    assert {name: _started(store, run_id) for name, run_id in runs.items()} == samples  # no sample was re-run

    more = _sweep("-m", "scripted/noisy@0.5")
    assert more.exit_code == 0, more.stderr
    now = _names(store)
    assert set(now) - set(runs) == {"sweep/finance-single/scripted/noisy@0.5", "sweep/finance-multi/scripted/noisy@0.5"}
    assert more.stdout.count("already finished, nothing run") == 4 and more.stdout.count("ran 3 sample(s)") == 1
    trend = more.stdout[more.stdout.index("Trend over the checkpoints: finance-single") :]
    order = [trend.index(label) for label in ("scripted/reckless (ref)", "scripted/disciplined", "scripted/noisy@0.5")]
    assert order == sorted(order)  # the series order: the checkpoints as given


def _started(store: Path, run_id: str) -> list[tuple[str, str]]:
    _, samples = evalkit.get_samples(store, run_id, with_events=False)
    return sorted((s.sample_id, str(s.started_at)) for s in samples)


def test_a_broken_checkpoint_among_scripted_ones_is_reported_and_the_others_compared(store: Path) -> None:
    result = run_cli(
        "sweep", "finance-single", "-m", "scripted/reckless", "-m", "openai/step-200", "-m", "scripted/disciplined",
        "--api-base", closed_port(), "-n", "2", "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "sweep/finance-single/openai/step-200" in result.stderr and "1 of 3 sweep runs" in result.stderr
    assert set(_names(store)) == {"sweep/finance-single/scripted/reckless", "sweep/finance-single/scripted/disciplined"}
    assert "Leaderboard: finance-single" in result.stdout and "openai/step-200: not run" in result.stdout


def test_one_suite_with_both_kinds_of_task_has_a_transfer_view_from_the_python_api(
    mini_suite: Path, store: Path
) -> None:
    result = evalkit.sweep([mini_suite], ["scripted/reckless", "scripted/disciplined"], store=store, name="mini-rl")
    assert [r.name for r in result.runs] == ["mini-rl/mini/scripted/reckless", "mini-rl/mini/scripted/disciplined"]
    assert result.failed == () and result.comparison is not None
    view = result.comparison.transfer
    assert view is not None  # the mini suite has three single-table tasks and one multi-table task
    first, last = view.rows
    assert (first.single.accuracy.k, first.single.accuracy.n, first.multi.accuracy.k, first.multi.accuracy.n) == (
        0,
        3,
        0,
        1,
    )
    assert (last.single.accuracy.k, last.single.accuracy.n, last.multi.accuracy.k, last.multi.accuracy.n) == (
        3,
        3,
        1,
        1,
    )
    assert last.single.accuracy_change == 1.0 and last.gap == 0.0


def test_options_a_sweep_cannot_honour_are_refused_before_anything_runs(mini_suite: Path, store: Path) -> None:
    with pytest.raises(ConfigError, match="--checkpoints needs --api-base"):
        evalkit.sweep([mini_suite], checkpoints=[str(mini_suite)], store=store)
    with pytest.raises(ConfigError, match="--shard is for evalkit run"):
        evalkit.sweep([mini_suite], ["scripted/reckless"], store=store, shard="1/2")
    assert not store.exists() or evalkit.list_runs(store) == []
