"""``evalkit judge``: how far an LLM judge can be trusted, measured against labels people gave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evalkit.cli.help import HelpCommand
from evalkit.cli.state import StoreOption, console, store_path

if TYPE_CHECKING:
    from evalkit.api import Calibration

app = typer.Typer(no_args_is_help=True)
HEADER = f"  {'label / judge':<14}{'pass':>6}{'fail':>6}{'none':>6}"
"""The header of the confusion: a row per label, a column per verdict."""


@app.callback()
def judge_group() -> None:
    """Calibrate LLM judges against labelled episodes.

    A judge criterion is only as good as its agreement with people: calibrate measures it (Cohen's κ with a
    confidence interval, accuracy, and the confusion of labels and verdicts) so a gate can refuse to let an
    uncalibrated judge fail a build (judge_calibration: in gate.yaml).

    [bold]Examples[/]

      evalkit judge calibrate narrative-judge --labels labelled.jsonl --judge openai/gpt-4.1-mini
    """


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _num(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.2f}"


def _print(result: Calibration) -> None:
    out = console()
    out.print(
        f"judge {result.judge_model} on rubric {result.rubric}: {result.items} labelled episodes "
        f"({result.labels_file})",
        markup=False,
        soft_wrap=True,
    )
    out.print(f"κ interval: {result.ci_text}", markup=False)
    for c in result.criteria:
        out.print("", markup=False)
        interval = f" [{_num(c.low)}, {_num(c.high)}]" if c.low is not None else ""
        out.print(
            f"{c.criterion}: κ {_num(c.kappa)}{interval}, accuracy {_pct(c.accuracy)} over {c.compared} items "
            f"({c.labelled - c.compared} of {c.labelled} labelled without a pass/fail verdict)",
            markup=False,
            soft_wrap=True,
        )
        out.print(HEADER, markup=False)
        for label, row in c.confusion.items():
            out.print(f"  {label:<14}{row['pass']:>6}{row['fail']:>6}{row['none']:>6}", markup=False)
        if c.disagreements:
            out.print(f"  disagree on lines {', '.join(map(str, c.disagreements))}", markup=False, soft_wrap=True)
        for problem in c.no_verdict[:5]:
            out.print(f"  no verdict on line {problem}", markup=False, soft_wrap=True)
    for note in result.notes:
        out.print(f"note: {note}", markup=False, soft_wrap=True)


@app.command("calibrate", cls=HelpCommand)
def calibrate_command(
    rubric: str = typer.Argument(..., help="A rubric file or the name of one on the rubric search path."),
    labels: Path = typer.Option(..., "--labels", help="The labelled episodes: JSON Lines (see above)."),
    judge: str = typer.Option(
        None,
        "--judge",
        help="Judge model (a litellm model string or an alias from evalkit.yaml) for criteria that do not name "
        "their own \\[default: judge: in evalkit.yaml].",
    ),
    criterion: str = typer.Option(None, "--criterion", help="Calibrate only this judge criterion (its id)."),
    ci: str = typer.Option(
        "bootstrap", "--ci", help="κ's 95% interval: bootstrap (over items, seeded) or analytic (Cohen's SE)."
    ),
    resamples: int = typer.Option(2000, "--resamples", help="Bootstrap resamples."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON instead of text."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Also write the JSON to this file (what gate.yaml's judge_calibration reads)."
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse cached judge replies."),
    store: StoreOption = None,
) -> None:
    """Measure how well a judge's verdicts agree with labels people gave.

    Every labelled episode is graded by the judge on each judge criterion it has a label for (whatever the
    criterion's applies_when says), and the verdicts are compared with the labels: per criterion, Cohen's κ with
    a 95% interval (by default a percentile bootstrap over the items, seeded; --ci analytic uses Cohen's
    standard error), the raw accuracy, and the confusion of labels (rows) and verdicts (columns: pass, fail, and
    none for a judge error). A criterion needs a pass_threshold to give pass/fail verdicts. κ is undefined when
    the labels and the verdicts are all one and the same value.

    The labels file is JSON Lines, one episode per line, as evalkit score --traces reads it (messages, optional
    task_id, expected, model, metadata) plus labels, an object of judge criterion id to pass or fail:

      {"messages": [...], "expected": 1350, "labels": {"data_extracted": "pass"}}

    Judge replies are cached beside the store, so running again costs nothing.

    [bold]Examples[/]

      evalkit judge calibrate narrative-judge --labels labelled.jsonl --judge openai/gpt-4.1-mini
      evalkit judge calibrate rubrics/mine.yaml --labels labelled.jsonl --judge grader --criterion grounded
      evalkit judge calibrate narrative-judge --labels labelled.jsonl --judge grader --json -o calibration.json
    """
    from evalkit.api import judge_calibrate
    from evalkit.errors import ConfigError
    from evalkit.fileio import write_atomic

    if ci not in ("bootstrap", "analytic"):
        raise ConfigError(f"--ci {ci!r}: give bootstrap or analytic")
    if resamples < 1:
        raise ConfigError("--resamples must be 1 or more")
    result = judge_calibrate(
        rubric,
        labels,
        judge,
        criterion=criterion,
        store=store_path(store),
        use_cache=not no_cache,
        method=ci,
        resamples=resamples,
        seed=seed,
    )
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    if output is not None:
        try:
            write_atomic(output, text + "\n")
        except OSError as exc:
            raise ConfigError(f"cannot write {output}: {exc}") from exc
    if as_json:
        typer.echo(text)
    else:
        _print(result)
        if output is not None:
            console().print(f"wrote {output}", markup=False, soft_wrap=True)
