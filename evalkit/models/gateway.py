"""The model gateway: every model call goes through it, over litellm or over the lean direct client.

An OpenAI-compatible server (``openai/`` with an ``api_base``, ``hosted_vllm/``, or ``client: direct``) is
called by ``models.direct`` (one aiohttp POST: litellm's CPU per call is most of a fast local server's budget);
every other provider, and the scripted agents, through litellm. Both paths share what is here: the retries,
Retry-After, the error classes, the cache keys and the prices.

litellm is imported lazily (it costs seconds) and never reaches the network at import:
``LITELLM_LOCAL_MODEL_COST_MAP`` is set before the import. The scripted offline agents are registered as a
litellm custom provider, so they travel the same path as any remote model.

Per call the gateway records tokens, latency and cost. Cost comes from litellm's price table, looked up
once per model and cached; an unknown model's cost is ``None``, never a silent 0.

litellm's per-call bookkeeping is most of its CPU per call (see ``bench/bench_engine.py``). evalkit
registers no litellm callbacks and does not use litellm's cost, so the gateway keeps that bookkeeping as
cheap as litellm's supported settings allow: no message redaction (``turn_off_message_logging`` deep-copies
every request and reply to redact logs nobody receives), and the cost litellm computes on every call for
its own logging is priced from evalkit's cached table (``input_cost_per_token`` / ``output_cost_per_token``;
the scripted agents are registered in litellm's table as free models) instead of a price-map search with
fallback rules. What remains (building the success-logging payload, the thread hop of ``acompletion``,
parameter mapping, a zero-cost diagnostic for free models) has no supported switch.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any

from evalkit.contracts.model_config import ModelConfig
from evalkit.models.direct import DirectClient, EndpointCallback, default_key, uses_direct
from evalkit.models.endpoints import FAILOVER_CLASSES
from evalkit.models.preflight import PLACEHOLDER_KEY, local_api_base
from evalkit.models.prices import SCRIPTED_PREFIX, call_cost, token_prices
from evalkit.models.provider_errors import classify_error
from evalkit.models.replies import parse_reply
from evalkit.models.types import ModelCallError, ModelReply
from evalkit.redact import redact, register_secret_env

logger = logging.getLogger(__name__)


@cache
def litellm_module() -> Any:
    """Import and configure litellm once (offline price map, no telemetry, scripted provider)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_TELEMETRY", "False")
    import warnings

    # a provider module litellm imports on first use has a TypedDict pydantic warns about, on the user's stderr
    warnings.filterwarnings("ignore", message=r"Item.* using the `ReadOnly` qualifier", category=UserWarning)
    import litellm

    from evalkit.models.scripted import ScriptedProvider

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.drop_params = True
    # Not ``turn_off_message_logging``: with no callback registered nothing is logged, and the redaction it
    # asks for deep-copies every request and reply (about 40 % of litellm's CPU per call).
    litellm.custom_provider_map = [
        *[p for p in litellm.custom_provider_map if p.get("provider") != "scripted"],
        {"provider": "scripted", "custom_handler": ScriptedProvider()},
    ]
    litellm.utils.custom_llm_setup()
    from evalkit.models.scripts import POLICIES

    # The scripted agents are free models in litellm's price table, so its per-call price lookups (for its
    # own logging) find them at once instead of failing through every fallback rule.
    free = {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0}
    free |= {"cache_creation_input_token_cost": 0.0, "cache_read_input_token_cost": 0.0}
    litellm.register_model(
        {f"{SCRIPTED_PREFIX}{p}": {**free, "litellm_provider": "scripted", "mode": "chat"} for p in POLICIES}
    )
    return litellm


def _without_litellm_bookkeeping() -> AbstractContextManager[object]:
    """Skip litellm's own success logging and billing for a call.

    evalkit records every call itself (tokens, latency, cost) and registers no litellm callbacks, so
    litellm's per-call logging payload and its repricing of the reply are work nobody reads: about half of
    its CPU per call. litellm marks calls whose logging and billing belong to someone else with its
    ``internal_sub_call`` context; the request, the reply, retries and error mapping are unchanged. Should a
    litellm release move it, calls simply keep litellm's default bookkeeping.
    """
    try:
        from litellm._internal_context import internal_sub_call
    except ImportError:
        return nullcontext()
    return internal_sub_call()


class ModelGateway:
    """Calls one model through litellm, with retries on transient failures."""

    def __init__(
        self,
        config: ModelConfig,
        *,
        timeout_s: float = 120.0,
        max_attempts: int = 5,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self.direct = uses_direct(config)
        self._litellm = None if self.direct else litellm_module()
        self._static_kwargs = self._build_static_kwargs()
        self._client: DirectClient | None = None
        self._direct_static: dict[str, Any] = {
            k: self._static_kwargs[k] for k in ("temperature", "max_tokens") if k in self._static_kwargs
        }
        """The sampling settings a direct request sends (the client adds the model's ``extra``)."""
        if config.replicas and not self.direct:
            from evalkit.errors import ConfigError

            raise ConfigError(
                f"model {config.name!r}: several api_base replicas need the direct client (openai/ or "
                "hosted_vllm/ with an api_base, or client: direct)"
            )
        if self.direct:
            key = self._static_kwargs.get("api_key") or default_key(config)
            trust_env = not local_api_base(config.api_base)  # a proxy variable must not catch a local server
            self._client = DirectClient(config, api_key=key, timeout_s=timeout_s, trust_env=trust_env)
        # litellm prices every call for its own logging; give it our cached prices (0 when unknown: its
        # figure is never used) so it skips its price-map search. Not part of the cache key.
        prices = token_prices(config.model) or (0.0, 0.0)
        self._call_kwargs: dict[str, Any] = {}
        if not config.model.startswith(SCRIPTED_PREFIX):  # those are in litellm's table already
            self._call_kwargs |= {"input_cost_per_token": prices[0], "output_cost_per_token": prices[1]}
        self._call_kwargs.update(self._static_kwargs)

    def _build_static_kwargs(self) -> dict[str, Any]:
        c = self.config
        kw: dict[str, Any] = {"model": c.model, "timeout": self.timeout_s, "num_retries": 0, "max_retries": 0}
        if c.api_base:
            kw["api_base"] = c.api_base
        if c.api_key_env:
            register_secret_env(c.api_key_env)  # its value is redacted wherever evalkit writes text
            key = os.environ.get(c.api_key_env)
            if not key:
                from evalkit.errors import ConfigError

                raise ConfigError(f"model {c.name!r}: environment variable {c.api_key_env} (its API key) is not set")
            kw["api_key"] = key
        elif not self.direct and local_api_base(c.api_base) and self._needs_placeholder_key():
            kw["api_key"] = PLACEHOLDER_KEY  # a local server wants none; the provider's client insists on one
        if c.temperature is not None:
            kw["temperature"] = c.temperature
        if c.max_tokens is not None:
            kw["max_tokens"] = c.max_tokens
        if not c.model.startswith(SCRIPTED_PREFIX):
            kw.update(c.extra)
        return kw

    def _needs_placeholder_key(self) -> bool:
        """Whether the provider's client would refuse to send a request for lack of its key variable."""
        assert self._litellm is not None
        try:
            found = self._litellm.validate_environment(model=self.config.model, api_base=self.config.api_base)
        except Exception:
            return False
        return bool(found.get("missing_keys"))

    async def ping(self, header: str) -> None:
        """One small request without tools, not retried, marked with ``header``: the preflight of a run.
        Any answer litellm reads as a chat completion counts (a reasoning model cut at 16 tokens may have no
        content yet); a failure raises ``ModelCallError``."""
        messages = [{"role": "user", "content": "Reply with the word OK."}]
        if self._client is not None:
            body = self._client.body({**self._direct_static, "max_tokens": 16}, messages)
            try:
                await self._client.ping_all(body, header)
            except Exception as exc:
                raise classify_error(exc) from exc
            return
        assert self._litellm is not None
        kw = dict(self._call_kwargs)
        kw["messages"] = messages
        kw["max_tokens"] = 16
        kw["extra_headers"] = {**(kw.get("extra_headers") or {}), header: "1"}
        try:
            with _without_litellm_bookkeeping():
                await self._litellm.acompletion(**kw)
        except Exception as exc:
            raise classify_error(exc) from exc

    @property
    def replicated(self) -> bool:
        """Whether the model has several endpoints (replicas)."""
        return self._client is not None and self._client.replicated

    async def aclose(self) -> None:
        """Close the direct client's connections (on the loop that made them); nothing for litellm."""
        if self._client is not None:
            await self._client.aclose()

    def request_params(self, tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The request parameters that decide the reply (for cache keys): never the API key. With ``tools``,
        also the ``tool_choice`` sent with them (the tools themselves are part of the key)."""
        choice = self.tool_choice(tools or [])
        return (
            {k: v for k, v in self._static_kwargs.items() if k not in ("api_key", "timeout")}
            | ({"tool_choice": choice} if choice is not None else {})
            | ({"extra": self.config.extra} if self.config.model.startswith(SCRIPTED_PREFIX) else {})
        )

    def tool_choice(self, tools: list[dict[str, Any]]) -> str | None:
        """The ``tool_choice`` a request with ``tools`` sends: the configured one (``auto`` by default) when
        the tools go natively, none for the text protocol, without tools, or when configured ``omit``.
        Some servers (llama-cpp-python's) leave the tools out of the prompt when no ``tool_choice`` comes.
        A ``tool_choice`` given in the model's ``extra`` parameters wins over the setting."""
        choice = self._static_kwargs.get("tool_choice", self.config.tool_choice)
        if self.config.tool_protocol != "native" or not tools or choice == "omit":
            return None
        return choice

    def offered(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        """What a request with ``tools`` offers the model, for the trace: the tool names (sent natively or
        described in the system prompt), the ``tool_choice`` sent (None when none is) and the protocol."""
        return {
            "offered_tools": [str(t.get("function", {}).get("name")) for t in tools],
            "tool_choice": self.tool_choice(tools),
            "tool_protocol": self.config.tool_protocol,
        }

    def reply_inputs(self, context: dict[str, Any]) -> dict[str, Any]:
        """What decides a reply besides the request (for cache keys): for the scripted agents, the task, the
        suite's content (its answers and reference solutions) and their policy code; nothing for a real model,
        whose reply depends on the request alone."""
        if not self.config.model.startswith(SCRIPTED_PREFIX):
            return {}
        from evalkit.models.scripts import policy_code_hash

        return {
            "task_id": context.get("task_id"),
            "suite_hash": context.get("suite_hash"),
            "policy_code": policy_code_hash(),
        }

    async def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        seed: int | None = None,
        context: dict[str, Any] | None = None,
        on_retry: Callable[[int, str, float], None] | None = None,
        on_call: EndpointCallback | None = None,
    ) -> ModelReply:
        """One model turn. ``context`` (task id, epoch, ...) reaches scripted agents through litellm's
        metadata. Transient errors are retried with exponential backoff and jitter, honouring Retry-After;
        with replicas, at once on another endpoint while one is awake. ``on_call`` hears of each request to
        a replica (its URL, seconds, whether it failed)."""
        native = self.config.tool_protocol == "native"
        turn: dict[str, Any] = {}  # what this turn adds to the model's fixed settings
        if native and tools:
            turn["tools"] = tools
            choice = self.tool_choice(tools)
            if choice is not None:
                turn["tool_choice"] = choice
        if seed is not None:
            turn["seed"] = seed
        if self._client is not None:
            body = self._client.body({**self._direct_static, **turn}, messages)
        else:
            kw = {**self._call_kwargs, "messages": messages, **turn}
            if self.config.model.startswith(SCRIPTED_PREFIX):
                kw["metadata"] = {"evalkit": {**(context or {}), "seed": seed, "params": self.config.extra}}
        attempt = 0
        while True:
            attempt += 1
            start = time.perf_counter()
            try:
                if self._client is not None:
                    response = await self._client.send(body, on_call=on_call)
                else:
                    response = await self._send_litellm(kw)
                return self._reply(response, time.perf_counter() - start, native)
            except Exception as exc:  # litellm raises many types; classify them
                error = classify_error(exc)
                if not error.transient or attempt >= self._attempts_for(error):
                    self._log_failure(exc, error, attempt)
                    raise error from exc
                delay = self._backoff(attempt, error.retry_after)
                if self._client is not None and error.error_class in FAILOVER_CLASSES and self._client.pool.awake():
                    delay = 0.0  # another replica is awake: fail over to it at once
                self._log_retry(exc, error, attempt, delay)
                if on_retry:
                    on_retry(attempt, str(error), delay)
                await self._sleep(delay)

    async def _send_litellm(self, kw: dict[str, Any]) -> Any:
        assert self._litellm is not None
        with _without_litellm_bookkeeping():
            return await self._litellm.acompletion(**kw)

    def _attempts_for(self, error: ModelCallError) -> int:
        """A malformed reply is tried once more (a server's glitch), not ``max_attempts`` times: a server
        that sends no chat completion mostly sends none again."""
        return min(self.max_attempts, 2) if error.error_class == "malformed_reply" else self.max_attempts

    def _log_retry(self, exc: BaseException, error: ModelCallError, attempt: int, delay: float) -> None:
        honoured = ""
        if error.retry_after is not None:
            capped = ", capped" if delay < error.retry_after else ""
            honoured = f" as the provider's Retry-After asks ({error.retry_after:g}s{capped})"
        logger.info(
            "model %s: %s (%s) on attempt %d of %d; retrying in %.2fs%s",
            self.config.name,
            type(exc).__name__,
            error.error_class,
            attempt,
            self.max_attempts,
            delay,
            honoured,
            extra={
                "model": self.config.name,
                "error_class": type(exc).__name__,
                "attempt": attempt,
                "wait_s": delay,
                "retry_after": error.retry_after,
            },
        )

    def _log_failure(self, exc: BaseException, error: ModelCallError, attempt: int) -> None:
        why = "not transient" if not error.transient else f"attempt {attempt} of {self.max_attempts}"
        logger.info(
            "model %s: %s (%s), giving up (%s): %s",
            self.config.name,
            type(exc).__name__,
            error.error_class,
            why,
            redact(str(error)[:300]),
            extra={"model": self.config.name, "error_class": type(exc).__name__, "attempt": attempt},
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max_s)
        exp = min(self.backoff_base_s * 2 ** (attempt - 1), self.backoff_max_s)
        return exp / 2 + random.uniform(0, exp / 2)

    def _reply(self, response: Any, latency: float, native: bool) -> ModelReply:
        return parse_reply(response, latency, native, lambda usage: call_cost(self.config.model, usage))
