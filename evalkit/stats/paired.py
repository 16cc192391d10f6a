"""Comparing two runs sample by sample: is run B really better (or worse) than run A?

Two runs of the same suite answer the *same* tasks, so their results are paired: a hard task tends to be
failed by both. Comparing the two pass rates as if they were independent samples throws that away and
needs far more tasks to see a real difference. Everything here is therefore paired:

- :func:`compare_binary` (pass/fail) takes its p-value from the exact McNemar test, which looks only at
  the discordant pairs (passed in one run, failed in the other), and its confidence interval for the
  difference in pass rate from a paired bootstrap.
- :func:`compare_scores` (continuous scores) takes both the p-value and the interval from a paired
  bootstrap of the mean difference.

Inputs are aligned sequences: position ``i`` of ``a`` and ``b`` is the same task (and epoch) in run A and
run B. With several epochs per task the epochs of one task are correlated, so they are not independent
evidence: ``clusters`` gives the task id of each position, and the bootstrap resamples whole tasks (a
cluster bootstrap). When some task has more than one pair, :func:`compare_binary` takes its p-value from
that cluster bootstrap too, because McNemar's test counts every pair as independent and would overstate
the evidence (three identical epochs would count three times).

Each result also carries a minimum detectable effect (:func:`min_detectable_effect`): the smallest
difference the comparison could have detected with the given power. A non-significant result with an
MDE of 15 points says "we could not have seen a 5-point change", not "there is no change".

The bootstrap is vectorised with numpy (per-cluster sums computed once, cluster indices resampled in
blocks) and deterministic for a given seed.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["PairedComparison", "compare_binary", "compare_scores", "mcnemar_exact", "min_detectable_effect"]

# At most this many resampled cluster indices are held in memory at once (about 16 MB of int64).
_MAX_CELLS = 1 << 21


@dataclass(frozen=True)
class PairedComparison:
    """The paired comparison of run A with run B.

    ``diff`` is ``mean_b - mean_a`` and ``[low, high]`` its bootstrap percentile confidence interval.
    ``test`` names where ``p_value`` came from: ``"mcnemar-exact"`` or ``"paired-bootstrap"``. For pass/fail
    results ``a_only`` and ``b_only`` count the pairs that passed only in A and only in B (both 0 for
    continuous scores). ``mde`` is the minimum detectable effect at the requested alpha and power.
    """

    n: int
    n_clusters: int
    mean_a: float
    mean_b: float
    diff: float
    low: float
    high: float
    p_value: float
    test: str
    a_only: int
    b_only: int
    mde: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pair counts.

    ``b`` counts pairs that pass in A and fail in B, ``c`` pairs that fail in A and pass in B. Under the null
    hypothesis each discordant pair is equally likely to go either way, so the p-value is that of a two-sided
    binomial test of ``b`` successes in ``b + c`` trials with p = 0.5. It is 1.0 when there are no discordant
    pairs.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    if b + c == 0:
        return 1.0
    return float(stats.binomtest(b, b + c, 0.5, alternative="two-sided").pvalue)


def _z_sum(alpha: float, power: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha}")
    if not 0 < power < 1:
        raise ValueError(f"power must be between 0 and 1 (exclusive), got {power}")
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def min_detectable_effect(n: int, discordant: float, *, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """The smallest difference in pass rate that a paired (McNemar) test of ``n`` pairs detects.

    From the normal approximation to McNemar's test: ``(z_{1-alpha/2} + z_{power}) * sqrt(discordant / n)``,
    where ``discordant`` is the share of discordant pairs (between 0 and 1). A share of 0 would give an MDE of
    0, which claims the impossible, so the share is floored at ``1 / n`` (one discordant pair). ``None`` when
    ``n == 0``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0 <= discordant <= 1:
        raise ValueError(f"discordant must be a share between 0 and 1, got {discordant}")
    z = _z_sum(alpha, power)
    if n == 0:
        return None
    return z * math.sqrt(max(discordant, 1 / n) / n)


def _check_lengths(a: Sequence[Any], b: Sequence[Any], clusters: Sequence[Hashable] | None) -> int:
    if len(a) != len(b):
        raise ValueError(f"a and b must be aligned (same length), got {len(a)} and {len(b)}")
    if len(a) == 0:
        raise ValueError("cannot compare empty runs: a and b have no pairs")
    if clusters is not None and len(clusters) != len(a):
        raise ValueError(f"clusters must have one entry per pair ({len(a)}), got {len(clusters)}")
    return len(a)


def _check_options(confidence: float, n_boot: int) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")


def _as_binary(values: Sequence[bool], name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype != np.bool_:
        if arr.ndim != 1 or not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must hold booleans (or 0/1)")
        arr = arr.astype(bool)
    return arr


def _as_scores(values: Sequence[float], name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr


def _cluster_codes(clusters: Sequence[Hashable] | None, n: int) -> tuple[np.ndarray, int]:
    """Integer codes 0..G-1 for the clusters (in order of first appearance) and G."""
    if clusters is None:
        return np.arange(n), n
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(c, len(index)) for c in clusters), dtype=np.intp, count=n)
    return codes, len(index)


def _bootstrap_diffs(d: np.ndarray, codes: np.ndarray, n_clusters: int, n_boot: int, seed: int) -> np.ndarray:
    """``n_boot`` cluster-bootstrap replicates of the mean of the per-pair differences ``d``.

    Each replicate draws ``n_clusters`` clusters with replacement and takes the ratio mean
    ``sum(cluster sums) / sum(cluster sizes)``, i.e. the mean over the pairs of the drawn clusters.
    """
    sums = np.bincount(codes, weights=d, minlength=n_clusters)
    counts = np.bincount(codes, minlength=n_clusters).astype(float)
    equal_sizes = bool((counts == counts[0]).all())
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    block = max(1, _MAX_CELLS // n_clusters)
    for start in range(0, n_boot, block):
        stop = min(start + block, n_boot)
        idx = rng.integers(0, n_clusters, size=(stop - start, n_clusters))
        total = sums[idx].sum(axis=1)
        out[start:stop] = total / (counts[0] * n_clusters) if equal_sizes else total / counts[idx].sum(axis=1)
    return out


def _percentile_ci(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(boot, [tail, 100 - tail])
    return float(low), float(high)


def _bootstrap_p(boot: np.ndarray, diff: float) -> float:
    """Two-sided bootstrap p-value: the share of replicates, shifted to the null (``boot - diff``), at least as
    far from 0 as the observed ``diff``, with the (count + 1) / (B + 1) correction."""
    null = np.abs(boot - diff)
    # A small tolerance so that replicates tying with the observed difference count despite rounding.
    extreme = int(np.count_nonzero(null >= abs(diff) - 1e-12 * max(1.0, abs(diff))))
    return (extreme + 1) / (len(boot) + 1)


def _bootstrap_se(boot: np.ndarray) -> float | None:
    """The bootstrap standard error, or ``None`` when the replicates do not vary (beyond rounding): a single
    cluster, or the same difference in every pair."""
    se = float(np.std(boot, ddof=1))
    return se if se > 1e-12 * max(1.0, float(np.max(np.abs(boot)))) else None


def compare_binary(
    a: Sequence[bool],
    b: Sequence[bool],
    clusters: Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> PairedComparison:
    """Compare paired pass/fail results of run A (``a``) and run B (``b``).

    ``diff`` is B's pass rate minus A's, with a paired (cluster) bootstrap percentile interval. When every
    cluster holds a single pair (``clusters`` is ``None`` or all distinct), the p-value is the exact McNemar
    test on the discordant pairs and the MDE comes from :func:`min_detectable_effect`. When some task has
    several pairs (epochs), the pairs are not independent, so the p-value and the MDE come from the cluster
    bootstrap instead (``test == "paired-bootstrap"``; the MDE is ``(z_{1-alpha/2} + z_{power}) * se``, floored
    at one discordant cluster when the replicates do not vary).
    """
    n = _check_lengths(a, b, clusters)
    _check_options(confidence, n_boot)
    z = _z_sum(alpha, power)
    xa = _as_binary(a, "a")
    xb = _as_binary(b, "b")
    codes, n_clusters = _cluster_codes(clusters, n)
    a_only = int(np.count_nonzero(xa & ~xb))
    b_only = int(np.count_nonzero(~xa & xb))
    mean_a = float(np.mean(xa))
    mean_b = float(np.mean(xb))
    diff = mean_b - mean_a
    boot = _bootstrap_diffs(xb.astype(float) - xa.astype(float), codes, n_clusters, n_boot, seed)
    low, high = _percentile_ci(boot, confidence)
    if n_clusters == n:
        p_value = mcnemar_exact(a_only, b_only)
        test = "mcnemar-exact"
        mde = min_detectable_effect(n, (a_only + b_only) / n, alpha=alpha, power=power)
    else:
        p_value = _bootstrap_p(boot, diff)
        test = "paired-bootstrap"
        se = _bootstrap_se(boot)
        # No variation (e.g. no discordant pairs): floor as min_detectable_effect does, per cluster.
        mde = z * se if se is not None else min_detectable_effect(n_clusters, 0.0, alpha=alpha, power=power)
    return PairedComparison(
        n=n,
        n_clusters=n_clusters,
        mean_a=mean_a,
        mean_b=mean_b,
        diff=diff,
        low=low,
        high=high,
        p_value=p_value,
        test=test,
        a_only=a_only,
        b_only=b_only,
        mde=mde,
    )


def compare_scores(
    a: Sequence[float],
    b: Sequence[float],
    clusters: Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> PairedComparison:
    """Compare paired continuous scores of run A (``a``) and run B (``b``) by a paired cluster bootstrap.

    ``diff`` is the mean of ``b`` minus the mean of ``a``; ``[low, high]`` its bootstrap percentile interval.
    The two-sided p-value is the share of bootstrap differences, re-centred under the null
    (``boot - diff``), at least as far from 0 as ``|diff|``, with the (count + 1) / (B + 1) correction (so it
    is never below ``1 / (n_boot + 1)``). The MDE is ``(z_{1-alpha/2} + z_{power}) * se`` with the bootstrap
    standard error ``se``; ``None`` when the bootstrap differences do not vary (every pair differs by the same
    amount, or there is a single cluster), since scores have no natural unit to floor it with.
    """
    n = _check_lengths(a, b, clusters)
    _check_options(confidence, n_boot)
    z = _z_sum(alpha, power)
    xa = _as_scores(a, "a")
    xb = _as_scores(b, "b")
    codes, n_clusters = _cluster_codes(clusters, n)
    mean_a = float(np.mean(xa))
    mean_b = float(np.mean(xb))
    diff = mean_b - mean_a
    boot = _bootstrap_diffs(xb - xa, codes, n_clusters, n_boot, seed)
    low, high = _percentile_ci(boot, confidence)
    se = _bootstrap_se(boot)
    return PairedComparison(
        n=n,
        n_clusters=n_clusters,
        mean_a=mean_a,
        mean_b=mean_b,
        diff=diff,
        low=low,
        high=high,
        p_value=_bootstrap_p(boot, diff),
        test="paired-bootstrap",
        a_only=0,
        b_only=0,
        mde=None if se is None else z * se,
    )
