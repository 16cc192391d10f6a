"""Several replicas of one model: which endpoint the next request goes to, and which are resting after a failure.

A model may name several endpoints (``api_base: [url1, url2, ...]`` in ``evalkit.yaml``, or ``--api-base``
repeated): data-parallel replicas of one server, serving the same weights. Each request goes to the
least-loaded endpoint (fewest requests in flight, then fewest sent), as litellm's Router does with its
``least-busy`` strategy. An endpoint whose request failed the way an outage fails (no connection, a timeout,
a 5xx) rests for ``COOL_DOWN_S`` (doubling with each further failure, at most ``MAX_COOL_DOWN_S``); the
gateway retries the request at once on another endpoint while one is awake, and only waits its backoff when
every endpoint rests. What each endpoint served is counted for the sample (``EndpointLog``), and the report
shows calls, failures and latency per endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

COOL_DOWN_S = 2.0
MAX_COOL_DOWN_S = 60.0
FAILOVER_CLASSES = frozenset({"connection", "timeout", "server_error"})
"""The error classes that say the endpoint, not the request, is at fault: another endpoint may answer."""


@dataclass
class Endpoint:
    url: str
    in_flight: int = 0
    sent: int = 0
    failures_in_a_row: int = 0
    resting_until: float = 0.0


@dataclass
class EndpointPool:
    """The endpoints of one model; see the module docstring. Used from one event loop (no locking)."""

    urls: tuple[str, ...]
    clock: Callable[[], float] = time.monotonic
    endpoints: list[Endpoint] = field(init=False)

    def __post_init__(self) -> None:
        self.endpoints = [Endpoint(url) for url in self.urls]

    def pick(self) -> Endpoint:
        """The least-loaded awake endpoint; when all rest, the one that wakes first."""
        now = self.clock()
        awake = [e for e in self.endpoints if e.resting_until <= now]
        if not awake:
            return min(self.endpoints, key=lambda e: e.resting_until)
        return min(awake, key=lambda e: (e.in_flight, e.sent))

    def awake(self) -> int:
        now = self.clock()
        return sum(1 for e in self.endpoints if e.resting_until <= now)

    def started(self, endpoint: Endpoint) -> None:
        endpoint.in_flight += 1
        endpoint.sent += 1

    def finished(self, endpoint: Endpoint, error_class: str | None) -> None:
        """A request to ``endpoint`` ended (``error_class`` None when it succeeded)."""
        endpoint.in_flight -= 1
        if error_class is None:
            endpoint.failures_in_a_row = 0
        elif error_class in FAILOVER_CLASSES:
            endpoint.failures_in_a_row += 1
            rest = min(COOL_DOWN_S * 2 ** (endpoint.failures_in_a_row - 1), MAX_COOL_DOWN_S)
            endpoint.resting_until = self.clock() + rest


@dataclass
class EndpointLog:
    """What one sample's requests did at each endpoint, for its metadata (``endpoints``)."""

    counts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, url: str, latency_s: float, failed: bool) -> None:
        entry = self.counts.setdefault(url, {"calls": 0, "failures": 0, "latency_s": 0.0})
        entry["calls"] += 1
        if failed:
            entry["failures"] += 1
        else:
            entry["latency_s"] = round(entry["latency_s"] + latency_s, 6)
