"""Properties of the one matcher: it accepts its own rendering of any expected amount (``expected_text``),
alone, after the marker or as the conclusion of a reply that shows other figures first, and through markup."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from evalkit.contracts.answers import check_answer, expected_text
from evalkit.contracts.suite import ExpectedAnswer, ReferenceSolution, TaskSpec, Tolerance

UNITS = ["USD", "USD thousands", "USD millions", "USD billions", "%", "bps", "x", "count", "shares", "days", None]
AMOUNTS = st.decimals(min_value=-9_999_999, max_value=9_999_999, places=2).map(float).filter(lambda v: abs(v) >= 0.1)
TOLERANCES = st.sampled_from([Tolerance(), Tolerance(rel=0.001), Tolerance(abs=0.01), Tolerance(rel=0.005)])


def task_of(answer: ExpectedAnswer) -> TaskSpec:
    return TaskSpec("t", "What was it?", "single_table", "easy", (), ("t",), answer, ReferenceSolution(()))


@given(v=AMOUNTS, unit=st.sampled_from(UNITS), tol=TOLERANCES, other=AMOUNTS)
def test_the_matcher_accepts_its_own_rendering(v: float, unit: str | None, tol: Tolerance, other: float) -> None:
    answer = ExpectedAnswer("number", v, unit, tol)
    text = expected_text(task_of(answer))
    shown = f"{abs(other) + 1:,.2f}"
    for reply in (
        text,
        f"FINAL ANSWER: {text}",
        f"The query returned {shown} for fiscal 2022. So the answer is {text}.",
        f"<think>maybe {shown}?</think>The answer is **{text}**<|im_end|>",
    ):
        result = check_answer(answer, reply)
        assert result.correct, (reply, result.reason)
