"""Judge calibration: how well an LLM judge's verdicts agree with human labels (``evalkit judge calibrate``).

The labels file is JSON Lines, one labelled episode per line: an OpenAI-format episode as ``evalkit score
--traces`` reads it (``messages``, optional ``task_id``, ``expected``, ``model``, ``metadata``; see
``evalkit.trace.external``) plus ``labels``, the verdict a person gave each judge criterion::

    {"messages": [...], "expected": 1350, "labels": {"data_extracted": "pass", "conclusion_reasoned": "fail"}}

Every labelled (episode, criterion) is graded by the judge, whatever the criterion's ``applies_when`` says:
the person decided it applies by labelling it. A criterion is calibrated on its pass/fail verdicts, so it
needs a ``pass_threshold``; criteria without one are left out and named in the notes. Verdicts that are
neither pass nor fail (a judge error, an invalid reply) are counted as ``none`` in the confusion and left out
of κ and accuracy. κ's interval is a seeded percentile bootstrap over the labelled items by default
(``evalkit.stats.agreement``), or Cohen's analytic standard error.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from evalkit.errors import ConfigError, ImportFormatError

if TYPE_CHECKING:
    from evalkit.contracts.config import ProjectConfig
    from evalkit.contracts.rubric import CriterionSpec
    from evalkit.scoring.judge import JudgeUsage, LLMJudge
    from evalkit.scoring.registry import Verdict
    from evalkit.trace.external import ExternalTrace

LABELS = ("pass", "fail")
VERDICTS = ("pass", "fail", "none")
"""The columns of the confusion: the judge's verdict, ``none`` when it gave neither pass nor fail."""
MAX_PROBLEMS = 50
CiMethod = Literal["bootstrap", "analytic"]


class AgreementFigures(Protocol):
    """What an agreement function returns (``evalkit.stats.agreement.Agreement``)."""

    @property
    def kappa(self) -> float | None: ...
    @property
    def low(self) -> float | None: ...
    @property
    def high(self) -> float | None: ...
    @property
    def accuracy(self) -> float | None: ...


AgreementFn = Callable[..., AgreementFigures]
"""``agreement(pairs, method=, resamples=, seed=)``: handed in by the caller (scoring does not import stats)."""


@dataclass(frozen=True)
class CriterionAgreement:
    """One judge criterion's verdicts against the labels."""

    criterion: str
    labelled: int
    """Items that carry a label for this criterion."""
    compared: int
    """Of those, items the judge gave a pass or fail verdict (what κ and accuracy are computed over)."""
    kappa: float | None
    low: float | None
    high: float | None
    accuracy: float | None
    confusion: dict[str, dict[str, int]]
    """label → judge verdict (pass, fail, none) → count."""
    disagreements: tuple[int, ...] = ()
    """Line numbers of the items where the verdict differs from the label."""
    no_verdict: tuple[str, ...] = ()
    """``LINE: reason`` of items the judge gave no pass/fail verdict."""


@dataclass(frozen=True)
class Calibration:
    rubric: str
    rubric_version: str
    labels_file: str
    judge_model: str
    items: int
    ci_method: CiMethod
    ci_level: float
    resamples: int
    seed: int
    criteria: tuple[CriterionAgreement, ...]
    usage: JudgeUsage | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ci_text(self) -> str:
        """How the interval was computed, as people read it."""
        if self.ci_method == "analytic":
            return f"{self.ci_level:.0%} interval from Cohen's analytic standard error"
        return f"{self.ci_level:.0%} percentile bootstrap over items ({self.resamples} resamples, seed {self.seed})"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ci"] = self.ci_text
        return d


def _read_labels(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Each episode line's labels, and the episode lines themselves without ``labels`` (blank at the same line
    numbers, so the trace reader's ``file:LINE`` problems point at the labels file)."""
    from evalkit.fileio import problems_error, read_jsonl, shown

    problems: list[str] = []
    labelled: list[tuple[int, dict[str, str]]] = []
    lines: list[str] = []
    for lineno, obj in read_jsonl(path, problems):
        lines.extend([""] * (lineno - 1 - len(lines)))
        if not isinstance(obj, dict) or not isinstance(obj.get("labels"), dict) or not obj["labels"]:
            got = obj.get("labels") if isinstance(obj, dict) else obj
            problems.append(f"{path}:{lineno}: labels: must be an object of criterion id → pass|fail, got {shown(got)}")
            lines.append("")
            continue
        bad = {k: v for k, v in obj["labels"].items() if v not in LABELS}
        problems.extend(f"{path}:{lineno}: labels.{k}: must be pass or fail, got {shown(v)}" for k, v in bad.items())
        labelled.append((lineno, {str(k): str(v) for k, v in obj["labels"].items()}))
        lines.append(json.dumps({k: v for k, v in obj.items() if k != "labels"}))
    if problems:
        raise problems_error(problems, MAX_PROBLEMS)
    if not labelled:
        raise ImportFormatError(f"{path}: no labelled episodes in the file")
    return labelled, lines


def _traces(path: Path, lines: list[str]) -> list[ExternalTrace]:
    from evalkit.trace.external import read_external_traces

    with tempfile.TemporaryDirectory(prefix="evalkit-calibrate-") as tmp:
        episodes = Path(tmp) / path.name.removesuffix(".gz")
        episodes.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            return read_external_traces(episodes, run_id="calibration")
        except ImportFormatError as exc:
            raise ImportFormatError(str(exc).replace(str(episodes), str(path))) from None


def _criteria(rubric_ref: str | Path, criterion: str | None) -> tuple[Any, list[CriterionSpec], list[str]]:
    from evalkit.contracts.rubric import load_rubric

    rubric = load_rubric(rubric_ref)
    judged = [c for c in rubric.criteria if c.judge is not None]
    if criterion is not None:
        chosen = [c for c in judged if c.id == criterion]
        if not chosen:
            names = ", ".join(c.id for c in judged) or "none"
            raise ConfigError(f"rubric {rubric.name} has no judge criterion {criterion!r} (judge criteria: {names})")
        judged = chosen
    if not judged:
        raise ConfigError(f"rubric {rubric.name} has no judge criteria to calibrate")
    usable = [c for c in judged if c.judge is not None and c.judge.pass_threshold is not None]
    notes = [f"{c.id} has no pass_threshold (its verdict is a value, not pass/fail): not calibrated" for c in judged]
    notes = [n for c, n in zip(judged, notes, strict=True) if c not in usable]
    if not usable:
        raise ConfigError(f"no judge criterion of {rubric.name} to calibrate: {'; '.join(notes)}")
    return rubric, usable, notes


def _make_judge(judge_model: str | None, config: ProjectConfig, store: Path, use_cache: bool) -> LLMJudge:
    from evalkit.contracts.config import resolve_model
    from evalkit.models.cache import ResponseCache, cache_path
    from evalkit.scoring.judge import LLMJudge

    ref = judge_model or config.judge
    if ref is None:
        raise ConfigError("give the judge to calibrate: --judge MODEL (or judge: in evalkit.yaml)")
    return LLMJudge(
        resolve_model(ref, config),
        resolve=lambda m: resolve_model(m, config),
        cache=ResponseCache(cache_path(store)) if use_cache else None,
    )


async def _grade(
    judge: LLMJudge, jobs: Sequence[tuple[CriterionSpec, ExternalTrace]], concurrency: int
) -> list[Verdict]:
    from evalkit.scoring.registry import Verdict

    limit = asyncio.Semaphore(concurrency)

    async def one(c: CriterionSpec, t: ExternalTrace) -> Verdict:
        async with limit:
            try:
                return await judge.judge(c, t.sample, t.task)
            except Exception as exc:  # one failed call is a missing verdict, not a failed calibration
                return Verdict.error(f"judge failed: {type(exc).__name__}: {exc}")

    try:
        return list(await asyncio.gather(*(one(c, t) for c, t in jobs)))
    finally:
        await judge.aclose()  # the connections belong to this loop


def _agreement_of(
    c: CriterionSpec, graded: list[tuple[int, str, Verdict]], agreement: AgreementFn, **ci: Any
) -> CriterionAgreement:
    confusion = {label: dict.fromkeys(VERDICTS, 0) for label in LABELS}
    pairs: list[tuple[str, str]] = []
    differ: list[int] = []
    missing: list[str] = []
    for line, label, v in graded:
        got = v.verdict if v.verdict in LABELS else "none"
        confusion[label][got] += 1
        if got == "none":
            missing.append(f"{line}: {v.reason}")
            continue
        pairs.append((label, got))
        if got != label:
            differ.append(line)
    a = agreement(pairs, **ci)
    return CriterionAgreement(
        c.id, len(graded), len(pairs), a.kappa, a.low, a.high, a.accuracy, confusion, tuple(differ), tuple(missing)
    )


def calibrate(
    rubric_ref: str | Path,
    labels_file: str | Path,
    judge_model: str | None,
    agreement: AgreementFn,
    *,
    criterion: str | None = None,
    config: ProjectConfig | None = None,
    store: str | Path | None = None,
    use_cache: bool = True,
    method: CiMethod = "bootstrap",
    resamples: int = 2000,
    seed: int = 0,
    concurrency: int = 8,
) -> Calibration:
    """Grade every labelled episode of ``labels_file`` with ``rubric_ref``'s judge criteria (or only
    ``criterion``) by ``judge_model`` and measure the agreement of the verdicts with the labels by
    ``agreement`` (``evalkit.stats.agreement.agreement``) with a ``method`` interval. The judge's
    replies are cached beside ``store`` (the default store when not given) unless ``use_cache`` is False."""
    from evalkit.contracts.config import default_store, load_config

    config = config if config is not None else load_config()
    rubric, criteria, notes = _criteria(rubric_ref, criterion)
    path = Path(labels_file)
    labelled, lines = _read_labels(path)
    known = {c.id for c in rubric.criteria}
    unknown = sorted({k for _, labels in labelled for k in labels} - known)
    if unknown:
        raise ConfigError(f"{path}: labels name criteria that rubric {rubric.name} does not have: {', '.join(unknown)}")
    traces = {t.line: t for t in _traces(path, lines)}
    judge = _make_judge(judge_model, config, Path(store) if store is not None else default_store(config), use_cache)
    try:
        judge.prepare(criteria)
        jobs = [(c, line, labels[c.id]) for c in criteria for line, labels in labelled if c.id in labels]
        verdicts = asyncio.run(_grade(judge, [(c, traces[line]) for c, line, _ in jobs], concurrency))
    finally:
        if judge.cache is not None:
            judge.cache.close()
    results = []
    for c in criteria:
        graded = [(line, label, v) for (jc, line, label), v in zip(jobs, verdicts, strict=True) if jc is c]
        if not graded:
            notes.append(f"{c.id}: no item of {path.name} is labelled for it")
        results.append(_agreement_of(c, graded, agreement, method=method, resamples=resamples, seed=seed))
    assert judge.model is not None
    return Calibration(
        rubric=rubric.name,
        rubric_version=rubric.key,
        labels_file=str(path),
        judge_model=judge.model.model,
        items=len(labelled),
        ci_method=method,
        ci_level=0.95,
        resamples=resamples,
        seed=seed,
        criteria=tuple(results),
        usage=judge.usage,
        notes=tuple(notes),
    )
