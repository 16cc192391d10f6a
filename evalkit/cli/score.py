"""``evalkit score``: score a stored run (never calling the agent's model) or external traces, with rubrics."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evalkit.cli.state import StoreOption, console, err_console, store_path

if TYPE_CHECKING:
    from evalkit.api import CriterionSummary, ScoreResult


def score_command(
    run: str = typer.Argument(None, help="Run id, unique prefix, name, or 'latest' (the default)."),
    rubric: list[str] = typer.Option(
        None, "--rubric", "-r", help="A rubric file or the name of one on the rubric search path. Repeatable."
    ),
    judge: str = typer.Option(
        None,
        "--judge",
        help="Judge model (a litellm model string or an alias from evalkit.yaml) for the judge criteria that name "
        "no model of their own (default: the judge: of evalkit.yaml). Without one, judge criteria are skipped.",
    ),
    suite: str = typer.Option(
        None, "--suite", help="Suite whose tasks and catalog to score against (default: the run's suite)."
    ),
    traces: Path = typer.Option(
        None,
        "--traces",
        help="Score traces recorded elsewhere: a JSONL file of OpenAI chat messages per episode, rLLM's saved "
        "episodes (an 'rllm eval --save-episodes' run folder or one episode .json) or an Inspect AI log (.eval).",
    ),
    traces_format: str = typer.Option(
        "auto",
        "--traces-format",
        help="With --traces: openai, rllm or inspect; auto tells them apart (a folder is rLLM's, .eval Inspect's, "
        "a .json by its content, anything else JSON Lines).",
    ),
    model_name: str = typer.Option(None, "--model-name", help="With --traces: the agent's name in the store."),
    name: str = typer.Option(None, "--name", help="With --traces: a name for the imported run."),
    correct_from: str = typer.Option(
        None,
        "--correct-from",
        help="With --traces: the recorded signal that decides each episode's correctness, as PATH OP VALUE "
        "(a dotted path under metadata, one of >= > <= < == !=, a number, true or false), e.g. "
        "'metadata.reward>=1'. Without it, episodes with no expected answer are not scored for correctness.",
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse cached judge replies."),
    store: StoreOption = None,
) -> None:
    """Score a stored run or external traces against rubrics.

    The agent's model is never called: RUN (default: latest) is re-scored from its stored traces; --traces PATH scores
    episodes recorded elsewhere, imported as a new run: JSON Lines (one episode per line with its OpenAI-style
    messages), rLLM's saved episodes, or an Inspect AI log. A reasoning model's thinking (a reasoning_content field,
    an Inspect reasoning part, or a <think> block opening the reply) is kept apart, and no answer is read from it.
    An episode without an expected answer (from --suite, the line's "expected", or the episode's own ground truth)
    is not scored for correctness unless --correct-from names a signal the log recorded, or the log stored its own
    verdict (an rLLM episode's is_correct, an Inspect score), which then decides.

    A rubric is a YAML file or a name on the rubric search path ($EVALKIT_RUBRICS_PATH, ./rubrics, then the
    built-in tool-discipline, answer and narrative-judge). Judge criteria are graded by an LLM: the criterion's own
    model, else --judge, else judge: in evalkit.yaml; without one they are recorded as skipped.

    Prints, per rubric, each criterion's pass rate and its verdict counts (pass, fail, value, na, skipped,
    error), with one column per model when the run has several. Scores are stored by rubric version, so
    re-scoring with a changed rubric keeps the old verdicts.

    [bold]Examples[/]

      evalkit score latest --rubric tool-discipline --rubric answer
      evalkit score base-4b --rubric narrative-judge --judge openai/gpt-4.1-mini
      evalkit score --traces episodes.jsonl -r tool-discipline --model-name my-agent
      evalkit score --traces prod.jsonl -r tool-discipline --correct-from 'metadata.reward>=1'
      evalkit score --traces ~/.rllm/eval_results/finqa_run -r tool-discipline -r answer --suite suites/finqa/test
      evalkit score --traces logs/finance.eval -r tool-discipline --suite finance-single
    """
    from evalkit.api import score_run, score_traces
    from evalkit.errors import ConfigError

    if not rubric:
        raise ConfigError("give at least one --rubric")
    if traces is not None:
        if run is not None:
            raise ConfigError("give either a RUN to re-score or --traces FILE, not both")
        result = score_traces(
            traces,
            rubric,
            suite=suite,
            store_path=store_path(store),
            judge_model=judge,
            model_name=model_name,
            name=name,
            use_cache=not no_cache,
            correct_from=correct_from,
            traces_format=traces_format,
        )
    else:
        if model_name is not None or name is not None:
            raise ConfigError("--model-name and --name are for --traces")
        if traces_format != "auto":
            raise ConfigError("--traces-format is for --traces")
        if correct_from is not None:
            raise ConfigError("--correct-from is for --traces: a stored run's correctness was decided when it ran")
        result = score_run(
            store_path(store), run or "latest", rubric, judge_model=judge, suite=suite, use_cache=not no_cache
        )
    print_result(result)


def _models(result: ScoreResult) -> list[str]:
    """The models whose samples were scored (a sample id is ``task|model|epoch``)."""
    return sorted({m for s in result.scores if (m := _model_of(s.sample_id)) is not None})


def _model_of(sample_id: str) -> str | None:
    from evalkit.trace.types import split_sample_id

    try:
        return split_sample_id(sample_id)[1]
    except ValueError:
        return None


def _rates_by_model(result: ScoreResult, rubric: str, version: str) -> dict[tuple[str, str], str]:
    """(criterion, model) → that model's pass rate on the criterion (the mean value for value criteria)."""
    tally: dict[tuple[str, str], list[float]] = {}
    for s in result.scores:
        if s.rubric == rubric and s.rubric_version == version and s.verdict in ("pass", "fail", "value"):
            key = (s.criterion, _model_of(s.sample_id) or "")
            tally.setdefault(key, []).append(
                1.0 if s.verdict == "pass" else 0.0 if s.verdict == "fail" else s.value or 0.0
            )
    return {k: f"{sum(v) / len(v):.0%}" for k, v in tally.items()}


def _rate(c: CriterionSummary) -> str:
    if c.pass_rate is not None:
        return f"{c.pass_rate:.0%}"
    if c.mean_value is not None:  # only values (a judge without a pass threshold): their mean in [0, 1]
        return f"~{c.mean_value:.2f}"
    return "—"


def print_result(result: ScoreResult) -> None:
    """The run, then one table per rubric: each criterion's pass rate (``~0.75``: the mean value, for criteria
    that give values), and its verdict counts (pass, fail, value, na, skipped, error). Judge criteria are
    marked with ``*``."""
    from rich.markup import escape

    from evalkit.report.terminal import section_table

    out = console()
    out.print(f"run [bold]{result.run.run_id}[/]  {escape(result.run.suite)}  {result.samples} samples")
    suite = escape(result.suite) if result.suite else "none (criteria needing tasks or the catalog are N/A)"
    out.print(f"suite: {suite}")
    for note in result.notes:
        err_console().print(f"[yellow]note:[/] {escape(note)}")
    for name, version in result.rubrics:
        mine = [c for c in result.criteria if c.rubric == name]
        table = section_table(f"rubric {escape(name)} {escape(version)}")
        for col in ("criterion", "category", "severity"):
            table.add_column(col, no_wrap=True)
        models = _models(result)
        for col in ("rate", "pass", "fail", "value", "na", "skip", "err"):
            table.add_column(col, justify="right", no_wrap=True)
        for model in models if len(models) > 1 else ():
            table.add_column(escape(model), justify="right", no_wrap=True)
        per_model = _rates_by_model(result, name, version) if len(models) > 1 else {}
        for c in mine:
            counts = (c.passed, c.failed, c.value, c.na, c.skipped, c.error)
            label = escape(c.criterion) + ("*" if c.kind == "judge" else "")
            by_model = [per_model.get((c.criterion, m), "—") for m in models] if per_model else []
            table.add_row(label, c.category, c.severity, _rate(c), *(str(n) for n in counts), *by_model)
        out.print(table)
        if any(c.kind == "judge" for c in mine):
            skipped = any(c.kind == "judge" and c.skipped for c in mine)
            hint = "; skipped without a judge model (give --judge MODEL)" if skipped else ""
            out.print(f"[dim]* judged by an LLM{hint}[/]")
    usage = result.judge_usage
    if usage is not None:
        cost = f"${usage.cost_usd:.4f}" + ("+?" if usage.unknown_cost_calls else "")
        who = escape(result.judge_model or "(per criterion)")
        out.print(
            f"judge {who}: {usage.calls} calls ({usage.cached_calls} cached), "
            f"{usage.prompt_tokens:,}+{usage.completion_tokens:,} tokens, {cost}"
        )
    out.print(f"scores stored in {escape(str(result.store))} (run {result.run.run_id})")
