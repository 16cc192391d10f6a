"""OpenAI chat messages as evalkit events: what an agent recorded elsewhere did, step by step.

``messages`` are OpenAI chat messages: ``system`` (or ``developer``), ``user``, ``assistant`` (``content``
and optional ``tool_calls``: ``[{"id", "type": "function", "function": {"name", "arguments"}}]``, the
arguments a JSON string or an object) and ``tool`` (``tool_call_id`` and ``content``). Content may be a
string or a list of ``{"type": "text", "text": ...}`` parts. A reasoning model's thinking is kept apart from
what it said (``Event.reasoning``, by ``trace.reasoning.split_reasoning``, the rule live replies follow): an
assistant message's ``reasoning_content`` or ``reasoning`` field, else a ``<think>...</think>`` block opening
its content (Qwen3 without a reasoning parser); answers are never read from it. A tool message may carry an
``error`` (a string, or an object with a ``message``, as Inspect AI records a failed call): the result is then
an error whatever its text says, its type inferred from the message (below), else ``tool_error``.

Events are numbered in message order: ``system``/``user`` events, one ``model`` event per assistant message
(its turn is the count of assistant messages so far) and one ``tool`` event per tool message, named after the
tool call its ``tool_call_id`` answers, with that call's arguments.

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

The stop reason is how the conversation ends in the log (``stop_reason_of``), never a turn limit the log cannot
show: ``final_answer`` when the last message is an assistant reply without tool calls, ``user_stop`` when the
user has the last word, ``handoff`` when the agent's last turn calls a hand-off tool (``transfer_to_<agent>``,
``transfer_back_to_<agent>``, ``handoff...``, as the OpenAI Agents SDK, Swarm and LangGraph name them) and
``unknown`` otherwise (the log ends on a tool call or a tool result). The final answer is
``extract_final_answer`` of the reply that ends the conversation (``final_answer``), or of the agent's last
reply before the user's last word when that reply called no tool (``user_stop``); else there is none.
"""

from __future__ import annotations

import json
import re
from typing import Any

from evalkit.contracts.answers import extract_final_answer
from evalkit.fileio import shown
from evalkit.trace.reasoning import REASONING_FIELDS, split_reasoning
from evalkit.trace.types import Event, StopReason, ToolCall

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
_ROLES = {"system", "developer", "user", "assistant", "tool"}
_HANDOFF = re.compile(r"^(?:transfer_(?:back_)?to_|hand_?off)", re.IGNORECASE)


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
    return f"{where}.content: must be a string, a list of parts or null, got {shown(content)}"


def reply_parts(m: dict[str, Any]) -> tuple[str | None, str | None]:
    """An assistant message's ``(reasoning, content without it)``."""
    field = next((v for f in REASONING_FIELDS if isinstance(v := m.get(f), str) and v), None)
    return split_reasoning(field, _text(m.get("content")))


def _tool_outcome(m: dict[str, Any], content: str) -> tuple[bool, str | None, dict[str, Any] | None]:
    """A tool result's ``(ok, error_type, data)``: its ``error`` field when it has one, else its text."""
    error = m.get("error")
    if not error:
        return infer_tool_error(content)
    message = error.get("message") if isinstance(error, dict) else error
    _, error_type, data = infer_tool_error(f"Error: {message}" if isinstance(message, str) else content)
    return False, error_type or "tool_error", data


def _tool_call(raw: Any, where: str, problems: list[str]) -> ToolCall | None:
    fn = raw.get("function") if isinstance(raw, dict) else None
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not isinstance(raw.get("id"), str):
        problems.append(f"{where}: a tool call needs an 'id' and a 'function' with a 'name', got {shown(raw)}")
        return None
    args = fn.get("arguments")
    if isinstance(args, dict):
        return ToolCall(raw["id"], fn["name"], args)
    if args is None or (isinstance(args, str) and not args.strip()):
        return ToolCall(raw["id"], fn["name"], {})
    if not isinstance(args, str):
        problems.append(f"{where}.function.arguments: must be a JSON string or an object, got {shown(args)}")
        return None
    try:
        parsed = json.loads(args)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        return ToolCall(raw["id"], fn["name"], parsed)
    return ToolCall(raw["id"], fn["name"], None, args)  # kept as the agent sent it: a malformed call


def chat_events(messages: list[Any], problems: list[str]) -> tuple[list[Event], str | None, StopReason]:
    """The events of an episode's ``messages``, its final answer and its stop reason; what is wrong with a
    message is appended to ``problems`` as ``messages[i]...: problem``."""
    events: list[Event] = []
    calls: dict[str, ToolCall] = {}
    turn = 0
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            problems.append(f"{where}: expected a message object, got {shown(m)}")
            continue
        role = m.get("role")
        if role not in _ROLES:
            problems.append(f"{where}.role: must be one of {', '.join(sorted(_ROLES))}, got {shown(role)}")
            continue
        problem = _content_problem(m.get("content"), where)
        bad = [f for f in REASONING_FIELDS if m.get(f) is not None and not isinstance(m.get(f), str)]
        if bad:
            problem = f"{where}.{bad[0]}: must be a string or null, got {shown(m.get(bad[0]))}"
        if problem:
            problems.append(problem)
            continue
        content = _text(m.get("content"))
        seq = len(events)
        if role in ("system", "developer", "user"):
            events.append(Event.prompt(seq, "user" if role == "user" else "system", turn, content))
        elif role == "assistant":
            raw_calls = m.get("tool_calls") or []
            if not isinstance(raw_calls, list):
                problems.append(f"{where}.tool_calls: must be a list, got {shown(raw_calls)}")
                continue
            parsed = [_tool_call(c, f"{where}.tool_calls[{j}]", problems) for j, c in enumerate(raw_calls)]
            tool_calls = tuple(c for c in parsed if c is not None)
            calls.update((c.id, c) for c in tool_calls)
            turn += 1
            reasoning, said = reply_parts(m)
            events.append(Event.model_call(seq, turn, content=said, tool_calls=tool_calls, reasoning=reasoning))
        else:
            call_id = m.get("tool_call_id")
            call = calls.get(call_id) if isinstance(call_id, str) else None
            if call is None:
                problems.append(f"{where}.tool_call_id: {shown(call_id)} answers no earlier tool call")
                continue
            ok, error_type, data = _tool_outcome(m, content or "")
            arguments = call.arguments if call.arguments is not None else {"_raw": call.raw_arguments}
            events.append(
                Event.tool_result(
                    seq,
                    turn,
                    tool=call.name,
                    ok=ok,
                    call_id=call.id,
                    arguments=arguments,
                    content=content or "",
                    error_type=error_type,
                    data=data,
                )
            )
    if problems:
        return events, None, "unknown"
    stop, reply = stop_reason_of(messages)
    answer = extract_final_answer(reply_parts(reply)[1] or "") if reply is not None else None
    return events, answer or None, stop


def stop_reason_of(messages: list[Any]) -> tuple[StopReason, dict[str, Any] | None]:
    """How a conversation ended, as its messages show it, and the assistant reply that is its final answer
    (None when there is none): see the module docstring."""
    shown_messages = [m for m in messages if isinstance(m, dict)]
    last = shown_messages[-1] if shown_messages else {}
    agent = next((m for m in reversed(shown_messages) if m.get("role") == "assistant"), None)
    if last.get("role") == "assistant" and not last.get("tool_calls"):
        return "final_answer", last
    if last.get("role") == "user":
        return "user_stop", agent if agent is not None and not agent.get("tool_calls") else None
    calls = agent.get("tool_calls") if agent is not None else None
    names = [c.get("function", {}).get("name") for c in calls if isinstance(c, dict)] if calls else []
    if last.get("role") == "tool" and any(isinstance(n, str) and _HANDOFF.match(n) for n in names):
        return "handoff", None
    return "unknown", None
