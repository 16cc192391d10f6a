"""Wilson intervals, pass@k, pass^k and percentiles, checked against independent references: the closed-form
Wilson formula, brute-force enumeration of all k-subsets, and hand-computed values."""

from __future__ import annotations

import math
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.stats.proportions import Rate, average_pass_at_k, pass_at_k, pass_hat_k, percentile, wilson

Z95 = 1.959963984540054


def wilson_closed_form(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def brute_force(n: int, c: int, k: int) -> tuple[float, float]:
    """(pass@k, pass^k) by enumerating every k-subset of n samples, the first c of them correct."""
    subsets = list(combinations(range(n), k))
    any_correct = sum(1 for s in subsets if any(i < c for i in s))
    all_correct = sum(1 for s in subsets if all(i < c for i in s))
    return any_correct / len(subsets), all_correct / len(subsets)


# --- Wilson -----------------------------------------------------------------------------------------------


def test_wilson_known_value() -> None:
    r = wilson(81, 263)
    assert r.rate == pytest.approx(81 / 263)
    assert r.low == pytest.approx(0.2553, abs=5e-5)
    assert r.high == pytest.approx(0.3662, abs=5e-5)
    low, high = wilson_closed_form(81, 263)
    assert r.low == pytest.approx(low, abs=1e-9)
    assert r.high == pytest.approx(high, abs=1e-9)


@pytest.mark.parametrize(("k", "n"), [(1, 1), (3, 7), (50, 100), (99, 100), (1, 1000), (12345, 20000)])
def test_wilson_matches_closed_form(k: int, n: int) -> None:
    r = wilson(k, n)
    low, high = wilson_closed_form(k, n)
    assert r.low == pytest.approx(low, abs=1e-9)
    assert r.high == pytest.approx(high, abs=1e-9)


def test_wilson_other_confidence() -> None:
    r = wilson(30, 40, confidence=0.9)
    low, high = wilson_closed_form(30, 40, z=1.6448536269514722)
    assert r.low == pytest.approx(low, abs=1e-9)
    assert r.high == pytest.approx(high, abs=1e-9)
    assert r.high - r.low < wilson(30, 40).high - wilson(30, 40).low  # type: ignore[operator]


def test_wilson_edges() -> None:
    zero = wilson(0, 10)
    assert zero.rate == 0.0
    assert zero.low == pytest.approx(0.0, abs=1e-12)
    assert zero.high == pytest.approx(Z95**2 / (10 + Z95**2), abs=1e-9)  # closed form at k = 0
    full = wilson(10, 10)
    assert full.rate == 1.0
    assert full.high == pytest.approx(1.0, abs=1e-12)
    assert full.low == pytest.approx(10 / (10 + Z95**2), abs=1e-9)


def test_wilson_empty() -> None:
    r = wilson(0, 0)
    assert r == Rate(k=0, n=0, rate=None, low=None, high=None)
    assert r.fmt() == "—"
    assert r.to_dict() == {"k": 0, "n": 0, "rate": None, "low": None, "high": None}


@pytest.mark.parametrize(("k", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_wilson_rejects_bad_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson(k, n)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95])
def test_wilson_rejects_bad_confidence(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        wilson(3, 5, confidence=confidence)


def test_rate_fmt() -> None:
    assert Rate(k=87, n=120, rate=0.725, low=0.631, high=0.802).fmt() == "72.5% [63.1, 80.2] (n=120)"
    assert Rate(k=87, n=120, rate=0.725, low=0.631, high=0.802).fmt(digits=0) == "72% [63, 80] (n=120)"
    low, high = wilson_closed_form(81, 263)
    assert wilson(81, 263).fmt(2) == f"{100 * 81 / 263:.2f}% [{100 * low:.2f}, {100 * high:.2f}] (n=263)"


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_contains_rate_and_stays_in_unit_interval(kn: tuple[int, int]) -> None:
    k, n = kn
    r = wilson(k, n)
    assert r.low is not None and r.high is not None and r.rate is not None
    assert 0.0 <= r.low <= r.rate <= r.high <= 1.0


# --- pass@k and pass^k ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 9))
def test_pass_at_k_and_hat_match_brute_force(n: int) -> None:
    for c in range(n + 1):
        for k in range(1, n + 1):
            at, hat = brute_force(n, c, k)
            assert pass_at_k(n, c, k) == pytest.approx(at, abs=1e-12), (n, c, k)
            assert pass_hat_k(n, c, k) == pytest.approx(hat, abs=1e-12), (n, c, k)


def test_pass_at_k_known_values() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 2) == pytest.approx(1 - math.comb(7, 2) / math.comb(10, 2))  # 1 - 21/45
    assert pass_at_k(10, 0, 5) == 0.0
    assert pass_at_k(10, 6, 5) == 1.0  # n - c = 4 < k: every draw of 5 holds a correct sample
    assert pass_hat_k(10, 3, 2) == pytest.approx(3 / 45)
    assert pass_hat_k(10, 10, 10) == 1.0
    assert pass_hat_k(10, 2, 3) == 0.0


def test_pass_at_k_large_n_is_stable() -> None:
    # math.comb on Python integers is exact; the float product form must agree without overflow.
    n, c, k = 2000, 37, 100
    assert pass_at_k(n, c, k) == pytest.approx(1 - math.comb(n - c, k) / math.comb(n, k), rel=1e-9)
    assert pass_hat_k(n, 1900, k) == pytest.approx(math.comb(1900, k) / math.comb(n, k), rel=1e-9)


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_pass_at_1_is_the_rate(nc: tuple[int, int]) -> None:
    n, c = nc
    assert pass_at_k(n, c, 1) == pytest.approx(c / n, abs=1e-12)
    assert pass_hat_k(n, c, 1) == pytest.approx(c / n, abs=1e-12)


@st.composite
def nck(draw: st.DrawFn) -> tuple[int, int, int]:
    n = draw(st.integers(1, 200))
    return n, draw(st.integers(0, n)), draw(st.integers(1, n))


@given(nck())
def test_pass_at_k_properties(args: tuple[int, int, int]) -> None:
    n, c, k = args
    at, hat = pass_at_k(n, c, k), pass_hat_k(n, c, k)
    assert 0.0 <= hat <= 1.0 and 0.0 <= at <= 1.0
    # All k correct implies the rate implies at least one of k correct.
    assert hat <= c / n + 1e-12
    assert c / n <= at + 1e-12
    if c < n:  # one more correct sample never hurts
        assert pass_at_k(n, c + 1, k) >= at - 1e-12
        assert pass_hat_k(n, c + 1, k) >= hat - 1e-12
    if k < n:  # more attempts: at least one is easier to get, all are harder
        assert pass_at_k(n, c, k + 1) >= at - 1e-12
        assert pass_hat_k(n, c, k + 1) <= hat + 1e-12


@pytest.mark.parametrize(("n", "c", "k"), [(5, 2, 0), (5, 2, 6), (5, 6, 1), (5, -1, 1), (0, 0, 1)])
def test_pass_at_k_rejects_bad_arguments(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)
    with pytest.raises(ValueError):
        pass_hat_k(n, c, k)


def test_average_pass_at_k() -> None:
    counts = {"t1": (5, 5), "t2": (5, 0), "t3": (5, 2), "short": (1, 1)}
    # "short" has fewer than k = 2 samples and is skipped.
    expected_at = (1.0 + 0.0 + (1 - math.comb(3, 2) / math.comb(5, 2))) / 3
    expected_hat = (1.0 + 0.0 + math.comb(2, 2) / math.comb(5, 2)) / 3
    assert average_pass_at_k(counts, 2) == pytest.approx(expected_at)
    assert average_pass_at_k(counts, 2, hat=True) == pytest.approx(expected_hat)
    # k = 1 uses every task: the mean of the per-task rates.
    assert average_pass_at_k(counts, 1) == pytest.approx((1 + 0 + 0.4 + 1) / 4)
    assert average_pass_at_k(counts, 6) is None
    assert average_pass_at_k({}, 1) is None
    with pytest.raises(ValueError):
        average_pass_at_k(counts, 0)


# --- percentile -------------------------------------------------------------------------------------------


def test_percentile() -> None:
    values = [10.0, 1.0, 4.0, 2.0]  # sorted: 1, 2, 4, 10
    assert percentile(values, 50) == pytest.approx(3.0)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 10.0
    assert percentile(values, 90) == pytest.approx(4 + 0.7 * 6)  # position 0.9 * 3 = 2.7
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)
