"""``evalkit compare`` and ``evalkit show --vs`` through the command line, on the gate's real runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cli_runner import run_cli


def test_compare_in_every_format(runs: dict[str, object], tmp_path: Path) -> None:
    store = str(runs["store"])
    term = run_cli("compare", "good", "bad", "--store", store)
    assert term.returncode == 0, term.stderr
    assert "accuracy" in term.stdout and "▼" in term.stdout and "--vs" in term.stdout
    for fmt in ("md", "html", "json"):
        target = tmp_path / f"cmp.{fmt}"
        out = run_cli("compare", str(runs["file"]), "bad", "--store", store, "-f", fmt, "-o", str(target))
        assert out.returncode == 0, out.stderr
        assert target.stat().st_size > 0
    default = run_cli("compare", "good", "bad", "--store", store, "-f", "md")
    assert default.returncode == 0, default.stderr
    assert (Path(os.environ["EVALKIT_REPORTS_DIR"]) / "compare__good__bad.md").is_file()
    data = json.loads((tmp_path / "cmp.json").read_text())
    assert len(data["leaderboard"]) == 2 and len(data["comparisons"]) == 1
    bad = data["comparisons"][0]
    accuracy = next(m for m in bad["metrics"] if m["metric"] == "accuracy")
    assert accuracy["diff"] == -1.0 and accuracy["significant"] and len(bad["broken"]) == 4


def test_compare_errors(runs: dict[str, object]) -> None:
    store = str(runs["store"])
    one = run_cli("compare", "good", "--store", store)
    assert one.returncode == 2 and "two runs" in one.stderr
    ref = run_cli("compare", "good", "bad", "--reference", "other-suite", "--store", store)
    assert ref.returncode == 2 and "must be one of the runs" in ref.stderr
    same = run_cli("compare", "good", str(runs["file"]), "--store", store)
    assert same.returncode == 2 and "two different runs" in same.stderr
    missing = run_cli("compare", "good", "nope", "--store", store)
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_reference_may_be_a_run_file_as_given(runs: dict[str, object]) -> None:
    """``--reference`` takes what the runs take: an exported file named among them is the reference."""
    store, baseline = str(runs["store"]), str(runs["file"])
    out = run_cli("compare", baseline, "bad", "--reference", baseline, "--store", store)
    assert out.returncode == 0, out.stderr
    swapped = run_cli("compare", "bad", baseline, "--reference", baseline, "--store", store)
    assert swapped.returncode == 0, swapped.stderr
    assert "no run matches" not in swapped.stderr


def test_show_puts_two_runs_side_by_side(runs: dict[str, object]) -> None:
    store = str(runs["store"])
    out = run_cli("show", "good", "t1", "--vs", str(runs["file"]), "--epoch", "0", "--store", store)
    assert out.returncode == 0, out.stderr
    assert "(left) vs" in out.stdout and out.stdout.count("correct") >= 2
    versus = run_cli("show", "good", "t1", "--vs", "bad", "--store", store)
    assert versus.returncode == 0 and "wrong" in versus.stdout and "correct" in versus.stdout
    assert "unknown_table" in versus.stdout
    no_task = run_cli("show", "good", "--vs", "bad", "--store", store)
    assert no_task.returncode == 2
    from_file = run_cli("show", str(runs["file"]), "t2", "--store", store)
    assert from_file.returncode == 0 and "t2" in from_file.stdout
