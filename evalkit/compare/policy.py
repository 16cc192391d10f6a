"""A gate policy: from ``gate.yaml`` (validated by ``schemas/gate.schema.json``) and command-line flags.

Every rule is off unless the policy file or a flag turns it on, except the regression test, which runs
whenever a baseline is given. Flags override the file, key by key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_MIN_SAMPLES = 20
DEFAULT_METRICS = ("accuracy", "rubric_score", "criteria")


@dataclass(frozen=True)
class JudgeCalibration:
    """A judge criterion may fail the gate only when ``file`` (what ``evalkit judge calibrate --json -o FILE``
    writes) shows its κ against human labels at ``min_kappa`` or more; otherwise its rules are not enforced."""

    min_kappa: float
    file: str


@dataclass(frozen=True)
class GatePolicy:
    min_samples: int = DEFAULT_MIN_SAMPLES
    min_accuracy: float | None = None
    min_rubric_score: float | None = None
    max_cost_per_sample: float | None = None
    min_criteria: dict[str, float] = field(default_factory=dict)
    """``rubric.criterion`` or a bare criterion id → lowest pass rate."""
    alpha: float = 0.05
    margin: float = 0.0
    metrics: tuple[str, ...] = DEFAULT_METRICS
    correction: str = "holm"
    max_invented_tables: int | None = None
    max_invented_columns: int | None = None
    max_critical_failures: int | None = None
    judge_calibration: JudgeCalibration | None = None
    source: str | None = None
    """The policy file, when there is one."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_flags(self, **flags: Any) -> GatePolicy:
        """This policy with every flag that was given (not None) taking precedence."""
        given = {k: v for k, v in flags.items() if v is not None and v != {} and v != ()}
        if "min_criteria" in given:
            given["min_criteria"] = {**self.min_criteria, **given["min_criteria"]}
        return replace(self, **given)


def load_policy(path: Path | None) -> GatePolicy:
    """The policy in ``path`` (every problem reported as ``file:line key.path: message``), or the defaults."""
    if path is None:
        return GatePolicy()
    from evalkit.contracts.yamlfile import load_yaml, validate
    from evalkit.errors import ConfigError

    if not path.is_file():
        raise ConfigError(f"gate policy {path} not found")
    data, lines = load_yaml(path)
    data = {} if data is None else data
    validate(data, "gate", lines, "gate policy")
    thresholds = data.get("thresholds") or {}
    regression = data.get("regression") or {}
    invariants = data.get("invariants") or {}
    defaults = GatePolicy()
    calibration = data.get("judge_calibration")
    judge_calibration = None
    if calibration is not None:  # the file is relative to the policy's folder
        judge_calibration = JudgeCalibration(calibration["min_kappa"], str(path.parent / calibration["file"]))
    return GatePolicy(
        min_samples=data.get("min_samples", defaults.min_samples),
        min_accuracy=thresholds.get("accuracy"),
        min_rubric_score=thresholds.get("rubric_score"),
        max_cost_per_sample=thresholds.get("cost_per_sample"),
        min_criteria=dict(thresholds.get("criteria") or {}),
        alpha=regression.get("alpha", defaults.alpha),
        margin=regression.get("margin", defaults.margin),
        metrics=tuple(regression.get("metrics", defaults.metrics)),
        correction=regression.get("correction", defaults.correction),
        max_invented_tables=invariants.get("invented_tables"),
        max_invented_columns=invariants.get("invented_columns"),
        max_critical_failures=invariants.get("critical_failures"),
        judge_calibration=judge_calibration,
        source=str(path),
    )


def parse_criterion_flags(values: Mapping[str, float] | Sequence[str] | str | None) -> dict[str, float]:
    """``--min-criterion ID=RATE`` values (a rate as 0.9 or 90%), or a mapping of criterion to rate as it is."""
    from evalkit.errors import ConfigError

    if isinstance(values, Mapping):
        return dict(values)
    out: dict[str, float] = {}
    for value in [values] if isinstance(values, str) else list(values or ()):
        name, sep, rate = value.partition("=")
        try:
            number = float(rate.rstrip("%")) / (100 if rate.endswith("%") else 1)
        except ValueError:
            number = -1.0
        if not sep or not name or not 0 <= number <= 1:
            raise ConfigError(f"--min-criterion {value!r}: give ID=RATE with RATE between 0 and 1 (or 0% and 100%)")
        out[name.strip()] = number
    return out
