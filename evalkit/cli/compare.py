"""``evalkit compare`` (checkpoints side by side, paired) and ``evalkit gate`` (an exit code for CI)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from evalkit.cli.state import StoreOption, console, err_console, store_path

RUNS_HELP = "id, unique prefix, name, 'latest', or a file from 'evalkit export'"


def _within(value: float | None, low: float, high: float | None) -> float | None:
    """A range check that keeps the option's type column short: typer's ``min``/``max`` print the range
    there, and at 80 columns that cut the longest option names (``--max-critical-failur…``)."""
    if value is not None and (value < low or (high is not None and value > high)):
        span = f"between {low:g} and {high:g}" if high is not None else f"{low:g} or more"
        raise typer.BadParameter(f"{value:g} is not {span}")
    return value


def compare_command(
    runs: list[str] = typer.Argument(..., metavar="RUN_A RUN_B [RUN...]", help=f"Runs to compare: {RUNS_HELP}."),
    reference: str = typer.Option(
        None, "--reference", help="The run the others are compared with (default: the first)."
    ),
    fmt: str = typer.Option("term", "--format", "-f", help="term, md, html or json."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write to this file (default for md/html/json: reports/)."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level of the paired tests.", min=0.0001, max=0.5),
    rubric: list[str] = typer.Option(None, "--rubric", "-r", help="Use only these rubrics' stored scores."),
    store: StoreOption = None,
) -> None:
    """Compare runs task by task, with paired statistics.

    Two runs (say, two checkpoints): for accuracy, the rubric score and each criterion, the difference with a 95%
    interval, an exact McNemar test on the pass/fail pairs (a cluster bootstrap when tasks have several epochs), the
    minimum detectable effect, and the tasks that were fixed or broken. More runs (a series of checkpoints): a
    leaderboard and the trend of each metric against the reference. Runs over different task sets are compared on the
    samples they share.

    The terminal format prints; md, html and json are written to reports/compare__RUNS.EXT (the folder is
    $EVALKIT_REPORTS_DIR when set), or to the file -o names.

    [bold]Examples[/]

      evalkit compare base-4b rl-4b
      evalkit compare ckpt-100 ckpt-200 ckpt-300 -f html
      evalkit compare base.jsonl.gz latest --reference latest -f md -o compare.md
    """
    from evalkit.api import compare_runs, write_comparison

    if fmt not in ("term", "md", "html", "json"):
        raise typer.BadParameter(f"unknown format {fmt!r} (known: term, md, html, json)", param_hint="--format")
    if len(runs) < 2:
        raise typer.BadParameter("give at least two runs to compare", param_hint="RUN_A RUN_B")
    report = compare_runs(store_path(store), runs, reference=reference, rubrics=rubric or (), alpha=alpha)
    if fmt == "term":
        if output is not None:
            raise typer.BadParameter("the terminal format writes no file: add --format md, html or json")
        from evalkit.compare.render_text import render_compare_terminal

        render_compare_terminal(report, console())
        return
    path = write_comparison(report, fmt, output)
    err_console().print(f"{fmt} comparison: {path}", soft_wrap=True, markup=False)


def gate_command(
    candidate: str = typer.Argument(..., metavar="CANDIDATE", help=f"The run to judge: {RUNS_HELP}."),
    baseline: str = typer.Option(None, "--baseline", "-b", help=f"The run to compare with: {RUNS_HELP}."),
    policy: Path = typer.Option(None, "--policy", "-p", help="A gate.yaml policy; the flags below override it."),
    min_accuracy: float = typer.Option(
        None, "--min-accuracy", help="Fail below this accuracy (0..1).", callback=lambda v: _within(v, 0, 1)
    ),
    min_rubric_score: float = typer.Option(
        None,
        "--min-rubric-score",
        help="Fail below this mean rubric score (0..1).",
        callback=lambda v: _within(v, 0, 1),
    ),
    min_criterion: list[str] = typer.Option(
        None, "--min-criterion", help="ID=RATE: fail when a criterion's pass rate is below RATE (repeatable)."
    ),
    max_cost_per_sample: float = typer.Option(None, "--max-cost-per-sample", help="Fail above this USD per sample."),
    max_invented_tables: int = typer.Option(
        None,
        "--max-invented-tables",
        help="Most samples allowed to query a table that does not exist (0 or more).",
        callback=lambda v: _within(v, 0, None),
    ),
    max_critical_failures: int = typer.Option(
        None,
        "--max-critical-failures",
        help="Most failing verdicts allowed on critical criteria (0 or more).",
        callback=lambda v: _within(v, 0, None),
    ),
    alpha: float = typer.Option(None, "--alpha", help="Significance level of the regression tests (default 0.05)."),
    margin: float = typer.Option(
        None, "--margin", help="Ignore regressions smaller than this (a fraction, default 0)."
    ),
    min_samples: int = typer.Option(
        None, "--min-samples", help="Refuse to judge below this many samples (default 20)."
    ),
    junit: Path = typer.Option(None, "--junit", help="Also write the rules as JUnit XML here."),
    summary: Path = typer.Option(
        None, "--summary", help="Also write the Markdown summary here (default: $GITHUB_STEP_SUMMARY when set)."
    ),
    fmt: str = typer.Option("term", "--format", "-f", help="What to print: term, md or json."),
    rubric: list[str] = typer.Option(None, "--rubric", "-r", help="Use only these rubrics' stored scores."),
    store: StoreOption = None,
) -> None:
    """Pass or fail a candidate run for CI.

    Rules: absolute thresholds (accuracy, rubric score, a criterion's pass rate, cost per sample), no
    significant regression against the baseline, and invariants (invented tables, critical failures). A
    regression fails only when the candidate is worse with a p-value under alpha after Holm's correction
    over the metrics tested (accuracy, the rubric score, each criterion; correction: none in the policy turns
    it off) and by more than the margin. Each rule is off unless --policy or a flag turns it on, except the
    regression test, which runs whenever a baseline is given; flags override the policy file, key by key.

    Exit codes: 0 every rule passed; 1 a rule failed (the failures are listed first); 2 the gate could not
    evaluate: a missing run, fewer samples than --min-samples, different suites, or a metric the policy needs
    that the runs lack. Could not evaluate is never a pass.

    The decision is printed (term, or -f md / json on stdout); the Markdown summary also goes to --summary
    FILE, else is appended to $GITHUB_STEP_SUMMARY when it is set; --junit FILE writes one test case per rule.

    [bold]Examples[/]

      evalkit gate pr-123 -b baseline.jsonl.gz -p gate.yaml --junit reports/gate.xml
      evalkit gate nightly --min-accuracy 0.8 --min-criterion valid_identifiers=0.95
      evalkit gate nightly --max-invented-tables 0 -f md --summary gate.md
    """
    from evalkit.api import gate, gate_policy, render_comparison, write_comparison
    from evalkit.errors import GateFailed

    if fmt not in ("term", "md", "json"):
        raise typer.BadParameter(f"unknown format {fmt!r} (known: term, md, json)", param_hint="--format")
    rules = gate_policy(
        policy,
        min_accuracy=min_accuracy,
        min_rubric_score=min_rubric_score,
        min_criteria=min_criterion,
        max_cost_per_sample=max_cost_per_sample,
        max_invented_tables=max_invented_tables,
        max_critical_failures=max_critical_failures,
        alpha=alpha,
        margin=margin,
        min_samples=min_samples,
    )
    result = gate(store_path(store), candidate, baseline=baseline, policy=rules, rubrics=rubric or ())
    if fmt == "term":
        from evalkit.compare.render_text import render_gate_terminal

        render_gate_terminal(result, console())
    else:
        console().file.write(render_comparison(result, fmt))
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary is not None:
        write_comparison(result, "md", summary)
    elif step_summary:
        write_comparison(result, "md", step_summary, append=True)
    if junit is not None:
        write_comparison(result, "junit", junit)
    if not result.passed:
        raise GateFailed(f"gate failed: {len(result.failures)} rule(s) failed")
