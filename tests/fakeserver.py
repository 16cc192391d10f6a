"""An OpenAI-compatible chat-completions server on 127.0.0.1 that answers with scripted replies.

Each POST to ``/v1/chat/completions`` takes the next reply from the script: either a dict
``{"status": 429, "headers": {...}, "body": {...}}`` for an error, or an assistant message to wrap in a
completion; ``delay_s`` in an item delays the reply. Every request body is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedServer:
    def __init__(self, script: list[dict[str, Any]], repeat_last: bool = False) -> None:
        self.script = list(script)
        self.repeat_last = repeat_last
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def next_reply(self, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self.requests.append(body)
            if not self.script:
                return 500, {}, {"error": {"message": "script exhausted", "type": "server_error"}}
            item = self.script.pop(0) if len(self.script) > 1 or not self.repeat_last else self.script[0]
        if item.get("delay_s"):
            time.sleep(item["delay_s"])
        if "status" in item:
            return item["status"], item.get("headers", {}), item.get("body", {"error": {"message": "error"}})
        message = {
            "role": "assistant",
            "content": item.get("content"),
            **({"tool_calls": item["tool_calls"]} if item.get("tool_calls") else {}),
        }
        completion = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1764000000,
            "model": body.get("model", "fake"),
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if item.get("tool_calls") else "stop"}
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }
        return 200, {}, completion


@contextmanager
def serve(script: list[dict[str, Any]], *, repeat_last: bool = False) -> Iterator[tuple[str, ScriptedServer]]:
    """Start the server on a free loopback port; yield its base URL (ending in /v1) and the server.
    With ``repeat_last`` the last reply is given again once the script is used up."""
    state = ScriptedServer(script, repeat_last)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            status, headers, payload = state.next_reply(body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", state
    finally:
        httpd.shutdown()
        httpd.server_close()
