"""The rLLM FinQA cookbook's company and table naming, where the environment's modules find it: the rules live
in ``evalkit.contracts.rllm_names`` (the scripted agents and the trace view, which may not import ``env``,
share them)."""

from __future__ import annotations

from evalkit.contracts.rllm_names import (
    ARGUMENTS,
    PROFILE,
    TOOL_NAMES,
    identifier,
    is_rllm_call,
    normalize_company,
    rewrite_query,
    sql_name,
    table_key,
)

__all__ = [
    "ARGUMENTS",
    "PROFILE",
    "TOOL_NAMES",
    "identifier",
    "is_rllm_call",
    "normalize_company",
    "rewrite_query",
    "sql_name",
    "table_key",
]
