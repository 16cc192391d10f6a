"""Which reader a ``--traces`` path needs, and reading it with that reader.

Three formats, told apart by the path when ``auto``:

- ``rllm``: rLLM's saved episodes (``evalkit.trace.rllm_episodes``): a folder (an ``rllm eval`` run folder,
  its ``episodes/``, or a training ``episodes/`` log folder), or one ``.json`` file holding an episode;
- ``inspect``: an Inspect AI log (``evalkit.trace.inspect_log``): a ``.eval`` file, or a ``.json`` log;
- ``openai``: JSON Lines of OpenAI chat messages (``evalkit.trace.external``): anything else.

A ``.json`` file is told by its first bytes' content (decoded once); what is neither an episode nor an
Inspect log is read as JSON Lines, whose reader then names what is wrong with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from evalkit.errors import ConfigError

if TYPE_CHECKING:
    from evalkit.contracts.suite import SuiteSpec
    from evalkit.trace.external import CorrectFrom, ExternalTrace

TraceFormat = Literal["openai", "rllm", "inspect"]
FORMATS: tuple[str, ...] = ("auto", "openai", "rllm", "inspect")


def detect_format(path: Path) -> TraceFormat:
    """The format of the traces at ``path`` (see the module docstring)."""
    if path.is_dir():
        return "rllm"
    if path.suffix == ".eval":
        return "inspect"
    if path.suffix == ".json" and path.is_file():
        from evalkit.trace.inspect_log import is_inspect_log
        from evalkit.trace.rllm_episodes import is_episode

        if is_inspect_log(path):
            return "inspect"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "openai"
        return "rllm" if is_episode(data) else "openai"
    return "openai"


def read_traces(
    path: Path,
    fmt: str = "auto",
    *,
    run_id: str,
    suite: SuiteSpec | None = None,
    model_name: str | None = None,
    correct_from: CorrectFrom | None = None,
    notes: list[str] | None = None,
) -> tuple[TraceFormat, list[ExternalTrace]]:
    """The traces at ``path`` read in format ``fmt`` (``auto``: ``detect_format``), with the format used."""
    if fmt not in FORMATS:
        raise ConfigError(f"--traces-format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    used: TraceFormat = detect_format(path) if fmt == "auto" else fmt  # type: ignore[assignment]
    if not path.exists():
        raise ConfigError(f"{path}: no such file or folder")
    if used == "rllm":
        from evalkit.trace.rllm_episodes import read_rllm_episodes

        traces = read_rllm_episodes(
            path, run_id=run_id, suite=suite, model_name=model_name, correct_from=correct_from, notes=notes
        )
    elif used == "inspect":
        from evalkit.trace.inspect_log import read_inspect_log

        traces = read_inspect_log(
            path, run_id=run_id, suite=suite, model_name=model_name, correct_from=correct_from, notes=notes
        )
    else:
        if path.is_dir():
            raise ConfigError(f"{path}: a folder; --traces-format openai reads one JSON Lines file")
        from evalkit.trace.external import read_external_traces

        traces = read_external_traces(
            path, run_id=run_id, suite=suite, model_name=model_name, correct_from=correct_from
        )
    return used, traces


__all__ = ["FORMATS", "TraceFormat", "detect_format", "read_traces"]
