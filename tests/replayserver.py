"""An OpenAI-compatible server on 127.0.0.1 that answers with exchanges recorded from a real server.

``bench/local_model.py`` (``make local-model``) runs evalkit against llama-cpp-python's server and writes every
exchange as a JSON line ``{"path", "request", "status", "response", "preflight"}``. ``serve(exchanges)`` answers
each POST with the recorded response whose request equals it (the first such one not yet used; ``comparable``
says which parts of a request count; evalkit's preflight request, marked by its header, only by a recorded
preflight), so a run replays the real server's quirks byte for byte without the build. A request
that no recording matches is answered with HTTP 400 ``replay_mismatch`` and kept in ``unmatched``: evalkit sent
something the real server never saw, which a test should fail on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from evalkit.models.preflight import PREFLIGHT_HEADER
from tests.fakeserver import loopback

VOLATILE = frozenset({"user", "metadata", "stream_options"})
"""Request keys that never decide a reply and may change from one run to the next."""


@dataclass(frozen=True)
class Exchange:
    path: str
    request: dict[str, Any]
    status: int
    response: Any
    preflight: bool = False
    """The request was evalkit's preflight (sent with its ``X-Evalkit-Preflight`` header)."""


def load_exchanges(path: Path) -> list[Exchange]:
    """The recorded exchanges of one run, in the order they happened."""
    exchanges = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            exchanges.append(
                Exchange(d["path"], d["request"], int(d["status"]), d["response"], bool(d.get("preflight")))
            )
    return exchanges


def comparable(request: dict[str, Any]) -> dict[str, Any]:
    """What of a request must match a recording: everything but ``VOLATILE`` keys (the messages, the tools,
    ``tool_choice``, the sampling settings); a recorded tool-call id comes back as the server gave it."""
    return {k: v for k, v in request.items() if k not in VOLATILE}


@dataclass
class ReplayServer:
    exchanges: list[Exchange]
    used: list[bool] = field(init=False)
    requests: list[dict[str, Any]] = field(default_factory=list)
    """Every request body received but the preflights, in order."""
    preflights: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.used = [False] * len(self.exchanges)

    def reply(self, path: str, body: dict[str, Any], preflight: bool = False) -> tuple[int, Any]:
        wanted = comparable(body)
        with self._lock:
            (self.preflights if preflight else self.requests).append(body)
            for i, exchange in enumerate(self.exchanges):
                if self.used[i] or exchange.preflight != preflight or exchange.path != path:
                    continue
                if comparable(exchange.request) == wanted:
                    self.used[i] = True
                    return exchange.status, exchange.response
            self.unmatched.append(body)
        message = f"no recorded exchange matches this request ({len(self.requests)} received)"
        return 400, {"error": {"message": message, "type": "replay_mismatch", "code": 400}}

    @property
    def unused(self) -> list[Exchange]:
        return [e for e, used in zip(self.exchanges, self.used, strict=True) if not used]


@contextmanager
def serve(exchanges: list[Exchange]) -> Iterator[tuple[str, ReplayServer]]:
    """Start the replay server on a free loopback port; yield its base URL (ending in /v1) and the server."""
    state = ReplayServer(exchanges)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            status, payload = state.reply(self.path, body, self.headers.get(PREFLIGHT_HEADER) is not None)
            data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with loopback(Handler) as base:
        yield base, state
