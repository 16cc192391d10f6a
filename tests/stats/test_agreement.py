"""Cohen's κ and its intervals (``evalkit.stats.agreement``) against values computed by hand, and its properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.stats.agreement import agreement, analytic_se, bootstrap_interval, cohen_kappa


def _table(both_yes: int, a_yes_b_no: int, a_no_b_yes: int, both_no: int) -> list[tuple[str, str]]:
    """Pairs (rater A, rater B) from a 2×2 table of counts."""
    return (
        [("yes", "yes")] * both_yes
        + [("yes", "no")] * a_yes_b_no
        + [("no", "yes")] * a_no_b_yes
        + [("no", "no")] * both_no
    )


# The textbook 2×2 example (50 items): both yes 20, A yes / B no 5, A no / B yes 10, both no 15.
# pₒ = (20 + 15) / 50 = 0.7; A says yes to 25/50 = 0.5, B to 30/50 = 0.6;
# pₑ = 0.5·0.6 + 0.5·0.4 = 0.5; κ = (0.7 − 0.5) / (1 − 0.5) = 0.4.
# Cohen's SE = √(pₒ(1 − pₒ) / (n(1 − pₑ)²)) = √(0.21 / 12.5) = √0.0168 = 0.129615;
# the 95% interval 0.4 ± 1.959964·0.129615 = [0.145958, 0.654042].
TEXTBOOK = _table(20, 5, 10, 15)


def test_kappa_of_the_textbook_table() -> None:
    assert cohen_kappa(TEXTBOOK) == pytest.approx(0.4)
    a = agreement(TEXTBOOK, method="analytic")
    assert (a.n, a.accuracy, a.expected) == (50, pytest.approx(0.7), pytest.approx(0.5))
    assert analytic_se(TEXTBOOK) == pytest.approx(0.129615, abs=1e-6)
    assert (a.low, a.high) == (pytest.approx(0.145958, abs=1e-5), pytest.approx(0.654042, abs=1e-5))


# A judge that is no better than chance: each rater says yes to half the items, independently:
# both yes 10, A yes / B no 10, A no / B yes 10, both no 10; pₒ = 0.5 = pₑ, so κ = 0.
# One that always disagrees: pₒ = 0, pₑ = 0.5, κ = (0 − 0.5) / 0.5 = −1.
def test_kappa_is_zero_at_chance_and_minus_one_for_systematic_disagreement() -> None:
    assert cohen_kappa(_table(10, 10, 10, 10)) == pytest.approx(0.0)
    assert cohen_kappa(_table(0, 7, 7, 0)) == pytest.approx(-1.0)


def test_kappa_is_undefined_without_items_or_when_both_raters_use_one_value() -> None:
    assert cohen_kappa([]) is None
    assert cohen_kappa([("pass", "pass")] * 5) is None  # pₑ = 1: agreement says nothing of skill
    a = agreement([("pass", "pass")] * 5)
    assert (a.kappa, a.low, a.high, a.accuracy) == (None, None, None, 1.0)


def test_the_bootstrap_interval_is_seeded_and_brackets_the_textbook_kappa() -> None:
    first = bootstrap_interval(TEXTBOOK, resamples=500, seed=7)
    assert first == bootstrap_interval(TEXTBOOK, resamples=500, seed=7)
    assert first != bootstrap_interval(TEXTBOOK, resamples=500, seed=8)
    assert first is not None
    low, high = first
    assert low < 0.4 < high
    # about as wide as the analytic interval (±0.25) for 50 items; a resample can never leave [−1, 1]
    assert 0.3 < high - low < 0.7 and low >= -1 and high <= 1


labels = st.sampled_from(["pass", "fail"])
pairs = st.lists(st.tuples(labels, labels), min_size=1, max_size=40)


@given(st.lists(labels, min_size=2, max_size=40).filter(lambda xs: len(set(xs)) > 1))
def test_perfect_agreement_is_one(xs: list[str]) -> None:
    assert cohen_kappa([(x, x) for x in xs]) == pytest.approx(1.0)


@given(pairs)
def test_kappa_is_at_most_one_and_at_least_minus_one(ps: list[tuple[str, str]]) -> None:
    k = cohen_kappa(ps)
    assert k is None or -1 - 1e-9 <= k <= 1 + 1e-9


@given(pairs)
def test_kappa_is_symmetric_in_the_raters(ps: list[tuple[str, str]]) -> None:
    k, swapped = cohen_kappa(ps), cohen_kappa([(b, a) for a, b in ps])
    assert (k is None) == (swapped is None)
    if k is not None and swapped is not None:
        assert k == pytest.approx(swapped)


@given(pairs)
def test_renaming_the_labels_changes_nothing(ps: list[tuple[str, str]]) -> None:
    flip = {"pass": "fail", "fail": "pass"}
    k, renamed = cohen_kappa(ps), cohen_kappa([(flip[a], flip[b]) for a, b in ps])
    assert (k is None) == (renamed is None)
    if k is not None and renamed is not None:
        assert k == pytest.approx(renamed)
