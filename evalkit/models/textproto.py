"""The text tool-call protocol, for models served without native function calling.

The model writes ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` inside its reply (as Qwen- and
Hermes-style models do when served without a tool parser); results come back in ``<tool_response>`` blocks.
"""

from __future__ import annotations

import json
import re
from typing import Any

from evalkit.trace.types import ToolCall

_CALL = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)


def tools_prompt(tools: list[dict[str, Any]]) -> str:
    """The system-prompt section that describes the tools and the call format."""
    specs = "\n".join(json.dumps(t["function"], separators=(",", ":")) for t in tools)
    return (
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n"
        f"<tools>\n{specs}\n</tools>\n\n"
        "For each function call, return a json object with function name and arguments within "
        "<tool_call></tool_call> XML tags:\n"
        '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>\n'
        "Results come back inside <tool_response></tool_response> tags."
    )


def parse_tool_calls(content: str) -> tuple[str, tuple[ToolCall, ...]]:
    """Split a reply into its text and its tool calls. A block that is not a JSON object with a string
    ``name`` becomes a call with ``arguments=None`` and the raw text kept, so the loop can report it."""
    calls: list[ToolCall] = []
    for i, match in enumerate(_CALL.finditer(content)):
        raw = match.group(1).strip()
        call_id = f"call_{i}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError:
            calls.append(ToolCall(call_id, "", None, raw))
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            calls.append(ToolCall(call_id, "", None, raw))
            continue
        args = obj.get("arguments", obj.get("parameters", {}))
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                calls.append(ToolCall(call_id, obj["name"], None, args))
                continue
        if not isinstance(args, dict):
            calls.append(ToolCall(call_id, obj["name"], None, json.dumps(args)))
            continue
        calls.append(ToolCall(call_id, obj["name"], args))
    text = _CALL.sub("", content).strip() if calls else content
    return text, tuple(calls)


def format_call(name: str, arguments: dict[str, Any]) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


def tool_response_message(results: list[str]) -> dict[str, Any]:
    """The user message that carries one turn's tool results back to a text-protocol model."""
    body = "\n".join(f"<tool_response>\n{r}\n</tool_response>" for r in results)
    return {"role": "user", "content": body}
