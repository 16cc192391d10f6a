"""How to reach one model: the validated form of a model alias in ``evalkit.yaml`` or a ``--model`` string.

Recorded with every run (``RunRecord.models``); secrets are never stored, only the name of the variable
that holds the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ToolChoice = Literal["auto", "required", "none", "omit"]
"""The ``tool_choice`` sent with natively offered tools; ``omit`` sends none (some servers, llama-cpp-python's
among them, then leave the tools out of the prompt)."""

Client = Literal["auto", "direct", "litellm"]


@dataclass(frozen=True)
class ModelConfig:
    """How to reach one model. Secrets are never stored here: only the *name* of the key's variable."""

    name: str
    model: str
    api_base: str | None = None
    api_key_env: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    tool_protocol: Literal["native", "text"] = "native"
    concurrency: int | None = None
    tool_choice: ToolChoice = "auto"
    client: Client = "auto"
    """Which client sends the requests (``models.direct``): ``auto`` (the lean direct client for ``openai/``
    with an ``api_base`` and ``hosted_vllm/``, litellm for every other provider), ``direct`` or ``litellm``.
    It never changes a reply, so it is not part of the run's command or the cache key."""
    replicas: tuple[str, ...] = ()
    """Further endpoints serving the same model beside ``api_base`` (``api_base: [url1, url2, ...]``): requests
    go to the least-loaded one (``models.endpoints``). Not part of the cache key: they serve the same weights."""

    def __post_init__(self) -> None:
        if not isinstance(self.replicas, tuple):  # read back from a run record's JSON
            object.__setattr__(self, "replicas", tuple(self.replicas))

    @property
    def endpoints(self) -> tuple[str, ...]:
        """``api_base`` and its replicas, or nothing without an ``api_base``."""
        return (self.api_base, *self.replicas) if self.api_base else ()
