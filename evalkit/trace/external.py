"""Read agent traces recorded elsewhere (OpenAI chat format) as evalkit ``Sample``s.

The file is JSON Lines, one episode per line::

    {"messages": [...], "task_id": "t1", "expected": 1350, "model": "my-agent", "metadata": {...}}

``messages`` are OpenAI chat messages: ``system`` (or ``developer``), ``user``, ``assistant`` (``content``
and optional ``tool_calls``: ``[{"id", "type": "function", "function": {"name", "arguments"}}]``, the
arguments a JSON string or an object) and ``tool`` (``tool_call_id`` and ``content``). Content may be a
string or a list of ``{"type": "text", "text": ...}`` parts. Only ``messages`` is required.

Events are numbered in message order: ``system``/``user`` events, one ``model`` event per assistant message
(its turn is the count of assistant messages so far) and one ``tool`` event per tool message, named after the
tool call its ``tool_call_id`` answers, with that call's arguments. Token counts, latency and cost are not in
the format: they are 0 and the cost unknown (``None``).

Whether a tool result was an error is inferred from its text (``infer_tool_error``):

- an error when the text starts with the word ``error`` in any case (``Error: ...``, ``error: ...``,
  ``ERROR``; not ``error_rate``) or with a Python ``Traceback``, when its first line holds a DuckDB message
  ``<Kind> Error: ...`` (``Catalog Error``, ``Binder Error``, ``Parser Error``, ...), or when it is a JSON
  object with a non-empty ``"error"`` key;
- ``unknown_table``: ``Table with name X does not exist`` (DuckDB), ``no such table`` (SQLite), ``unknown
  table``, ``table ... does not exist`` / ``not found``; the missing name goes to ``data.missing``;
- ``unknown_column``: ``Referenced column X not found`` (DuckDB), ``no such column``, ``unknown column``,
  ``column ... does not exist`` / ``not found``;
- ``sql_error``: another DuckDB ``<Kind> Error:`` or a ``syntax error``;
- ``tool_error``: any other error.

The final answer is ``extract_final_answer`` of the last message when it is an assistant message without
tool calls (stop reason ``final_answer``); otherwise the episode ended without an answer (``max_turns``).

The task: the suite's task with the episode's ``task_id`` (or, without ``task_id``, the suite task whose
question is the episode's first user message); else, when ``expected`` is given, a minimal task built from it
(``minimal_task``); else none (criteria that need the task are N/A). Malformed lines raise
``ImportFormatError`` listing every problem as ``file:LINE: problem``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.contracts.answers import check_answer, extract_final_answer
from evalkit.contracts.suite import Difficulty, ExpectedAnswer, ReferenceSolution, TaskKind, TaskSpec, Tolerance
from evalkit.errors import ImportFormatError
from evalkit.trace.types import Event, Sample, ToolCall

if TYPE_CHECKING:
    from evalkit.contracts.suite import SuiteSpec

MAX_PROBLEMS = 50
DEFAULT_MODEL = "external"
_ERROR_START = re.compile(r"^(?:errors?\b|traceback \(most recent call last\))", re.IGNORECASE)
_DUCKDB_ERROR = re.compile(r"^[^\n]{0,80}?\b([A-Z][a-z]+(?: [A-Z][a-z]+)?) Error: ")
_MISSING_TABLE = (
    re.compile(r"Table with name ([^\s]+) does not exist", re.IGNORECASE),
    re.compile(r"no such table:?\s*([^\s]+)", re.IGNORECASE),
    re.compile(r"unknown table:?\s*['\"`]?([^\s'\"`]+)", re.IGNORECASE),
    re.compile(r"table ['\"`]?([^\s'\"`]+)['\"`]? (?:does not exist|not found)", re.IGNORECASE),
)
_MISSING_COLUMN = (
    re.compile(r"Referenced column ['\"]?([^\s'\"]+)['\"]? not found", re.IGNORECASE),
    re.compile(r"no such column:?\s*([^\s]+)", re.IGNORECASE),
    re.compile(r"unknown column:?\s*['\"`]?([^\s'\"`]+)", re.IGNORECASE),
    re.compile(r"column ['\"`]?([^\s'\"`]+)['\"`]? (?:does not exist|not found)", re.IGNORECASE),
)
_NUMBER_WITH_UNIT = re.compile(
    r"^\s*(?P<num>[-+−]?\$?\s*\d[\d,]*(?:\.\d+)?|[-+]?\.\d+)\s*(?P<unit>%|[A-Za-z][A-Za-z%]*(?: [A-Za-z%]+){0,2})?\s*$"
)
_ROLES = {"system", "developer", "user", "assistant", "tool"}


@dataclass(frozen=True)
class ExternalTrace:
    """One imported episode: the sample, the task it was scored against (if any) and its line."""

    sample: Sample
    task: TaskSpec | None
    line: int


def infer_tool_error(content: str) -> tuple[bool, str | None, dict[str, Any] | None]:
    """``(ok, error_type, data)`` for a tool result's text, by the heuristics in the module docstring."""
    text = content.strip()
    message = text
    is_error = bool(_ERROR_START.match(text) or _DUCKDB_ERROR.match(text))
    if not is_error and text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and obj.get("error"):
            is_error, message = True, str(obj["error"])
    if not is_error:
        return True, None, None
    for kind, patterns in (("unknown_table", _MISSING_TABLE), ("unknown_column", _MISSING_COLUMN)):
        for pattern in patterns:
            m = pattern.search(message)
            if m:
                return False, kind, {"missing": m.group(1).strip("\"'`.,;:"), "inferred": True}
    if _DUCKDB_ERROR.match(message) or "syntax error" in message.lower():
        return False, "sql_error", {"inferred": True}
    return False, "tool_error", {"inferred": True}


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
        m = _NUMBER_WITH_UNIT.match(expected)
        if m:
            raw = m.group("num").replace(",", "").replace("$", "").replace("−", "-").replace(" ", "")
            unit = (m.group("unit") or "").strip() or None
            if unit in ("percent", "per cent"):
                unit = "%"
            return ExpectedAnswer("number", float(raw), unit=unit, tolerance=rel)
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
        return [f"expected: must be a string, a number or an object, got {_show(expected)}"]
    if not isinstance(expected, dict):
        return []
    value, kind, tol = expected.get("value"), expected.get("kind"), expected.get("tolerance")
    if kind not in (None, "number", "text", "list"):
        return [f"expected.kind: must be number, text or list, got {_show(kind)}"]
    if tol is not None and not (
        isinstance(tol, dict)
        and set(tol) <= {"abs", "rel"}
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in tol.values())
    ):
        return [f"expected.tolerance: must be an object with numbers 'abs' and/or 'rel', got {_show(tol)}"]
    if expected.get("unit") is not None and not isinstance(expected["unit"], str):
        return [f"expected.unit: must be a string, got {_show(expected['unit'])}"]
    if kind == "number" or (kind is None and isinstance(value, int | float)):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"expected.value: must be a number, got {_show(value)}"]
    if kind == "list" or isinstance(value, list):
        return [] if isinstance(value, list) else [f"expected.value: must be a list, got {_show(value)}"]
    return [] if isinstance(value, str) else [f"expected.value: must be a string, got {_show(value)}"]


def _text(content: Any) -> str | None:
    """A message's content as text (a list of parts is joined); ``None`` stays ``None``."""
    if content is None or isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))


def _content_problem(content: Any, where: str) -> str | None:
    if content is None or isinstance(content, str):
        return None
    if isinstance(content, list) and all(isinstance(p, dict) and isinstance(p.get("text", ""), str) for p in content):
        return None
    return f"{where}.content: must be a string, a list of parts or null, got {_show(content)}"


def _tool_call(raw: Any, where: str, problems: list[str]) -> ToolCall | None:
    fn = raw.get("function") if isinstance(raw, dict) else None
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not isinstance(raw.get("id"), str):
        problems.append(f"{where}: a tool call needs an 'id' and a 'function' with a 'name', got {_show(raw)}")
        return None
    args = fn.get("arguments")
    if isinstance(args, dict):
        return ToolCall(raw["id"], fn["name"], args)
    if args is None or (isinstance(args, str) and not args.strip()):
        return ToolCall(raw["id"], fn["name"], {})
    if not isinstance(args, str):
        problems.append(f"{where}.function.arguments: must be a JSON string or an object, got {_show(args)}")
        return None
    try:
        parsed = json.loads(args)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        return ToolCall(raw["id"], fn["name"], parsed)
    return ToolCall(raw["id"], fn["name"], None, args)  # kept as the agent sent it: a malformed call


def _events(messages: list[Any], problems: list[str]) -> tuple[list[Event], str | None, bool]:
    """The events of an episode, its final answer, and whether it ended with one."""
    events: list[Event] = []
    calls: dict[str, ToolCall] = {}
    turn = 0
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            problems.append(f"{where}: expected a message object, got {_show(m)}")
            continue
        role = m.get("role")
        if role not in _ROLES:
            problems.append(f"{where}.role: must be one of {', '.join(sorted(_ROLES))}, got {_show(role)}")
            continue
        problem = _content_problem(m.get("content"), where)
        if problem:
            problems.append(problem)
            continue
        content = _text(m.get("content"))
        seq = len(events)
        if role in ("system", "developer", "user"):
            events.append(Event(seq=seq, kind="user" if role == "user" else "system", turn=turn, content=content))
        elif role == "assistant":
            raw_calls = m.get("tool_calls") or []
            if not isinstance(raw_calls, list):
                problems.append(f"{where}.tool_calls: must be a list, got {_show(raw_calls)}")
                continue
            parsed = [_tool_call(c, f"{where}.tool_calls[{j}]", problems) for j, c in enumerate(raw_calls)]
            tool_calls = tuple(c for c in parsed if c is not None)
            calls.update((c.id, c) for c in tool_calls)
            turn += 1
            events.append(Event(seq=seq, kind="model", turn=turn, content=content, tool_calls=tool_calls))
        else:
            call_id = m.get("tool_call_id")
            call = calls.get(call_id) if isinstance(call_id, str) else None
            if call is None:
                problems.append(f"{where}.tool_call_id: {_show(call_id)} answers no earlier tool call")
                continue
            ok, error_type, data = infer_tool_error(content or "")
            arguments = call.arguments if call.arguments is not None else {"_raw": call.raw_arguments}
            events.append(
                Event(
                    seq=seq,
                    kind="tool",
                    turn=turn,
                    tool=call.name,
                    call_id=call.id,
                    arguments=arguments,
                    content=content or "",
                    ok=ok,
                    error_type=error_type,
                    data=data,
                )
            )
    last = messages[-1] if messages else None
    if problems:
        return events, None, False
    if isinstance(last, dict) and last.get("role") == "assistant" and not last.get("tool_calls"):
        answer = extract_final_answer(_text(last.get("content")) or "")
        return events, answer or None, True
    return events, None, False


def _line_problems(obj: Any) -> list[str]:
    if not isinstance(obj, dict):
        return [f"expected a JSON object, got {_show(obj)}"]
    out = [f"unknown field {k!r}" for k in obj if k not in ("messages", "task_id", "expected", "model", "metadata")]
    messages = obj.get("messages")
    if not isinstance(messages, list) or not messages:
        out.append(f"messages: must be a non-empty list of chat messages, got {_show(messages)}")
    elif not any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        out.append("messages: no assistant message (nothing the agent did)")
    for key, ok in (("task_id", str), ("model", str), ("metadata", dict)):
        if key in obj and not isinstance(obj[key], ok):
            out.append(f"{key}: must be {'an object' if ok is dict else 'a string'}, got {_show(obj[key])}")
    if "expected" in obj:
        out.extend(_expected_problems(obj["expected"]))
    return out


def read_external_traces(
    path: Path, *, run_id: str, suite: SuiteSpec | None = None, model_name: str | None = None
) -> list[ExternalTrace]:
    """Parse ``path`` into samples of run ``run_id``. ``model_name`` overrides each episode's ``model``.
    Episodes of the same task and model are numbered as epochs 0, 1, ... in file order."""
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file")
    problems: list[str] = []
    out: list[ExternalTrace] = []
    epochs: Counter[tuple[str, str]] = Counter()
    by_question = {" ".join(t.question.split()): t for t in suite.tasks} if suite is not None else {}
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"{path}: cannot read the file: {exc}") from exc
    for lineno, raw in enumerate(lines, 1):
        if len(problems) >= MAX_PROBLEMS:
            break
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        found = _line_problems(obj)
        if found:
            problems.extend(f"{path}:{lineno}: {p}" for p in found)
            continue
        found = []
        events, answer, answered = _events(obj["messages"], found)
        if found:
            problems.extend(f"{path}:{lineno}: {p}" for p in found)
            continue
        question = next((e.content or "" for e in events if e.kind == "user"), "")
        task, minimal = _task_for(obj, question, suite, by_question, lineno)
        model = model_name or obj.get("model") or DEFAULT_MODEL
        task_id = task.id if task is not None else obj.get("task_id") or f"line-{lineno}"
        epoch = epochs[(task_id, model)]
        epochs[(task_id, model)] += 1
        metadata: dict[str, Any] = {"source": "external", "file": str(path), "line": lineno}
        if obj.get("metadata"):
            metadata["external"] = obj["metadata"]
        if minimal:
            metadata["expected"] = obj["expected"]  # lets a later re-score rebuild the minimal task
        sample = _sample(run_id, task_id, model, epoch, events, answer, answered, task, stamp, metadata)
        out.append(ExternalTrace(sample, task, lineno))
    if problems:
        more = len(problems) - MAX_PROBLEMS
        raise ImportFormatError("\n".join(problems[:MAX_PROBLEMS] + ([f"... and {more} more"] if more > 0 else [])))
    if not out:
        raise ImportFormatError(f"{path}: no episodes in the file")
    return out


def _task_for(
    obj: dict[str, Any], question: str, suite: SuiteSpec | None, by_question: dict[str, TaskSpec], lineno: int
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
        task = minimal_task(task_id or f"line-{lineno}", question, obj["expected"], obj.get("metadata") or {})
        return task, task is not None
    return None, False


def _sample(
    run_id: str,
    task_id: str,
    model: str,
    epoch: int,
    events: list[Event],
    answer: str | None,
    answered: bool,
    task: TaskSpec | None,
    stamp: str,
    metadata: dict[str, Any],
) -> Sample:
    from evalkit.contracts.answers import expected_text

    tools = [e for e in events if e.kind == "tool"]
    check = check_answer(task.answer, answer) if task is not None else None
    if check is not None:
        metadata["answer_check"] = check.reason
    return Sample(
        run_id=run_id,
        task_id=task_id,
        model=model,
        epoch=epoch,
        status="ok",
        stop_reason="final_answer" if answered else "max_turns",
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


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
