"""Pass rates with honest uncertainty: Wilson intervals, pass@k, pass^k and percentiles.

An accuracy of 7/10 and one of 700/1000 are both "70%", but only the second says much. Every rate evalkit
reports therefore carries a Wilson score interval (:func:`wilson`), which, unlike the textbook normal
interval, stays inside [0, 1] and keeps close to its nominal coverage for small ``n`` and rates near 0 or 1.
The interval itself comes from :func:`scipy.stats.binomtest`, not from hand-written code.

With several samples (epochs) per task two questions differ:

- **pass@k** (Chen et al. 2021, the HumanEval paper): would *at least one* of ``k`` attempts succeed? The
  unbiased estimator from ``n`` samples of which ``c`` are correct is ``1 - C(n-c, k) / C(n, k)``.
- **pass^k** (Yao et al. 2024, tau-bench): would *all* ``k`` attempts succeed, i.e. is the agent reliable?
  Its estimator is ``C(c, k) / C(n, k)``.

Both are computed per task and then averaged over tasks (:func:`average_pass_at_k`), as the papers do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["Rate", "average_pass_at_k", "pass_at_k", "pass_hat_k", "percentile", "wilson"]


@dataclass(frozen=True)
class Rate:
    """``k`` successes out of ``n`` trials, the rate ``k / n`` and a confidence interval ``[low, high]``.

    ``rate``, ``low`` and ``high`` are ``None`` when ``n == 0``: there is no rate to report.
    """

    k: int
    n: int
    rate: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fmt(self, digits: int = 1) -> str:
        """``"72.5% [63.1, 80.2] (n=120)"``, or ``"—"`` when there were no trials."""
        if self.n == 0 or self.rate is None or self.low is None or self.high is None:
            return "—"
        return f"{100 * self.rate:.{digits}f}% [{100 * self.low:.{digits}f}, {100 * self.high:.{digits}f}] (n={self.n})"


def _check_counts(k: int, n: int, what: str = "k") -> None:
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0 <= k <= n:
        raise ValueError(f"{what} must be between 0 and n={n}, got {k}")


def wilson(k: int, n: int, confidence: float = 0.95) -> Rate:
    """The rate ``k / n`` with its Wilson score interval at the given confidence level.

    ``n == 0`` gives a :class:`Rate` whose rate and bounds are ``None``. Raises ``ValueError`` unless
    ``0 <= k <= n`` and ``0 < confidence < 1``.
    """
    _check_counts(k, n)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    if n == 0:
        return Rate(k=0, n=0, rate=None, low=None, high=None)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Rate(k=k, n=n, rate=k / n, low=float(ci.low), high=float(ci.high))


def _check_pass_args(n: int, c: int, k: int) -> None:
    _check_counts(c, n, what="c (the number of correct samples)")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > n:
        raise ValueError(f"k={k} is larger than the number of samples n={n}")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k from ``n`` samples of which ``c`` are correct (Chen et al. 2021).

    The probability that at least one of ``k`` samples drawn without replacement from the ``n`` is correct,
    ``1 - C(n-c, k) / C(n, k)``, computed in the paper's numerically stable product form
    ``1 - prod_{i=n-c+1}^{n} (1 - k / i)``. It is 1.0 when ``n - c < k`` (every draw of ``k`` holds a
    correct sample). Raises ``ValueError`` unless ``1 <= k <= n`` and ``0 <= c <= n``.
    """
    _check_pass_args(n, c, k)
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Estimate of pass^k from ``n`` samples of which ``c`` are correct (Yao et al. 2024, tau-bench).

    The probability that ``k`` samples drawn without replacement from the ``n`` are *all* correct,
    ``C(c, k) / C(n, k)``, computed as the product ``prod_{i=0}^{k-1} (c - i) / (n - i)`` so that large
    ``n`` does not overflow. It is 0.0 when ``c < k``. Raises ``ValueError`` unless ``1 <= k <= n`` and
    ``0 <= c <= n``.
    """
    _check_pass_args(n, c, k)
    if c < k:
        return 0.0
    return float(np.prod(np.arange(c - k + 1, c + 1) / np.arange(n - k + 1, n + 1)))


def average_pass_at_k(counts: Mapping[str, tuple[int, int]], k: int, *, hat: bool = False) -> float | None:
    """The mean over tasks of pass@k (or of pass^k when ``hat`` is true).

    ``counts`` maps each task id to ``(n, c)``: its number of samples and how many were correct. Tasks with
    fewer than ``k`` samples cannot be estimated and are skipped; ``None`` when no task has ``k`` samples.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    estimator = pass_hat_k if hat else pass_at_k
    values = [estimator(n, c, k) for n, c in counts.values() if n >= k]
    if not values:
        return None
    return math.fsum(values) / len(values)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (``q`` from 0 to 100, as in numpy) with linear interpolation; ``None`` if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q, method="linear"))
