"""Judge a candidate run against a policy: thresholds, no significant regression, invariants.

Exit codes follow from the result: the gate passes (0) when no rule failed, fails (1) when one did, and
cannot judge (2, ``CannotEvaluate``) when there are too few samples, the runs are of different suites, or
the policy asks for a figure the runs do not have (an unscored criterion, an unknown cost, accuracy of
samples whose correctness was not scored, as imported traces without an expected answer). A regression
fails only when the candidate is worse with a (Holm-adjusted) p-value under alpha *and* by more than the
margin, so noise between two equally good runs does not block a merge. With ``judge_calibration`` in the
policy, a rule on a judge criterion whose κ against human labels (``evalkit judge calibrate``) is missing or
under ``min_kappa`` is reported as ``not_enforced`` and cannot fail the gate; nor do its critical failures count.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.compare.gate_model import GateResult, RuleResult
from evalkit.compare.model import MetricChange, PairComparison
from evalkit.compare.pairing import compare_pair, pair_models
from evalkit.compare.policy import GatePolicy
from evalkit.errors import CannotEvaluate, ConfigError
from evalkit.report.build import RunData, SampleRow, collect
from evalkit.report.figures import report_of
from evalkit.report.model import CriterionInfo, ModelReport

if TYPE_CHECKING:
    from evalkit.trace.store import TraceStore


def run_gate(
    store: TraceStore,
    candidate: str,
    baseline: str | None,
    policy: GatePolicy,
    *,
    rubrics: Sequence[str | Path] = (),
) -> GateResult:
    """Apply ``policy`` to the candidate run (and its pairing with the baseline run), both resolved ids."""
    ids = [candidate] if baseline is None else [candidate, baseline]
    collected = collect(store, ids, rubrics=rubrics)
    report = report_of(collected)
    cand_data = collected.runs[0]
    groups = [g for g in report.groups if g.run_id == candidate]
    if not groups:
        raise CannotEvaluate(f"candidate run {candidate} has no samples")
    uncalibrated = _uncalibrated(collected.criteria, policy)
    enforced = {k: c for k, c in collected.criteria.items() if k not in uncalibrated}
    rules: list[RuleResult] = []
    for g in groups:
        _check_samples(g.label, g.finished, policy.min_samples, "finished samples")
        rules += _thresholds(g, policy, collected.criteria)
        rules += _invariants(g, cand_data, enforced, policy)
    comparisons: list[PairComparison] = []
    if baseline is not None:
        base_data = collected.runs[1]
        if base_data.run.suite != cand_data.run.suite:
            raise CannotEvaluate(
                f"mismatched suites: the candidate ran {cand_data.run.suite}, the baseline {base_data.run.suite}"
            )
        for model_b, model_c in pair_models(base_data, cand_data):
            if "accuracy" in policy.metrics:
                _need_correctness(base_data, model_b, "the accuracy regression test")
                _need_correctness(cand_data, model_c, "the accuracy regression test")
            pc = compare_pair(collected, base_data, cand_data, model_b, model_c, alpha=policy.alpha)
            _check_samples(pc.label_b, pc.pairs, policy.min_samples, "samples paired with the baseline")
            comparisons.append(pc)
            rules += _regressions(pc, policy)
    rules = [_unenforced(r, uncalibrated) for r in rules]
    infos = {i.run_id: i for i in report.runs}
    notes = list(report.notes)
    critical = sorted(k for k in uncalibrated if collected.criteria[k].severity == "critical")
    if critical and policy.max_critical_failures is not None:
        notes.append(f"critical failures leave out the uncalibrated judge criteria {', '.join(critical)}")
    if baseline is None and policy.metrics:
        notes.append("no baseline: regressions were not tested (give --baseline RUN or an exported run file)")
    return GateResult(
        passed=not any(r.status == "fail" for r in rules),
        candidate=infos[candidate],
        baseline=infos.get(baseline) if baseline else None,
        policy=policy.to_dict(),
        rules=tuple(rules),
        comparisons=tuple(comparisons),
        notes=tuple(dict.fromkeys(notes)),
    )


def _uncalibrated(criteria: dict[str, CriterionInfo], policy: GatePolicy) -> dict[str, str]:
    """The judge criteria (``rubric.criterion``) that may not fail the gate, each with the reason: the policy's
    ``judge_calibration`` file lacks them, or their κ against the labels is under ``min_kappa``."""
    rule = policy.judge_calibration
    if rule is None:
        return {}
    judged = [k for k, c in criteria.items() if c.check is None]  # known from the rubric file
    path = Path(rule.file)
    if not path.is_file():
        return dict.fromkeys(judged, f"no judge calibration: {path} not found (evalkit judge calibrate -o FILE)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = {f"{data['rubric']}.{c['criterion']}": c for c in data["criteria"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"judge calibration {path} is not what evalkit judge calibrate --json writes: {exc}") from exc
    out = {}
    for key in dict.fromkeys([*judged, *(k for k in found if k in criteria)]):  # calibrated: a judge criterion
        c = found.get(key)
        if c is None:
            out[key] = f"no judge calibration of {key} in {path}"
        elif c.get("kappa") is None:
            out[key] = f"judge calibration κ of {key} is undefined (labels and verdicts all one value)"
        elif c["kappa"] < rule.min_kappa:
            ci = f" (95% CI [{c['low']:.2f}, {c['high']:.2f}])" if c.get("low") is not None else ""
            out[key] = f"judge calibration κ {c['kappa']:.2f}{ci} < {rule.min_kappa:g} for {key}"
    return out


def _unenforced(rule: RuleResult, uncalibrated: dict[str, str]) -> RuleResult:
    """A rule on an uncalibrated judge criterion, reported but never failing."""
    key = None
    if rule.kind == "threshold" and rule.rule.startswith("criterion "):
        key = rule.rule.removeprefix("criterion ").rsplit(" >= ", 1)[0]
    elif rule.kind == "regression":
        key = rule.rule.removeprefix("no regression: ")
    if key not in uncalibrated:
        return rule
    return replace(rule, status="not_enforced", detail=f"{rule.detail}; not enforced: {uncalibrated[key]}")


def _check_samples(label: str, n: int, minimum: int, what: str) -> None:
    if n < minimum:
        raise CannotEvaluate(
            f"{label}: {n} {what}, fewer than the {minimum} the policy needs to judge (min_samples / --min-samples)"
        )


_NOT_SCORED_HINT = (
    'no expected answer to judge them by; import the traces with --suite, an "expected" per line or '
    "--correct-from, or leave accuracy out of the policy (regression metrics: [rubric_score, criteria])"
)


def _need_correctness(data: RunData, model: str, what: str) -> None:
    """Refuse to judge (``CannotEvaluate``) when some finished sample's correctness was not scored."""
    done = [r for r in data.rows if r.sample.model == model and r.sample.status == "ok"]
    unscored = sum(1 for r in done if r.sample.correct is None)
    if unscored:
        raise CannotEvaluate(
            f"{model} in run {data.run.run_id}: {what} needs accuracy, but correctness was not scored for "
            f"{unscored} of {len(done)} finished samples ({_NOT_SCORED_HINT})"
        )


def _at_least(rule: str, label: str, observed: float | None, limit: float, what: str) -> RuleResult:
    if observed is None:
        raise CannotEvaluate(f"{label}: the policy needs {what}, which the run does not have")
    ok = observed >= limit - 1e-12
    detail = f"{what} {observed:.1%} {'≥' if ok else '<'} {limit:.1%}"
    return RuleResult(rule, "threshold", label, "pass" if ok else "fail", observed, limit, detail)


def _thresholds(g: ModelReport, policy: GatePolicy, criteria: dict[str, CriterionInfo]) -> list[RuleResult]:
    out = []
    if policy.min_accuracy is not None and g.not_scored:
        raise CannotEvaluate(
            f"{g.label}: the policy needs accuracy, but correctness was not scored for {g.not_scored} of "
            f"{g.finished} finished samples ({_NOT_SCORED_HINT})"
        )
    if policy.min_accuracy is not None:
        out.append(
            _at_least(f"accuracy >= {policy.min_accuracy:g}", g.label, g.accuracy.rate, policy.min_accuracy, "accuracy")
        )
    if policy.min_rubric_score is not None:
        rule = f"rubric score >= {policy.min_rubric_score:g}"
        out.append(_at_least(rule, g.label, g.rubric_score, policy.min_rubric_score, "the rubric score"))
    for name, limit in policy.min_criteria.items():
        stats = [c for c in g.criteria if name in (f"{c.rubric}.{c.criterion}", c.criterion)]
        if not stats:
            known = ", ".join(sorted(criteria)) or "none: score the run with --rubric"
            raise CannotEvaluate(f"{g.label}: criterion {name!r} was not scored in the candidate run (scored: {known})")
        for c in stats:
            key = f"{c.rubric}.{c.criterion}"
            out.append(_at_least(f"criterion {key} >= {limit:g}", g.label, c.rate.rate, limit, f"{key} pass rate"))
    if policy.max_cost_per_sample is not None:
        cost, limit = g.usage.cost_per_sample_usd, policy.max_cost_per_sample
        if cost is None or g.usage.cost_unknown:
            raise CannotEvaluate(f"{g.label}: the cost of {g.usage.cost_unknown} samples is unknown (no price)")
        ok = cost <= limit + 1e-12
        detail = f"${cost:.4f} per sample {'≤' if ok else '>'} ${limit:.4f}"
        out.append(
            RuleResult(
                f"cost per sample <= {limit:g}", "threshold", g.label, "pass" if ok else "fail", cost, limit, detail
            )
        )
    return out


def _invariants(
    g: ModelReport, data: RunData, criteria: dict[str, CriterionInfo], policy: GatePolicy
) -> list[RuleResult]:
    rows = [r for r in data.rows if r.sample.model == g.model and r.sample.status == "ok"]
    critical = {k for k, c in criteria.items() if c.severity == "critical"}
    identifiers = [k for k, c in criteria.items() if (c.check or c.criterion) == "valid_identifiers"]
    counts = {
        "invented tables": (policy.max_invented_tables, _invented(rows, "unknown_table", identifiers)),
        "invented columns": (policy.max_invented_columns, _invented(rows, "unknown_column", identifiers)),
        "critical failures": (
            policy.max_critical_failures,
            sum(1 for r in rows for k, (v, _) in r.verdicts.items() if k in critical and v == "fail"),
        ),
    }
    out = []
    for name, (limit, n) in counts.items():
        if limit is None:
            continue
        ok = n <= limit
        unit = "failing critical verdicts" if name == "critical failures" else "samples"
        detail = f"{n} {unit} {'≤' if ok else '>'} {limit}"
        out.append(
            RuleResult(
                f"{name} <= {limit}", "invariant", g.label, "pass" if ok else "fail", float(n), float(limit), detail
            )
        )
    return out


def _invented(rows: Sequence[SampleRow], error_type: str, identifiers: Sequence[str]) -> int:
    """Samples that used a name that does not exist and did not put it right: the tool said so and, where
    the run was scored, ``valid_identifiers`` failed (it tolerates a wrong name corrected at once)."""
    scored = [k for k in identifiers if any(k in r.verdicts for r in rows)]
    return sum(
        1
        for r in rows
        if error_type in r.error_types and (not scored or any(r.verdicts.get(k, ("",))[0] == "fail" for k in scored))
    )


def _tested(pc: PairComparison, metrics: Sequence[str]) -> list[MetricChange]:
    out = []
    for m in pc.metrics:
        is_criterion = m.metric not in ("accuracy", "rubric_score")
        short = m.metric.split(".", 1)[-1]
        if m.metric in metrics or (is_criterion and ("criteria" in metrics or short in metrics)):
            out.append(m)
    return out


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (step-down), in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _regressions(pc: PairComparison, policy: GatePolicy) -> list[RuleResult]:
    tested = _tested(pc, policy.metrics)
    adjusted = holm([m.p_value for m in tested]) if policy.correction == "holm" else [m.p_value for m in tested]
    out = []
    for m, p in zip(tested, adjusted, strict=True):
        worse = m.diff < -policy.margin
        failed = worse and p < policy.alpha
        detail = (
            f"{m.mean_a:.1%} → {m.mean_b:.1%} ({m.diff * 100:+.1f} pts, "
            f"95% CI [{m.low * 100:+.1f}, {m.high * 100:+.1f}]), "
            f"p={p:.3g}{' (Holm)' if policy.correction == 'holm' and len(tested) > 1 else ''}, n={m.n}"
        )
        if failed:
            detail += f": worse by more than {policy.margin * 100:.1f} pts at alpha {policy.alpha:g}"
        out.append(
            RuleResult(
                f"no regression: {m.metric}",
                "regression",
                pc.label_b,
                "fail" if failed else "pass",
                m.diff,
                -policy.margin,
                detail,
                p,
            )
        )
    return out
