"""Inspect AI's eval logs read as evalkit samples: what an agent did under ``inspect eval``, without inspect_ai.

The log (a ``.eval`` zip or a ``.json`` ``EvalLog``) is opened by :mod:`evalkit.trace.inspect_files`. A sample's
``messages`` become OpenAI chat messages, one for one: text parts joined by newlines (Inspect's
``ChatMessage.text``); ``reasoning`` parts (``ContentReasoning``: its ``reasoning``, for a redacted block its
readable ``summary``) as the assistant's ``reasoning_content``; other parts (images, server-side tool use)
dropped; ``tool_calls`` ``{id, function, arguments}`` as ``{"id", "type": "function", "function": {"name",
"arguments"}}`` (a call whose arguments did not parse, ``parse_error``, keeps the text the model sent: a
malformed call). A tool message's ``error`` (``{type, message}``; an older log's ``tool_error``) is kept, so
the result is an error whatever its text, and its content becomes ``Error: <message>``, what Inspect sends
an OpenAI model. ``attachment://`` references are replaced by the sample's ``attachments``.

Each sample becomes a line of ``trace.external``'s shape: ``task_id`` (the sample ``id``), ``target`` (the first
of a list) as ``expected``, the header's ``eval.model`` as ``model``, and ``metadata`` holding ``epoch``,
``scores`` (each scorer's ``value``, ``answer`` and ``explanation``; an older sample's lone ``score`` is the
log's first scorer's), ``score`` (the first scorer's value as a number, as Inspect's ``value_to_float`` reads
it: ``C`` 1, ``P`` 0.5, ``I`` and ``N`` 0), ``is_correct`` (true when that number is 1, false when 0, else
unknown), ``sample_metadata`` and, when recorded, ``limit``, ``error`` and ``usage`` (``model_usage``,
``total_time``, ``working_time``). ``is_correct`` is the stored correctness (``STORED``) used when no gold
answer is known; ``--correct-from metadata.score>=0.5`` can name another. A sample's epoch (Inspect counts
from 1) is its evalkit epoch (from 0). The ``limit`` that halted a sample gives its stop reason: ``message``
and ``turn`` → ``max_turns``, ``time`` and ``working`` → ``timeout``, ``token`` and ``cost`` → ``budget``
(``context``, ``operator``, ``custom``: the one its messages show); without one, a last reply stopped at
``max_tokens`` is ``truncated``. A sample without an assistant message (most often one that ended in an
error first) is skipped and counted in the notes.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ImportFormatError
from evalkit.fileio import problems_error, shown
from evalkit.trace.external import DEFAULT_MODEL, MAX_PROBLEMS, CorrectFrom, ExternalTrace, TraceBuilder
from evalkit.trace.external import parse_correct_from as _parse
from evalkit.trace.inspect_files import is_inspect_log, open_log

if TYPE_CHECKING:
    from evalkit.contracts.suite import SuiteSpec
    from evalkit.trace.types import StopReason

STORED = "metadata.is_correct==true"
"""The correctness an Inspect sample stores: its first scorer's value (``C``, 1 or true)."""
_STOPS: dict[str, StopReason] = {
    "message": "max_turns",
    "turn": "max_turns",
    "time": "timeout",
    "working": "timeout",
    "token": "budget",
    "cost": "budget",
}
_SCORE_WORDS = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0, "yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}
_ROLES = ("system", "user", "assistant", "tool")
_PARSE_ERROR = re.compile(r"Error parsing the following tool call arguments:\n\n(.*)\n\nError details: ", re.DOTALL)
_REFERENCES = ("attachment://", "tc://")


def read_inspect_log(
    path: Path,
    *,
    run_id: str,
    suite: SuiteSpec | None = None,
    model_name: str | None = None,
    correct_from: CorrectFrom | None = None,
    notes: list[str] | None = None,
) -> list[ExternalTrace]:
    """Parse the Inspect AI log ``path`` (``.eval`` or ``.json``) into samples of ``run_id``. Broken logs raise
    ``ImportFormatError`` listing each problem as ``file: samples/<id>_epoch_<n>.json: key.path: problem``."""
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file")
    problems: list[str] = []
    header, header_at, entries = open_log(path, problems)
    spec = header.get("eval")
    if not isinstance(spec, dict):
        raise ImportFormatError(f"{path}: {header_at}: not an Inspect AI log header (no 'eval' object)")
    log_model = spec.get("model") if isinstance(spec.get("model"), str) else None
    scorer = _first_scorer(header)
    builder = TraceBuilder(run_id, suite, model_name, correct_from, stored=_parse(STORED))
    out: list[ExternalTrace] = []
    skipped = {"error": 0, "none": 0}
    for index, (where, data) in enumerate(entries, start=1):
        if len(problems) >= MAX_PROBLEMS:
            break
        found: list[str] = []
        obj, stop = _sample_line(data, log_model, scorer, found)
        if obj is None and not found:
            skipped["error" if data.get("error") else "none"] += 1
        elif obj is not None and not found:
            origin = {"source": "inspect", "file": str(path), "sample": where}
            origin.update({k: spec[k] for k in ("task", "eval_id") if isinstance(spec.get(k), str)})
            model = model_name or obj.get("model") or DEFAULT_MODEL
            builder.epochs[(obj["task_id"], model)] = obj["metadata"]["epoch"] - 1  # Inspect's epoch, from 0
            trace = builder.build(obj, index, origin, _stamp(data, spec, path), found, stop=stop)
            if trace is not None:
                out.append(trace)
        problems.extend(f"{path}: {where}: {p}" for p in found)
    if problems:
        raise problems_error(problems, MAX_PROBLEMS)
    if notes is not None and skipped["error"]:
        notes.append(f"skipped {skipped['error']} Inspect samples that ended in an error before any model reply")
    if notes is not None and skipped["none"]:
        notes.append(f"skipped {skipped['none']} Inspect samples without a model reply")
    if not out:
        raise ImportFormatError(f"{path}: no Inspect sample with a model reply to read")
    return out


def _first_scorer(header: dict[str, Any]) -> str:
    """The name an older sample's lone ``score`` goes by: the log's first scorer's."""
    results = header.get("results") if isinstance(header.get("results"), dict) else {}
    scores = results.get("scores") if isinstance(results, dict) else None
    first = scores[0] if isinstance(scores, list) and scores and isinstance(scores[0], dict) else {}
    return str(first.get("name") or "score")


def _sample_line(
    data: dict[str, Any], log_model: str | None, scorer: str, found: list[str]
) -> tuple[dict[str, Any] | None, StopReason | None]:
    """The sample as a line of ``trace.external``'s shape and the stop reason its limit records (None: the one
    its messages show); ``(None, None)`` and no problem for a sample without a model reply."""
    sample_id, epoch, raw, target = data.get("id"), data.get("epoch"), data.get("messages"), data.get("target")
    if isinstance(sample_id, bool) or not isinstance(sample_id, str | int):
        found.append(f"id: must be a string or an integer, got {shown(sample_id)}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        found.append(f"epoch: must be an integer from 1, got {shown(epoch)}")
    targets = target if isinstance(target, list) else [target]
    if target is not None and not all(isinstance(t, str) for t in targets):
        found.append(f"target: must be a string or a list of strings, got {shown(target)}")
    if not isinstance(raw, list):
        found.append(f"messages: must be a list of chat messages, got {shown(raw)}")
        return None, None
    attachments = data.get("attachments")
    messages = [_message(_resolved(m, attachments or {}), f"messages[{i}]", found) for i, m in enumerate(raw)]
    if found or not any(m["role"] == "assistant" for m in messages):
        return None, None
    obj: dict[str, Any] = {"messages": messages, "task_id": str(sample_id), "metadata": _outcome(data, scorer)}
    if log_model:
        obj["model"] = log_model
    expected = target[0] if isinstance(target, list) and target else target
    if isinstance(expected, str) and expected.strip():
        obj["expected"] = expected
    usage = _usage(data)
    if usage:
        obj["usage"] = usage
    return obj, _stop(data, messages)


def _usage(data: dict[str, Any]) -> dict[str, Any]:
    """A sample's tokens (its ``model_usage`` summed over the models it called: input and output tokens) and
    time (``total_time``, seconds), as ``trace.external``'s ``usage``."""
    out: dict[str, Any] = {}
    per_model = data.get("model_usage")
    if isinstance(per_model, dict) and per_model:
        counts = [u for u in per_model.values() if isinstance(u, dict)]
        pairs = [(u.get("input_tokens"), u.get("output_tokens")) for u in counts]
        numbers = [(i, o) for i, o in pairs if isinstance(i, int) and isinstance(o, int)]
        if numbers and len(numbers) == len(pairs):
            out["prompt_tokens"] = sum(i for i, _ in numbers)
            out["completion_tokens"] = sum(o for _, o in numbers)
    seconds = data.get("total_time")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0:
        out["latency_s"] = float(seconds)
    return out


def _resolved(value: Any, attachments: Any) -> Any:
    """``value`` with each ``attachment://<hash>`` string replaced by the sample's attachment of that hash."""
    if not attachments or not isinstance(attachments, dict):
        return value
    if isinstance(value, str):
        prefix = next((p for p in _REFERENCES if value.startswith(p)), None)
        found = attachments.get(value[len(prefix) :]) if prefix else None
        return found if isinstance(found, str) else value
    if isinstance(value, dict):
        return {k: _resolved(v, attachments) for k, v in value.items()}
    return [_resolved(v, attachments) for v in value] if isinstance(value, list) else value


def _message(m: Any, where: str, found: list[str]) -> dict[str, Any]:
    """An Inspect ``ChatMessage`` as an OpenAI chat message (see the module docstring)."""
    if not isinstance(m, dict) or m.get("role") not in _ROLES:
        role = m.get("role") if isinstance(m, dict) else m
        found.append(f"{where}.role: must be one of {', '.join(_ROLES)}, got {shown(role)}")
        return {"role": None}
    text, reasoning = _parts(m.get("content"), where, found)
    out: dict[str, Any] = {"role": m["role"], "content": text}
    if m["role"] == "assistant":
        if reasoning:
            out["reasoning_content"] = reasoning
        calls = m.get("tool_calls") or []
        if not isinstance(calls, list):
            found.append(f"{where}.tool_calls: must be a list, got {shown(calls)}")
        elif calls:
            out["tool_calls"] = [_tool_call(c, f"{where}.tool_calls[{j}]", found) for j, c in enumerate(calls)]
    elif m["role"] == "tool":
        out["tool_call_id"] = m.get("tool_call_id")
        error = m.get("error")
        if error is None and isinstance(m.get("tool_error"), str):
            error = {"type": "unknown", "message": m["tool_error"]}
        if error is not None:
            if not isinstance(error, dict) or not isinstance(error.get("message"), str):
                found.append(f"{where}.error: must be an object with a 'type' and a 'message', got {shown(error)}")
                return out
            out["error"] = {"type": error.get("type"), "message": error["message"]}
            out["content"] = f"Error: {error['message']}"
    return out


def _parts(content: Any, where: str, found: list[str]) -> tuple[str | None, str | None]:
    """A message's ``(text, reasoning)``: its string, or its text parts and its reasoning parts joined."""
    if content is None or isinstance(content, str):
        return content, None
    if not isinstance(content, list):
        found.append(f"{where}.content: must be a string or a list of content parts, got {shown(content)}")
        return None, None
    texts: list[str] = []
    thoughts: list[str] = []
    for k, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "reasoning" and isinstance(part.get("reasoning"), str):
            thought = part.get("summary") if part.get("redacted") else part["reasoning"]
            if isinstance(thought, str) and thought.strip():
                thoughts.append(thought)
        elif kind in ("text", "reasoning") or not isinstance(kind, str):
            found.append(f"{where}.content[{k}]: a content part needs a 'type' and its text, got {shown(part)}")
    return "\n".join(texts), "\n\n".join(thoughts) or None


def _tool_call(raw: Any, where: str, found: list[str]) -> dict[str, Any]:
    """An Inspect ``ToolCall`` as an OpenAI one; arguments that did not parse stay the text the model sent."""
    ok = isinstance(raw, dict) and isinstance(raw.get("id"), str) and isinstance(raw.get("function"), str)
    if not ok or not isinstance(raw.get("arguments"), dict):
        found.append(f"{where}: a tool call needs an 'id', a 'function' and 'arguments' (an object), got {shown(raw)}")
        return {}
    arguments = json.dumps(raw["arguments"], ensure_ascii=False)
    parse_error = raw.get("parse_error")
    if isinstance(parse_error, str) and parse_error and not raw["arguments"]:
        sent = _PARSE_ERROR.search(parse_error)
        arguments = sent.group(1) if sent else parse_error
    return {"id": raw["id"], "type": "function", "function": {"name": raw["function"], "arguments": arguments}}


def _score_number(value: Any) -> float | None:
    """A score's value as Inspect's ``value_to_float`` reads it; None for a list, an object or other text."""
    if isinstance(value, bool | int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    word = _SCORE_WORDS.get(value, _SCORE_WORDS.get(value.strip().lower()))
    if word is not None:
        return word
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _outcome(data: dict[str, Any], scorer: str) -> dict[str, Any]:
    """What the sample recorded of its outcome, as the line's ``metadata``."""
    scores = data.get("scores")
    if not isinstance(scores, dict):
        scores = {scorer: data["score"]} if isinstance(data.get("score"), dict) else {}
    kept = {
        name: {k: s[k] for k in ("value", "answer", "explanation") if s.get(k) is not None}
        for name, s in scores.items()
        if isinstance(s, dict)
    }
    first = next(iter(scores.values()), None)
    number = _score_number(first.get("value")) if isinstance(first, dict) else None
    out: dict[str, Any] = {"epoch": data["epoch"], "scores": kept}
    if number is not None:
        out["score"] = number
    out["is_correct"] = True if number == 1 else False if number == 0 else None
    if isinstance(data.get("metadata"), dict) and data["metadata"]:
        out["sample_metadata"] = data["metadata"]
    if isinstance(data.get("limit"), dict):
        out["limit"] = data["limit"]
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        out["error"] = error["message"]
    usage = {k: data[k] for k in ("model_usage", "total_time", "working_time") if data.get(k)}
    if usage:
        out["usage"] = usage
    return out


def _stop(data: dict[str, Any], messages: list[dict[str, Any]]) -> StopReason | None:
    """The stop reason the sample's ``limit`` (or its last reply's ``max_tokens`` stop) records, if any."""
    limit = data.get("limit")
    kind = limit.get("type") if isinstance(limit, dict) else None
    if isinstance(kind, str) and kind in _STOPS:
        return _STOPS[kind]
    output = data.get("output")
    choices = output.get("choices") if isinstance(output, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    last = messages[-1]
    if choice.get("stop_reason") == "max_tokens" and last["role"] == "assistant" and not last.get("tool_calls"):
        return "truncated"
    return None


def _stamp(data: dict[str, Any], spec: dict[str, Any], path: Path) -> str:
    """When the sample started (else when the eval was created, else the file's time), UTC to the second."""
    for value in (data.get("started_at"), spec.get("created")):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
        except ValueError:
            when = None
        if when is not None:
            return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="seconds")
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")


__all__ = ["DEFAULT_MODEL", "STORED", "is_inspect_log", "read_inspect_log"]
