"""The options of a run, typed, with their defaults in one place.

The CLI shows these defaults in ``evalkit run --help``, ``evalkit.run_suite`` takes them as keywords, and the
run record stores them (``RunRecord.options``) so that a resumed run goes on with the options it started with.
A record written by an older evalkit may lack a field: it reads as the default.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError
from evalkit.redact import redact_url

if TYPE_CHECKING:
    from evalkit.contracts.model_config import ModelConfig
    from evalkit.contracts.suite import SuiteSpec


@dataclass(frozen=True)
class RunOptions:
    """How a run is run. Every field has the default a user gets when they leave it out."""

    epochs: int = 1
    """Times each task is run per model."""
    limit: int | None = None
    """Run only the first N (selected) tasks."""
    tasks: str | None = None
    """Only tasks whose id matches one of these comma-separated globs."""
    max_turns: int | None = None
    """Override the suite's maximum model turns per sample."""
    seed: int = 0
    """Sent to the model, and the seed of the scripted agents."""
    concurrency: int | None = None
    """Samples in flight per model. Given, it wins over a model's own ``concurrency`` in evalkit.yaml; left out,
    that one applies, else ``DEFAULT_CONCURRENCY``."""
    use_cache: bool | None = None
    """Reuse cached model replies for identical requests; ``None``: yes, except in a ``new`` run."""
    new: bool = False
    """Start another run even when the same command already made one (finished or not)."""
    max_cost: float | None = None
    """Stop starting model calls once this many USD are spent."""
    call_timeout_s: float = 120.0
    """Seconds allowed per model call (then retried)."""
    sample_timeout_s: float | None = 900.0
    """Seconds allowed per sample."""
    max_attempts: int = 5
    """Attempts per model call before its sample is recorded as an infrastructure error."""
    rubrics: tuple[str, ...] = ()
    """Rubrics that score each sample as it is written."""
    preflight: bool = True
    """Send every model one small request before the run starts (``models.preflight``); the provider and
    credential checks are made either way."""
    shard: str | None = None
    """``K/N``: run only the K-th of N deterministic slices of the samples (tasks × models × epochs), as its
    own run; ``evalkit merge`` combines the N shards into the run the unsharded command makes."""
    system_prompt: str | None = None
    """A file whose text is the system prompt of this run, in place of the suite's and its tool profile's."""
    system_prompt_text: str | None = None
    """That file's text, read when the options are made (and kept with the run, so a resume uses the same)."""
    workers: int = 1
    """Worker processes that run the samples (``runner.workers``); the results are the same with any number,
    so it is not part of the fingerprint."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "rubrics", tuple(str(r) for r in self.rubrics))
        if self.system_prompt is not None and self.system_prompt_text is None:
            object.__setattr__(self, "system_prompt_text", read_prompt(self.system_prompt))
        if self.epochs < 1:
            raise ConfigError("--epochs must be at least 1")
        if self.concurrency is not None and self.concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        if self.limit is not None and self.limit < 1:
            raise ConfigError("--limit must be at least 1")
        if self.max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        # Each of these once ran and did something other than asked: 0 turns were ignored, -5 "finished"
        # every sample at 0 %, a negative budget made an empty interrupted run, a 0 s timeout failed every call.
        if self.max_turns is not None and self.max_turns < 1:
            raise ConfigError(f"--max-turns must be at least 1 (got {self.max_turns})")
        if self.max_cost is not None and not self.max_cost > 0:
            raise ConfigError(f"--max-cost must be more than 0 USD (got {self.max_cost:g}); leave it out for no budget")
        if not self.call_timeout_s > 0:
            raise ConfigError(f"--timeout must be more than 0 seconds (got {self.call_timeout_s:g})")
        if self.sample_timeout_s is not None and not self.sample_timeout_s > 0:
            raise ConfigError(f"--sample-timeout must be more than 0 seconds (got {self.sample_timeout_s:g})")
        if self.workers < 1:
            raise ConfigError(f"--workers must be at least 1 (got {self.workers})")
        if self.shard is not None:
            shard_of(self.shard)  # a malformed K/N fails here

    @property
    def shard_slice(self) -> tuple[int, int] | None:
        """(K, N) of ``shard``, or None."""
        return shard_of(self.shard) if self.shard is not None else None

    @classmethod
    def of(cls, base: RunOptions | None = None, **changes: Any) -> RunOptions:
        """``base`` (or the defaults) with ``changes``; an unknown option name is a ``ConfigError``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(f"unknown run option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = asdict(base) if base is not None else {}
        values.update(changes)
        if "system_prompt" in changes and "system_prompt_text" not in changes:
            values["system_prompt_text"] = None  # read from the file given now
        return cls(**values)

    @property
    def cache_replies(self) -> bool:
        """Whether the run reuses cached replies: ``use_cache`` when given, else yes except in a ``new`` run
        (another run of a command that already ran is wanted for new replies, not the cached ones)."""
        return self.use_cache if self.use_cache is not None else not self.new

    def to_record(self) -> dict[str, Any]:
        """The JSON-safe form stored with the run."""
        record = asdict(self)
        record["rubrics"] = list(self.rubrics)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> RunOptions:
        """The options a stored run was made with; keys this version does not know (``fingerprint``) are left."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in known and (v is not None or k in _NULLABLE)})


_NULLABLE = frozenset(
    {"concurrency", "limit", "tasks", "max_turns", "max_cost", "sample_timeout_s", "use_cache", "shard"}
)


def read_prompt(path: str) -> str:
    """The text of a ``--system-prompt`` file; a ``ConfigError`` when it is missing, unreadable or empty."""
    from pathlib import Path

    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"--system-prompt {path}: cannot read the file: {e}") from e
    if not text:
        raise ConfigError(f"--system-prompt {path}: the file is empty")
    return text


def shard_of(text: str) -> tuple[int, int]:
    """``K/N`` → (K, N), 1 <= K <= N; a ``ConfigError`` saying what is wrong otherwise."""
    k, _, n = str(text).partition("/")
    if not (k.strip().isdigit() and n.strip().isdigit()):
        raise ConfigError(f"--shard must be K/N, such as 2/4 (got {text!r})")
    shard, shards = int(k), int(n)
    if not 1 <= shard <= shards:
        raise ConfigError(f"--shard {text}: K must be between 1 and N")
    return shard, shards


def fingerprint(suite: SuiteSpec, models: Sequence[ModelConfig], options: RunOptions) -> str:
    """What makes two ``evalkit run`` commands the same run: the suite's content, the models, and the options
    that choose the samples. Running the same command again resumes the unfinished run with this fingerprint,
    or shows the finished one (``new`` starts another)."""
    payload = {
        "suite": suite.content_hash,
        # everything of a model that decides its replies (not its concurrency or where its key is)
        "models": [
            [m.name, m.model, m.api_base, m.temperature, m.max_tokens, m.extra, m.tool_protocol, m.tool_choice]
            for m in models
        ],
        "epochs": options.epochs,
        "limit": options.limit,
        "tasks": options.tasks,
        "max_turns": options.max_turns,
        "seed": options.seed,
    }
    if options.shard is not None:  # left out without one: the fingerprints of unsharded runs stay what they were
        payload["shard"] = options.shard_slice
    if options.system_prompt_text is not None:  # the prompt's content, not its path: an edited file is a new run
        payload["system_prompt"] = hashlib.sha256(options.system_prompt_text.encode()).hexdigest()
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


DEFAULT_CONCURRENCY = 8
"""Samples in flight per model when neither ``--concurrency`` nor the model's ``concurrency`` says."""


def with_concurrency(models: Sequence[ModelConfig], concurrency: int | None) -> list[ModelConfig]:
    """The models with ``concurrency`` (given on the command line) in place of their configured one: what a
    user types for this run wins over ``evalkit.yaml``."""
    if concurrency is None:
        return list(models)
    return [replace(m, concurrency=concurrency) for m in models]


def stored_config(config: ModelConfig) -> ModelConfig:
    """A model's configuration as the run record keeps it: credentials in its ``api_base`` are removed
    (give the key through ``api_key_env``, whose name alone is stored)."""
    base = redact_url(config.api_base)
    replicas = tuple(str(redact_url(r)) for r in config.replicas)
    if base == config.api_base and replicas == config.replicas:
        return config
    return replace(config, api_base=base, replicas=replicas)
