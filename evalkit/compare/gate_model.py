"""What a gate decided, as plain data (``GateResult.to_dict()`` is the JSON output).

A gate checks a candidate run against a policy: absolute thresholds, no significant regression against a
baseline, and hard invariants. Each check is a ``RuleResult`` that passed or failed (a rule that cannot be
applied stops the gate with ``CannotEvaluate`` instead of being left out), or was not enforced (a rule on a
judge criterion the policy's ``judge_calibration`` does not trust); the gate passes when none failed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from evalkit.compare.model import PairComparison
from evalkit.report.model import RunInfo

RuleKind = Literal["threshold", "regression", "invariant"]
RuleStatus = Literal["pass", "fail", "not_enforced"]


@dataclass(frozen=True)
class RuleResult:
    """One rule of the policy applied to one model of the candidate run.

    ``observed`` and ``limit`` are in the rule's unit (a rate 0..1, USD, a count); for a regression rule
    ``observed`` is the candidate − baseline difference, ``limit`` the margin, and ``p_value`` the paired
    test's (Holm-adjusted) p-value.
    """

    rule: str
    kind: RuleKind
    label: str
    """The candidate model the rule was applied to."""
    status: RuleStatus
    observed: float | None
    limit: float | None
    detail: str
    p_value: float | None = None


@dataclass(frozen=True)
class GateResult:
    passed: bool
    candidate: RunInfo
    baseline: RunInfo | None
    policy: dict[str, Any]
    """The policy as applied (file and flags merged)."""
    rules: tuple[RuleResult, ...]
    comparisons: tuple[PairComparison, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.rules if r.status == "fail")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failures"] = len(self.failures)
        return d
