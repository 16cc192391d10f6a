"""How well a rubric's deterministic criteria read the fault-injection personas: verdicts against labels.

For each sample of a persona (``evalkit.models.personas``) the labels say what every built-in deterministic
criterion *should* conclude; the verdicts say what it did. Per criterion this counts a 3×3 matrix (label pass /
fail / na × verdict pass / fail / na) and reads from it TP FP FN TN with "fail" as the positive class, the
precision and recall of fail verdicts and of pass verdicts (a verdict of na where the label is pass or fail,
and the reverse, counts against them), and the share of wrong answers whose failure mode the report's diagnosis
names as designed. A rubric's criterion is measured when its check, args and ``applies_when`` are those of a
built-in criterion (so a renamed copy is measured, a stricter variant is not); judge criteria and plugin checks
have no labels.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from evalkit.contracts.rubric import CriterionSpec, RubricSpec
from evalkit.contracts.suite import TaskSpec
from evalkit.models.personas import Labels, labels_for, persona_design
from evalkit.models.scripts import PERSONAS
from evalkit.trace.types import Sample

BUILTIN_RUBRICS = ("tool-discipline", "answer")
TARGET = 0.98
"""Precision and recall every built-in deterministic criterion should reach on the personas' labels."""
DIAGNOSIS_TARGET = 0.95
CLASSES = ("pass", "fail", "na")

__all__ = [
    "DIAGNOSIS_TARGET", "TARGET", "CriterionValidation", "RubricValidation", "measure", "persona_design",
    "persona_models",
]  # fmt: skip


def persona_models() -> list[str]:
    """Every fault-injection persona as a model name (``scripted/<name>``)."""
    return [f"scripted/{p}" for p in PERSONAS]


def _signature(c: CriterionSpec) -> tuple[str, str, str]:
    return (c.check or "", json.dumps(dict(c.args), sort_keys=True, default=str), repr(c.applies_when))


@cache
def _builtin_keys() -> dict[tuple[str, str, str], str]:
    from evalkit.contracts.rubric import load_rubric

    return {_signature(c): c.id for name in BUILTIN_RUBRICS for c in load_rubric(name).criteria if c.check}


def label_keys(rubric: RubricSpec) -> dict[str, str]:
    """Criterion id → the label key it is measured against (criteria without labels are left out)."""
    keys = _builtin_keys()
    return {c.id: keys[_signature(c)] for c in rubric.criteria if c.check and _signature(c) in keys}


def verdict_class(verdict: str, value: float | None) -> str | None:
    """pass / fail / na for a stored verdict (a graded value passes only at 1); None for skipped or error."""
    if verdict in CLASSES:
        return verdict
    if verdict == "value" and value is not None:
        return "pass" if value >= 1 - 1e-9 else "fail"
    return None


def sample_labels(sample: Sample, task: TaskSpec | None, run_seed: int) -> Labels | None:
    """The labels of a persona's stored sample (None for another model, a missing task or an unfinished
    sample), from its tool results as the persona received them."""
    if task is None or sample.status != "ok" or persona_design(sample.model) is None:
        return None
    results = [e.content or "" for e in sample.events if e.kind == "tool"]
    return labels_for(sample.model, task, results, run_seed + sample.epoch, sample.epoch)


@dataclass(frozen=True)
class Observation:
    """One persona sample as scored: its verdicts (``rubric.criterion`` → (verdict, value, reason)) and the
    failure mode the report's diagnosis gave it."""

    sample: Sample
    task: TaskSpec | None
    run_seed: int
    verdicts: Mapping[str, tuple[str, float | None, str]]
    diagnosed: str | None


@dataclass(frozen=True)
class Disagreement:
    criterion: str
    """``rubric.criterion``, or ``diagnosis``."""
    model: str
    task_id: str
    epoch: int
    expected: str
    got: str
    reason: str
    did: str
    """What the persona did on this sample (its deliberate faults)."""
    run_id: str


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class CriterionValidation:
    rubric: str
    criterion: str
    check: str
    label: str
    matrix: Mapping[str, Mapping[str, int]]
    """label → verdict → samples (pass / fail / na)."""
    unlabelled: int = 0
    """Samples whose design does not say (e.g. correctness of a guess from the schema)."""
    errors: int = 0
    """Verdicts that are errors or skipped."""

    def n(self, label: str, verdict: str) -> int:
        return self.matrix.get(label, {}).get(verdict, 0)

    @property
    def tp(self) -> int:
        return self.n("fail", "fail")

    @property
    def fp(self) -> int:
        return self.n("pass", "fail")

    @property
    def fn(self) -> int:
        return self.n("fail", "pass")

    @property
    def tn(self) -> int:
        return self.n("pass", "pass")

    def precision(self, verdict: str) -> float | None:
        return _ratio(self.n(verdict, verdict), sum(self.n(label, verdict) for label in CLASSES))

    def recall(self, verdict: str) -> float | None:
        return _ratio(self.n(verdict, verdict), sum(self.n(verdict, got) for got in CLASSES))

    @property
    def na_mismatches(self) -> int:
        """Labelled na but judged pass or fail, or the reverse."""
        return sum(self.n("na", v) + self.n(v, "na") for v in ("pass", "fail"))

    @property
    def figures(self) -> tuple[float | None, ...]:
        """Precision and recall of fail verdicts, then of pass verdicts."""
        return (self.precision("fail"), self.recall("fail"), self.precision("pass"), self.recall("pass"))

    def meets(self, target: float = TARGET) -> bool:
        return all(x is None or x >= target for x in self.figures)


@dataclass(frozen=True)
class DiagnosisValidation:
    right: int
    total: int
    """Wrong answers whose failure mode is known by design."""
    misses: tuple[tuple[str, str, int], ...] = ()
    """(designed mode, diagnosed mode or "none", samples), most frequent first."""
    unknown: int = 0
    """Wrong answers whose failure mode the design does not say."""

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.right, self.total)


@dataclass(frozen=True)
class RubricValidation:
    """The confusion matrices of a rubric's criteria on the personas, and the diagnosis accuracy."""

    rubrics: tuple[str, ...]
    suites: tuple[str, ...]
    models: tuple[str, ...]
    samples: int
    labelled: int
    criteria: tuple[CriterionValidation, ...]
    not_measured: tuple[str, ...]
    """Criteria without labels (judge criteria, plugin checks, changed args)."""
    diagnosis: DiagnosisValidation
    disagreements: tuple[Disagreement, ...] = ()
    target: float = TARGET
    diagnosis_target: float = DIAGNOSIS_TARGET
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """Every measured criterion and the diagnosis meet their targets."""
        accuracy = self.diagnosis.accuracy
        diagnosis_ok = accuracy is None or accuracy >= self.diagnosis_target
        return diagnosis_ok and all(c.meets(self.target) for c in self.criteria)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for row, c in zip(out["criteria"], self.criteria, strict=True):
            row |= {"tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn, "na_mismatches": c.na_mismatches}
            row |= {"fail_precision": c.precision("fail"), "fail_recall": c.recall("fail")}
            row |= {
                "pass_precision": c.precision("pass"),
                "pass_recall": c.recall("pass"),
                "meets": c.meets(self.target),
            }
        out["diagnosis"]["accuracy"] = self.diagnosis.accuracy
        out["passed"] = self.passed
        return out


def measure(
    observations: Iterable[Observation],
    rubrics: Sequence[RubricSpec],
    *,
    suites: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> RubricValidation:
    """Tally verdicts against labels for every measured criterion of ``rubrics``, and the diagnosis."""
    measured = [(r.name, c, key) for r in rubrics for c in r.criteria if (key := label_keys(r).get(c.id))]
    not_measured = [f"{r.name}.{c.id}" for r in rubrics for c in r.criteria if c.id not in label_keys(r)]
    matrices: dict[str, Counter[tuple[str, str]]] = {f"{r}.{c.id}": Counter() for r, c, _ in measured}
    unlabelled: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    disagreements: list[Disagreement] = []
    modes: Counter[tuple[str, str]] = Counter()
    unknown_modes = samples = labelled = 0
    models: dict[str, None] = {}
    for ob in observations:
        samples += 1
        models.setdefault(ob.sample.model)
        labels = sample_labels(ob.sample, ob.task, ob.run_seed)
        if labels is None or not labels.complete:
            continue
        labelled += 1
        did = "; ".join(labels.did)
        for rubric, c, key in measured:
            name = f"{rubric}.{c.id}"
            expected = labels.verdicts.get(key)
            verdict, value, reason = ob.verdicts.get(name, ("na", None, "not scored"))
            got = verdict_class(verdict, value)
            if got is None:
                errors[name] += 1
            elif expected is None:
                unlabelled[name] += 1
            else:
                matrices[name][(expected, got)] += 1
                if expected != got:
                    disagreements.append(_disagreement(name, ob, expected, got, reason, did))
        if labels.correct is False:
            if not labels.mode_known or labels.mode is None:
                unknown_modes += 1
                continue
            diagnosed = ob.diagnosed or "none"
            modes[(labels.mode, diagnosed)] += 1
            if diagnosed != labels.mode:
                disagreements.append(_disagreement("diagnosis", ob, labels.mode, diagnosed, "", did))
    criteria = tuple(
        CriterionValidation(
            rubric,
            c.id,
            c.check or "",
            key,
            {lab: {got: matrices[f"{rubric}.{c.id}"][(lab, got)] for got in CLASSES} for lab in CLASSES},
            unlabelled[f"{rubric}.{c.id}"],
            errors[f"{rubric}.{c.id}"],
        )
        for rubric, c, key in measured
    )
    right = sum(n for (want, got), n in modes.items() if want == got)
    misses = tuple(sorted(((w, g, n) for (w, g), n in modes.items() if w != g), key=lambda m: (-m[2], m[0], m[1])))
    return RubricValidation(
        rubrics=tuple(r.name for r in rubrics),
        suites=tuple(suites),
        models=tuple(models),
        samples=samples,
        labelled=labelled,
        criteria=criteria,
        not_measured=tuple(not_measured),
        diagnosis=DiagnosisValidation(right, sum(modes.values()), misses, unknown_modes),
        disagreements=tuple(disagreements),
        notes=tuple(notes),
    )


def _disagreement(name: str, ob: Observation, expected: str, got: str, reason: str, did: str) -> Disagreement:
    s = ob.sample
    return Disagreement(name, s.model, s.task_id, s.epoch, expected, got, reason, did, s.run_id)
