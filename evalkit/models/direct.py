"""A lean client for OpenAI-compatible servers (vLLM, SGLang, llama.cpp, a proxy): one aiohttp POST to
``{api_base}/chat/completions`` per model turn.

litellm costs 8-13 ms of CPU per call over HTTP (``bench/bench_engine.py`` measures it beside this client),
which caps one core at about 80 calls a second: far below what a local server of a small model answers. This
client sends the same request body litellm would send for ``openai/NAME`` (the name without its provider
prefix, the messages, the tools and ``tool_choice``, the sampling settings, the model's ``extra``), and its
reply is read by the same ``replies.parse_reply`` into the same ``ModelReply``; the gateway keeps the retries,
Retry-After, cache keys and prices for both paths. A failure becomes the same ``ModelCallError`` classes
(``provider_errors.http_failure``): connection, timeout, a status, a reply that is not JSON.

When it is used (``uses_direct``): a model configured ``client: direct``, or, with ``client: auto`` (the
default), ``openai/...`` with an ``api_base`` and ``hosted_vllm/...``. ``client: litellm`` forces litellm.

The connection pool (an ``aiohttp.ClientSession``) belongs to the event loop that made it and is closed with
that loop's shutdown or by ``aclose``; the next call on another loop makes a new one.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from evalkit.models.endpoints import EndpointPool
from evalkit.models.provider_errors import classify_error, http_failure
from evalkit.models.types import ModelCallError

if TYPE_CHECKING:
    import aiohttp

    from evalkit.contracts.model_config import ModelConfig

EndpointCallback = Callable[[str, float, bool], None]
"""Told of each call: the endpoint's URL, the seconds it took, whether it failed."""
DIRECT_PROVIDERS = ("openai", "hosted_vllm")
"""The litellm providers whose requests the direct client can send: OpenAI's chat-completions wire format."""
_KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "hosted_vllm": "HOSTED_VLLM_API_KEY"}
_BASE_VARIABLES = {"hosted_vllm": "HOSTED_VLLM_API_BASE"}
_NOT_BODY = frozenset({"extra_headers", "extra_body"})
"""Keys of a model's ``extra`` that litellm sends other than in the body; everything else goes in the body."""


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else ""


def api_base_of(config: ModelConfig) -> str | None:
    """The server's base URL: the configured one, else the provider's variable (``HOSTED_VLLM_API_BASE``)."""
    if config.api_base:
        return config.api_base
    variable = _BASE_VARIABLES.get(provider_of(config.model))
    return os.environ.get(variable) if variable else None


def uses_direct(config: ModelConfig) -> bool:
    """Whether the model's calls go through this client (see the module docstring)."""
    if config.client == "litellm" or config.model.startswith("scripted/"):
        return False
    provider = provider_of(config.model)
    if config.client == "direct":
        return True
    return provider in DIRECT_PROVIDERS and (provider == "hosted_vllm" or bool(config.api_base))


def direct_problem(config: ModelConfig) -> str | None:
    """Why ``client: direct`` cannot serve the model, or None."""
    if uses_direct(config) and api_base_of(config) is None:
        return "the direct client needs an api_base (the server's URL, ending in /v1)"
    return None


def default_key(config: ModelConfig) -> str | None:
    """The key litellm would send when none is configured: the provider's variable, if set."""
    variable = _KEY_VARIABLES.get(provider_of(config.model))
    return os.environ.get(variable) if variable else None


class DirectClient:
    """POSTs chat completions to one server; see the module docstring."""

    def __init__(self, config: ModelConfig, *, api_key: str | None, timeout_s: float, trust_env: bool) -> None:
        base = api_base_of(config)
        if base is None:
            from evalkit.errors import ConfigError

            raise ConfigError(f"model {config.name!r}: {direct_problem(config)}")
        urls = config.endpoints if config.api_base else (base,)
        self.pool = EndpointPool(tuple(u.rstrip("/") + "/chat/completions" for u in urls))
        provider = provider_of(config.model)
        self.served_name = config.model.split("/", 1)[1] if provider in DIRECT_PROVIDERS else config.model
        extra = dict(config.extra)
        self._extra_body = {k: v for k, v in extra.items() if k not in _NOT_BODY} | dict(extra.get("extra_body") or {})
        self._headers = {"content-type": "application/json", **dict(extra.get("extra_headers") or {})}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self.timeout_s = timeout_s
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._holder: AsyncGenerator[aiohttp.ClientSession, None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def body(self, settings: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The request body: the served name, the messages, ``settings`` (sampling, tools, ``tool_choice``,
        seed) and the model's ``extra``, as litellm sends them for ``openai/NAME``."""
        return {"model": self.served_name, "messages": messages, **settings, **self._extra_body}

    @property
    def replicated(self) -> bool:
        return len(self.pool.endpoints) > 1

    async def send(
        self, body: dict[str, Any], header: str | None = None, on_call: EndpointCallback | None = None
    ) -> dict[str, Any]:
        """POST ``body`` to the least-loaded endpoint; the decoded chat completion, or ``ModelCallError``.
        ``header``: sent as ``header: 1``. ``on_call(url, latency_s, failed)`` hears of the call."""
        endpoint = self.pool.pick()
        self.pool.started(endpoint)
        start = time.perf_counter()
        error_class: str | None = None
        try:
            return await self._post(endpoint.url, body, header)
        except ModelCallError as exc:
            error_class = exc.error_class
            raise
        finally:
            self.pool.finished(endpoint, error_class)
            if on_call is not None:
                on_call(endpoint.url, time.perf_counter() - start, error_class is not None)

    async def ping_all(self, body: dict[str, Any], header: str) -> None:
        """``body`` to every endpoint in turn (the preflight: a replica that cannot answer fails it)."""
        for endpoint in self.pool.endpoints:
            await self._post(endpoint.url, body, header)

    async def _post(self, url: str, body: dict[str, Any], header: str | None) -> dict[str, Any]:
        import aiohttp

        session = await self._session_for_loop()
        headers = self._headers if header is None else {**self._headers, header: "1"}
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            async with session.post(url, data=data, headers=headers) as response:
                raw = await response.read()
                status, reply_headers = response.status, response.headers
        except TimeoutError as exc:
            raise ModelCallError(
                f"timeout: no reply from {_where(url)} within {self.timeout_s:g}s",
                transient=True,
                error_class="timeout",
            ) from exc
        except aiohttp.ClientError as exc:
            raise ModelCallError(
                f"Connection error: {type(exc).__name__}: {exc}", transient=True, error_class="connection"
            ) from exc
        except ValueError as exc:  # a request aiohttp refuses to build (credentials in the URL and a key)
            raise classify_error(exc) from exc
        text = raw.decode("utf-8", "replace")
        if status != 200:
            raise http_failure(status, text, reply_headers)
        try:
            reply = json.loads(text)
        except ValueError as exc:
            raise http_failure(200, text, reply_headers, not_json=True) from exc
        if not isinstance(reply, dict):
            raise http_failure(200, text, reply_headers, not_json=True)
        return reply

    async def _session_for_loop(self) -> aiohttp.ClientSession:
        """The connection pool of the running loop, made on first use. It is held by an async generator of
        that loop, so the loop's own shutdown (``asyncio.run`` ends with ``shutdown_asyncgens``) closes it
        even when nobody calls ``aclose``."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            self._holder = _held_session(self.timeout_s, self._trust_env)
            self._session = await self._holder.__anext__()
            self._loop = loop
        return self._session

    async def aclose(self) -> None:
        """Close the connection pool of the current loop (one of another, finished loop was closed with it)."""
        holder, self._holder, self._session = self._holder, None, None
        if holder is not None and self._loop is asyncio.get_running_loop():
            await holder.aclose()
        self._loop = None


def _where(url: str) -> str:
    from evalkit.redact import redact_url

    return str(redact_url(url))


async def _held_session(timeout_s: float, trust_env: bool) -> AsyncGenerator[aiohttp.ClientSession, None]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    session = aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=trust_env)
    try:
        yield session
    finally:
        await session.close()
