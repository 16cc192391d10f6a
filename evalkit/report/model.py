"""What a report says, as plain data: every renderer (terminal, Markdown, HTML, JSON, JUnit) reads these.

``evalkit.report.build.build_report`` fills them from the trace store. They are frozen dataclasses of
JSON-safe values, so the JSON report is ``Report.to_dict()`` and its schema
(``evalkit/contracts/schemas/report.schema.json``) documents exactly these fields.

A *group* is one model in one run (``ModelReport``): accuracy, rubric and usage figures are per group, so a
report over several runs, or one run with several models, sets them side by side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a type only: importing evalkit.stats loads numpy and scipy
    from evalkit.stats.proportions import Rate

REPORT_SCHEMA_VERSION = 1

FAILURE_MODES: dict[str, str] = {
    "ran_out_of_turns": "ran out of turns, time or budget",
    "never_used_tools": "never used the tools",
    "invented_identifier": "invented a table or column",
    "made_up_after_error": "gave up or made up an answer after an error",
    "gave_up_without_query": "gave up without querying",
    "answered_without_query": "answered without querying",
    "no_schema_inspection": "queried without reading the schema",
    "wrong_table": "used the wrong table",
    "wrong_unit_or_scale": "wrong unit or scale",
    "arithmetic_error": "arithmetic or logic error on the right data",
    "no_answer": "gave no answer",
    "other": "wrong answer, no behaviour to blame",
}
"""The failure modes a wrong answer is put down to, in the order they are tried (the first that fits is the
sample's mode: an invented column explains a wrong number better than the arithmetic after it)."""

COMPETENT_ACCURACY = 0.5
"""A group is *otherwise competent* on a task when it answered at least this share of its scored epochs of the
other tasks right; a task every group fails is flagged as suspect (``Report.failed_by_all``) only when such a
group fails it too: when every model is weak, failing a task says nothing about the task."""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    name: str | None
    suite: str
    suite_hash: str
    created_at: str
    status: str
    models: tuple[str, ...]
    epochs: int
    rubrics: tuple[tuple[str, str], ...]
    """(name, version key) of the rubric scores the report used."""


@dataclass(frozen=True)
class CriterionInfo:
    rubric: str
    criterion: str
    category: str
    severity: str
    weight: float
    description: str
    check: str | None
    """The built-in or plugin check behind it (None for judge criteria); the diagnosis reads verdicts by
    check, so a rubric that renames a criterion keeps its meaning."""


@dataclass(frozen=True)
class CriterionStat:
    """A criterion over a set of samples: pass rate (pass / (pass + fail)) with its interval, the count of
    samples it did not apply to, of errors, and the mean of the values it gave (graded criteria)."""

    rubric: str
    criterion: str
    rate: Rate
    na: int
    errors: int
    mean_value: float | None


@dataclass(frozen=True)
class Slice:
    """Accuracy and criteria over the samples of one task kind, difficulty or tag."""

    dimension: str
    value: str
    accuracy: Rate
    criteria: tuple[CriterionStat, ...]


@dataclass(frozen=True)
class Usage:
    """Tokens, latency and cost. Tokens and latency are over the samples that recorded them (imported traces
    do not): ``tokens_per_sample`` and the latency percentiles are None when none did."""

    prompt_tokens: int
    completion_tokens: int
    tokens_per_sample: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    cost_usd: float | None
    """Total cost of the samples whose cost is known; None when no sample's cost is known."""
    cost_unknown: int
    """Samples whose cost is not known (their model has no known price, or their call failed before any
    reply): their cost is not guessed."""
    cost_per_sample_usd: float | None
    cost_per_correct_usd: float | None
    tokens_unknown: int = 0
    """Samples whose token counts were not recorded (not counted as 0)."""
    latency_unknown: int = 0
    """Samples whose latency was not recorded (not counted as 0 s)."""


@dataclass(frozen=True)
class EndpointStat:
    """What one replica of a model served in the group: requests, failed requests, mean seconds of the others."""

    url: str
    calls: int
    failures: int
    mean_latency_s: float | None


@dataclass(frozen=True)
class FailureMode:
    mode: str
    label: str
    count: int
    share: float
    """Share of the group's wrong answers."""
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class BehaviourEffect:
    """How one behaviour relates to correctness: accuracy when the criterion passed and when it failed.

    ``cost`` is the accuracy (a fraction of all finished samples) lost to its failures: the failing samples
    times the accuracy gap, over all samples. It ranks "what to train next"; it is an association, not a
    proof that fixing the behaviour fixes the answer.
    """

    rubric: str
    criterion: str
    when_passed: Rate
    when_failed: Rate
    gap: float | None
    cost: float
    explains: int
    """Wrong answers whose failure mode this behaviour is (an invented column for ``valid_identifiers``)."""
    pooled: bool
    """True when no sample of this group passed the criterion, so ``when_passed`` is taken over every group
    of the report (how the samples that did pass it fared): a model that never shows the behaviour still
    learns what it costs."""


@dataclass(frozen=True)
class ExportCommand:
    """The ``evalkit export-failures`` command that writes the tasks where a "what to train next" behaviour
    failed as training data."""

    rubric: str
    criterion: str
    kind: str | None
    """The task kind with the most failing samples (the command's ``--kind``); None when tasks have no kind."""
    failed_samples: int
    """The group's finished samples that failed the criterion."""
    command: str


@dataclass(frozen=True)
class ModelReport:
    run_id: str
    suite: str
    model: str
    label: str
    """The model, with the run's name when the report holds the same model from several runs."""
    samples: int
    finished: int
    infra_errors: int
    cancelled: int
    accuracy: Rate
    """Correct over finished samples whose correctness was scored; infrastructure errors, cancelled samples and
    samples without an expected answer are left out (``n`` is 0 when none was scored)."""
    pass_at_k: dict[str, float]
    """pass@k for k = 1 .. epochs (keys are k as text, for JSON), averaged over tasks; empty with one epoch."""
    pass_hat_k: dict[str, float]
    """pass^k: the chance that k epochs of a task are all right, averaged over tasks."""
    rubric_score: float | None
    """The mean over samples of the weighted mean of their applicable criteria's values (0..1)."""
    criteria: tuple[CriterionStat, ...]
    slices: tuple[Slice, ...]
    stop_reasons: dict[str, int]
    """How the group's samples ended → how many, most frequent first; ``truncated`` (cut by ``max_tokens``) and
    ``empty_reply`` count model failures that gave no answer."""
    usage: Usage
    failure_modes: tuple[FailureMode, ...]
    behaviours: tuple[BehaviourEffect, ...]
    train_next: tuple[BehaviourEffect, ...]
    """The behaviours whose failures cost the most accuracy, most costly first (cost > 0 only)."""
    not_scored: int = 0
    """Finished samples whose correctness was not scored (imported traces without an expected answer): they
    are neither right nor wrong."""
    first_error: str | None = None
    """The message of the group's first infrastructure error (by start time), None without one: a run whose
    samples all failed shows why."""
    endpoints: tuple[EndpointStat, ...] = ()
    """Per replica when the model had several endpoints (``api_base: [...]``), in the order first used."""
    export_commands: tuple[ExportCommand, ...] = ()
    """One per ``train_next`` entry, in its order: the command that exports the tasks it failed on."""


@dataclass(frozen=True)
class TaskRow:
    """One task for one group, over its epochs."""

    run_id: str
    label: str
    task_id: str
    kind: str
    difficulty: str
    tags: tuple[str, ...]
    finished: int
    correct: int
    infra_errors: int
    failed_criteria: tuple[str, ...]
    """Criteria (``rubric.criterion``) that failed in at least one epoch."""
    failure_mode: str | None
    """The failure mode of its first wrong epoch, or None when every finished epoch was right."""
    tokens: int | None
    """Prompt plus completion tokens of its epochs that recorded them; None when none did."""
    cost_usd: float | None
    sample_ids: tuple[str, ...]
    not_scored: int = 0
    """Finished epochs whose correctness was not scored; ``correct`` counts the right ones of the others."""

    @property
    def scored(self) -> int:
        """Finished epochs whose correctness was scored."""
        return self.finished - self.not_scored


@dataclass(frozen=True)
class Report:
    schema_version: int
    generated_at: str
    evalkit_version: str
    runs: tuple[RunInfo, ...]
    criteria: tuple[CriterionInfo, ...]
    groups: tuple[ModelReport, ...]
    tasks: tuple[TaskRow, ...]
    failed_by_all: tuple[str, ...]
    """Tasks that no group answered right in any scored epoch although at least one group is otherwise
    competent (``COMPETENT_ACCURACY``): suspect tasks or suspect gold answers (tasks whose correctness was not
    scored are never in it)."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def criteria_by_slice(self, dimension: str) -> tuple[list[tuple[str, str]], list[tuple[str, list[Rate | None]]]]:
        """Criterion pass rates per (group label, slice value) of one dimension (``kind``, ``difficulty``):
        the columns, and a row per criterion that has a rate somewhere. Does a behaviour learnt on one kind
        of task hold on the other?"""
        values: list[str] = []
        for g in self.groups:
            values.extend(s.value for s in g.slices if s.dimension == dimension and s.value not in values)
        slices = {(g.label, s.value): s for g in self.groups for s in g.slices if s.dimension == dimension}
        columns = [(g.label, v) for g in self.groups for v in values if (g.label, v) in slices]
        rows = []
        for info in self.criteria:
            rates: list[Rate | None] = []
            for column in columns:
                stat = next(
                    (c for c in slices[column].criteria if (c.rubric, c.criterion) == (info.rubric, info.criterion)),
                    None,
                )
                rates.append(stat.rate if stat is not None and stat.rate.n else None)
            if any(r is not None for r in rates):
                rows.append((info.criterion, rates))
        return columns, rows if len(values) > 1 else []

    def criterion_info(self, rubric: str, criterion: str) -> CriterionInfo | None:
        for c in self.criteria:
            if c.rubric == rubric and c.criterion == criterion:
                return c
        return None


@dataclass(frozen=True)
class Verdict:
    rubric: str
    criterion: str
    verdict: str
    value: float | None
    reason: str
    evidence: tuple[int, ...]


@dataclass(frozen=True)
class Trace:
    """One sample with its events and verdicts, for the HTML drill-down."""

    run_id: str
    label: str
    sample_id: str
    task_id: str
    epoch: int
    status: str
    stop_reason: str
    correct: bool | None
    final_answer: str | None
    expected: str | None
    question: str | None
    failure_mode: str | None
    events: tuple[dict[str, Any], ...]
    verdicts: tuple[Verdict, ...]
