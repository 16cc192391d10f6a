"""``evalkit validate-rubric``: run the fault-injection personas in a temporary store, score them, and measure
the rubric's verdicts and the report's diagnosis against the personas' labels (``evalkit.scoring.validation``).

The runs are made by the ``run`` callable the API hands in (the report never runs models itself); the samples
are then read back the way a report reads them (``collect``), so the diagnosis measured is the report's own.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evalkit.report.build import collect
from evalkit.scoring.validation import Observation, RubricValidation, measure, persona_models

BUILTIN_SUITES = ("finance-single", "finance-multi")
RunFn = Callable[..., str]
"""``run(suite, models, store=..., **run options) -> run id``."""


def validate(
    rubrics: Sequence[str | Path],
    suites: Sequence[str | Path],
    run: RunFn,
    *,
    personas: Sequence[str] = (),
    **options: Any,
) -> RubricValidation:
    """Run ``personas`` (default: all of them, as ``scripted/<name>``) over ``suites`` (default: the built-in
    ones) with ``options`` (``epochs``, ``tasks``, ``limit``, ``seed``, ...), scored by ``rubrics``; measure."""
    from evalkit.contracts.rubric import load_rubric
    from evalkit.errors import ConfigError
    from evalkit.trace.store import TraceStore

    if not rubrics:
        raise ConfigError("give at least one RUBRIC to validate")
    specs = [load_rubric(r) for r in rubrics]
    models = [p if p.startswith("scripted/") else f"scripted/{p}" for p in personas] or persona_models()
    suites = list(suites) or list(BUILTIN_SUITES)
    options.setdefault("use_cache", False)
    with tempfile.TemporaryDirectory(prefix="evalkit-validate-") as folder:
        store = Path(folder) / "validate.duckdb"
        run_ids = [run(s, models, store=store, rubrics=[str(r) for r in rubrics], **options) for s in suites]
        observations = []
        with TraceStore.open(store, write=False) as st:
            collected = collect(st, run_ids, rubrics=rubrics)
            for data in collected.runs:
                run_id = data.run.run_id
                full = {s.sample_id: s for s in st.samples(run_id, with_events=True)}
                reasons = {(s.sample_id, f"{s.rubric}.{s.criterion}"): s.reason for s in st.scores(run_id)}
                seed = int(data.run.options.get("seed") or 0)
                for row in data.rows:
                    sid = row.sample.sample_id
                    verdicts = {k: (v, value, reasons.get((sid, k), "")) for k, (v, value) in row.verdicts.items()}
                    observations.append(Observation(full[sid], row.task, seed, verdicts, row.mode))
    names = [d.run.suite for d in collected.runs]
    return measure(observations, specs, suites=names, notes=collected.notes)
