"""The project configuration file ``evalkit.yaml``: model aliases, the store, the judge.

```yaml
store: runs/evalkit.duckdb
models:
  qwen4b:
    model: openai/qwen3-4b          # any litellm model string
    api_base: http://127.0.0.1:8000/v1  # or a list of replicas: [http://10.0.0.1:8000/v1, ...]
    api_key_env: LOCAL_API_KEY       # the NAME of the variable holding the key, never the key
    temperature: 0.0
    max_tokens: 2048
    tool_protocol: text              # native (default) or text
    tool_choice: auto                # with native tools: auto (default), required, none, or omit (send none)
    concurrency: 4
    client: auto                     # auto (default: direct for an OpenAI-compatible server), direct, litellm
    extra: {top_p: 0.9}
```
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.yamlfile import load_yaml, validate
from evalkit.errors import ConfigError

CONFIG_FILE = "evalkit.yaml"
DEFAULT_STORE = Path("runs") / "evalkit.duckdb"
SCRIPTED_AGENTS = tuple(
    f"scripted/{name}"
    for name in (
        "disciplined", "reckless", "noisy",
        # the fault-injection personas (evalkit.models.personas)
        "skips-discovery", "wrong-column", "recovers", "gives-up", "repeats", "wrong-scale", "no-marker",
        "declines-missing", "hostile", "big-model", "small-disciplined", "reasoner",
    )
)  # fmt: skip


@dataclass(frozen=True)
class ProjectConfig:
    path: Path | None = None
    models: dict[str, ModelConfig] = field(default_factory=dict)
    store: str | None = None
    judge: str | None = None


def load_config(path: Path | None = None) -> ProjectConfig:
    """Load ``path``, else ``$EVALKIT_CONFIG``, else ``./evalkit.yaml`` when it exists."""
    if path is None:
        env = os.environ.get("EVALKIT_CONFIG")
        if env and not Path(env).expanduser().is_file():  # named on purpose: ignoring it would run without it
            raise ConfigError(f"EVALKIT_CONFIG names {env}, which is not a file")
        path = Path(env).expanduser() if env else Path.cwd() / CONFIG_FILE
        if not path.exists():
            return ProjectConfig()
    data, lines = load_yaml(path)
    data = data or {}
    validate(data, "config", lines, "configuration")
    models = {
        alias: ModelConfig(
            name=alias,
            model=m["model"],
            api_base=_bases(m.get("api_base"))[0],
            replicas=tuple(str(u) for u in _bases(m.get("api_base"))[1:]),
            api_key_env=m.get("api_key_env"),
            temperature=m.get("temperature"),
            max_tokens=m.get("max_tokens"),
            extra=dict(m.get("extra") or {}),
            tool_protocol=m.get("tool_protocol", "native"),
            concurrency=m.get("concurrency"),
            tool_choice=m.get("tool_choice", "auto"),
            client=m.get("client", "auto"),
        )
        for alias, m in (data.get("models") or {}).items()
    }
    return ProjectConfig(path=path, models=models, store=data.get("store"), judge=data.get("judge"))


def _bases(value: str | Sequence[str] | None) -> tuple[str | None, ...]:
    """An ``api_base`` given as one URL or a list of replicas → (the first, the others...)."""
    if value is None or len(value) == 0:
        return (None,)
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def resolve_model(ref: str, config: ProjectConfig, *, api_base: str | Sequence[str] | None = None) -> ModelConfig:
    """A model given on the command line: an alias from the config, or a litellm model string. ``api_base``
    (one URL, or several replicas of one server) replaces the alias's."""
    first, *others = _bases(api_base)
    replicas = tuple(str(o) for o in others)
    if ref in config.models:
        m = config.models[ref]
        if first:
            from dataclasses import replace

            m = replace(m, api_base=first, replicas=replicas)
        return m
    if ref.startswith("scripted/"):
        base = ref.split("@", 1)[0]
        if base not in SCRIPTED_AGENTS:
            raise ConfigError(f"unknown scripted agent {ref!r}; known: {', '.join(SCRIPTED_AGENTS)}")
        extra: dict[str, float] = {}
        if "@" in ref:  # scripted/noisy@0.6 sets the probability of behaving well
            try:
                extra["p_disciplined"] = float(ref.split("@", 1)[1])
            except ValueError:
                raise ConfigError(f"{ref!r}: the part after @ must be a probability such as 0.6") from None
        return ModelConfig(name=ref, model=base, extra=extra)
    if not ref.strip() or " " in ref:
        raise ConfigError(f"{ref!r} is neither a model alias from {CONFIG_FILE} nor a litellm model string")
    if "/" not in ref and not config.models and first is None:
        known = ", ".join(config.models) or "none defined"
        raise ConfigError(
            f"{ref!r}: give a litellm model string with its provider (e.g. openai/{ref}) or an alias "
            f"from {CONFIG_FILE} (aliases: {known})"
        )
    return ModelConfig(name=ref, model=ref, api_base=first, replicas=replicas)


def default_store(config: ProjectConfig | None = None) -> Path:
    """``$EVALKIT_STORE``, else the config file's ``store``, else ``runs/evalkit.duckdb``."""
    env = os.environ.get("EVALKIT_STORE")
    if env:
        return Path(env)
    if config is not None and config.store:
        return Path(config.store)
    return DEFAULT_STORE
