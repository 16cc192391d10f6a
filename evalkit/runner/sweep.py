"""The plan of a checkpoint sweep: which checkpoints, in which order, and the run each checkpoint × suite makes.

A sweep evaluates a series of checkpoints (``--model`` given several times, or ``--checkpoints GLOB`` over
checkpoint directories or adapter files) on one or more suites. Each checkpoint × suite is its own run, named
``PREFIX/SUITE/CHECKPOINT``: the name is part of the command (``runner.session``'s twin lookup), so the same
sweep again resumes each unfinished run and shows each finished one, and a checkpoint added later runs alone.

Checkpoints from a glob are served by one OpenAI-compatible server (``--api-base``). The model name sent for a
match is its base name (``ckpts/step_100`` → ``step_100``): what vLLM answers to when the checkpoint is a LoRA
adapter loaded as ``--lora-modules step_100=ckpts/step_100``, or a full checkpoint served with
``--served-model-name step_100``. With ``send_path`` the match's path as written is sent instead: the name vLLM
gives a model served as ``vllm serve ckpts/step_100`` without ``--served-model-name``.

Checkpoints are ordered naturally, digits as numbers: ``step_2 < step_10 < step_100``.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evalkit.errors import ConfigError

DEFAULT_PREFIX = "sweep"
"""The first part of a sweep's run names when ``--name`` gives none."""
SERVED_PROVIDER = "hosted_vllm"
"""The provider prefix of a checkpoint from a glob: an OpenAI-compatible server, called by the direct client."""

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that orders the digit runs of ``text`` as numbers: ``step_2 < step_10 < step_100``."""
    parts = _DIGITS.split(text)
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts if p != "")


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint of the series: its label (the model's name in the runs and the comparison) and the
    model reference the run resolves (a ``--model`` string, or ``hosted_vllm/<name sent>`` for a glob match)."""

    label: str
    model: str
    path: str | None = None
    """The file or directory a glob matched (None for a ``--model``)."""

    @property
    def served_name(self) -> str | None:
        """The model name sent to the server for a glob match (None for a ``--model``)."""
        return self.model.split("/", 1)[1] if self.path is not None else None


def from_models(models: Sequence[str]) -> list[Checkpoint]:
    """Checkpoints given as ``--model`` strings (litellm model strings or aliases), in the order given: the
    user chose it. The label is the string itself."""
    return [Checkpoint(label=m, model=m) for m in models]


def from_globs(patterns: Sequence[str], *, send_path: bool = False) -> list[Checkpoint]:
    """Every file or directory the ``patterns`` match (relative to the working folder), naturally sorted,
    each a checkpoint named after its base name. A pattern that matches nothing, or two matches with the same
    base name, is a ``ConfigError``: the series would silently lack a point."""
    matches: dict[str, str] = {}
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if not found:
            raise ConfigError(f"--checkpoints {pattern!r} matches no file or directory")
        for path in found:
            path = path.rstrip("/")
            label = Path(path).name
            if label in matches and matches[label] != path:
                raise ConfigError(f"two checkpoints are both named {label!r}: {matches[label]} and {path}")
            matches[label] = path
    return [
        Checkpoint(
            label=label, model=f"{SERVED_PROVIDER}/{matches[label] if send_path else label}", path=matches[label]
        )
        for label in sorted(matches, key=natural_key)
    ]


@dataclass(frozen=True)
class PlannedRun:
    """One run of the sweep: a checkpoint on a suite, and the name its run is recorded under."""

    suite: str
    checkpoint: Checkpoint
    name: str


def suite_label(suite: str) -> str:
    """The part of a run name that stands for a suite given by name or folder: its last path part."""
    return Path(str(suite).rstrip("/")).name or str(suite)


def plan(suites: Sequence[str], checkpoints: Sequence[Checkpoint], prefix: str | None = None) -> list[PlannedRun]:
    """Every suite × checkpoint, suite by suite and checkpoints in their order, each with its run name."""
    if not suites:
        raise ConfigError("give at least one SUITE to sweep")
    if not checkpoints:
        raise ConfigError("give the checkpoints: --model several times, or --checkpoints GLOB with --api-base")
    labels = [c.label for c in checkpoints]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise ConfigError(f"the same checkpoint is given twice: {', '.join(twice)}")
    names = [suite_label(s) for s in suites]
    if len(set(names)) != len(names):
        raise ConfigError(f"the same suite is given twice: {', '.join(names)}")
    head = (prefix or DEFAULT_PREFIX).strip("/")
    return [
        PlannedRun(suite=s, checkpoint=c, name=f"{head}/{suite_label(s)}/{c.label}")
        for s in suites
        for c in checkpoints
    ]
