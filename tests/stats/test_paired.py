"""Paired comparisons of two runs: McNemar against exact binomial sums, the bootstrap against its definition,
and seeded simulations for the false-positive rate, the power and the interval coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from evalkit.stats.paired import (
    PairedComparison,
    compare_binary,
    compare_scores,
    mcnemar_exact,
    min_detectable_effect,
)

Z_SUM = 1.959963984540054 + 0.8416212335729143  # z_{0.975} + z_{0.8}


def mcnemar_reference(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value by summing binomial probabilities: 2 * P(X <= min(b, c)), capped at 1."""
    m = b + c
    if m == 0:
        return 1.0
    tail = sum(math.comb(m, i) for i in range(min(b, c) + 1)) / 2**m
    return min(1.0, 2 * tail)


def correlated_pairs(rng: np.random.Generator, n: int, p_a: float, p_b: float, rho: float) -> tuple[list[bool], ...]:
    """Pass/fail for ``n`` tasks in runs A and B: Bernoulli(p_a) and Bernoulli(p_b), paired through a shared
    per-task latent (a Gaussian copula with latent correlation ``rho``)."""
    shared = rng.standard_normal(n)
    latent_a = math.sqrt(rho) * shared + math.sqrt(1 - rho) * rng.standard_normal(n)
    latent_b = math.sqrt(rho) * shared + math.sqrt(1 - rho) * rng.standard_normal(n)
    return list(latent_a < norm.ppf(p_a)), list(latent_b < norm.ppf(p_b))


# --- McNemar ----------------------------------------------------------------------------------------------


def test_mcnemar_known_value() -> None:
    assert mcnemar_exact(1, 9) == 0.021484375  # 2 * (C(10,0) + C(10,1)) / 2**10 = 22 / 1024
    assert mcnemar_exact(1, 9) == pytest.approx(2 * (1 + 10) / 1024, abs=1e-15)


def test_mcnemar_edges() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(7, 7) == 1.0
    assert mcnemar_exact(0, 1) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


@pytest.mark.parametrize("b", range(0, 25, 3))
@pytest.mark.parametrize("c", range(0, 40, 7))
def test_mcnemar_matches_binomial_sum_and_is_symmetric(b: int, c: int) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(mcnemar_reference(b, c), rel=1e-9, abs=1e-15)
    assert mcnemar_exact(b, c) == mcnemar_exact(c, b)


# --- minimum detectable effect ----------------------------------------------------------------------------


def test_mde_known_value() -> None:
    assert min_detectable_effect(100, 0.2) == pytest.approx(Z_SUM * math.sqrt(0.002), abs=1e-9)
    assert min_detectable_effect(100, 0.2) == pytest.approx(0.12529, abs=1e-5)


def test_mde_other_alpha_and_power() -> None:
    z = 2.5758293035489004 + 1.2815515655446004  # z_{0.995} + z_{0.9}
    assert min_detectable_effect(400, 0.3, alpha=0.01, power=0.9) == pytest.approx(z * math.sqrt(0.3 / 400))


def test_mde_decreases_with_n() -> None:
    values = [min_detectable_effect(n, 0.25) for n in (10, 50, 100, 500, 2000)]
    assert all(v is not None for v in values)
    assert values == sorted(values, reverse=True)  # type: ignore[type-var]
    assert len(set(values)) == len(values)


def test_mde_floor_and_empty() -> None:
    # No discordant pair observed: floored at one discordant pair, not 0.
    assert min_detectable_effect(100, 0.0) == pytest.approx(Z_SUM * math.sqrt((1 / 100) / 100))
    assert min_detectable_effect(0, 0.0) is None
    for bad in ({"n": -1, "discordant": 0.1}, {"n": 10, "discordant": 1.5}):
        with pytest.raises(ValueError):
            min_detectable_effect(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="power"):
        min_detectable_effect(10, 0.1, power=1.0)


# --- compare_binary ---------------------------------------------------------------------------------------


def test_compare_binary_counts_diff_and_p() -> None:
    rng = np.random.default_rng(7)
    a, b = correlated_pairs(rng, 150, 0.55, 0.7, 0.4)
    r = compare_binary(a, b)
    n = len(a)
    a_only = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    b_only = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    assert (r.n, r.n_clusters, r.a_only, r.b_only) == (n, n, a_only, b_only)
    assert r.mean_a == sum(a) / n and r.mean_b == sum(b) / n
    assert r.diff == sum(b) / n - sum(a) / n
    assert r.low <= r.diff <= r.high
    assert r.test == "mcnemar-exact"
    assert r.p_value == pytest.approx(mcnemar_reference(a_only, b_only), rel=1e-9)
    assert r.mde == pytest.approx(Z_SUM * math.sqrt((a_only + b_only) / n / n))
    assert r.to_dict()["diff"] == r.diff and set(r.to_dict()) == set(PairedComparison.__dataclass_fields__)


def test_compare_binary_identical_runs() -> None:
    a = [True, False, True, True, False, True] * 10
    r = compare_binary(a, a)
    assert r.diff == 0.0 and r.p_value == 1.0
    assert r.low == 0.0 and r.high == 0.0
    assert r.a_only == r.b_only == 0
    assert r.mde == pytest.approx(Z_SUM / 60)  # floored at one discordant pair


def test_compare_binary_accepts_zero_one() -> None:
    as_ints: list[int] = [1, 0, 1, 1]
    other: list[int] = [1, 1, 0, 1]
    expected = compare_binary([True, False, True, True], [True, True, False, True])
    assert compare_binary(as_ints, other) == expected  # type: ignore[arg-type]


def test_compare_binary_bootstrap_interval_matches_its_definition() -> None:
    """With each pair its own cluster, the bootstrap CI of the difference is close to the normal-theory
    interval for a paired difference in proportions: diff ± z * sqrt((b + c)/n - diff²) / sqrt(n)."""
    rng = np.random.default_rng(3)
    a, b = correlated_pairs(rng, 2000, 0.6, 0.65, 0.5)
    r = compare_binary(a, b)
    n = len(a)
    se = math.sqrt(((r.a_only + r.b_only) / n - r.diff**2) / n)
    assert r.low == pytest.approx(r.diff - 1.959964 * se, abs=0.004)
    assert r.high == pytest.approx(r.diff + 1.959964 * se, abs=0.004)


def test_compare_binary_is_deterministic_per_seed() -> None:
    rng = np.random.default_rng(11)
    a, b = correlated_pairs(rng, 300, 0.6, 0.6, 0.3)
    assert compare_binary(a, b, seed=5) == compare_binary(a, b, seed=5)
    assert (compare_binary(a, b, seed=5).low, compare_binary(a, b, seed=5).high) != (
        compare_binary(a, b, seed=6).low,
        compare_binary(a, b, seed=6).high,
    )


def test_clustered_interval_is_wider_for_correlated_epochs() -> None:
    """Three perfectly correlated epochs per task carry the information of one: resampling tasks gives a CI
    about sqrt(3) times wider than treating the 3 copies as independent pairs."""
    rng = np.random.default_rng(1)
    a1, b1 = correlated_pairs(rng, 120, 0.6, 0.68, 0.3)
    a = [x for x in a1 for _ in range(3)]
    b = [y for y in b1 for _ in range(3)]
    tasks = [f"task-{i}" for i in range(120) for _ in range(3)]
    clustered = compare_binary(a, b, tasks)
    naive = compare_binary(a, b)
    single = compare_binary(a1, b1)
    assert clustered.n == 360 and clustered.n_clusters == 120
    assert clustered.diff == pytest.approx(naive.diff)
    ratio = (clustered.high - clustered.low) / (naive.high - naive.low)
    assert ratio > 1.4, ratio  # sqrt(3) = 1.73 in expectation
    # ... and about as wide as the one copy of the data that it really is.
    assert clustered.high - clustered.low == pytest.approx(single.high - single.low, rel=0.15)
    # McNemar would count every copy; the clustered comparison takes its p-value from the cluster bootstrap.
    assert naive.test == "mcnemar-exact" and clustered.test == "paired-bootstrap"
    assert clustered.p_value > naive.p_value
    assert clustered.mde is not None and naive.mde is not None and clustered.mde > 1.4 * naive.mde


def test_clusters_that_are_all_distinct_are_no_clusters() -> None:
    rng = np.random.default_rng(2)
    a, b = correlated_pairs(rng, 80, 0.5, 0.6, 0.5)
    ids = [f"t{i}" for i in range(80)]
    assert compare_binary(a, b, ids) == compare_binary(a, b)


def test_mcnemar_false_positive_rate_without_a_true_difference() -> None:
    # Measured: 3.0% of 400 comparisons rejected (3.5-3.6% over 2000 with other seeds; exact McNemar is
    # conservative).
    rng = np.random.default_rng(20240501)
    rejections = 0
    for _ in range(400):
        a, b = correlated_pairs(rng, 200, 0.6, 0.6, 0.5)
        r = compare_binary(a, b, n_boot=50)
        rejections += r.p_value < 0.05
    assert rejections / 400 <= 0.07, rejections


def test_mcnemar_power_for_a_ten_point_drop() -> None:
    # Measured power: 65.5% of 200 comparisons reject (A 0.7 → B 0.6, 200 tasks, latent correlation 0.5). That
    # agrees with the mean reported MDE of 0.111: a 10-point drop is a little below what 200 tasks detect at 80%.
    rng = np.random.default_rng(99)
    rejections = 0
    for _ in range(200):
        a, b = correlated_pairs(rng, 200, 0.7, 0.6, 0.5)
        r = compare_binary(a, b, n_boot=50)
        rejections += r.p_value < 0.05
    assert rejections / 200 > 0.5, rejections


def test_clustered_binary_false_positive_rate_with_repeated_epochs() -> None:
    """Three identical epochs per task, no true difference: the cluster bootstrap keeps its false-positive rate
    near 5% where McNemar over all pairs (treating the copies as independent) does not."""
    # Measured: clustered 6.5%, McNemar over all 300 pairs 26% (of 200 comparisons of 100 tasks × 3 epochs);
    # clustered 5.4% over 1000 comparisons with another seed.
    rng = np.random.default_rng(5)
    clustered_rejections = naive_rejections = 0
    tasks = [f"t{i}" for i in range(100) for _ in range(3)]
    for _ in range(200):
        a1, b1 = correlated_pairs(rng, 100, 0.6, 0.6, 0.5)
        a = [x for x in a1 for _ in range(3)]
        b = [y for y in b1 for _ in range(3)]
        clustered_rejections += compare_binary(a, b, tasks, n_boot=1000).p_value < 0.05
        naive_rejections += compare_binary(a, b, n_boot=2).p_value < 0.05
    assert clustered_rejections / 200 <= 0.1, clustered_rejections
    assert naive_rejections > 2 * clustered_rejections, (naive_rejections, clustered_rejections)


# --- compare_scores ---------------------------------------------------------------------------------------


def test_compare_scores_basic() -> None:
    a = [0.2, 0.4, 0.9, 0.5, 0.7, 0.1, 0.3, 0.8]
    b = [0.3, 0.4, 1.0, 0.7, 0.6, 0.4, 0.3, 0.9]
    r = compare_scores(a, b)
    assert r.mean_a == pytest.approx(sum(a) / 8) and r.mean_b == pytest.approx(sum(b) / 8)
    assert r.diff == r.mean_b - r.mean_a
    assert r.diff == pytest.approx(0.7 / 8)  # differences 0.1, 0, 0.1, 0.2, -0.1, 0.3, 0, 0.1
    assert r.low <= r.diff <= r.high
    assert r.test == "paired-bootstrap" and r.a_only == r.b_only == 0
    assert 1 / 2001 <= r.p_value <= 1.0
    assert r.mde is not None and r.mde > 0


def test_compare_scores_identical_and_constant_shift() -> None:
    a = [0.5, 1.5, 2.0, 3.25]
    same = compare_scores(a, a)
    assert (same.diff, same.low, same.high, same.p_value, same.mde) == (0.0, 0.0, 0.0, 1.0, None)
    shifted = compare_scores(a, [x + 1 for x in a], n_boot=999)
    assert shifted.diff == pytest.approx(1.0)
    assert shifted.low == pytest.approx(1.0) and shifted.high == pytest.approx(1.0)
    assert shifted.p_value == pytest.approx(1 / 1000)  # the smallest p-value a 999-sample bootstrap gives
    assert shifted.mde is None


def test_compare_scores_p_value_follows_its_definition() -> None:
    """Recompute the bootstrap by hand with the same generator: same replicates, same CI, same p-value."""
    rng = np.random.default_rng(8)
    a = rng.normal(0, 1, 40)
    b = a + rng.normal(0.2, 1, 40)
    tasks = [f"t{i // 2}" for i in range(40)]
    r = compare_scores(list(a), list(b), tasks, n_boot=500, seed=4)
    d = (b - a).reshape(20, 2).sum(axis=1)  # per-task sums; tasks are consecutive pairs, in order
    idx = np.random.default_rng(4).integers(0, 20, size=(500, 20))
    boot = d[idx].sum(axis=1) / 40
    diff = b.mean() - a.mean()
    assert r.diff == pytest.approx(diff)
    assert r.low == pytest.approx(np.percentile(boot, 2.5)) and r.high == pytest.approx(np.percentile(boot, 97.5))
    expected_p = (np.sum(np.abs(boot - diff) >= abs(diff)) + 1) / 501
    assert r.p_value == pytest.approx(expected_p)
    assert r.mde == pytest.approx(Z_SUM * np.std(boot, ddof=1))


def test_compare_scores_unequal_cluster_sizes_use_the_pair_mean() -> None:
    a = [0.0, 0.0, 0.0, 0.0, 1.0]
    b = [1.0, 1.0, 1.0, 1.0, 0.0]
    r = compare_scores(a, b, ["big", "big", "big", "big", "small"], n_boot=2000)
    assert r.diff == pytest.approx(0.6)
    # Only three resampled datasets exist: all "big" (diff 1), all "small" (-1) and one of each (3/5 = 0.6).
    assert r.low == pytest.approx(-1.0) and r.high == pytest.approx(1.0)
    assert r.n_clusters == 2


def test_bootstrap_coverage_of_the_true_difference() -> None:
    """compare_scores' 95% CI covers the true mean difference in about 95% of simulated comparisons."""
    # Measured: 95.0% of 200 (150 independent tasks, skewed scores).
    rng = np.random.default_rng(12)
    covered = 0
    for _ in range(200):
        ability = rng.normal(0, 1, 150)
        a = ability + rng.exponential(1.0, 150)
        b = ability + rng.exponential(1.0, 150) + 0.2  # the true difference is 0.2
        r = compare_scores(list(a), list(b))
        covered += r.low <= 0.2 <= r.high
    assert 0.90 <= covered / 200 <= 0.99, covered


def test_clustered_bootstrap_coverage_with_epochs() -> None:
    """With 3 epochs per task and a per-task effect on the difference, resampling tasks keeps coverage near
    95%; treating the epochs as independent pairs does not."""
    # Measured: clustered 93.5%, unclustered 79.5% of 200 (100 tasks × 3 epochs).
    rng = np.random.default_rng(13)
    tasks = [f"t{i}" for i in range(100) for _ in range(3)]
    covered = naive_covered = 0
    for _ in range(200):
        task_effect = np.repeat(rng.normal(0, 1, 100), 3)
        a = rng.normal(0, 0.5, 300)
        b = a + 0.1 + task_effect + rng.normal(0, 0.7, 300)  # the true difference is 0.1
        r = compare_scores(list(a), list(b), tasks)
        covered += r.low <= 0.1 <= r.high
        naive = compare_scores(list(a), list(b))
        naive_covered += naive.low <= 0.1 <= naive.high
    assert 0.90 <= covered / 200 <= 0.99, covered
    assert naive_covered < covered, (naive_covered, covered)


def test_compare_scores_false_positive_rate() -> None:
    # Measured: 2.0% of these 200 comparisons of 150 tasks with no true difference; 4.75% over 2000 with another
    # seed (and 9.65% at alpha 0.10), so the p-value is calibrated and 2% is sampling noise.
    rng = np.random.default_rng(14)
    rejections = 0
    for _ in range(200):
        ability = rng.normal(0, 1, 150)
        r = compare_scores(list(ability + rng.normal(0, 1, 150)), list(ability + rng.normal(0, 1, 150)), n_boot=1000)
        rejections += r.p_value < 0.05
    assert rejections / 200 <= 0.1, rejections


# --- validation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compare", [compare_binary, compare_scores])
def test_rejects_empty_and_misaligned_inputs(compare: object) -> None:
    assert callable(compare)
    with pytest.raises(ValueError, match="empty"):
        compare([], [])
    with pytest.raises(ValueError, match="same length"):
        compare([1, 0], [1])
    with pytest.raises(ValueError, match="clusters"):
        compare([1, 0], [1, 1], ["t1"])
    with pytest.raises(ValueError, match="confidence"):
        compare([1, 0], [1, 1], confidence=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        compare([1, 0], [1, 1], n_boot=1)
    with pytest.raises(ValueError, match="alpha"):
        compare([1, 0], [1, 1], alpha=0.0)


def test_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="booleans"):
        compare_binary([0.5, 1.0], [1.0, 0.0])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="NaN"):
        compare_scores([0.5, float("nan")], [1.0, 0.0])
    with pytest.raises(ValueError, match="numbers"):
        compare_scores(["x", "y"], [1.0, 0.0])  # type: ignore[list-item]


def test_single_pair_emits_no_warning() -> None:
    r = compare_binary([True], [False])
    assert (r.diff, r.low, r.high, r.p_value) == (-1.0, -1.0, -1.0, 1.0)
    s = compare_scores([1.0], [3.0])
    assert (s.diff, s.low, s.high, s.mde) == (2.0, 2.0, 2.0, None)
