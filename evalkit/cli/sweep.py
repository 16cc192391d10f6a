"""``evalkit sweep``: run a series of checkpoints on suites, each as its own resumable run, and compare them.

The run options are ``evalkit run``'s own (the same ``typer.Option`` definitions, read from ``run_command``'s
signature), so they say and default the same in both commands.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from evalkit.cli.run import run_command
from evalkit.cli.state import StoreOption, console, err_console, store_path

if TYPE_CHECKING:
    from evalkit.api.sweeps import SweepRun

_RUN_OPTIONS = inspect.signature(run_command).parameters


def _run_option(name: str) -> Any:
    """``evalkit run``'s definition of an option (its flags, help and default)."""
    return _RUN_OPTIONS[name].default


def sweep_command(
    suites: list[str] = typer.Argument(..., metavar="SUITE", help="Suites (names or folders) to run; one or more."),
    model: list[str] = typer.Option(
        None,
        "--model",
        "-m",
        help="A checkpoint as a model string or evalkit.yaml alias (as evalkit run takes it); repeat it, in "
        "series order.",
    ),
    checkpoints: list[str] = typer.Option(
        None,
        "--checkpoints",
        help="A glob over checkpoint directories or adapter files (quote it); each match is a checkpoint named "
        "after it, naturally sorted, served by the --api-base server under that name. Repeatable.",
    ),
    send_path: bool = typer.Option(
        False,
        "--send-path",
        help="Send each match's path as the model name (vLLM's name for `vllm serve PATH` without "
        "--served-model-name) instead of its base name.",
    ),
    name: str = typer.Option(
        None, "--name", help="The sweep's name: its runs are named NAME/SUITE/CHECKPOINT (default: sweep)."
    ),
    epochs: int = _run_option("epochs"),
    limit: int = _run_option("limit"),
    tasks: str = _run_option("tasks"),
    concurrency: int = _run_option("concurrency"),
    max_turns: int = _run_option("max_turns"),
    seed: int = _run_option("seed"),
    store: StoreOption = None,
    cache: bool | None = _run_option("cache"),
    new: bool = _run_option("new"),
    max_cost: float = _run_option("max_cost"),
    api_base: list[str] = _run_option("api_base"),
    timeout: float = _run_option("timeout"),
    sample_timeout: float = _run_option("sample_timeout"),
    progress: bool = _run_option("progress"),
    rubric: list[str] = _run_option("rubric"),
    judge: str = _run_option("judge"),
    preflight: bool = _run_option("preflight"),
    fmt: str = typer.Option(
        "term", "--format", "-f", help="The comparison: term (printed), md, html or json (written to reports/)."
    ),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write the comparison to this file (default for md/html/json: reports/)."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level of the paired tests.", min=0.0001, max=0.5),
) -> None:
    """Run checkpoints on suites, each as its own run, then compare the series.

    Every checkpoint × suite is a run named NAME/SUITE/CHECKPOINT. The same command again resumes the
    unfinished runs and shows the finished ones without running them, so an interrupted sweep, or one with a
    checkpoint added, runs only what is missing. A checkpoint that cannot run (its server refuses it) is
    reported and the sweep goes on with the others; the command then exits 2.

    Checkpoints are --model strings in the order given, then the matches of --checkpoints globs in natural
    order (step_2 before step_10), all sent to the one OpenAI-compatible server of --api-base. The model name
    sent is the match's base name: what vLLM serves a LoRA adapter as with --lora-modules step_100=ckpts/step_100,
    or a checkpoint with --served-model-name step_100; --send-path sends the path as matched.

    It ends with the comparison: per suite, the leaderboard and the trend over the checkpoints against the
    first; when the tasks include single-table and multi-table ones, the transfer view: per checkpoint,
    accuracy and each criterion on both kinds, with intervals and the change against the first checkpoint.

    [bold]Examples[/]

      evalkit sweep finance-single finance-multi --checkpoints 'ckpts/step_*' --api-base http://localhost:8000/v1 -n 50
      evalkit sweep finance-single -m hosted_vllm/ckpt-100 -m hosted_vllm/ckpt-200 --api-base http://localhost:8000/v1
      evalkit sweep finance-single -m scripted/reckless -m scripted/disciplined --rubric tool-discipline -f md
    """
    from evalkit.api import print_sweep, sweep, write_sweep
    from evalkit.errors import RunIncomplete

    if fmt not in ("term", "md", "html", "json"):
        raise typer.BadParameter(f"unknown format {fmt!r} (known: term, md, html, json)", param_hint="--format")
    if fmt == "term" and output is not None:
        raise typer.BadParameter("the terminal format writes no file: add --format md, html or json")
    bars: list[Any] = []

    def bar(_: object) -> Any:
        if not progress:
            return None
        from evalkit.cli.run import RichProgress

        bars.append(RichProgress())
        return bars[-1]

    def ended(entry: SweepRun) -> None:
        for b in bars:
            b.stop()
        bars.clear()
        _print_run(entry)

    result = sweep(
        suites,
        model or [],
        checkpoints=checkpoints or [],
        send_path=send_path,
        name=name,
        store=store_path(store),
        api_base=api_base or None,
        progress=bar,
        on_run=ended,
        judge=judge,
        alpha=alpha,
        epochs=epochs,
        limit=limit,
        tasks=tasks,
        concurrency=concurrency,
        max_turns=max_turns,
        seed=seed,
        use_cache=cache,
        new=new,
        max_cost=max_cost,
        call_timeout_s=timeout,
        sample_timeout_s=sample_timeout,
        rubrics=tuple(rubric or ()),
        preflight=preflight,
    )
    if result.comparison is not None:
        console().print()
        if fmt == "term":
            print_sweep(result.comparison, console())
        else:
            path = write_sweep(result.comparison, fmt, output)
            err_console().print(f"{fmt} comparison: {path}", soft_wrap=True, markup=False)
    problems = [f"{r.name}: {_problem(r)}" for r in result.runs if _problem(r) is not None]
    if problems:
        raise RunIncomplete(
            f"{len(problems)} of {len(result.runs)} sweep runs could not run or finish:\n" + "\n".join(problems)
        )


def _problem(entry: SweepRun) -> str | None:
    """Why a run of the sweep counts as not done (as ``evalkit run`` would exit 2 for it), or None."""
    if entry.result is None:
        return entry.error or "it could not run"
    from evalkit.cli.run import incomplete_message

    message = incomplete_message(entry.result)
    return message.replace("\n", "; ") if message else None


def _print_run(entry: SweepRun) -> None:
    """One line per run as it ends: its id and accuracy, whether it ran, was resumed or was already finished."""
    from rich.markup import escape

    out = console()
    if entry.result is None:
        out.print(f"[red]✗[/] {escape(entry.name)}: {escape(entry.error or 'could not run')}", soft_wrap=True)
        return
    r = entry.result
    state = "already finished, nothing run" if r.already_finished else f"ran {r.ran} sample(s)"
    if r.resumed_from and not r.already_finished:
        state += f", resumed after {r.resumed_from}"
    summary = r.summaries[0] if r.summaries else None
    accuracy = "—" if summary is None or summary.accuracy is None else f"{summary.accuracy:.1%}"
    problem = _problem(entry)
    mark = "[yellow]![/]" if problem else "[green]✓[/]"
    out.print(
        f"{mark} {escape(entry.name)}  run {r.run.run_id}  {r.run.status}  accuracy {accuracy}  ({state})",
        soft_wrap=True,
    )
    if problem:
        out.print(f"  [yellow]{escape(problem)}[/]", soft_wrap=True)
