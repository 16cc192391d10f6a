"""When to stop sending a model more samples: the circuit breaker of a run.

Without it a dead server (connection refused) or a server that refuses the request itself costs every
remaining sample its own retries (about 12 s each with the default backoff). The breaker watches how each
sample of a model ended:

- the same call failure (``ModelCallError.signature``: its class, status and text) for ``trip_after``
  consecutive samples of one model stops that model: no new sample of it starts, and the samples not run
  stay pending for ``evalkit run --resume``;
- when that failure is an answer of the server (an HTTP 4xx or 5xx with the same body every time), the
  request itself is refused: those samples are recorded as ``request_rejected``, not as an outage;
- an authentication failure (HTTP 401/403) stops the whole run at once: no other sample can do better.

A sample that succeeds, or fails otherwise, starts the count again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from evalkit.models.types import ModelCallError

TRIP_AFTER = 3
"""Consecutive samples of one model failing the same way that stop the model."""

_REJECTABLE = frozenset({"server_error", "request_rejected", "provider_error"})
"""Classes whose repetition with the same status and text means the server refuses this request."""

S = TypeVar("S")


@dataclass(frozen=True)
class Halt:
    """Why samples stopped being scheduled: for one ``model``, or for the whole run (``model`` None)."""

    model: str | None
    error_class: str
    message: str


@dataclass
class _Streak(Generic[S]):
    signature: str
    samples: list[S] = field(default_factory=list)


class CircuitBreaker(Generic[S]):
    """Per-model streaks of identical failures; ``S`` is what the caller records (its samples)."""

    def __init__(self, trip_after: int = TRIP_AFTER) -> None:
        self.trip_after = trip_after
        self.halts: dict[str, Halt] = {}
        """Models that no longer get new samples, and why."""
        self.run_halt: Halt | None = None
        """Set when no model gets new samples (an authentication failure)."""
        self._streaks: dict[str, _Streak[S]] = {}

    def allows(self, model: str) -> bool:
        """Whether a new sample of ``model`` may start."""
        return self.run_halt is None and model not in self.halts

    def record(self, model: str, sample: S, failure: ModelCallError | None) -> list[S]:
        """How a sample of ``model`` ended (``failure``: the call error that ended it, None otherwise).
        Returns the samples of the streak to record again as ``request_rejected`` when this one shows that
        the server refuses the request (the one passed in included); else an empty list."""
        if failure is None:
            self._streaks.pop(model, None)
            return []
        if failure.error_class == "auth_failed":
            status = f"HTTP {failure.status}" if failure.status else "credentials refused"
            self.run_halt = Halt(
                None,
                "auth_failed",
                f"model {model}: authentication failed ({status}): {failure}. The run is stopped; check the "
                f"model's API key (api_key_env) and api_base, then resume it.",
            )
            return []
        streak = self._streaks.get(model)
        if streak is None or streak.signature != failure.signature:
            streak = self._streaks[model] = _Streak(failure.signature)
        streak.samples.append(sample)
        if len(streak.samples) < self.trip_after or model in self.halts:
            return []
        rejected = failure.status is not None and failure.error_class in _REJECTABLE
        error_class = "request_rejected" if rejected else failure.error_class
        what = f"HTTP {failure.status} with the same reply" if failure.status else "the same error"
        hint = (
            "the server refuses this request: fix the model's configuration (model name, api_base, parameters)"
            if rejected
            else "check that the server is up and reachable, then resume the run"
        )
        self.halts[model] = Halt(
            model,
            error_class,
            f"model {model}: {len(streak.samples)} consecutive samples failed with {what} ({error_class}): "
            f"{failure}; no further samples of it were started ({hint})",
        )
        return list(streak.samples) if rejected else []

    def messages(self) -> list[str]:
        """Every halt, for the user."""
        return [h.message for h in ([self.run_halt] if self.run_halt else []) + list(self.halts.values())]
