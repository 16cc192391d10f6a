"""rLLM's FinQA dataset as evalkit suites: ``evalkit suite import-rllm-finqa``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evalkit.suites.rllm_finqa import RllmImportSummary


def suite_import_rllm_finqa(
    source: str | Path,
    out: str | Path,
    *,
    split: str = "all",
    name: str = "rllm-finqa",
    force: bool = False,
    tools_profile: bool = True,
) -> RllmImportSummary:
    """Turn the dataset as rLLM's ``prepare_finqa_data.py`` lays it out in ``source`` (``company_tables/`` and
    ``{train,val,test}_finqa.csv``, or the same rows as JSONL in the preprocessed layout) into one verified
    suite per split under ``out`` (``out/<split>/suite.yaml``, tables shared in ``out/data``). ``split`` is
    ``train``, ``val``, ``test`` or ``all``; ``tools_profile=False`` leaves ``tools: {profile: rllm-finqa}``
    out of the suites (evalkit's own tools). Returns what was written and what was skipped, with why."""
    from evalkit.suites.rllm_finqa import PROFILE, import_rllm_finqa

    return import_rllm_finqa(
        Path(source), Path(out), split=split, name=name, force=force, profile=PROFILE if tools_profile else None
    )
