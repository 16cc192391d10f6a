"""``evalkit compare`` (checkpoints side by side, paired) and ``evalkit gate`` (an exit code for CI)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from evalkit.cli.state import console, err_console, store_path

RUNS_HELP = "id, unique prefix, name, 'latest', or a file from 'evalkit export'"


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
    store: Path = typer.Option(None, "--store", help="Trace store (default: $EVALKIT_STORE or runs/evalkit.duckdb)."),
) -> None:
    """Compare runs task by task: accuracy and every behaviour, with paired statistics.

    Two runs: for accuracy, the rubric score and each criterion, the difference with a 95% interval, an exact
    McNemar test on the pass/fail pairs (a cluster bootstrap when tasks have several epochs), the minimum
    detectable effect, and the tasks that were fixed or broken. More runs (a series of checkpoints): a
    leaderboard and the trend of each metric against the reference.
    """
    from evalkit.api import compare_runs

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
    from evalkit.report.write import reports_dir, runs_stem, write_text

    if fmt == "md":
        from evalkit.compare.render_text import render_compare_markdown

        text = render_compare_markdown(report)
    elif fmt == "html":
        from evalkit.compare.render_html import render_compare_html

        text = render_compare_html(report)
    else:
        from evalkit.compare.render_text import render_compare_json

        text = render_compare_json(report)
    ext = {"md": ".md", "html": ".html", "json": ".json"}[fmt]
    path = output or reports_dir() / f"{runs_stem(report.runs, 'compare__')}{ext}"
    err_console().print(f"{fmt} comparison: {write_text(path, text)}", soft_wrap=True, markup=False)


def gate_command(
    candidate: str = typer.Argument(..., metavar="CANDIDATE", help=f"The run to judge: {RUNS_HELP}."),
    baseline: str = typer.Option(None, "--baseline", "-b", help=f"The run to compare with: {RUNS_HELP}."),
    policy: Path = typer.Option(None, "--policy", "-p", help="A gate.yaml policy; the flags below override it."),
    min_accuracy: float = typer.Option(None, "--min-accuracy", help="Fail below this accuracy (0..1).", min=0, max=1),
    min_rubric_score: float = typer.Option(
        None, "--min-rubric-score", help="Fail below this mean rubric score (0..1).", min=0, max=1
    ),
    min_criterion: list[str] = typer.Option(
        None, "--min-criterion", help="ID=RATE: fail when a criterion's pass rate is below RATE (repeatable)."
    ),
    max_cost_per_sample: float = typer.Option(None, "--max-cost-per-sample", help="Fail above this USD per sample."),
    max_invented_tables: int = typer.Option(
        None, "--max-invented-tables", help="Most samples allowed to query a table that does not exist.", min=0
    ),
    max_critical_failures: int = typer.Option(
        None, "--max-critical-failures", help="Most failing verdicts allowed on critical criteria.", min=0
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
    store: Path = typer.Option(None, "--store", help="Trace store (default: $EVALKIT_STORE or runs/evalkit.duckdb)."),
) -> None:
    """Pass or fail a candidate run for CI: exit 0 pass, 1 fail, 2 could not evaluate.

    Rules: absolute thresholds (accuracy, rubric score, a criterion's pass rate, cost per sample), no
    significant regression against the baseline (worse with p < alpha after Holm's correction, and by more
    than the margin), and invariants (invented tables, critical failures). Too few samples, different suites
    or a metric the runs lack mean "could not evaluate", never a pass.
    """
    from evalkit.api import gate
    from evalkit.compare.policy import load_policy, parse_criterion_flags
    from evalkit.errors import GateFailed

    if fmt not in ("term", "md", "json"):
        raise typer.BadParameter(f"unknown format {fmt!r} (known: term, md, json)", param_hint="--format")
    rules = load_policy(policy).with_flags(
        min_accuracy=min_accuracy,
        min_rubric_score=min_rubric_score,
        min_criteria=parse_criterion_flags(min_criterion),
        max_cost_per_sample=max_cost_per_sample,
        max_invented_tables=max_invented_tables,
        max_critical_failures=max_critical_failures,
        alpha=alpha,
        margin=margin,
        min_samples=min_samples,
    )
    result = gate(store_path(store), candidate, baseline=baseline, policy=rules, rubrics=rubric or ())
    from evalkit.compare.render_text import render_gate_json, render_gate_markdown, render_gate_terminal
    from evalkit.report.write import write_text

    markdown = render_gate_markdown(result)
    if fmt == "term":
        render_gate_terminal(result, console())
    elif fmt == "md":
        console().file.write(markdown)
    else:
        console().file.write(render_gate_json(result))
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary is not None:
        write_text(summary, markdown)
    elif step_summary:
        with open(step_summary, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
    if junit is not None:
        from evalkit.compare.render_junit import render_gate_junit

        write_text(junit, render_gate_junit(result))
    if not result.passed:
        raise GateFailed(f"gate failed: {len(result.failures)} rule(s) failed")
