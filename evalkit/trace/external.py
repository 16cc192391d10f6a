"""Read agent traces recorded elsewhere (OpenAI chat format) as evalkit ``Sample``s.

The file is JSON Lines, one episode per line::

    {"messages": [...], "task_id": "t1", "expected": 1350, "model": "my-agent", "metadata": {...}}

``messages`` are OpenAI chat messages, read as events by :mod:`evalkit.trace.chat_messages` (which says how
events are numbered, how a tool error is inferred from a result's text, where the final answer comes from
and how the stop reason is read). Only ``messages`` is required. An optional ``usage`` object gives what the
log recorded of tokens and time (``{"prompt_tokens": ..., "completion_tokens": ..., "latency_s": ...}``,
each optional, Inspect AI logs fill it); what it does not give is unknown: the sample's ``metadata["unknown"]``
lists ``tokens`` and/or ``latency``, whose fields hold 0 only because a ``Sample`` stores numbers there, and
readers show them as unknown. The cost is always unknown (``None``).

Correctness: an episode with a task (below) is checked against its expected answer; one without is *not
scored* (``correct`` is ``None``), never wrong. A signal the log recorded can be named as the correctness
instead (``parse_correct_from``: ``metadata.reward>=1``); it then decides ``correct`` for every episode, and an
episode without it is not scored.

The task: the suite's task with the episode's ``task_id`` (or, without ``task_id``, the suite task whose
question is the episode's first user message); else, when ``expected`` is given, a minimal task built from it
(``minimal_task``); else none (criteria that need the task are N/A). Malformed lines raise
``ImportFormatError`` listing every problem as ``file:LINE: problem``.
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.contracts.answers import check_answer, expected_text, parse_amount
from evalkit.contracts.suite import Difficulty, ExpectedAnswer, ReferenceSolution, TaskKind, TaskSpec, Tolerance
from evalkit.errors import ConfigError, ImportFormatError
from evalkit.fileio import problems_error, read_jsonl, shown
from evalkit.trace.chat_messages import chat_events
from evalkit.trace.recorded_usage import recorded_usage
from evalkit.trace.types import Event, Sample, StopReason

if TYPE_CHECKING:
    from evalkit.contracts.suite import SuiteSpec

MAX_PROBLEMS = 50
DEFAULT_MODEL = "external"
UNKNOWN_USAGE = ("tokens", "latency")
"""What ``metadata["unknown"]`` of an imported sample lists: figures the trace format does not hold."""

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_EXPRESSION = re.compile(r"\s*(metadata(?:\.[\w-]+)+)\s*(>=|<=|==|!=|>|<)\s*([^\s<>=!]+)\s*")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_SHAPE = "a dotted path under metadata, one of >= > <= < == !=, and a number, true or false (e.g. metadata.reward>=1)"


@dataclass(frozen=True)
class CorrectFrom:
    """A signal recorded in each episode's ``metadata`` named as its correctness: ``path`` (from the line's
    object, so it starts with ``metadata``), a comparison ``op`` and the ``value`` it compares with."""

    expression: str
    path: tuple[str, ...]
    op: str
    value: float | bool

    def judge(self, obj: dict[str, Any]) -> tuple[Any, bool | None, str | None]:
        """(the signal's value, or None when the line lacks it; the correctness, None when not scored; what
        is wrong with the line's signal, or None)."""
        node: Any = obj
        for key in self.path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None, None, None
        want_bool = isinstance(self.value, bool)
        if want_bool != isinstance(node, bool) or not isinstance(node, bool | int | float):
            kind = "true or false" if want_bool else "a number"
            return None, None, f"{'.'.join(self.path)}: must be {kind} for --correct-from, got {shown(node)}"
        return node, _OPERATORS[self.op](node, self.value), None


def parse_correct_from(text: str) -> CorrectFrom:
    """``metadata.reward>=1`` as a ``CorrectFrom``: a dotted path under ``metadata``, one comparison operator
    (``>= > <= < == !=``) and a number, ``true`` or ``false`` (booleans compare with ``==``/``!=`` only).
    Nothing is evaluated as code; anything else is a ``ConfigError`` naming ``--correct-from``."""
    m = _EXPRESSION.fullmatch(text)
    if m is None:
        raise ConfigError(f"--correct-from {text!r}: expected {_SHAPE}")
    path, op, raw = m.group(1), m.group(2), m.group(3)
    value: float | bool
    if raw.lower() in ("true", "false"):
        if op not in ("==", "!="):
            raise ConfigError(
                f"--correct-from {text!r}: true and false compare with == or != only (e.g. metadata.reward>=1)"
            )
        value = raw.lower() == "true"
    elif _NUMBER.fullmatch(raw) and math.isfinite(float(raw)):
        value = float(raw)
    else:
        raise ConfigError(f"--correct-from {text!r}: {raw!r} is not a finite number, true or false; expected {_SHAPE}")
    return CorrectFrom(text, tuple(path.split(".")), op, value)


@dataclass(frozen=True)
class ExternalTrace:
    """One imported episode: the sample, the task it was scored against (if any) and its line."""

    sample: Sample
    task: TaskSpec | None
    line: int


def minimal_task(task_id: str, question: str, expected: Any, metadata: dict[str, Any]) -> TaskSpec | None:
    """A task built from an episode's ``expected``: a number (or a string such as ``"1,350 USD millions"``
    or ``"11.1%"``) → a number answer with its unit and a relative tolerance of 1 %; an object
    ``{"kind", "value", "unit", "tolerance", "ordered"}`` → that answer; any other string → text.
    ``metadata`` may give ``kind``, ``difficulty`` and ``tags`` (else single_table, medium, ``external``)."""
    answer = _expected_answer(expected)
    if answer is None:
        return None
    kind: TaskKind = "multi_table" if metadata.get("kind") == "multi_table" else "single_table"
    difficulty: Difficulty = "medium"
    if metadata.get("difficulty") == "easy":
        difficulty = "easy"
    elif metadata.get("difficulty") == "hard":
        difficulty = "hard"
    tags = metadata.get("tags")
    return TaskSpec(
        id=task_id,
        question=question,
        kind=kind,
        difficulty=difficulty,
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else ("external",),
        tables=(),
        answer=answer,
        reference=ReferenceSolution(steps=()),
    )


def _expected_answer(expected: Any) -> ExpectedAnswer | None:
    rel = Tolerance(rel=0.01)
    if isinstance(expected, bool) or expected is None:
        return None
    if isinstance(expected, int | float):
        return ExpectedAnswer("number", float(expected), tolerance=rel)
    if isinstance(expected, str):
        amount = parse_amount(expected)
        if amount is not None:
            return ExpectedAnswer("number", amount[0], unit=amount[1], tolerance=rel)
        return ExpectedAnswer("text", expected.strip())
    if isinstance(expected, dict):
        value = expected.get("value")
        kind = expected.get("kind") or (
            "number" if isinstance(value, int | float) else "list" if isinstance(value, list) else "text"
        )
        tol = expected.get("tolerance") or {}
        tolerance = Tolerance(abs=tol.get("abs"), rel=tol.get("rel")) if tol else rel
        if kind == "number" and isinstance(value, int | float):
            return ExpectedAnswer("number", float(value), unit=expected.get("unit"), tolerance=tolerance)
        if kind == "list" and isinstance(value, list):
            return ExpectedAnswer("list", tuple(str(v) for v in value), ordered=bool(expected.get("ordered", True)))
        return ExpectedAnswer("text", str(value))
    return None


def _expected_problems(expected: Any) -> list[str]:
    if isinstance(expected, bool) or not isinstance(expected, str | int | float | dict):
        return [f"expected: must be a string, a number or an object, got {shown(expected)}"]
    if not isinstance(expected, dict):
        return []
    value, kind, tol = expected.get("value"), expected.get("kind"), expected.get("tolerance")
    if kind not in (None, "number", "text", "list"):
        return [f"expected.kind: must be number, text or list, got {shown(kind)}"]
    if tol is not None and not (
        isinstance(tol, dict)
        and set(tol) <= {"abs", "rel"}
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in tol.values())
    ):
        return [f"expected.tolerance: must be an object with numbers 'abs' and/or 'rel', got {shown(tol)}"]
    if expected.get("unit") is not None and not isinstance(expected["unit"], str):
        return [f"expected.unit: must be a string, got {shown(expected['unit'])}"]
    if kind == "number" or (kind is None and isinstance(value, int | float)):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"expected.value: must be a number, got {shown(value)}"]
    if kind == "list" or isinstance(value, list):
        return [] if isinstance(value, list) else [f"expected.value: must be a list, got {shown(value)}"]
    return [] if isinstance(value, str) else [f"expected.value: must be a string, got {shown(value)}"]


def _line_problems(obj: Any) -> list[str]:
    if not isinstance(obj, dict):
        return [f"expected a JSON object, got {shown(obj)}"]
    out = [
        f"unknown field {k!r}"
        for k in obj
        if k not in ("messages", "task_id", "expected", "model", "metadata", "usage")
    ]
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        out.append(f"messages: must be a non-empty list of chat messages, got {shown(messages)}")
    elif not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        out.append("messages: no assistant message (nothing the agent did)")
    for key, ok in (("task_id", str), ("model", str), ("metadata", dict)):
        if key in obj and not isinstance(obj[key], ok):
            out.append(f"{key}: must be {'an object' if ok is dict else 'a string'}, got {shown(obj[key])}")
    if "expected" in obj:
        out.extend(_expected_problems(obj["expected"]))
    return out


def read_external_traces(
    path: Path,
    *,
    run_id: str,
    suite: SuiteSpec | None = None,
    model_name: str | None = None,
    correct_from: CorrectFrom | None = None,
) -> list[ExternalTrace]:
    """Parse ``path`` into samples of run ``run_id``. ``model_name`` overrides each episode's ``model``;
    ``correct_from`` names the recorded signal that decides each episode's correctness. Episodes of the same
    task and model are numbered as epochs 0, 1, ... in file order."""
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file")
    problems: list[str] = []
    out: list[ExternalTrace] = []
    builder = TraceBuilder(run_id, suite, model_name, correct_from)
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    for lineno, obj in read_jsonl(path, problems):
        if len(problems) >= MAX_PROBLEMS:
            break
        found = _line_problems(obj)
        if not found:
            where = {"source": "external", "file": str(path), "line": lineno}
            trace = builder.build(obj, lineno, where, stamp, found)
            if trace is not None:
                out.append(trace)
        problems.extend(f"{path}:{lineno}: {p}" for p in found)
    if problems:
        raise problems_error(problems, MAX_PROBLEMS)
    if not out:
        raise ImportFormatError(f"{path}: no episodes in the file")
    return out


@dataclass
class TraceBuilder:
    """Episodes, each as an object of the JSON Lines shape above, → ``ExternalTrace``s of one run: what every
    trace format's reader shares (events, task, epochs, correctness). ``stored`` is a signal the format itself
    records (an rLLM episode's ``is_correct``, an Inspect sample's score): it decides correctness only for
    an episode without a task to check against; beside a task, evalkit's matcher decides and the stored value
    is kept in ``metadata["stored_correct"]``. ``correct_from`` (the user's ``--correct-from``) decides for
    every episode."""

    run_id: str
    suite: SuiteSpec | None = None
    model_name: str | None = None
    correct_from: CorrectFrom | None = None
    stored: CorrectFrom | None = None
    epochs: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_question: dict[str, TaskSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.suite is not None:
            self.by_question = {" ".join(t.question.split()): t for t in self.suite.tasks}

    def build(
        self,
        obj: dict[str, Any],
        line: int,
        where: dict[str, Any],
        stamp: str,
        problems: list[str],
        stop: StopReason | None = None,
    ) -> ExternalTrace | None:
        """One episode's trace (``where``: its source, first in its metadata; ``stop``: the stop reason the
        format recorded, over the one its messages show), or None with what is wrong added to ``problems``."""
        found: list[str] = []
        events, answer, shown_stop = chat_events(obj["messages"], found)
        signal = self.correct_from or self.stored
        value, correct, problem = signal.judge(obj) if signal is not None else (None, None, None)
        if problem is not None:
            found.append(problem)
        if found:
            problems.extend(found)
            return None
        question = next((e.content or "" for e in events if e.kind == "user"), "")
        task, minimal = _task_for(obj, question, self.suite, self.by_question, line)
        model = self.model_name or obj.get("model") or DEFAULT_MODEL
        task_id = task.id if task is not None else obj.get("task_id") or f"line-{line}"
        epoch = self.epochs[(task_id, model)]
        self.epochs[(task_id, model)] += 1
        metadata: dict[str, Any] = dict(where)
        if obj.get("metadata"):
            metadata["external"] = obj["metadata"]
        if minimal:
            metadata["expected"] = obj["expected"]  # lets a later re-score rebuild the minimal task
        usage = recorded_usage(obj.get("usage"), found)
        if found:
            problems.extend(found)
            return None
        sample = _sample(self.run_id, task_id, model, epoch, events, answer, stop or shown_stop, task, stamp, metadata)
        sample = replace(sample, **usage)
        if usage:
            known = {"tokens"} if "prompt_tokens" in usage else set()
            known |= {"latency"} if "latency_s" in usage else set()
            sample.metadata["unknown"] = [u for u in UNKNOWN_USAGE if u not in known]
        record = {"expression": signal.expression, "value": value} if signal is not None else {}
        if self.correct_from is not None or (task is None and value is not None):
            metadata["correct_from"] = record
            sample = replace(sample, correct=correct)
        elif value is not None:
            metadata["stored_correct"] = {**record, "correct": correct}
        return ExternalTrace(sample, task, line)


def _task_for(
    obj: dict[str, Any], question: str, suite: SuiteSpec | None, by_question: dict[str, TaskSpec], line: int
) -> tuple[TaskSpec | None, bool]:
    """The episode's task, and whether it is a minimal one built from ``expected``."""
    task_id = obj.get("task_id")
    if suite is not None:
        for t in suite.tasks:
            if t.id == task_id:
                return t, False
        if task_id is None and " ".join(question.split()) in by_question:
            return by_question[" ".join(question.split())], False
    if "expected" in obj:
        task = minimal_task(task_id or f"line-{line}", question, obj["expected"], obj.get("metadata") or {})
        return task, task is not None
    return None, False


def _sample(
    run_id: str,
    task_id: str,
    model: str,
    epoch: int,
    events: list[Event],
    answer: str | None,
    stop: StopReason,
    task: TaskSpec | None,
    stamp: str,
    metadata: dict[str, Any],
) -> Sample:
    tools = [e for e in events if e.kind == "tool"]
    check = check_answer(task.answer, answer, question=task.question) if task is not None else None
    if check is not None:
        metadata["answer_check"] = check.reason
        if check.rule:
            metadata["answer_rule"] = check.rule
    metadata["unknown"] = list(UNKNOWN_USAGE)
    return Sample(
        run_id=run_id,
        task_id=task_id,
        model=model,
        epoch=epoch,
        status="ok",
        stop_reason=stop,
        final_answer=answer,
        correct=check.correct if check is not None else None,
        expected=expected_text(task) if task is not None else None,
        turns=sum(1 for e in events if e.kind == "model"),
        tool_calls=len(tools),
        tool_errors=sum(1 for e in tools if not e.ok),
        prompt_tokens=0,
        completion_tokens=0,
        latency_s=0.0,
        cost_usd=None,
        error=None,
        started_at=stamp,
        finished_at=stamp,
        events=tuple(events),
        metadata=metadata,
    )
