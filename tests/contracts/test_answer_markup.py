"""HTML entities, chat-template tokens that spill into a reply and ``<think>`` blocks are removed before an
answer is matched (``company&#39;s`` is not the number 39); the stored final answer keeps the raw text."""

from __future__ import annotations

import pytest

from evalkit.contracts.answers import check_answer, clean_reply, extract_final_answer
from evalkit.contracts.suite import ExpectedAnswer, Tolerance

REVENUE = ExpectedAnswer("number", 1350.0, "USD millions", Tolerance(rel=0.001))
GROWTH = ExpectedAnswer("number", 12.5, "%", Tolerance(abs=0.05))


@pytest.mark.parametrize(
    ("answer", "reply"),
    [
        (REVENUE, "The company&#39;s total revenue in fiscal 2023 was $1,350 million."),
        (REVENUE, "FINAL ANSWER: the company&#x27;s revenue was 1,350 USD millions"),
        (REVENUE, "Acme&rsquo;s revenue: &#36;1,350&nbsp;million"),
        (GROWTH, "<|im_start|>assistant\nFINAL ANSWER: 12.5%<|im_end|>"),
        (GROWTH, "FINAL ANSWER: 12.5%<|eot_id|>"),
        (GROWTH, "FINAL ANSWER: 12.5%</s>"),
        (GROWTH, "<|start_header_id|>assistant<|end_header_id|>\n\nGrowth was 12.5%.<|eot_id|>"),
        (GROWTH, "<start_of_turn>model\nThe growth rate is 12.5%.<end_of_turn>"),
        (GROWTH, "<think>Revenue went 1,200 to 1,350; maybe 11%? No: 150/1,200 = 0.125.</think>FINAL ANSWER: 12.5%"),
        (GROWTH, "Let me work it out: 150 / 1200 is 0.125 ... wait, recheck.</think>\nThe growth is **12.5%**."),
        (GROWTH, "<think>\n11% looks off.\n</think>\n\nGrowth &asymp; 12.5&#37;"),
    ],
)
def test_markup_is_removed_before_matching(answer: ExpectedAnswer, reply: str) -> None:
    result = check_answer(answer, reply)
    assert result.correct, result.reason


def test_entities_in_text_answers() -> None:
    assert check_answer(ExpectedAnswer("text", "Oil and Gas"), "FINAL ANSWER: Oil &amp; Gas").correct
    listed = ExpectedAnswer("list", ("Cloud", "Retail"), ordered=False)
    assert check_answer(listed, "Cloud&#44; Retail<|im_end|>").correct


def test_clean_reply_keeps_the_words() -> None:
    raw = "<think>scratch 39</think>The company&#39;s revenue <|im_end|>"
    assert clean_reply(raw) == "The company's revenue"
    assert extract_final_answer(raw) == raw.strip()  # the stored text stays raw
