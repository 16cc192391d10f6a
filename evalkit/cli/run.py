"""``evalkit run``: run a suite with models, print the run id and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evalkit.cli.state import StoreOption, console, err_console, store_path
from evalkit.runner.options import RunOptions

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.progress import TaskID

    from evalkit.api import RunResult
    from evalkit.trace.types import Sample


_D = RunOptions()
"""The defaults the options show, from the one place they are defined."""


def run_command(
    suite: str = typer.Argument(None, help="Suite name (e.g. finance-single) or folder. Not needed with --resume."),
    model: list[str] = typer.Option(
        None,
        "--model",
        "-m",
        help="A litellm model string (openai/gpt-4.1-mini, hosted_vllm/..., ollama_chat/...), an alias from "
        "evalkit.yaml, or an offline agent: scripted/disciplined, scripted/reckless, scripted/noisy or "
        "scripted/noisy@P (P: the chance of behaving well), or a persona with known faults (scripted/big-model, "
        "scripted/wrong-column, scripted/hostile, ...: evalkit validate-rubric --help lists them). Repeatable.",
    ),
    epochs: int = typer.Option(_D.epochs, "--epochs", "-k", help="Times each task is run per model."),
    limit: int = typer.Option(_D.limit, "--limit", "-n", help="Run only the first N (selected) tasks."),
    tasks: str = typer.Option(_D.tasks, "--tasks", help="Only tasks whose id matches these globs (comma-separated)."),
    concurrency: int = typer.Option(
        None,
        "--concurrency",
        "-c",
        help="Samples in flight per model (default 8); given, it wins over a model's concurrency in evalkit.yaml.",
    ),
    max_turns: int = typer.Option(
        _D.max_turns, "--max-turns", help="Override the suite's maximum model turns per sample."
    ),
    seed: int = typer.Option(_D.seed, "--seed", help="Seed sent to the model and used by the scripted agents."),
    store: StoreOption = None,
    name: str = typer.Option(None, "--name", help="A name for the run (usable wherever a RUN is expected)."),
    cache: bool | None = typer.Option(
        _D.use_cache, "--cache/--no-cache", help="Reuse cached model replies (by default yes, except with --new)."
    ),
    new: bool = typer.Option(
        _D.new,
        "--new",
        help="Start another run even though this command already made one; its model calls are fresh "
        "requests (not served from the cache) unless --cache is given.",
    ),
    max_cost: float = typer.Option(
        _D.max_cost, "--max-cost", help="Stop starting new model calls once this many USD are spent."
    ),
    api_base: list[str] = typer.Option(
        None, "--api-base", help="Base URL of an OpenAI-compatible server (vLLM, llama.cpp); repeat it for replicas."
    ),
    shard: str = typer.Option(
        None, "--shard", help="K/N: run only the K-th of N slices of the samples (merge the shards with evalkit merge)."
    ),
    workers: int = typer.Option(
        _D.workers, "--workers", help="Worker processes that run the samples (one machine's cores); same results."
    ),
    ray: bool = typer.Option(
        False,
        "--ray",
        help="Run the shards as Ray tasks (pip install 'evalkit\\[ray]'), merged into the store as they finish: on a "
        "local Ray instance (--workers CPUs, else the machine's) or on the cluster at --ray-address.",
    ),
    ray_address: str = typer.Option(
        None,
        "--ray-address",
        metavar="ADDRESS",
        help="With --ray: a running cluster (auto, HOST:PORT, ray://HOST:PORT).",
    ),
    shards: int = typer.Option(None, "--shards", help="With --ray: how many shards (default: the cluster's CPUs)."),
    ray_storage: Path = typer.Option(
        None,
        "--ray-storage",
        help="With --ray: the folder of the shards' stores (default STORE.shards beside the store); on a cluster "
        "of several machines it must be a shared filesystem that every machine sees at this path.",
    ),
    ray_resources: list[str] = typer.Option(
        None,
        "--ray-resources",
        metavar="NAME=AMOUNT",
        help="With --ray: a custom resource each shard task needs (declared by the machines that serve the model: "
        "ray start --resources), so the tasks run beside their model servers. Repeatable.",
    ),
    ray_label: list[str] = typer.Option(
        None, "--ray-label", metavar="KEY=VALUE", help="With --ray: a node label each task's machine must have."
    ),
    resume: str = typer.Option(None, "--resume", help="Complete an interrupted run (id, prefix, name or 'latest')."),
    system_prompt: str = typer.Option(
        None,
        "--system-prompt",
        metavar="FILE",
        help="Use this file's text as the system prompt (in place of the suite's and its tool profile's); "
        "its content is part of the run's identity, so an edited prompt makes a new run.",
    ),
    timeout: float = typer.Option(_D.call_timeout_s, "--timeout", help="Seconds allowed per model call (retried)."),
    sample_timeout: float = typer.Option(_D.sample_timeout_s, "--sample-timeout", help="Seconds allowed per sample."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
    rubric: list[str] = typer.Option(
        None, "--rubric", "-r", help="Score samples as they finish with this rubric (name or YAML file). Repeatable."
    ),
    judge: str = typer.Option(None, "--judge", help="Model that grades the rubrics' judge criteria after the run."),
    preflight: bool = typer.Option(
        _D.preflight,
        "--preflight/--no-preflight",
        help="Send each model (and the judge) one small request before the run; a model that fails stops the "
        "command at once (exit 2). Its provider and credentials are checked either way.",
    ),
    report: bool = typer.Option(
        True, "--report/--no-report", help="Write the run's Markdown and HTML reports under reports/."
    ),
) -> None:
    """Run SUITE with each --model; tasks × models × epochs run concurrently and every step is recorded.

    Prints the run id and, per model, its accuracy, tool calls and errors, tokens and cost; with --rubric, each
    criterion's pass rate too. Running the same command again resumes its unfinished run (only the samples not
    yet finished are run); --resume RUN names one. Once that run has finished, the same command shows it and
    runs nothing; --new starts another. Ctrl-C keeps what finished (exit 130).

    [bold]Examples[/]

      evalkit run finance-single --model scripted/disciplined --model scripted/reckless --rubric tool-discipline
      evalkit run finance-multi -m hosted_vllm/qwen3-4b --api-base http://localhost:8000/v1 -k 3 --limit 20
      evalkit run --resume latest
    """
    from evalkit.api import run_suite
    from evalkit.errors import ConfigError

    if resume is None and suite is None:
        raise ConfigError("give a SUITE to run (or --resume RUN)")
    if resume is None and not model:
        raise ConfigError("give at least one --model (for an offline try: --model scripted/disciplined)")
    bar = _progress_bar() if progress else None
    if ray or ray_address is not None:
        run_suite = _on_ray(ray_address, shards, ray_storage, ray_resources or [], ray_label or [])
    try:
        result = run_suite(
            suite,
            model or [],
            epochs=epochs,
            limit=limit,
            tasks=tasks,
            concurrency=concurrency,
            max_turns=max_turns,
            seed=seed,
            store=store_path(store),
            name=name,
            use_cache=cache,
            new=new,
            max_cost=max_cost,
            api_base=api_base or None,
            resume=resume,
            progress=bar,
            call_timeout_s=timeout,
            sample_timeout_s=sample_timeout,
            rubrics=tuple(rubric or ()),
            judge=judge,
            preflight=preflight,
            shard=shard,
            workers=workers,
            system_prompt=system_prompt,
        )
    finally:
        if bar is not None:
            bar.stop()  # a run that fails before its first sample (a model check) leaves no display behind
    print_summary(result)
    if result.score is not None:
        from evalkit.cli.score import print_result

        print_result(result.score)
    if report:
        from evalkit.api import write_report

        _, paths = write_report(result.store, [result.run.run_id], ("md", "html"))
        for fmt, path in paths.items():
            console().print(f"{fmt} report: {path}", soft_wrap=True, markup=False)
    problem = incomplete_message(result)
    if problem is not None:
        from evalkit.errors import RunIncomplete

        raise RunIncomplete(problem)


def _on_ray(
    address: str | None, shards: int | None, storage: Path | None, resources: list[str], labels: list[str]
) -> Callable[..., RunResult]:
    """``run_suite`` for ``--ray``: the same options, the shards run as Ray tasks (``evalkit.api.ray``)."""
    from functools import partial

    from evalkit.api import run_suite_on_ray

    return partial(
        run_suite_on_ray, address=address, shards=shards, storage=storage, resources=resources, labels=labels
    )


def incomplete_message(result: RunResult) -> str | None:
    """Why the run's results are incomplete (exit 2, after the summary and reports): samples lost to
    infrastructure errors, samples the provider rejected, models the circuit breaker stopped; None when
    nothing was lost."""
    run_id = result.run.run_id
    total = result.total or sum(s.samples for s in result.summaries)
    rejected = sum(s.stop_reasons.get("request_rejected", 0) for s in result.summaries)
    outages = sum(s.infra_errors for s in result.summaries) - rejected
    not_run = max(0, total - sum(s.samples for s in result.summaries)) if result.halts else 0
    lines = list(result.halts)
    if outages:
        lines.append(
            f"{outages} of {total} samples hit infrastructure errors; `evalkit run --resume {run_id}` re-runs them"
        )
    if rejected:
        lines.append(
            f"{rejected} of {total} samples were rejected by the provider (request_rejected); resuming does not "
            f"re-run them: fix the model's configuration and start a new run (--new)"
        )
    if not_run:
        lines.append(f"{not_run} of {total} samples were not run; `evalkit run --resume {run_id}` runs them")
    return "\n".join(lines) if lines else None


def _progress_bar() -> RichProgress:
    return RichProgress()


class RichProgress:
    """The run's progress on stderr: what it is doing before the first sample (the model checks, the suite's
    database), then samples done of all, infrastructure errors, tokens, cost and the time left; with several
    models, a line per model too."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=err_console(),
            transient=True,
        )
        self._task: TaskID | None = None
        self._phase: TaskID | None = None
        self._models: dict[str, TaskID] = {}
        self._errors: dict[str, int] = {}
        self._tokens = 0

    def phase(self, text: str) -> None:
        if self._phase is None:
            self._progress.start()
            self._phase = self._progress.add_task(text, total=None, stats="")
        else:
            self._progress.update(self._phase, description=text)

    def start(self, total: int, done: int) -> None:
        if self._phase is not None:
            self._progress.remove_task(self._phase)
        else:
            self._progress.start()
        self._task = self._progress.add_task("running", total=total, completed=done, stats="")

    def split(self, per_model: dict[str, tuple[int, int]]) -> None:
        for model, (total, done) in per_model.items():
            self._models[model] = self._progress.add_task(f"  {model}", total=total, completed=done, stats="")

    def advance(self, sample: Sample, spent_usd: float) -> None:
        if sample.status == "infra_error":
            self._errors[sample.model] = self._errors.get(sample.model, 0) + 1
        self._tokens += sample.prompt_tokens + sample.completion_tokens
        stats = f"infra errors {sum(self._errors.values())}  tokens {self._tokens:,}  cost ${spent_usd:.4f}"
        if self._task is not None:
            self._progress.update(self._task, advance=1, stats=stats)
        if sample.model in self._models:
            mine = f"infra errors {self._errors.get(sample.model, 0)}"
            self._progress.update(self._models[sample.model], advance=1, stats=mine)

    def stop(self) -> None:
        self._progress.stop()


def _fmt_cost(cost: float | None) -> str:
    return "unknown" if cost is None else f"${cost:.4f}"


def print_summary(result: RunResult) -> None:
    from rich.table import Table

    run = result.run
    out = console()
    resumed = f" (resumed: {result.resumed_from} already done)" if result.resumed_from else ""
    if result.already_finished:
        resumed = " (already finished: the same suite, models and options; nothing was run)"
    out.print(
        f"run [bold]{run.run_id}[/]{f' ({run.name})' if run.name else ''}  suite {run.suite}  {run.status}{resumed}"
    )
    table = Table(show_edge=False, pad_edge=False)
    for col in (
        "model",
        "samples",
        "accuracy",
        "correct",
        "infra errors",
        "tool calls",
        "tool errors",
        "tokens",
        "cost",
    ):
        table.add_column(col, justify="left" if col == "model" else "right")
    for s in result.summaries:
        table.add_row(
            s.model,
            str(s.samples),
            "—" if s.accuracy is None else f"{s.accuracy:.1%}",
            str(s.correct),
            str(s.infra_errors),
            str(s.tool_calls),
            str(s.tool_errors),
            f"{s.prompt_tokens + s.completion_tokens:,}",
            _fmt_cost(s.cost_usd),
        )
    out.print(table)
    for s in result.summaries:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(s.stop_reasons.items()))
        out.print(f"  {s.model}: stopped by {reasons}")
    if result.stopped_by_budget:
        out.print(f"[yellow]stopped at the cost budget; resume with: evalkit run --resume {run.run_id}[/]")
    out.print(
        f"store: {result.store}   traces: {show_command(run.run_id[:15], result.store)}", markup=False, soft_wrap=True
    )
    if result.already_finished:
        out.print("run the same command with --new for another run")


def show_command(run_ref: str, store: Path) -> str:
    """The ``evalkit show`` command that finds this run: with ``--store`` unless the store is the one a
    plain command uses ($EVALKIT_STORE, evalkit.yaml's ``store:``, or the default)."""
    from evalkit.api import resolve_store

    same = Path(store).resolve() == resolve_store().resolve()
    return f"evalkit show {run_ref}" if same else f"evalkit show {run_ref} --store {store}"
