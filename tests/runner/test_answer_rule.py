"""A run reads a reply without the ``FINAL ANSWER:`` marker by its conclusion and records the rule that read
it (``Sample.metadata["answer_rule"]``); the stored final answer keeps the raw text of the reply."""

from __future__ import annotations

from pathlib import Path

import pytest

import evalkit
from evalkit.contracts.model_config import ModelConfig
from tests.fakeserver import serve

WORKED = (
    "<think>The income statement gives 1,200 for fiscal 2022 and 1,350 for fiscal 2023.</think>\n"
    "I queried acme_income_statement: fiscal 2022 revenue was $1,200 million. So Acme Widgets&#39; total "
    "revenue in fiscal 2023 was **$1,350 million**.<|im_end|>"
)
MARKED = "Revenue was 1,200 in 2022.\nFINAL ANSWER: 1,350 USD millions"


@pytest.mark.parametrize(("reply", "rule"), [(WORKED, "conclusion"), (MARKED, "marker")])
def test_the_answer_rule_is_recorded(
    reply: str, rule: str, mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    with serve([{"content": reply}], repeat_last=True) as (base, _):
        model = ModelConfig(name="worker", model="openai/fake", api_base=base, api_key_env="FAKE_PROVIDER_KEY")
        result = evalkit.run_suite(mini_suite, [model], tasks="t1", store=store, use_cache=False, keep_samples=True)
    (sample,) = result.samples
    assert sample.correct is True, sample.metadata
    assert sample.metadata["answer_rule"] == rule
    if rule == "conclusion":  # the raw reply is stored: entities and template tokens included
        assert sample.final_answer is not None
        assert "&#39;" in sample.final_answer and sample.final_answer.endswith("<|im_end|>")
