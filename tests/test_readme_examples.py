"""Every ``evalkit ...`` command in README.md's shell blocks runs as written, where it needs no key.

``tests/test_docs.py`` checks that each command and option exists; this runs them, in README order, in a
scratch folder with a scratch store. The runs and files the examples name (``base``, ``rl``, ``ckpt-a``,
``nightly``, ``a.jsonl.gz``, ``episodes.jsonl``, ...) are made first from the scripted agents, as a user
would have them. A command that needs a provider's key (a real model or judge) or is a usage synopsis is left
to ``test_docs`` (the example workflow's commands: ``tests/compare/test_workflow_example.py``).
"""

from __future__ import annotations

import gzip
import re
import shlex
import shutil
import time
from pathlib import Path

import pytest

from tests.cli_runner import run_cli
from tests.conftest import FIXTURES, isolated_env, set_env

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PROVIDERS = ("openai/", "anthropic/", "ollama_chat/", "hosted_vllm/", "bedrock/", "gemini/")
NEEDS_A_KEY = re.compile(r"(^|\s)(--model|-m|--judge)\s+(?!scripted/)\S+")
"""A model or judge that is not a scripted agent reaches a provider (or a local server that is not running)."""
MAY_FAIL_ITS_CHECK = {("gate",): {0, 1}, ("suite", "verify"): {0, 1}}
"""Commands whose exit 1 is a verdict (a gate rule failed, a task disagreed), not a broken example."""


def readme_commands(text: str) -> list[str]:
    """The ``evalkit`` lines of the shell code blocks, comments removed, continuation lines joined."""
    lines: list[str] = []
    in_block = False
    for raw in text.splitlines():
        if raw.lstrip().startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        line = raw.strip()
        if line.startswith("evalkit "):
            lines.append(line)
        elif lines and raw.startswith(" ") and line.startswith("[") and lines[-1].startswith("evalkit run SUITE"):
            lines[-1] += " " + line
    return [re.sub(r"\s+#\s.*$", "", line).strip() for line in lines]


STANDALONE = "evalkit validate-rubric"
"""Examples that need none of the runs and files below: run by their own test, beside the others (the full
``validate-rubric`` runs every persona over both suites, the slowest example)."""


def skip_reason(line: str) -> str | None:
    if re.search(r"\b[A-Z]{2,}\b|\[", line.split("#")[0]):
        return "a usage synopsis"
    if NEEDS_A_KEY.search(line) or any(p in line for p in PROVIDERS):
        return "needs a provider"
    return None


def test_the_extraction_reads_blocks_only() -> None:
    text = "run `evalkit runs` inline\n```bash\nevalkit runs   # every run\n  evalkit show latest\n```\n"
    assert readme_commands(text) == ["evalkit runs", "evalkit show latest"]
    assert skip_reason("evalkit run finance-single --model openai/gpt-4.1-mini") == "needs a provider"
    assert skip_reason("evalkit score latest --rubric narrative-judge --judge grader") == "needs a provider"
    assert skip_reason("evalkit run finance-single --model scripted/disciplined --limit 10") is None
    assert skip_reason("evalkit run SUITE --model M [--epochs K]") == "a usage synopsis"


def _make_world(folder: Path) -> None:
    """The runs and files README's examples name, made as a user would make them."""
    import evalkit

    shutil.copytree(ROOT / "examples", folder / "examples")
    small = {"limit": 4, "rubrics": ["tool-discipline", "answer"]}
    gated = {"limit": 52, "rubrics": ["tool-discipline", "answer"]}  # examples/gate.yaml judges from 50 samples
    for name, model, opts in [
        ("base", "scripted/reckless", small),
        ("rl", "scripted/disciplined", small),
        ("base-4b", "scripted/big-model", small),
        ("rl-4b", "scripted/small-disciplined", small),
        ("ckpt-a", "scripted/noisy@0.3", small),
        ("ckpt-b", "scripted/noisy@0.7", small),
        ("ckpt-100", "scripted/noisy@0.2", small),
        ("ckpt-200", "scripted/noisy@0.5", small),
        ("ckpt-300", "scripted/noisy@0.8", small),
        ("nightly", "scripted/disciplined", gated),
        ("pr-123", "scripted/disciplined", gated),
    ]:
        evalkit.run_suite("finance-single", [model], name=name, **opts)  # type: ignore[arg-type]
    # ``compare a.jsonl.gz latest`` follows the persona run a few lines above it: an earlier run of its models
    earlier = evalkit.run_suite("finance-single", ["scripted/hostile", "scripted/big-model"], **small)  # type: ignore[arg-type]
    evalkit.export_run(None, earlier.run.run_id, folder / "a.jsonl.gz")
    traces = (ROOT / "tests" / "corpus" / "traces.jsonl").read_text()
    (folder / "episodes.jsonl").write_text(traces)
    (folder / "prod.jsonl").write_text(traces)
    tables = folder / "path" / "to" / "csv-or-parquet-folder"
    shutil.copytree(FIXTURES / "messy" / "tables", tables)
    shutil.copy(FIXTURES / "messy" / "questions.jsonl", folder / "questions.jsonl")
    shutil.copytree(FIXTURES / "rllm_finqa", folder / "finqa-data")  # "Evaluating an rLLM checkpoint"
    shutil.copytree(FIXTURES / "rllm_episodes" / "finqa_eval_run", folder / "rllm-episodes")
    (folder / "inspect-logs").mkdir()
    shutil.copy(FIXTURES / "inspect" / "finance_sql.eval", folder / "inspect-logs" / "finance.eval")
    with gzip.open(folder / "a.jsonl.gz") as exported:
        assert exported.read(1)


@pytest.mark.slow
def test_every_readme_example_that_needs_no_key_runs(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = readme_commands(README.read_text(encoding="utf-8"))
    assert len(lines) >= 40
    set_env(monkeypatch, isolated_env(tmp_path, cache_dir))
    monkeypatch.chdir(tmp_path)
    _make_world(tmp_path)
    ran, skipped, broken, took = [], [], [], []
    for line in lines:
        if line.startswith(STANDALONE):
            continue
        reason = skip_reason(line)
        if reason is not None:
            skipped.append((line, reason))
            continue
        args = shlex.split(line)[1:]
        started = time.perf_counter()
        out = run_cli(*args, cwd=tmp_path)
        took.append((time.perf_counter() - started, line))
        path = tuple(a for a in args[:2] if not a.startswith("-"))
        allowed = MAY_FAIL_ITS_CHECK.get(path[:1]) or MAY_FAIL_ITS_CHECK.get(path[:2]) or {0}
        ran.append(line)
        if out.exit_code not in allowed or "internal error" in out.stderr:
            broken.append(f"{line}\n  exit {out.exit_code}: {out.stderr.strip()[-400:]}")
    print("slowest:", *sorted(took, reverse=True)[:5], sep="\n  ")
    assert not broken, "README examples that do not run:\n" + "\n".join(broken)
    standalone = [line for line in lines if line.startswith(STANDALONE)]  # run by the test below
    assert len(ran) + len(standalone) >= 30, (ran, skipped)
    assert all(reason in ("needs a provider", "a usage synopsis") for _, reason in skipped)


@pytest.mark.slow
@pytest.mark.parametrize(
    "line", [line for line in readme_commands(README.read_text(encoding="utf-8")) if line.startswith(STANDALONE)]
)
def test_the_standalone_readme_examples_run(line: str, tmp_path: Path, cache_dir: Path) -> None:
    out = run_cli(*shlex.split(line)[1:], cwd=tmp_path, env=isolated_env(tmp_path, cache_dir))
    assert out.exit_code == 0, out.stderr
    assert "internal error" not in out.stderr
