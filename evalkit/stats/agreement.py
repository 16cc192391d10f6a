"""Agreement between two raters on categorical labels: Cohen's κ with a confidence interval, raw accuracy.

Used to calibrate an LLM judge against human labels (``evalkit judge calibrate``): rater A is the label, rater
B the judge's verdict, one pair per labelled item.

κ = (pₒ − pₑ) / (1 − pₑ), with pₒ the share of items both raters put in the same category and pₑ the share
they would agree on by chance, Σₖ pₐ(k)·p_b(k) from each rater's own category shares. κ is 1 for perfect
agreement, 0 for chance-level agreement, negative for less than chance. It is undefined (``None``) when
pₑ = 1: both raters used one and the same category for every item, so agreement says nothing about skill.

Two intervals, both 95 % by default:

- ``bootstrap``: resample the items with replacement (seeded, so the interval is reproducible), compute κ
  of each resample and take the percentiles; resamples where κ is undefined are left out. No normality
  assumption; the default.
- ``analytic``: κ ± z·SE with Cohen's (1960) large-sample standard error √(pₒ(1 − pₒ) / (n(1 − pₑ)²)),
  clipped to [−1, 1]. Quick, but too narrow for small n or κ near 1.

Pure Python (no numpy) so that importing it costs nothing.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

CiMethod = Literal["bootstrap", "analytic"]
DEFAULT_RESAMPLES = 2000


@dataclass(frozen=True)
class Agreement:
    """Agreement of two raters over ``n`` items: κ and its interval (``None`` when undefined), accuracy."""

    n: int
    kappa: float | None
    low: float | None
    high: float | None
    accuracy: float | None
    """pₒ: the share of items both raters put in the same category."""
    expected: float | None
    """pₑ: the agreement expected by chance from each rater's category shares."""
    method: CiMethod
    level: float


def _kappa_of_counts(joint: Counter[tuple[Hashable, Hashable]], n: int) -> float | None:
    if n == 0:
        return None
    a: Counter[Hashable] = Counter()
    b: Counter[Hashable] = Counter()
    agree = 0
    for (x, y), count in joint.items():
        a[x] += count
        b[y] += count
        if x == y:
            agree += count
    po = agree / n
    pe = sum(a[k] * b[k] for k in a) / (n * n)
    if pe >= 1 - 1e-12:
        return None
    return (po - pe) / (1 - pe)


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's κ of (rater A, rater B) pairs; ``None`` with no pairs or when chance agreement is 1."""
    return _kappa_of_counts(Counter(pairs), len(pairs))


def _chance(pairs: Sequence[tuple[Hashable, Hashable]]) -> float:
    n = len(pairs)
    a = Counter(x for x, _ in pairs)
    b = Counter(y for _, y in pairs)
    return sum(a[k] * b[k] for k in a) / (n * n)


def analytic_se(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's (1960) large-sample standard error of κ, √(pₒ(1 − pₒ) / (n(1 − pₑ)²)); ``None`` if undefined."""
    n = len(pairs)
    if n == 0:
        return None
    po = sum(1 for x, y in pairs if x == y) / n
    pe = _chance(pairs)
    if pe >= 1 - 1e-12:
        return None
    return math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2))


def _percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile ``q`` (0..1) of sorted ``values``."""
    pos = q * (len(values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def bootstrap_interval(
    pairs: Sequence[tuple[Hashable, Hashable]],
    *,
    level: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of κ over items (seeded); ``None`` when no resample has a defined κ."""
    n = len(pairs)
    if n == 0:
        return None
    rng = random.Random(seed)
    items = list(pairs)
    kappas: list[float] = []
    for _ in range(resamples):
        joint = Counter(items[rng.randrange(n)] for _ in range(n))
        k = _kappa_of_counts(joint, n)
        if k is not None:
            kappas.append(k)
    if not kappas:
        return None
    kappas.sort()
    tail = (1 - level) / 2
    return _percentile(kappas, tail), _percentile(kappas, 1 - tail)


def agreement(
    pairs: Sequence[tuple[Hashable, Hashable]],
    *,
    method: CiMethod = "bootstrap",
    level: float = 0.95,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> Agreement:
    """κ, its ``level`` interval by ``method`` and the raw accuracy of (rater A, rater B) pairs."""
    n = len(pairs)
    if n == 0:
        return Agreement(0, None, None, None, None, None, method, level)
    kappa = cohen_kappa(pairs)
    accuracy = sum(1 for x, y in pairs if x == y) / n
    low = high = None
    if kappa is not None:
        if method == "analytic":
            se = analytic_se(pairs)
            z = NormalDist().inv_cdf(1 - (1 - level) / 2)
            if se is not None:
                low, high = max(-1.0, kappa - z * se), min(1.0, kappa + z * se)
        else:
            found = bootstrap_interval(pairs, level=level, resamples=resamples, seed=seed)
            if found is not None:
                low, high = found
    return Agreement(n, kappa, low, high, accuracy, _chance(pairs), method, level)
