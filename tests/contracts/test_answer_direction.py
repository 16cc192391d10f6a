"""A phrase that states a direction ("a decrease of 12%", "fell 12%", "12% lower") must agree with the sign of
the gold; a bare magnitude is compared as written, and "from X to Y" states levels, not a change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.contracts.answers import check_answer
from evalkit.contracts.suite import ExpectedAnswer, Tolerance

UP_12 = ExpectedAnswer("number", 12.0, "%", Tolerance(abs=0.05))
DOWN_12 = ExpectedAnswer("number", -12.0, "%", Tolerance(abs=0.05))

DOWN_PHRASES = [
    "a decrease of 12%",
    "FINAL ANSWER: a decrease of 12%",
    "Revenue fell 12% year over year.",
    "Operating expenses declined by 12 percent.",
    "down 12%",
    "It was 12% lower than in fiscal 2022.",
    "The segment shrank by 12.0%.",
    "a 12% decline",
    "FINAL ANSWER: 12% (a drop)",
]
UP_PHRASES = [
    "an increase of 12%",
    "Revenue grew 12% year over year.",
    "up 12%",
    "It was 12% higher than in fiscal 2022.",
    "a 12% rise",
]


@pytest.mark.parametrize("reply", DOWN_PHRASES)
def test_a_stated_decrease_does_not_match_a_positive_gold(reply: str) -> None:
    assert not check_answer(UP_12, reply).correct
    assert check_answer(DOWN_12, reply).correct


@pytest.mark.parametrize("reply", UP_PHRASES)
def test_a_stated_increase_does_not_match_a_negative_gold(reply: str) -> None:
    assert check_answer(UP_12, reply).correct
    assert not check_answer(DOWN_12, reply).correct


def test_a_bare_magnitude_stays_a_magnitude() -> None:
    assert check_answer(UP_12, "12%").correct
    assert not check_answer(DOWN_12, "12%").correct
    assert check_answer(DOWN_12, "-12%").correct
    assert check_answer(DOWN_12, "(12.0%)").correct
    assert check_answer(DOWN_12, "a decrease of -12%").correct  # the sign is not applied twice


def test_a_direction_elsewhere_in_the_reply_does_not_flip_the_answer() -> None:
    # the word "lower" belongs to another figure; the answer figure itself is stated without a direction
    reply = "Margins were lower in 2021. FINAL ANSWER: 12%"
    assert check_answer(UP_12, reply).correct
    assert not check_answer(DOWN_12, reply).correct


def test_levels_from_and_to_are_not_changes() -> None:
    level = ExpectedAnswer("number", 1200.0, "USD millions", Tolerance(rel=0.001))
    assert check_answer(level, "Revenue fell from $1,350 million to $1,200 million.").correct
    change = ExpectedAnswer("number", -150.0, "USD millions", Tolerance(rel=0.001))
    assert check_answer(
        change, "Revenue fell from $1,350 million to $1,200 million, a decrease of $150 million."
    ).correct
    assert not check_answer(
        change, "Revenue rose from $1,200 million to $1,350 million, an increase of $150 million."
    ).correct


def test_a_loss_may_be_stated_as_a_magnitude() -> None:
    # "a net loss of 8,081" names the sign of the quantity, not a change: either sign of the gold matches
    loss = ExpectedAnswer("number", -8081.0, "USD thousands", Tolerance(rel=0.001))
    assert check_answer(loss, "FINAL ANSWER: a net loss of $8,081 thousand").correct
    magnitude = ExpectedAnswer("number", 8081.0, "USD thousands", Tolerance(rel=0.001))
    assert check_answer(magnitude, "FINAL ANSWER: a net loss of $8,081 thousand").correct


def test_a_question_that_asks_for_a_decrease_takes_its_magnitude() -> None:
    gold = ExpectedAnswer("number", 150.0, "USD millions", Tolerance(rel=0.001))
    question = (
        "By how much did Acme's operating expenses decrease from fiscal 2022 to fiscal 2023? Answer in USD millions."
    )
    assert check_answer(gold, "Operating expenses decreased by $150 million.", question=question).correct
    assert not check_answer(gold, "Operating expenses increased by $150 million.", question=question).correct
    assert not check_answer(gold, "Operating expenses decreased by $150 million.").correct  # no question: the sign


MAGNITUDES = st.decimals(min_value="0.1", max_value="99999", places=2).map(float)
DOWN_FORMS = st.sampled_from(["a decrease of {}", "fell {}", "declined by {}", "down {}", "{} lower", "a {} drop"])
UP_FORMS = st.sampled_from(["an increase of {}", "grew {}", "rose by {}", "up {}", "{} higher", "a {} gain"])
UNITS = st.sampled_from(
    [("%", "{:.2f}%"), ("USD millions", "${:,.2f} million"), ("bps", "{:.2f} bps"), (None, "{:.2f}")]
)


@given(v=MAGNITUDES, down=DOWN_FORMS, up=UP_FORMS, unit=UNITS, rel=st.sampled_from([None, 0.001, 0.01, 0.5]))
def test_a_direction_opposite_to_the_gold_never_matches(
    v: float, down: str, up: str, unit: tuple[str | None, str], rel: float | None
) -> None:
    name, fmt = unit
    amount = fmt.format(v)
    positive = ExpectedAnswer("number", v, name, Tolerance(rel=rel))
    negative = ExpectedAnswer("number", -v, name, Tolerance(rel=rel))
    assert not check_answer(positive, down.format(amount)).correct
    assert not check_answer(negative, up.format(amount)).correct
    assert check_answer(negative, down.format(amount)).correct
    assert check_answer(positive, up.format(amount)).correct
