"""Statistics for evaluation results: rates with confidence intervals and paired comparisons of runs.

- :mod:`evalkit.stats.proportions`: Wilson intervals for pass rates, pass@k and pass^k, percentiles.
- :mod:`evalkit.stats.paired`: is run B better than run A? Exact McNemar test and a paired cluster
  bootstrap, each with a minimum detectable effect.
- :mod:`evalkit.stats.agreement`: Cohen's κ of two raters (a judge against human labels) with a seeded bootstrap
  or analytic interval; pure Python, imported on its own by ``evalkit judge calibrate``.

This package imports numpy and scipy at load time, so only the commands that need statistics import it;
``evalkit/__init__.py`` never does.
"""

from __future__ import annotations

from evalkit.stats.paired import (
    PairedComparison,
    compare_binary,
    compare_scores,
    mcnemar_exact,
    min_detectable_effect,
)
from evalkit.stats.proportions import Rate, average_pass_at_k, pass_at_k, pass_hat_k, percentile, wilson

__all__ = [
    "PairedComparison",
    "Rate",
    "average_pass_at_k",
    "compare_binary",
    "compare_scores",
    "mcnemar_exact",
    "min_detectable_effect",
    "pass_at_k",
    "pass_hat_k",
    "percentile",
    "wilson",
]
