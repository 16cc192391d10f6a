"""``evalkit validate-rubric``: how well a rubric's checks read agents with known faults."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING

import typer

from evalkit.cli.state import console

if TYPE_CHECKING:
    from evalkit.api import RubricValidation


def validate_command(
    rubric: list[str] = typer.Argument(
        ...,
        metavar="RUBRIC...",
        help="Rubric files or names (several are scored together; the diagnosis reads all their verdicts).",
    ),
    suite: list[str] = typer.Option(
        None, "--suite", "-s", help="A suite to run the personas over. Repeatable. Default: the built-in suites."
    ),
    epochs: int = typer.Option(1, "--epochs", help="Times each persona runs each task (seeded: epochs differ)."),
    tasks: str = typer.Option(None, "--tasks", help="Only tasks whose id matches one of these comma-separated globs."),
    seed: int = typer.Option(0, "--seed", help="Seed of the personas' choices."),
    examples: int = typer.Option(2, "--examples", help="Disagreements to show per criterion (0: none)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when a figure misses its target."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures and every disagreement as JSON."),
) -> None:
    """Measure a rubric's checks against agents with known faults: precision and recall per criterion.

    Runs every fault-injection persona (scripted/skips-discovery, scripted/wrong-column, scripted/hostile,
    scripted/big-model, ...: see README) over the suites in a temporary store, scores them with RUBRIC and
    compares each deterministic criterion's verdicts with the labels of what each persona was written to do.
    Per criterion: TP FP FN TN with "fail" as the positive class, "na≠" (labelled not applicable but judged, or
    the reverse), and the precision and recall of fail verdicts and of pass verdicts; then the share of wrong
    answers whose failure mode the report's diagnosis names as designed, and examples of disagreements with
    what the persona did. Targets: 0.98 for every criterion, 0.95 for the diagnosis. Criteria without labels
    (judge criteria, plugin checks, changed args) are listed, not measured. Exit 0 unless --strict.

    [bold]Examples[/]

      evalkit validate-rubric tool-discipline answer
      evalkit validate-rubric tool-discipline --suite finance-single --tasks 'fs-00*' --json
    """
    from evalkit.api import validate_rubric
    from evalkit.errors import GateFailed

    result = validate_rubric(rubric, suite or (), epochs=epochs, tasks=tasks, seed=seed)
    if as_json:
        console().print_json(json.dumps(result.to_dict(), default=str))
    else:
        render(result, examples)
    if strict and not result.passed:
        raise GateFailed("a figure misses its target (precision and recall 0.98, diagnosis 0.95)")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def render(result: RubricValidation, examples: int) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    out.print(
        f"rubrics {', '.join(result.rubrics)}  suites {', '.join(result.suites)}  "
        f"{len(result.models)} personas  {result.samples} samples ({result.labelled} labelled)"
    )
    table = Table(show_edge=False, pad_edge=False)
    for col in ("criterion", "TP", "FP", "FN", "TN", "na≠", "P fail", "R fail", "P pass", "R pass", ""):
        table.add_column(col, justify="left" if col == "criterion" else "right")
    for c in result.criteria:
        mark = "ok" if c.meets(result.target) else "[red]below[/]"
        table.add_row(
            f"{c.rubric}.{c.criterion}",
            *(str(n) for n in (c.tp, c.fp, c.fn, c.tn, c.na_mismatches)),
            *(_pct(x) for x in c.figures),
            mark,
        )
    out.print(table)
    d = result.diagnosis
    below = d.accuracy is not None and d.accuracy < result.diagnosis_target
    out.print(
        f"diagnosis: {d.right}/{d.total} wrong answers get their designed failure mode ({_pct(d.accuracy)})"
        + (" [red]below target[/]" if below else "")
        + (f"; {d.unknown} more have no designed mode" if d.unknown else "")
    )
    for want, got, n in d.misses[:6]:
        out.print(f"  designed {want}, diagnosed {got}: {n}")
    met = sum(c.meets(result.target) for c in result.criteria)
    out.print(f"{met}/{len(result.criteria)} criteria meet the target {result.target:.0%} (precision and recall)")
    if result.not_measured:
        out.print(f"not measured (no labels): {', '.join(result.not_measured)}")
    if examples > 0:
        shown: dict[str, list[str]] = defaultdict(list)
        for x in result.disagreements:
            lines = shown[x.criterion]
            if len(lines) < examples:
                lines.append(
                    f"  {x.model} {x.task_id}#{x.epoch}: labelled {x.expected}, got {x.got}"
                    + (f" ({x.reason})" if x.reason else "")
                    + (f"; it {x.did}" if x.did else "; no deliberate fault")
                )
        for criterion, lines in shown.items():
            out.print(f"[bold]{escape(criterion)}[/]")
            for line in lines:
                out.print(escape(line), soft_wrap=True)
