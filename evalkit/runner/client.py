"""What the agent loop calls for one episode: the gateway, with the response cache and cost accounting."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evalkit.models.cache import RequestKey, ResponseCache
from evalkit.models.endpoints import EndpointLog
from evalkit.models.gateway import ModelGateway
from evalkit.models.types import ModelCallError, ModelReply


@dataclass
class CostMeter:
    """Spend of the whole run so far, and its budget."""

    budget_usd: float | None = None
    spent_usd: float = 0.0
    unknown_calls: int = 0

    def add(self, cost: float | None) -> None:
        if cost is None:
            self.unknown_calls += 1
        else:
            self.spent_usd += cost

    def over_budget(self) -> bool:
        return self.budget_usd is not None and self.spent_usd >= self.budget_usd


@dataclass
class RetryLog:
    """Retries made during one episode (attempt, error, delay), recorded in the sample's metadata."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, attempt: int, error: str, delay: float) -> None:
        self.entries.append({"attempt": attempt, "error": error[:300], "delay_s": round(delay, 3)})


class EpisodeModel:
    """One episode's view of a model: context for scripted agents, an incremental cache key."""

    def __init__(
        self,
        gateway: ModelGateway,
        *,
        cache: ResponseCache | None,
        meter: CostMeter,
        seed: int | None,
        epoch: int,
        context: dict[str, Any],
        retries: RetryLog,
    ) -> None:
        self.gateway = gateway
        self.cache = cache
        self.meter = meter
        self.seed = seed
        self.context = {**context, "epoch": epoch}
        self.retries = retries
        self.endpoints = EndpointLog()
        """What this episode's requests did at each replica (only when the model has several)."""
        self._key: RequestKey | None = None
        self._epoch = epoch
        self.failure: ModelCallError | None = None
        """The call error that ended the episode, if one did (its class decides what the run does next)."""

    def offered(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        """What the model is offered with ``tools`` (names, ``tool_choice`` sent, protocol), for the trace."""
        return self.gateway.offered(tools)

    async def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ModelReply:
        key = None
        if self.cache is not None:
            if self._key is None:
                decides = self.gateway.reply_inputs(self.context)
                self._key = RequestKey(self.gateway.request_params(tools), tools, self.seed, self._epoch, decides)
            key = self._key.key(messages)
            hit = self.cache.get(key)
            if hit is not None:
                return hit
        try:
            reply = await self.gateway.complete(
                messages,
                tools,
                seed=self.seed,
                context=self.context,
                on_retry=self.retries,
                on_call=self.endpoints.record if self.gateway.replicated else None,
            )
        except ModelCallError as exc:
            self.failure = exc
            raise
        self.meter.add(reply.cost_usd)
        if self.cache is not None and key is not None:
            self.cache.put(key, reply)
        return reply
