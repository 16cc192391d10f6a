"""Typed suite and task specifications (what a suite folder says, after validation).

A suite folder holds ``suite.yaml`` and ``tasks.yaml``; ``evalkit.contracts.loader.load_suite`` validates
them against ``schemas/suite.schema.json`` / ``schemas/tasks.schema.json`` and builds these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

TaskKind = Literal["single_table", "multi_table"]
Difficulty = Literal["easy", "medium", "hard"]
AnswerKind = Literal["number", "text", "list", "template"]

ALL_TOOLS: tuple[str, ...] = ("get_table_names", "get_table_info", "sql_query", "calculator")

ToolProfile = Literal["evalkit", "rllm-finqa"]
#: The tool interfaces a suite can choose (``tools: {profile: ...}`` in suite.yaml): evalkit's own four tools,
#: or the four of rLLM's FinQA cookbook with its argument names, replies and refusals (``env.rllm_tools``).
TOOL_PROFILES: tuple[ToolProfile, ...] = ("evalkit", "rllm-finqa")


@dataclass(frozen=True)
class Tolerance:
    """How close a numeric answer must be: within ``abs`` or within ``rel`` (a fraction), whichever is looser."""

    abs: float | None = None
    rel: float | None = None

    def accepts(self, expected: float, got: float) -> bool:
        diff = abs(expected - got)
        if self.abs is not None and diff <= self.abs:
            return True
        if self.rel is not None and diff <= self.rel * abs(expected):
            return True
        return self.abs is None and self.rel is None and diff <= 1e-9 * max(1.0, abs(expected))


@dataclass(frozen=True)
class Blank:
    """A numeric blank of a template answer."""

    name: str
    value: float
    unit: str | None
    tolerance: Tolerance


@dataclass(frozen=True)
class ExpectedAnswer:
    """The gold answer of a task.

    ``kind`` is ``number`` (``value`` a float, ``unit`` such as ``USD millions``, ``%``, ``x``, ``count``),
    ``text`` (``value`` a string), ``list`` (``value`` a list of strings, ``ordered`` or not) or
    ``template`` (a text with ``{name}`` blanks; each numeric blank is in ``blanks``). ``exact`` marks a
    number answer that is an identifier (a quarter, a code), matched exactly whatever the tolerance; a year
    answer (a whole 1990-2100 value with no unit) always is.
    """

    kind: AnswerKind
    value: float | str | tuple[str, ...] | None
    unit: str | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)
    ordered: bool = True
    template: str | None = None
    blanks: tuple[Blank, ...] = ()
    exact: bool = False

    def __str__(self) -> str:
        """The answer and its matching rule, as ``suite show`` prints it (the repr stays for debugging)."""
        from evalkit.contracts.answers import describe_answer

        return describe_answer(self)


@dataclass(frozen=True)
class ReferenceStep:
    """One query of a reference solution; its result is bound to ``bind``.

    A 1×1 result binds a scalar; anything else binds the list of first-column values.
    """

    bind: str
    sql: str
    table: str | None = None


@dataclass(frozen=True)
class ReferenceSolution:
    """How the gold answer is produced: queries, then arithmetic over their bound results.

    ``compute`` is a calculator expression over the bound names (``(rev_2023 - rev_2022) / rev_2022 * 100``),
    a mapping of blank name to expression for template answers, or ``None`` when the answer is the value
    bound by the last step (text and list answers).
    """

    steps: tuple[ReferenceStep, ...]
    compute: str | dict[str, str] | None = None


@dataclass(frozen=True)
class TaskSpec:
    id: str
    question: str
    kind: TaskKind
    difficulty: Difficulty
    tags: tuple[str, ...]
    tables: tuple[str, ...]
    answer: ExpectedAnswer
    reference: ReferenceSolution
    company: str | None = None
    max_turns: int | None = None
    source_line: int | None = None


@dataclass(frozen=True)
class SuiteSettings:
    """Per-suite environment and agent settings."""

    tools: tuple[str, ...] = ALL_TOOLS
    refuse_select_star: bool = True
    refuse_unfiltered: bool = True
    row_cap: int = 50
    char_cap: int = 4000
    query_timeout_s: float = 5.0
    max_turns: int = 20
    system_prompt: str | None = None
    """The suite's system prompt text (``settings.system_prompt``, or the file ``tools.system_prompt`` names);
    None: the profile's default."""
    profile: ToolProfile = "evalkit"
    """The tool interface (``tools.profile``)."""


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    version: str
    description: str
    path: Path
    database: Path
    settings: SuiteSettings
    tasks: tuple[TaskSpec, ...]
    content_hash: str

    def task(self, task_id: str) -> TaskSpec:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(task_id)
