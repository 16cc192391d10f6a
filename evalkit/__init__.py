"""evalkit: evaluate how LLM agents use tools.

The public API. The ``evalkit`` command is a thin client of these functions::

    import evalkit

    result = evalkit.run_suite("finance-single", ["scripted/disciplined"], limit=5)
    for summary in result.summaries:
        print(summary.model, summary.accuracy)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.version import __version__

__all__ = [
    "EvalkitError",
    "ModelConfig",
    "RunResult",
    "Sample",
    "SuiteSpec",
    "__version__",
    "build_report",
    "compare_runs",
    "export_run",
    "gate",
    "get_samples",
    "get_scores",
    "import_run",
    "list_runs",
    "load_suite",
    "run_suite",
    "score_run",
    "score_traces",
    "write_report",
]

_LAZY = {
    "run_suite": "evalkit.api",
    "list_runs": "evalkit.api",
    "get_samples": "evalkit.api",
    "export_run": "evalkit.api",
    "import_run": "evalkit.api",
    "get_scores": "evalkit.api",
    "score_run": "evalkit.api",
    "score_traces": "evalkit.api",
    "build_report": "evalkit.api",
    "compare_runs": "evalkit.api",
    "gate": "evalkit.api",
    "write_report": "evalkit.api",
    "RunResult": "evalkit.api",
    "load_suite": "evalkit.contracts.loader",
    "SuiteSpec": "evalkit.contracts.suite",
    "ModelConfig": "evalkit.contracts.model_config",
    "Sample": "evalkit.trace.types",
    "EvalkitError": "evalkit.errors",
}

if TYPE_CHECKING:
    from evalkit.api import (
        RunResult,
        build_report,
        compare_runs,
        export_run,
        gate,
        get_samples,
        get_scores,
        import_run,
        list_runs,
        run_suite,
        score_run,
        score_traces,
        write_report,
    )
    from evalkit.contracts.loader import load_suite
    from evalkit.contracts.model_config import ModelConfig
    from evalkit.contracts.suite import SuiteSpec
    from evalkit.errors import EvalkitError
    from evalkit.trace.types import Sample


def __getattr__(name: str) -> Any:
    """Import the public API on first use, so ``import evalkit`` (and the CLI's start) stays fast."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'evalkit' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
