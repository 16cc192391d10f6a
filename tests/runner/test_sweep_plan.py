"""The plan of a checkpoint sweep: natural order, globs over checkpoint folders and files, the model name
each checkpoint is sent as, and the run name of each checkpoint × suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalkit.errors import ConfigError
from evalkit.runner.sweep import from_globs, from_models, natural_key, plan


def test_natural_order_reads_digit_runs_as_numbers() -> None:
    names = ["step_100", "step_1000", "step_2", "step_10", "Step_3", "base"]
    assert sorted(names, key=natural_key) == ["base", "step_2", "Step_3", "step_10", "step_100", "step_1000"]
    assert sorted(["ckpt-9-b", "ckpt-10-a", "ckpt-9-a"], key=natural_key) == ["ckpt-9-a", "ckpt-9-b", "ckpt-10-a"]


def _tree(root: Path) -> None:
    for step in (1000, 20, 100, 3):
        (root / "ckpts" / f"step_{step}").mkdir(parents=True)
    (root / "ckpts" / "step_7.safetensors").write_text("adapter")  # a file matches as well as a folder


def test_a_glob_orders_its_matches_naturally_and_names_each_after_its_base_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    found = from_globs(["ckpts/step_*"])
    assert [c.label for c in found] == ["step_3", "step_7.safetensors", "step_20", "step_100", "step_1000"]
    assert [c.served_name for c in found] == [c.label for c in found]  # as --lora-modules NAME=PATH names them
    assert found[0].model == "hosted_vllm/step_3" and found[0].path == os.path.join("ckpts", "step_3")
    by_path = from_globs(["ckpts/step_*"], send_path=True)
    assert [c.served_name for c in by_path][:2] == ["ckpts/step_3", "ckpts/step_7.safetensors"]
    assert [c.label for c in by_path] == [c.label for c in found]


def test_several_globs_merge_into_one_series_and_a_glob_without_matches_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    both = from_globs(["ckpts/step_1*", "ckpts/step_[23]*"])
    assert [c.label for c in both] == ["step_3", "step_20", "step_100", "step_1000"]
    with pytest.raises(ConfigError, match="matches no file or directory"):
        from_globs(["ckpts/epoch_*"])
    (tmp_path / "other" / "step_3").mkdir(parents=True)
    with pytest.raises(ConfigError, match="two checkpoints are both named 'step_3'"):
        from_globs(["ckpts/step_*", "other/step_*"])


def test_each_checkpoint_and_suite_is_a_run_named_after_both() -> None:
    checkpoints = from_models(["hosted_vllm/ckpt-200", "hosted_vllm/ckpt-100"])  # the order given is kept
    runs = plan(["finance-single", "suites/finance-multi/"], checkpoints, "rl-qwen")
    assert [r.name for r in runs] == [
        "rl-qwen/finance-single/hosted_vllm/ckpt-200",
        "rl-qwen/finance-single/hosted_vllm/ckpt-100",
        "rl-qwen/finance-multi/hosted_vllm/ckpt-200",
        "rl-qwen/finance-multi/hosted_vllm/ckpt-100",
    ]
    assert plan(["finance-single"], checkpoints[:1])[0].name == "sweep/finance-single/hosted_vllm/ckpt-200"


@pytest.mark.parametrize(
    ("suites", "models", "message"),
    [
        ([], ["a/b"], "at least one SUITE"),
        (["finance-single"], [], "give the checkpoints"),
        (["finance-single"], ["a/b", "a/b"], "the same checkpoint is given twice: a/b"),
        (["finance-single", "x/finance-single"], ["a/b"], "the same suite is given twice"),
    ],
)
def test_a_plan_that_would_lose_or_repeat_a_run_is_refused(suites: list[str], models: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        plan(suites, from_models(models))
