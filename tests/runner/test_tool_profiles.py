"""``tools: {profile, system_prompt}`` in suite.yaml, and ``evalkit run --system-prompt FILE``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evalkit.api import get_samples, run_suite
from evalkit.contracts.loader import load_suite
from evalkit.env.prompt import DEFAULT_SYSTEM_PROMPT
from evalkit.env.rllm_prompt import REACT_SYSTEM_PROMPT
from evalkit.errors import ConfigError, SpecError
from evalkit.runner.options import RunOptions, fingerprint
from tests.cli_runner import run_cli

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


def mini_suite(tmp_path: Path, tools: str | None = None) -> Path:
    """A copy of the mini suite (its data beside it) with ``tools`` appended to suite.yaml."""
    root = tmp_path / "mini"
    shutil.copytree(MINI, root)
    if tools is not None:
        with (root / "suite" / "suite.yaml").open("a", encoding="utf-8") as f:
            f.write(tools + "\n")
    return root / "suite"


def problems(folder: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_suite(folder)
    return "\n".join([str(info.value), *info.value.problems])


def test_default_profile_is_evalkit(tmp_path: Path) -> None:
    assert load_suite(mini_suite(tmp_path)).settings.profile == "evalkit"


def test_profile_and_prompt_file(tmp_path: Path) -> None:
    folder = mini_suite(tmp_path, "tools: {profile: rllm-finqa, system_prompt: prompts/system.txt}")
    (folder / "prompts").mkdir()
    (folder / "prompts" / "system.txt").write_text("You answer from the tables.\n", encoding="utf-8")
    suite = load_suite(folder)
    assert (suite.settings.profile, suite.settings.system_prompt) == ("rllm-finqa", "You answer from the tables.")
    before = suite.content_hash
    (folder / "prompts" / "system.txt").write_text("Another prompt.\n", encoding="utf-8")
    assert load_suite(folder).content_hash != before  # the prompt is part of the suite's content


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ("tools: {profile: rllm}", "suite.yaml:8 tools.profile: 'rllm' is not one of evalkit, rllm-finqa"),
        (
            "tools: {profile: evalkit, prompt: x.txt}",
            "suite.yaml:8 tools.prompt: unknown key 'prompt'; did you mean 'system_prompt'?",
        ),
        ("tools: [rllm-finqa]", "suite.yaml:8 tools: expected a mapping, got a list"),
        (
            "tools: {profile: rllm-finqa, system_prompt: nope.txt}",
            "suite.yaml:8 tools.system_prompt: the system prompt file",
        ),
    ],
)
def test_bad_tools_key(tmp_path: Path, tools: str, message: str) -> None:
    text = problems(mini_suite(tmp_path, tools))
    assert message in text, text


def test_prompt_given_twice(tmp_path: Path) -> None:
    folder = mini_suite(tmp_path, "tools: {system_prompt: p.txt}")
    (folder / "p.txt").write_text("x", encoding="utf-8")
    text = (
        (folder / "suite.yaml")
        .read_text(encoding="utf-8")
        .replace("max_turns: 12", "max_turns: 12\n  system_prompt: y")
    )
    (folder / "suite.yaml").write_text(text, encoding="utf-8")
    assert "tools.system_prompt: give the system prompt once" in problems(folder)


def system_messages(store: Path, run_id: str) -> set[str]:
    _, samples = get_samples(store, run_id)
    return {e.content or "" for s in samples for e in s.events if e.kind == "system"}


def test_profile_default_prompts(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    plain = run_suite(mini_suite(tmp_path / "a"), ["scripted/disciplined"], store=store, preflight=False)
    assert system_messages(store, plain.run.run_id) == {DEFAULT_SYSTEM_PROMPT}
    rllm = run_suite(
        mini_suite(tmp_path / "b", "tools: {profile: rllm-finqa}"),
        ["scripted/disciplined"],
        store=store,
        preflight=False,
    )
    assert system_messages(store, rllm.run.run_id) == {REACT_SYSTEM_PROMPT}
    assert REACT_SYSTEM_PROMPT.startswith("You are an expert financial analyst.")
    assert REACT_SYSTEM_PROMPT.endswith(
        "FINAL ANSWER: <concise result with correct unit/format or answer template (if given)> <brief explanation>\n```"
    )


def test_system_prompt_option(tmp_path: Path) -> None:
    suite = mini_suite(tmp_path)
    store = tmp_path / "s.duckdb"
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Answer with FINAL ANSWER: and nothing else.\n", encoding="utf-8")
    args = (
        "run",
        suite,
        "-m",
        "scripted/disciplined",
        "--store",
        store,
        "--no-preflight",
        "--no-report",
        "--no-progress",
    )
    first = run_cli(*args, "--system-prompt", prompt)
    assert first.returncode == 0, first.stderr
    again = run_cli(*args, "--system-prompt", prompt)  # the same command shows the finished run
    prompt.write_text("Another prompt.\n", encoding="utf-8")
    edited = run_cli(*args, "--system-prompt", prompt)
    plain = run_cli(*args)
    from evalkit.api import list_runs

    runs = list_runs(store)
    assert len(runs) == 3, [r.run_id for r in runs]
    assert "already" in (again.stdout + again.stderr).lower() or again.returncode == 0
    prompts = sorted(m for r in runs for m in system_messages(store, r.run_id))
    assert prompts == sorted(["Answer with FINAL ANSWER: and nothing else.", "Another prompt.", DEFAULT_SYSTEM_PROMPT])
    assert edited.returncode == plain.returncode == 0


def test_fingerprint_is_the_prompts_content(tmp_path: Path) -> None:
    suite = load_suite(mini_suite(tmp_path))
    from evalkit.contracts.config import ProjectConfig, resolve_model

    models = [resolve_model("scripted/disciplined", ProjectConfig())]
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("same", encoding="utf-8")
    b.write_text("same\n", encoding="utf-8")
    fa = fingerprint(suite, models, RunOptions(system_prompt=str(a)))
    assert fa == fingerprint(suite, models, RunOptions(system_prompt=str(b)))  # content, not path
    assert fa != fingerprint(suite, models, RunOptions())
    b.write_text("other", encoding="utf-8")
    assert fa != fingerprint(suite, models, RunOptions(system_prompt=str(b)))
    stored = RunOptions.from_record(RunOptions(system_prompt=str(a)).to_record())
    a.unlink()  # a resumed run keeps the text it started with
    assert RunOptions.from_record(stored.to_record()).system_prompt_text == "same"
    with pytest.raises(ConfigError, match=r"--system-prompt .*cannot read"):
        RunOptions(system_prompt=str(tmp_path / "missing.txt"))
