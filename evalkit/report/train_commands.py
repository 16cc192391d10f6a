"""The command that turns each "what to train next" behaviour into training data.

For each behaviour a group's ``train_next`` ranks, ``evalkit export-failures`` writes the tasks where its
criterion failed (see ``evalkit.report.failures``). The command names the run (its name, else its id), the
criterion, the task kind with the most failing samples (``--kind``: the kind the behaviour fails on most is
the one to train first), the model when the run holds several, and the rubric when several rubrics of the
report have a criterion of that id.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from evalkit.report.model import BehaviourEffect, CriterionInfo, ExportCommand

if TYPE_CHECKING:
    from evalkit.report.build import SampleRow
    from evalkit.trace.types import RunRecord


def export_commands(
    run: RunRecord,
    model: str,
    done: Sequence[SampleRow],
    train_next: Sequence[BehaviourEffect],
    criteria: Mapping[str, CriterionInfo],
) -> tuple[ExportCommand, ...]:
    """One command per ``train_next`` entry, in its order."""
    ids = Counter(info.criterion for info in criteria.values())
    out = []
    for b in train_next:
        key = f"{b.rubric}.{b.criterion}"
        failing = [r for r in done if r.verdicts.get(key, ("",))[0] == "fail"]
        kinds: Counter[str] = Counter(r.task.kind for r in failing if r.task is not None)
        kind = min(kinds, key=lambda k: (-kinds[k], k)) if kinds else None
        words = ["evalkit", "export-failures", shlex.quote(run.name or run.run_id), "--criterion", b.criterion]
        if ids[b.criterion] > 1:
            words += ["--rubric", shlex.quote(b.rubric)]
        if kind is not None:
            words += ["--kind", kind]
        target = b.criterion
        if len(run.models) > 1:
            words += ["--model", shlex.quote(model)]
            target += "-" + re.sub(r"[^A-Za-z0-9.]+", "-", model.rsplit("/", 1)[-1]).strip("-")
        words += ["-o", f"{target}.jsonl"]
        out.append(ExportCommand(b.rubric, b.criterion, kind, len(failing), " ".join(words)))
    return tuple(out)
