"""Every model is checked before a run writes its record: a provider litellm knows, the credentials that
provider needs, and one small request that must succeed. A model that cannot work fails the command in
seconds, with one line naming it and what is wrong, instead of every sample retrying for its own ~12 s and
the run ending "interrupted" with the reason hidden in the traces.

A model whose ``api_base`` is on this machine or a private network (a vLLM, SGLang or llama.cpp server)
needs no key: ``local_api_base`` says which, and the gateway sends a placeholder key to such a server when
the provider's client insists on one. The scripted agents need neither check nor request.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from evalkit.errors import EvalkitError

if TYPE_CHECKING:
    from evalkit.contracts.model_config import ModelConfig
    from evalkit.models.gateway import ModelGateway

PREFLIGHT_HEADER = "X-Evalkit-Preflight"
"""Sent with the preflight request, so a server's logs (and the test server) can tell it from the run's."""
PLACEHOLDER_KEY = "no-key-needed"
"""The key sent to a local server when the provider's client refuses to send a request without one."""


class PreflightError(EvalkitError):
    """A model (or the judge) cannot work: unknown provider, missing credentials, or a failed first request.
    Nothing was run and no run record was written (exit code 2)."""


def local_api_base(api_base: str | None) -> bool:
    """Whether ``api_base`` is a server on this machine or a private network: ``localhost``, a loopback,
    private or link-local address, or a host name without a dot (a container's or cluster service's name)."""
    if not api_base:
        return False
    host = urlsplit(api_base if "//" in api_base else f"//{api_base}").hostname
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host
    return address.is_loopback or address.is_private or address.is_link_local


def missing_credentials(litellm: Any, config: ModelConfig) -> list[str]:
    """The environment variables the model's provider needs and that are not set (none for a local server
    or when the key's variable is named in ``api_key_env``, which the gateway checks itself)."""
    if config.api_key_env or local_api_base(config.api_base):
        return []
    found = litellm.validate_environment(model=config.model, api_base=config.api_base)
    return [str(k) for k in found.get("missing_keys") or ()]


def _label(config: ModelConfig) -> str:
    """``model 'alias' (provider/name)``, or ``model 'provider/name'`` when it has no alias."""
    return f"model {config.name!r} ({config.model})" if config.name != config.model else f"model {config.model!r}"


def needs_litellm(config: ModelConfig) -> bool:
    """Whether checking the model takes litellm's provider table: not for a model the direct client serves whose
    key variable is named or that runs on a local server (the direct path never imports litellm)."""
    from evalkit.models.direct import DIRECT_PROVIDERS, provider_of, uses_direct

    if not uses_direct(config) or provider_of(config.model) not in DIRECT_PROVIDERS:
        return not uses_direct(config)
    return not (config.api_key_env or local_api_base(config.api_base))


def configuration_problem(litellm: Any, config: ModelConfig) -> str | None:
    """What makes the model unusable before any request, or None: an unknown provider, missing credentials."""
    from evalkit.models.direct import DIRECT_PROVIDERS, direct_problem, provider_of, uses_direct

    label = _label(config)
    if uses_direct(config):
        problem = direct_problem(config)
        if problem is not None:
            return f"{label}: {problem}"
        if provider_of(config.model) not in DIRECT_PROVIDERS:  # client: direct: the name goes as it is
            return None
    if litellm is None:  # a direct model whose key needs no provider lookup (see needs_litellm)
        return None
    try:
        litellm.get_llm_provider(config.model, api_base=config.api_base)
    except Exception:
        prefix = config.model.split("/", 1)[0] if "/" in config.model else config.model
        return (
            f"{label}: litellm knows no provider {prefix!r}; write the model as PROVIDER/NAME "
            "(openai/gpt-4.1-mini, anthropic/..., hosted_vllm/NAME with an api_base)"
        )
    missing = missing_credentials(litellm, config)
    if missing:
        return (
            f"{label}: missing credentials: {', '.join(missing)} is not set (set it, or name the key's "
            "variable with api_key_env in evalkit.yaml)"
        )
    return None


async def _probe(gateway: ModelGateway) -> str | None:
    """One small request through the gateway (no retries); what went wrong, or None."""
    from evalkit.models.types import ModelCallError
    from evalkit.redact import redact_url

    config = gateway.config
    label = _label(config)
    where = f" at {redact_url(config.api_base)}" if config.api_base else ""
    try:
        await gateway.ping(PREFLIGHT_HEADER)
    except ModelCallError as exc:
        return f"{label}: the preflight request{where} failed ({exc.error_class}): {exc}"
    finally:
        await gateway.aclose()
    return None


def preflight(
    configs: Sequence[ModelConfig], gateway_options: dict[str, Any], *, request: bool = True, role: str = "model"
) -> None:
    """Check every model (see the module docstring); ``PreflightError`` listing every problem found.
    ``request``: also send each one preflight request (``--no-preflight`` turns it off)."""
    from evalkit.models.gateway import SCRIPTED_PREFIX, ModelGateway, litellm_module

    real = [c for c in configs if not c.model.startswith(SCRIPTED_PREFIX)]
    problems: list[str] = []
    gateways: list[ModelGateway] = []
    litellm = litellm_module() if any(needs_litellm(c) for c in real) else None
    for config in configs:
        problem = None if config not in real else configuration_problem(litellm, config)
        if problem is not None:
            problems.append(problem)
            continue
        if config in real:  # a scripted agent needs no check (and its gateway would import litellm)
            gateways.append(ModelGateway(config, **{**gateway_options, "max_attempts": 1}))  # a key not set: here
    if not problems and request and gateways:
        problems = [p for p in _in_own_loop(gateways) if p is not None]
    if problems:
        hint = "" if not request or not gateways else "\n(--no-preflight skips the preflight request)"
        raise PreflightError(f"the {role} cannot be used; nothing was run:\n  " + "\n  ".join(problems) + hint)


async def _probe_all(gateways: Sequence[ModelGateway]) -> list[str | None]:
    return list(await asyncio.gather(*(_probe(g) for g in gateways)))


def _in_own_loop(gateways: Sequence[ModelGateway]) -> list[str | None]:
    """The probes on an event loop of their own (on a thread when the caller is inside a running loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_probe_all(gateways))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _probe_all(gateways)).result()
