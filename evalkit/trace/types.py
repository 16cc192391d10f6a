"""Typed trace objects: what one episode (a *sample*) recorded, step by step.

A sample is one task run by one model in one epoch. Its events are numbered from 0 in the order they
happened. Every object round-trips through ``to_dict`` / ``from_dict`` (JSON-safe dicts), which the store
and the export format use. Their versions are the store's schema version (``trace.migrations``) and the export
format's (``trace.portable.FORMAT_VERSION``); an incompatible change bumps the one it breaks.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from evalkit.contracts.model_config import ModelConfig
from evalkit.trace.caps import cap_calls, cap_text, cap_value

EventKind = Literal["system", "user", "model", "tool"]
SampleStatus = Literal["ok", "infra_error", "cancelled"]
StopReason = Literal[
    "final_answer",
    "max_turns",
    "timeout",
    "budget",
    "infra_error",
    "cancelled",
    "handoff",
    "user_stop",
    "unknown",
    "truncated",
    "empty_reply",
    "request_rejected",
]
"""Why an episode ended. ``handoff``, ``user_stop`` and ``unknown`` come from imported traces
(``evalkit.trace.chat_messages.stop_reason_of``): a log shows how a conversation ended, not a turn limit.
``truncated`` (the reply was cut by ``max_tokens``, with no tool call) and ``empty_reply`` (no text and no tool
call) are model failures: the model gave no answer. ``request_rejected``: the provider refused the request
itself (a 4xx, or the same server error for every sample), an infrastructure error that resuming cannot cure."""


@dataclass(frozen=True)
class ToolCall:
    """A tool call as the model emitted it. ``arguments`` is the parsed object, or ``None`` when the raw
    text was not valid JSON (then ``raw_arguments`` holds what the model sent)."""

    id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str | None = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Event:
    """One step of an episode.

    - ``system`` / ``user``: the prompt text (``content``).
    - ``model``: one model call: ``content`` (the assistant text), ``tool_calls``, ``usage``, ``latency_s``,
      ``cost_usd`` (``None`` when the price is unknown), ``cached`` when answered from the response cache,
      ``finish_reason`` (why the provider ended the reply: ``stop``, ``tool_calls``, ``length``, ...; None
      when it did not say), ``reasoning`` (a reasoning model's thinking, apart from ``content``).
    - ``tool``: one tool execution: ``tool``, ``call_id``, ``arguments``, ``content`` (the text the model
      saw), ``ok``, ``error_type`` (``unknown_table``, ``unknown_column``, ``sql_error``, ``refused``,
      ``timeout``, ``calc_error``, ``bad_arguments``, ``unknown_tool``, ``malformed_call``, ...),
      ``data`` (structured extras from the tool), ``latency_s``.

    Build them with the constructor of their kind (:meth:`prompt`, :meth:`model_call`,
    :meth:`tool_result`); any construction refuses, with a ``ValueError``, fields that do not belong to the
    kind, a tool event without its tool name or outcome, and an ``error_type`` on a tool call that succeeded.
    """

    seq: int
    kind: EventKind
    turn: int
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    latency_s: float | None = None
    cost_usd: float | None = None
    cached: bool = False
    tool: str | None = None
    call_id: str | None = None
    arguments: dict[str, Any] | None = None
    ok: bool | None = None
    error_type: str | None = None
    data: dict[str, Any] | None = None
    finish_reason: str | None = None
    reasoning: str | None = None

    def __post_init__(self) -> None:
        allowed = _EVENT_FIELDS_BY_KIND.get(self.kind)
        if allowed is None:
            raise ValueError(f"event {self.seq}: unknown kind {self.kind!r}; expected one of {', '.join(_KINDS)}")
        stray = [name for name in _EVENT_SETTABLE if name not in allowed and _is_set(self, name)]
        if stray:
            raise ValueError(f"event {self.seq}: {', '.join(stray)} cannot be set on a {self.kind} event")
        if self.kind == "tool":
            if not isinstance(self.tool, str):
                raise ValueError(f"event {self.seq}: a tool event needs the name of its tool (tool)")
            if not isinstance(self.ok, bool):
                raise ValueError(f"event {self.seq}: a tool event needs its outcome (ok: true or false)")
            if self.ok and self.error_type is not None:
                raise ValueError(f"event {self.seq}: a successful tool call has no error_type ({self.error_type!r})")

    @classmethod
    def prompt(cls, seq: int, kind: Literal["system", "user"], turn: int, content: str | None) -> Event:
        """A system or user message."""
        if kind not in ("system", "user"):
            raise ValueError(f"event {seq}: a prompt is a system or user event, not {kind!r}")
        return cls(seq=seq, kind=kind, turn=turn, content=content)

    @classmethod
    def model_call(
        cls,
        seq: int,
        turn: int,
        *,
        content: str | None = None,
        tool_calls: tuple[ToolCall, ...] = (),
        usage: Usage | None = None,
        latency_s: float | None = None,
        cost_usd: float | None = None,
        cached: bool = False,
        finish_reason: str | None = None,
        reasoning: str | None = None,
    ) -> Event:
        """One model call: what the model said, the tools it called, why the provider ended the reply and
        its reasoning, kept apart from what it said (text and arguments capped at ``caps.MAX_FIELD_CHARS``)."""
        return cls(
            seq=seq,
            kind="model",
            turn=turn,
            content=cap_text(content),
            tool_calls=cap_calls(tool_calls),
            usage=usage,
            latency_s=latency_s,
            cost_usd=cost_usd,
            cached=cached,
            finish_reason=finish_reason,
            reasoning=cap_text(reasoning) if reasoning else None,
        )

    @classmethod
    def tool_result(
        cls,
        seq: int,
        turn: int,
        *,
        tool: str,
        ok: bool,
        content: str | None = None,
        call_id: str | None = None,
        arguments: dict[str, Any] | None = None,
        error_type: str | None = None,
        data: dict[str, Any] | None = None,
        latency_s: float | None = None,
    ) -> Event:
        """One tool execution and the result the model saw (capped); ``error_type`` only when ``ok`` is False."""
        return cls(
            seq=seq,
            kind="tool",
            turn=turn,
            tool=tool,
            ok=ok,
            content=cap_text(content),
            call_id=call_id,
            arguments=cap_value(arguments) if arguments is not None else None,
            error_type=error_type,
            data=data,
            latency_s=latency_s,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, without the fields left at None / empty (``ok=False`` and 0.0 are kept). Built by hand:
        ``asdict`` was the slowest step of writing a batch of samples."""
        d: dict[str, Any] = {"seq": self.seq, "kind": self.kind, "turn": self.turn}
        for name in _EVENT_OPTIONAL:
            value = getattr(self, name)
            if value is not None:
                d[name] = value
        if self.tool_calls:
            d["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments, "raw_arguments": c.raw_arguments}
                for c in self.tool_calls
            ]
        if self.usage is not None:
            d["usage"] = {"prompt_tokens": self.usage.prompt_tokens, "completion_tokens": self.usage.completion_tokens}
        if self.cached:
            d["cached"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        d = dict(d)
        d["tool_calls"] = tuple(ToolCall(**tc) for tc in d.get("tool_calls") or ())
        if d.get("usage") is not None:
            d["usage"] = Usage(**d["usage"])
        return cls(**d)


_EVENT_OPTIONAL = (
    "content",
    "latency_s",
    "cost_usd",
    "tool",
    "call_id",
    "arguments",
    "ok",
    "error_type",
    "data",
    "finish_reason",
    "reasoning",
)
_KINDS = ("system", "user", "model", "tool")
_EVENT_SETTABLE = (*_EVENT_OPTIONAL, "tool_calls", "usage", "cached")
_PROMPT_FIELDS = frozenset({"content"})
_EVENT_FIELDS_BY_KIND: dict[str, frozenset[str]] = {
    "system": _PROMPT_FIELDS,
    "user": _PROMPT_FIELDS,
    "model": frozenset({"content", "tool_calls", "usage", "latency_s", "cost_usd", "cached", "finish_reason"})
    | {"reasoning"},
    "tool": frozenset({"tool", "call_id", "arguments", "content", "ok", "error_type", "data", "latency_s"}),
}
"""The optional fields each kind of event may set; the others stay at None / empty / False."""


def _is_set(event: Event, name: str) -> bool:
    value = getattr(event, name)
    if name == "tool_calls":
        return bool(value)
    if name == "cached":
        return value is not False
    return value is not None


def _escape_id_part(part: str) -> str:
    return part.replace("\\", "\\\\").replace("|", "\\|")


def sample_id_of(task_id: str, model: str, epoch: int) -> str:
    """A sample's id, ``task|model|epoch``, with ``\\`` and ``|`` inside a task id or model name escaped by a
    backslash: task ``a|b`` of model ``c`` and task ``a`` of model ``b|c`` stay two samples. Ids of names
    without those characters read as they always have (stored runs keep theirs)."""
    return f"{_escape_id_part(task_id)}|{_escape_id_part(model)}|{epoch}"


def split_sample_id(sample_id: str) -> tuple[str, str, str]:
    """(task id, model, epoch as text) of a sample id made by ``sample_id_of``."""
    parts: list[str] = []
    current: list[str] = []
    chars = iter(sample_id)
    for ch in chars:
        if ch == "\\":
            current.append(next(chars, ""))
        elif ch == "|" and len(parts) < 2:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    if len(parts) != 3:
        raise ValueError(f"not a sample id: {sample_id!r}")
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class SampleKey:
    task_id: str
    model: str
    epoch: int

    @property
    def sample_id(self) -> str:
        return sample_id_of(self.task_id, self.model, self.epoch)


@dataclass(frozen=True)
class Sample:
    """The outcome of one episode, with its events."""

    run_id: str
    task_id: str
    model: str
    epoch: int
    status: SampleStatus
    stop_reason: StopReason
    final_answer: str | None
    correct: bool | None
    expected: str | None
    turns: int
    tool_calls: int
    tool_errors: int
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    cost_usd: float | None
    error: str | None
    started_at: str
    finished_at: str
    events: tuple[Event, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> SampleKey:
        return SampleKey(self.task_id, self.model, self.epoch)

    @property
    def sample_id(self) -> str:
        return self.key.sample_id

    def to_dict(self, with_events: bool = True) -> dict[str, Any]:
        d = asdict(self)
        d["events"] = [e.to_dict() for e in self.events] if with_events else []
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        d = dict(d)
        d["events"] = tuple(Event.from_dict(e) for e in d.get("events") or ())
        d["metadata"] = dict(d.get("metadata") or {})
        return cls(**d)


@dataclass(frozen=True)
class RunRecord:
    """A run: one suite, some models, some epochs, and the options that produced it."""

    run_id: str
    name: str | None
    suite: str
    suite_hash: str
    suite_path: str
    models: tuple[ModelConfig, ...]
    options: dict[str, Any]
    evalkit_version: str
    git_commit: str | None
    created_at: str
    finished_at: str | None = None
    status: Literal["running", "finished", "interrupted"] = "running"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        d = dict(d)
        d["models"] = tuple(ModelConfig(**m) for m in d.get("models") or ())
        return cls(**d)


@dataclass(frozen=True)
class Score:
    """One rubric verdict on one sample (written by the scoring engine)."""

    run_id: str
    sample_id: str
    rubric: str
    rubric_version: str
    criterion: str
    verdict: Literal["pass", "fail", "value", "na", "skipped", "error"]
    value: float | None
    reason: str
    evidence: tuple[int, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)
    """Extras of the verdict (JSON-safe): for judge criteria the judge model, its reasoning, the individual
    scores of its samples and their spread, tokens and cost."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Score:
        d = dict(d)
        d["evidence"] = tuple(d.get("evidence") or ())
        d["detail"] = dict(d.get("detail") or {})
        return cls(**d)


def utc_now() -> str:
    """The timestamp format of every record: ISO 8601 in UTC to the microsecond, so records made within the
    same second (two runs of a quick suite) still sort in the order they were made."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_run_id() -> str:
    """A run id: its creation time in UTC to the second, then six random hex digits."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def dumps(obj: Any) -> str:
    """Compact JSON used for payload columns and export lines."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str)
