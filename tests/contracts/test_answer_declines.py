"""A reply that declines ("unknown", "I cannot determine", "N/A", "insufficient data", "not available in the
data") is recorded as a decline: wrong unless the gold itself says the answer cannot be determined."""

from __future__ import annotations

import pytest

from evalkit.contracts.answers import check_answer, is_decline
from evalkit.contracts.suite import ExpectedAnswer, Tolerance

DECLINES = [
    "unknown",
    "Unknown.",
    "FINAL ANSWER: unknown",
    "I cannot determine this from the available tables.",
    "N/A",
    "FINAL ANSWER: n/a",
    "insufficient data",
    "The fiscal 2023 figure is not available in the data.",
    "<think>The 2023 row is missing.</think>\n**Answer:** Unknown",
    "I don&#39;t know: the data for fiscal 2023 is missing.",
    "It cannot be determined from the data provided.",
]
NOT_DECLINES = [
    "Unknown Segment",
    "FINAL ANSWER: 120.5 USD millions",
    "Revenue in North America (NA) was $1,350 million.",
    "Cloud. It was the largest segment in fiscal 2024.",
]


@pytest.mark.parametrize("reply", DECLINES)
def test_declines_are_recognised(reply: str) -> None:
    assert is_decline(reply)


@pytest.mark.parametrize("reply", NOT_DECLINES)
def test_answers_are_not_declines(reply: str) -> None:
    assert not is_decline(reply)


@pytest.mark.parametrize("reply", DECLINES)
def test_a_decline_is_wrong_for_a_number_gold(reply: str) -> None:
    result = check_answer(ExpectedAnswer("number", 120.5, "USD millions", Tolerance(rel=0.001)), reply)
    assert not result.correct and result.declined
    assert "declined" in result.reason


@pytest.mark.parametrize("gold", ["not determinable", "Cannot be determined", "N/A", "unknown"])
@pytest.mark.parametrize("reply", DECLINES)
def test_a_decline_matches_a_not_determinable_gold(gold: str, reply: str) -> None:
    result = check_answer(ExpectedAnswer("text", gold), reply)
    assert result.correct and result.declined, result.reason


def test_an_answer_does_not_match_a_not_determinable_gold() -> None:
    assert not check_answer(ExpectedAnswer("text", "not determinable"), "Cloud").correct
    assert not check_answer(ExpectedAnswer("text", "not determinable"), "FINAL ANSWER: 120.5 USD millions").correct


@pytest.mark.parametrize(
    "reply",
    [
        "I don't have access to that data.",
        "I’m sorry, but I can’t determine this from the tables available.",
        "The database doesn't contain the segment breakdown, so I don’t know.",
    ],
)
def test_declines_as_models_phrase_them(reply: str) -> None:
    assert is_decline(reply)
