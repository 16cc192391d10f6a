"""A reasoning model's thinking is recorded apart from its answer (a ``reasoning_content`` field as vLLM's
and SGLang's reasoning parsers send it, or a ``<think>`` block opening the content), never read for the
answer, and shown collapsed in ``evalkit show`` and the HTML report."""

from __future__ import annotations

from pathlib import Path

import pytest

import evalkit
from evalkit.contracts.model_config import ModelConfig
from tests.cli_runner import run_cli
from tests.fakeserver import serve
from tests.report.test_html import unpacked

THOUGHT = "The table says 999, no wait, FINAL ANSWER: 999 is the 2022 figure; 2023 is 1350."


@pytest.mark.parametrize("shape", ["reasoning_content", "think block"])
def test_the_reasoning_is_kept_apart_and_never_read_for_the_answer(
    shape: str, mini_suite: Path, tmp_path: Path, client: str
) -> None:
    if shape == "reasoning_content":
        reply = {"content": "FINAL ANSWER: 1350 USD millions", "reasoning_content": THOUGHT, "reasoning_tokens": 17}
    else:
        reply = {"content": f"<think>{THOUGHT}</think>FINAL ANSWER: 1350 USD millions"}
    store = tmp_path / "store.duckdb"
    with serve([reply]) as (base, _):
        model = ModelConfig(name="thinker", model="openai/qwen3-4b", api_base=base, client=client)  # type: ignore[arg-type]
        result = evalkit.run_suite(mini_suite, [model], tasks="t1", store=store, use_cache=False, keep_samples=True)
    (sample,) = result.samples
    (turn,) = [e for e in sample.events if e.kind == "model"]
    assert turn.reasoning == THOUGHT and "999" not in (turn.content or "")
    assert sample.final_answer == "1350 USD millions" and sample.correct is True
    # the tokens spent thinking are counted when the server reports them, and unknown (absent) when it does not
    assert sample.metadata.get("reasoning_tokens") == (17 if shape == "reasoning_content" else None)

    shown = run_cli("show", result.run.run_id, "t1", "--store", store)
    assert shown.exit_code == 0, shown.stderr
    assert f"reasoning: {len(THOUGHT):,} characters (--full shows it)" in shown.stdout and "no wait" not in shown.stdout
    assert ("20 tokens (17 reasoning)" in shown.stdout) == (shape == "reasoning_content")
    full = run_cli("show", result.run.run_id, "t1", "--store", store, "--full")
    assert "no wait" in " ".join(full.stdout.split())

    out = run_cli("report", result.run.run_id, "--store", store, "-f", "html", "-o", tmp_path / "r.html")
    assert out.exit_code == 0, out.stderr
    page = unpacked((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert f'<details class="reasoning"><summary>reasoning ({len(THOUGHT)} characters' in page


@pytest.mark.parametrize("protocol", ["native", "text"])
def test_the_reasoning_persona_thinks_on_every_turn_and_is_judged_on_its_answer(tmp_path: Path, protocol: str) -> None:
    """``scripted/reasoner`` drafts a wrong ``FINAL ANSWER:`` in its thinking on every sample, half of them as a
    ``<think>`` block in the content: every turn's reasoning is recorded apart and the right answer still wins."""
    from evalkit.models.persona_reasoning import decoy

    store = tmp_path / "store.duckdb"
    model = ModelConfig(name="scripted/reasoner", model="scripted/reasoner", tool_protocol=protocol)  # type: ignore[arg-type]
    result = evalkit.run_suite("finance-single", [model], limit=8, store=store, keep_samples=True)
    assert len(result.samples) == 8
    suite = evalkit.load_suite("finance-single")
    for sample in result.samples:
        turns = [e for e in sample.events if e.kind == "model"]
        assert turns and all(e.reasoning for e in turns), sample.task_id
        assert not any("<think>" in (e.content or "") for e in turns)
        guess = decoy(suite.task(sample.task_id), 0, sample.epoch)
        assert f"FINAL ANSWER: {guess}" in (turns[-1].reasoning or "") and guess not in (sample.final_answer or "")
        assert sample.correct is True, (sample.task_id, sample.final_answer)
