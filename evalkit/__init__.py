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
    "RunOptions",
    "RunResult",
    "Sample",
    "SuiteSpec",
    "__version__",
    "build_report",
    "cache_clear",
    "cache_info",
    "cache_prune",
    "compare_runs",
    "export_failures",
    "export_run",
    "gate",
    "gate_policy",
    "get_samples",
    "get_scores",
    "import_run",
    "judge_calibrate",
    "list_runs",
    "load_suite",
    "merge_shards",
    "render_comparison",
    "resolve_store",
    "run_suite",
    "run_suite_on_ray",
    "score_run",
    "score_traces",
    "suite_import",
    "suite_import_fields",
    "suite_import_rllm_finqa",
    "suite_info",
    "suite_list",
    "suite_sql",
    "suite_stats",
    "suite_tables",
    "suite_task",
    "suite_validate",
    "suite_verify",
    "sweep",
    "validate_rubric",
    "write_comparison",
    "write_report",
]

_LAZY = {
    "run_suite": "evalkit.api",
    "run_suite_on_ray": "evalkit.api",
    "list_runs": "evalkit.api",
    "get_samples": "evalkit.api",
    "export_run": "evalkit.api",
    "export_failures": "evalkit.api",
    "import_run": "evalkit.api",
    "judge_calibrate": "evalkit.api",
    "get_scores": "evalkit.api",
    "score_run": "evalkit.api",
    "score_traces": "evalkit.api",
    "build_report": "evalkit.api",
    "compare_runs": "evalkit.api",
    "gate": "evalkit.api",
    "write_report": "evalkit.api",
    "gate_policy": "evalkit.api",
    "cache_clear": "evalkit.api",
    "cache_info": "evalkit.api",
    "cache_prune": "evalkit.api",
    "render_comparison": "evalkit.api",
    "resolve_store": "evalkit.api",
    "suite_import": "evalkit.api",
    "suite_import_fields": "evalkit.api",
    "suite_info": "evalkit.api",
    "suite_list": "evalkit.api",
    "suite_sql": "evalkit.api",
    "suite_stats": "evalkit.api",
    "suite_tables": "evalkit.api",
    "suite_task": "evalkit.api",
    "suite_validate": "evalkit.api",
    "suite_verify": "evalkit.api",
    "write_comparison": "evalkit.api",
    "validate_rubric": "evalkit.api",
    "RunResult": "evalkit.api",
    "RunOptions": "evalkit.api",
    "load_suite": "evalkit.contracts.loader",
    "SuiteSpec": "evalkit.contracts.suite",
    "ModelConfig": "evalkit.contracts.model_config",
    "Sample": "evalkit.trace.types",
    "EvalkitError": "evalkit.errors",
    "merge_shards": "evalkit.api",
    "sweep": "evalkit.api",
    "suite_import_rllm_finqa": "evalkit.api",
}

if TYPE_CHECKING:
    from evalkit.api import (
        RunOptions,
        RunResult,
        build_report,
        cache_clear,
        cache_info,
        cache_prune,
        compare_runs,
        export_failures,
        export_run,
        gate,
        gate_policy,
        get_samples,
        get_scores,
        import_run,
        list_runs,
        render_comparison,
        resolve_store,
        run_suite,
        run_suite_on_ray,
        score_run,
        score_traces,
        suite_import,
        suite_import_fields,
        suite_import_rllm_finqa,
        suite_info,
        suite_list,
        suite_sql,
        suite_stats,
        suite_tables,
        suite_task,
        suite_validate,
        suite_verify,
        sweep,
        validate_rubric,
        write_comparison,
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
