"""An amount is read in the currency and scale it is stated in: ``696 USD millions`` is 696,000 USD thousands,
and a figure in pounds is not an answer in dollars."""

from __future__ import annotations

import pytest

from evalkit.contracts.answers import check_answer
from evalkit.contracts.suite import ExpectedAnswer, Tolerance

THOUSANDS = ExpectedAnswer("number", 696000.0, "USD thousands", Tolerance(rel=0.005))
MILLIONS = ExpectedAnswer("number", 2996.5, "USD millions", Tolerance(rel=0.005))


@pytest.mark.parametrize(
    ("answer", "reply", "correct"),
    [
        (THOUSANDS, "FINAL ANSWER: 696 USD millions", True),
        (THOUSANDS, "FINAL ANSWER: 696,000 USD millions", False),  # a thousand times too large
        (THOUSANDS, "Operating cash flow was 0.696 USD bn.", True),
        (THOUSANDS, "FINAL ANSWER: 696,000", True),  # in the unit asked for
        (MILLIONS, "FINAL ANSWER: 2,996.5 USD millions", True),
        (MILLIONS, "Revenue was US$2,996.5 million.", True),
        (MILLIONS, "FINAL ANSWER: £2,996.5 million", False),
        (MILLIONS, "FINAL ANSWER: 2,996.5 EUR millions", False),
        (MILLIONS, "It was 2,996.5 million euros.", False),
    ],
)
def test_currency_and_scale_as_stated(answer: ExpectedAnswer, reply: str, correct: bool) -> None:
    check = check_answer(answer, reply)
    assert check.correct is correct, check.reason


def test_the_reason_names_the_currency() -> None:
    assert check_answer(MILLIONS, "FINAL ANSWER: £2,996.5 million").reason == "stated in GBP, the task asks for USD"
