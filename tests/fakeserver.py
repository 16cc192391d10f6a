"""An OpenAI-compatible chat-completions server on 127.0.0.1 that answers with scripted replies.

Each POST to ``/v1/chat/completions`` takes the next reply from the script: either a dict
``{"status": 429, "headers": {...}, "body": {...}}`` for an error, or an assistant message to wrap in a
completion (``content``, ``tool_calls``, optionally ``reasoning_content``, and ``finish_reason``, which
defaults to ``tool_calls`` or ``stop``); ``delay_s`` in an item delays the reply. Every request body is kept
in ``requests`` for assertions.

Faults a provider can reply with, one item each: ``{"reply": {...}}`` sends that JSON document as the 200
reply, whatever it holds (``{"choices": []}``, a choice without a message, ...); ``{"raw": "..."}`` sends
those bytes as a 200 ``application/json`` body (not JSON at all, or a 10 MB document); ``{"status": 401}``
and the like send an error status, and with ``"echo_auth": true`` its message quotes the request's
``Authorization`` header back, as some providers do with a key they refuse. Each request's headers are kept in
``headers``. ``closed_port()`` is a loopback URL where nothing listens (connection
refused).

``serve(script, **LLAMA_CPP)`` behaves like llama-cpp-python's OpenAI-compatible server, whose quirks a real
local model exposed:

- ``drop_tools_unless_tool_choice``: a request with ``tools`` but no ``tool_choice`` is answered as if it had
  no tools: the tools are left out of the prompt (fewer ``prompt_tokens``) and the model, never told of them,
  answers in prose (the item's ``prose``, else ``NO_TOOLS_PROSE``) instead of the scripted tool call;
- ``reject_null_content``: a message with ``content: null`` (an assistant tool-call turn replayed as OpenAI
  returns it) fails the chat template: HTTP 500;
- ``honour_max_tokens``: a reply longer than the request's ``max_tokens`` (counted in words) is cut there and
  ends with ``finish_reason: "length"``.

With any quirk on, ``usage`` is counted from the request (about four characters a token, the tools' JSON
included only when they reach the prompt) instead of the fixed 100 prompt and 20 completion tokens.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NO_TOOLS_PROSE = (
    "Acme Widgets is a manufacturer of industrial widgets. Its revenue in fiscal 2023 was roughly "
    "$1.2 billion, though I would recommend checking the company's annual report for the exact figure."
)
"""What a small model writes when the server left the tools out of its prompt: prose with a wrong guess."""

TEMPLATE_ERROR = {
    "error": {
        "message": 'can only concatenate str (not "NoneType") to str',
        "type": "internal_server_error",
        "code": 500,
    }
}
"""llama-cpp-python's answer to a message whose content is null: its chat template fails on it."""


@dataclass(frozen=True)
class Quirks:
    drop_tools_unless_tool_choice: bool = False
    reject_null_content: bool = False
    honour_max_tokens: bool = False

    @property
    def any(self) -> bool:
        return self.drop_tools_unless_tool_choice or self.reject_null_content or self.honour_max_tokens


LLAMA_CPP: dict[str, bool] = {
    "drop_tools_unless_tool_choice": True,
    "reject_null_content": True,
    "honour_max_tokens": True,
}
"""The quirks of llama-cpp-python's server, for ``serve(script, **LLAMA_CPP)``."""


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class ScriptedServer:
    def __init__(self, script: list[dict[str, Any]], repeat_last: bool = False, quirks: Quirks = Quirks()) -> None:
        self.script = list(script)
        self.repeat_last = repeat_last
        self.quirks = quirks
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.prompt_tokens: list[int] = []
        """The prompt tokens of each request answered (with quirks on: whether the tools reached the prompt)."""
        self.preflights: list[dict[str, Any]] = []
        """The preflight requests (marked with evalkit's preflight header): answered apart from the script."""
        self.preflight_fault: dict[str, Any] | None = None
        """``{"status": ..., "body": ...}``: how preflight requests fail; None: they succeed."""
        self._lock = threading.Lock()

    def preflight_answer(
        self, body: dict[str, Any], headers: dict[str, str] | None
    ) -> tuple[int, dict[str, str], Any] | None:
        """The answer to a preflight request (None for any other request)."""
        if "x-evalkit-preflight" not in (headers or {}):
            return None
        with self._lock:
            self.preflights.append(body)
        if self.preflight_fault is not None:
            return self.preflight_fault["status"], {}, self.preflight_fault.get("body", {"error": {"message": "no"}})
        message = {"role": "assistant", "content": "OK"}
        usage = {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        reply = {"id": "preflight", "object": "chat.completion", "created": 0, "model": body.get("model", "m")}
        return 200, {}, {**reply, "choices": [choice], "usage": usage}

    def next_reply(
        self, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        preflight = self.preflight_answer(body, headers)
        if preflight is not None:
            return preflight
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers or {})
            if not self.script:
                return 500, {}, {"error": {"message": "script exhausted", "type": "server_error"}}
            item = self.script.pop(0) if len(self.script) > 1 or not self.repeat_last else self.script[0]
        if item.get("delay_s"):
            time.sleep(item["delay_s"])
        if "status" in item:
            error = item.get("body", {"error": {"message": "error"}})
            if item.get("echo_auth"):
                quoted = (headers or {}).get("authorization", "")
                error = {"error": {"message": f"invalid credentials: {quoted}", "type": "invalid_request_error"}}
            return item["status"], item.get("headers", {}), error
        if "reply" in item:
            return 200, {}, item["reply"]
        if "raw" in item:
            return 200, {}, item["raw"]
        q = self.quirks
        if q.reject_null_content and any(m.get("content") is None for m in body.get("messages", ())):
            return 500, {}, TEMPLATE_ERROR
        tools_in_prompt = bool(body.get("tools")) and (not q.drop_tools_unless_tool_choice or "tool_choice" in body)
        content, tool_calls = item.get("content"), item.get("tool_calls")
        if body.get("tools") and not tools_in_prompt:
            content, tool_calls = item.get("prose", NO_TOOLS_PROSE), None
        finish = item.get("finish_reason") or ("tool_calls" if tool_calls else "stop")
        limit = body.get("max_tokens")
        cut = False
        if q.honour_max_tokens and isinstance(content, str) and isinstance(limit, int) and not tool_calls:
            words = content.split(" ")
            if len(words) > limit:
                content, finish, cut = " ".join(words[:limit]), "length", True
        message = {"role": "assistant", "content": content, **({"tool_calls": tool_calls} if tool_calls else {})}
        if item.get("reasoning_content") is not None:  # as vLLM's and SGLang's reasoning parsers send it
            message["reasoning_content"] = item["reasoning_content"]
        usage: dict[str, Any] = {"prompt_tokens": 100, "completion_tokens": 20}
        if q.any:
            prompt = json.dumps(body.get("messages", [])) + (json.dumps(body["tools"]) if tools_in_prompt else "")
            completion = limit if cut and isinstance(limit, int) else _tokens(json.dumps(message))
            usage = {"prompt_tokens": _tokens(prompt), "completion_tokens": completion}
        if item.get("reasoning_tokens") is not None:  # as OpenAI and vLLM count them
            usage["completion_tokens_details"] = {"reasoning_tokens": item["reasoning_tokens"]}
        with self._lock:
            self.prompt_tokens.append(usage["prompt_tokens"])
        reply = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1764000000,
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
        }
        return 200, {}, reply


class PromptServer(ScriptedServer):
    """Answers each request from its prompt (its second message) by ``answer``, one request at a time, as a
    judge is answered: requests arrive concurrently, so the script is set and read under one lock."""

    guard = threading.Lock()

    def answer(self, prompt: str) -> dict[str, Any]:
        raise NotImplementedError

    def next_reply(
        self, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        preflight = self.preflight_answer(body, headers)
        if preflight is not None:
            return preflight
        with self.guard:
            self.script = [self.answer(str(body["messages"][1]["content"]))]
            return super().next_reply(body, headers)


def closed_port() -> str:
    """The base URL of a loopback port where nothing listens: every connection is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@contextmanager
def serve(
    script: list[dict[str, Any]],
    *,
    repeat_last: bool = False,
    drop_tools_unless_tool_choice: bool = False,
    reject_null_content: bool = False,
    honour_max_tokens: bool = False,
    port: int = 0,
    preflight_fault: dict[str, Any] | None = None,
) -> Iterator[tuple[str, ScriptedServer]]:
    """Start the server on a free loopback port; yield its base URL (ending in /v1) and the server.
        With ``repeat_last`` the last reply is given again once the script is used up; the other flags turn on
        the quirks of llama-cpp-python's server (see the module's docstring; ``**LLAMA_CPP`` turns on all).
    ``port`` binds a given port (a server coming back where a ``closed_port()`` refused connections)."""
    quirks = Quirks(drop_tools_unless_tool_choice, reject_null_content, honour_max_tokens)
    state = ScriptedServer(script, repeat_last, quirks)
    state.preflight_fault = preflight_fault

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            status, headers, payload = state.next_reply(body, {k.lower(): v for k, v in self.headers.items()})
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with loopback(Handler, port) as base:
        yield base, state


@contextmanager
def loopback(handler: type[BaseHTTPRequestHandler], port: int = 0) -> Iterator[str]:
    """``handler`` served on 127.0.0.1 (``port``, 0 for a free one) by a thread; yields the base URL (``/v1``)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()
