"""The rubric engine: turn stored samples into one ``Score`` per sample and criterion.

Deterministic checks run in-process; judge criteria go to a ``Judge`` (any litellm model) when one is
configured and are otherwise recorded as ``skipped`` (not scored, never 0). Scoring reads only the
sample (and the task and catalog when known), so old runs can be re-scored without calling a model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from evalkit.contracts.rubric import CriterionSpec, RubricSpec
from evalkit.scoring.registry import CheckContext, Verdict, criterion_check, load_plugins
from evalkit.scoring.trace_view import TraceView
from evalkit.trace.types import Sample, Score

if TYPE_CHECKING:
    from evalkit.contracts.suite import TaskSpec
    from evalkit.env.catalog import Catalog


class Judge(Protocol):
    """An LLM judge: one verdict for one judge criterion on one sample."""

    async def judge(self, criterion: CriterionSpec, sample: Sample, task: TaskSpec | None) -> Verdict: ...


@dataclass(frozen=True)
class _JudgeJob:
    index: int
    criterion: CriterionSpec
    sample: Sample
    task: TaskSpec | None


def not_applicable_reason(c: CriterionSpec, view: TraceView, task: TaskSpec | None, has_catalog: bool) -> str | None:
    """Why a criterion does not apply to a sample, or None when it does."""
    aw = c.applies_when
    s = view.sample
    if s.status != "ok":
        return f"sample did not complete ({s.status})"
    if aw.needs_task and task is None:
        return "needs the task (expected answer / reference), which is unknown for this trace"
    if aw.needs_catalog and not has_catalog:
        return "needs the suite's catalog; give --suite"
    if aw.tool_error is not None and view.has_error != aw.tool_error:
        return "no tool error happened" if aw.tool_error else "a tool error happened"
    if aw.has_query is not None and view.has_query != aw.has_query:
        return "made no SQL query" if aw.has_query else "made a SQL query"
    if aw.answered is not None and bool(s.final_answer) != aw.answered:
        return "gave no final answer" if aw.answered else "gave a final answer"
    if task is not None:
        if aw.kind is not None and task.kind != aw.kind:
            return f"only for {aw.kind} tasks"
        if aw.answer_kind is not None and task.answer.kind != aw.answer_kind:
            return f"only for {aw.answer_kind} answers"
        if aw.difficulty is not None and task.difficulty != aw.difficulty:
            return f"only for {aw.difficulty} tasks"
        if aw.tags_any and not set(aw.tags_any) & set(task.tags):
            return f"only for tasks tagged {', '.join(aw.tags_any)}"
    elif aw.kind or aw.answer_kind or aw.difficulty or aw.tags_any:
        return "depends on the task, which is unknown for this trace"
    return None


class RubricEngine:
    def __init__(
        self,
        rubric: RubricSpec,
        *,
        tasks: Mapping[str, TaskSpec] | None = None,
        catalog: Catalog | None = None,
        judge: Judge | None = None,
        judge_concurrency: int = 8,
    ) -> None:
        load_plugins(rubric.plugins)
        self.rubric = rubric
        self.tasks = dict(tasks or {})
        self.catalog = catalog
        self.judge = judge
        self.judge_concurrency = judge_concurrency
        self._checks = {c.id: criterion_check(c) for c in rubric.criteria if c.check is not None}

    def score_samples(self, samples: Iterable[Sample]) -> list[Score]:
        scores: list[Score] = []
        jobs: list[_JudgeJob] = []
        for sample in samples:
            task = self.tasks.get(sample.task_id)
            view = TraceView(sample)
            for c in self.rubric.criteria:
                reason = not_applicable_reason(c, view, task, self.catalog is not None)
                if reason is not None:
                    verdict = Verdict.not_applicable(reason)
                elif c.judge is not None:
                    if self.judge is None:
                        verdict = Verdict("skipped", None, "not scored: no judge configured (--judge MODEL)")
                    else:
                        jobs.append(_JudgeJob(len(scores), c, sample, task))
                        verdict = Verdict.error("judge pending")
                else:
                    verdict = self._run_check(c, sample, view, task)
                scores.append(self._score(sample, c, verdict))
        if jobs:
            for job, verdict in zip(jobs, asyncio.run(self._run_judge(jobs)), strict=True):
                scores[job.index] = self._score(job.sample, job.criterion, verdict)
        return scores

    def score_sample(self, sample: Sample) -> list[Score]:
        return self.score_samples([sample])

    def _run_check(self, c: CriterionSpec, sample: Sample, view: TraceView, task: TaskSpec | None) -> Verdict:
        ctx = CheckContext(sample=sample, view=view, task=task, catalog=self.catalog, args=c.args)
        try:
            return self._checks[c.id](ctx)
        except Exception as exc:  # a broken check is an error verdict, never a crash or a silent score
            return Verdict.error(f"check {c.check} failed: {type(exc).__name__}: {exc}")

    async def _run_judge(self, jobs: Sequence[_JudgeJob]) -> list[Verdict]:
        assert self.judge is not None
        judge = self.judge
        limit = asyncio.Semaphore(self.judge_concurrency)

        async def one(job: _JudgeJob) -> Verdict:
            async with limit:
                try:
                    return await judge.judge(job.criterion, job.sample, job.task)
                except Exception as exc:
                    return Verdict.error(f"judge failed: {type(exc).__name__}: {exc}")

        try:
            return list(await asyncio.gather(*(one(j) for j in jobs)))
        finally:
            close = getattr(judge, "aclose", None)  # a judge with connections: they belong to this loop
            if close is not None:
                await close()

    def _score(self, sample: Sample, c: CriterionSpec, v: Verdict) -> Score:
        return Score(
            run_id=sample.run_id,
            sample_id=sample.sample_id,
            rubric=self.rubric.name,
            rubric_version=self.rubric.key,
            criterion=c.id,
            verdict=v.verdict,
            value=v.value,
            reason=v.reason,
            evidence=v.evidence,
        )
