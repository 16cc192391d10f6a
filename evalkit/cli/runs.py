"""``evalkit runs``, ``show``, ``export`` and ``import-run``: what the store holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from evalkit.cli.state import StoreOption, console, store_path

if TYPE_CHECKING:
    from evalkit.api import RunSummary
    from evalkit.trace.types import Event, Sample, Score


def runs_command(
    store: StoreOption = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the runs in the store, newest first.

    One row per run: its id, name, suite, models, samples (finished/all when some are not), accuracy, cost,
    status and when it was made. An unknown price is never $0: the cost reads "unknown" when no sample's
    price is known ("unknown (no reply)" when every call failed), "≥ $X (N samples unpriced)" when some are
    unknown, and $0 only for a run that made no call. Any of id, a unique prefix of it, the name or "latest"
    names the run in the other commands.

    [bold]Examples[/]

      evalkit runs
      evalkit runs --json --store ci.duckdb
    """
    from rich.table import Table

    from evalkit.api import list_runs

    runs = list_runs(store_path(store))
    if as_json:
        console().print_json(json.dumps([r.__dict__ for r in runs], default=str))
        return
    if not runs:
        console().print("no runs yet")
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("run", "name", "suite", "models", "samples", "accuracy", "cost", "status", "created"):
        table.add_column(col, justify="right" if col in ("samples", "accuracy", "cost") else "left")
    for r in runs:
        table.add_row(
            r.run_id,
            r.name or "",
            r.suite,
            ", ".join(r.models),
            f"{r.finished}/{r.samples}" if r.finished != r.samples else str(r.samples),
            ("not scored" if r.finished else "—") if r.accuracy is None else f"{r.accuracy:.1%}",
            _cost_cell(r),
            r.status,
            str(r.created_at)[:19].replace("T", " "),
        )
    console().print(table)


def _cost_cell(r: RunSummary) -> str:
    """A run's cost: known, a lower bound that says how many samples are unpriced, or unknown (never $0 for
    calls whose price nobody knows)."""
    from evalkit.report.text_format import usd

    if r.cost_usd is None:
        return "unknown (no reply)" if r.model_calls == 0 else "unknown"
    if r.cost_complete:
        return usd(r.cost_usd)
    return f"≥ {usd(r.cost_usd)} ({r.cost_unknown} sample{'s' if r.cost_unknown != 1 else ''} unpriced)"


def show_command(
    run: str = typer.Argument("latest", help="Run id, unique prefix, name, or 'latest'."),
    task: str = typer.Argument(None, help="Show only this task's samples."),
    model: str = typer.Option(None, "--model", "-m", help="Show only this model's samples."),
    epoch: int = typer.Option(None, "--epoch", help="Show only this epoch."),
    full: bool = typer.Option(False, "--full", help="Do not shorten long prompts and results."),
    vs: str = typer.Option(
        None, "--vs", help="Another run (or exported run file): show TASK's traces of both runs side by side."
    ),
    store: StoreOption = None,
) -> None:
    """Show a run's traces: model turns, tool calls, results, errors.

    Without TASK, one line per sample (result, why it stopped, turns, tool calls and errors, answer). With
    TASK, each of its samples in full: every model turn, each tool call with its arguments, the result or
    the error, the final answer, tokens, latency and cost, then the sample's rubric verdicts with the
    events that decided them. --vs puts TASK's traces of two runs side by side. RUN may also be a file from
    'evalkit export'.

    [bold]Examples[/]

      evalkit show latest
      evalkit show latest fs-003 --model scripted/reckless --full
      evalkit show base fs-003 --vs rl
    """
    from evalkit.api import get_samples

    if vs is not None:
        if task is None:
            raise typer.BadParameter("--vs compares one task: give RUN TASK --vs OTHER_RUN", param_hint="--vs")
        _side_by_side(run, vs, task, model=model, epoch=epoch, full=full, store=store)
        return
    record, samples = get_samples(store_path(store), run, task_id=task, model=model, with_events=task is not None)
    if epoch is not None:
        samples = [s for s in samples if s.epoch == epoch]
    out = console()
    out.print(f"run [bold]{record.run_id}[/]  suite {record.suite}  models {', '.join(m.name for m in record.models)}")
    from evalkit.api import persona_design

    for m in record.models:
        if design := persona_design(m.model):
            out.print(f"{m.name}: a persona that {design}", markup=False)
    if task is None:
        _sample_table(samples)
        return
    if not samples:
        from evalkit.errors import ConfigError

        raise ConfigError(f"run {record.run_id} has no sample of task {task!r}")
    from evalkit.api import get_scores

    _, scores = get_scores(store_path(store), run)
    for s in samples:
        render_sample(s, full=full)
        render_verdicts([v for v in scores if v.sample_id == s.sample_id])


def _sample_table(samples: list[Sample]) -> None:
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False)
    for col in ("task", "model", "epoch", "result", "stop", "turns", "tools", "errors", "answer", "expected"):
        table.add_column(col)
    for s in samples:
        mark = "infra error" if s.status == "infra_error" else _mark(s.correct, "✓", "✗")
        table.add_row(
            s.task_id,
            s.model,
            str(s.epoch),
            mark,
            s.stop_reason,
            str(s.turns),
            str(s.tool_calls),
            str(s.tool_errors),
            _short(s.final_answer or "", 40),
            _short(s.expected or "", 30),
        )
    console().print(table)


def _mark(correct: bool | None, right: str, wrong: str, unscored: str = "not scored") -> str:
    """A sample's correctness: right, wrong, or not scored (no expected answer to judge it by)."""
    return unscored if correct is None else right if correct else wrong


def _usage_text(s: Sample) -> str:
    """Tokens and latency, "unknown" where the trace did not record them (imported traces)."""
    unknown = s.metadata.get("unknown") or ()
    tokens = "unknown tokens" if "tokens" in unknown else f"{s.prompt_tokens:,}+{s.completion_tokens:,} tokens"
    if isinstance(thought := s.metadata.get("reasoning_tokens"), int):
        tokens += f" ({thought:,} reasoning)"
    return f"{tokens} · {'unknown latency' if 'latency' in unknown else f'{s.latency_s:.2f}s'}"


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _side_by_side(
    run: str, other: str, task: str, *, model: str | None, epoch: int | None, full: bool, store: Path | None
) -> None:
    """TASK's samples of two runs in two columns, epoch by epoch (the same model, or each run's only one)."""
    from rich.console import Group
    from rich.table import Table

    from evalkit.api import get_samples
    from evalkit.errors import ConfigError

    sides = [get_samples(store_path(store), ref, task_id=task, with_events=True) for ref in (run, other)]
    for (record, samples), ref in zip(sides, (run, other), strict=True):
        if not samples:
            raise ConfigError(f"run {ref} ({record.run_id}) has no sample of task {task!r}")
    (rec_a, a), (rec_b, b) = sides
    models_a, models_b = {s.model for s in a}, {s.model for s in b}
    if model is not None:
        a, b = [s for s in a if s.model == model], [s for s in b if s.model == model]
    elif models_a != models_b and not (len(models_a) == 1 and len(models_b) == 1):
        raise ConfigError("the runs have different models: choose one with --model")
    by_b = {(s.model if models_a == models_b else "", s.epoch): s for s in b}
    table = Table(show_lines=True, expand=True)
    table.add_column(f"{rec_a.name or rec_a.run_id}", ratio=1, overflow="fold")
    table.add_column(f"{rec_b.name or rec_b.run_id}", ratio=1, overflow="fold")
    for s in a:
        if epoch is not None and s.epoch != epoch:
            continue
        twin = by_b.get((s.model if models_a == models_b else "", s.epoch))
        table.add_row(
            Group(*sample_renderables(s, full=full)),
            Group(*sample_renderables(twin, full=full)) if twin else "(no such sample)",
        )
    console().print(f"task [bold]{task}[/]: {rec_a.run_id} (left) vs {rec_b.run_id} (right)")
    console().print(table)


def sample_renderables(s: Sample, *, full: bool = False) -> list[Any]:
    """One sample's trace as rich renderables: a title, each event, the result panel."""
    from rich.markup import escape
    from rich.panel import Panel
    from rich.rule import Rule

    verdict = _mark(s.correct, "[green]correct[/]", "[red]wrong[/]", "correctness not scored")
    if s.status == "infra_error":
        verdict = "infra error"
    cost = "unknown" if s.cost_usd is None else f"${s.cost_usd:.5f}"
    out: list[Any] = [Rule(f"{escape(s.task_id)} · {escape(s.model)} · epoch {s.epoch}")]
    out.extend(_render_event(e, full=full) for e in s.events)
    body = (
        f"answer: {escape(s.final_answer or '(none)')}\nexpected: {escape(s.expected or '')}\n"
        f"{verdict} · stopped by {s.stop_reason} · {s.turns} turns · {s.tool_calls} tool calls "
        f"({s.tool_errors} errors) · {_usage_text(s)} · {cost}"
    )
    if s.error:
        body += f"\n[red]{escape(s.error)}[/]"
    out.append(Panel(body, title="result", expand=False))
    return out


def render_sample(s: Sample, *, full: bool = False) -> None:
    for part in sample_renderables(s, full=full):
        console().print(part)


def render_verdicts(scores: list[Score]) -> None:
    """The rubric verdicts of one sample, newest rubric version first, with the events that decided them."""
    if not scores:
        return
    from rich.markup import escape
    from rich.table import Table

    latest: dict[str, str] = {}
    for v in scores:
        latest.setdefault(v.rubric, v.rubric_version)
    colour = {"pass": "green", "fail": "red", "error": "red", "value": "yellow"}
    table = Table(show_edge=False, pad_edge=False, title="verdicts", title_justify="left")
    for col in ("rubric", "criterion", "verdict", "evidence", "reason"):
        table.add_column(col, overflow="fold")
    for v in scores:
        if v.rubric_version != latest[v.rubric]:
            continue
        shown = v.verdict if v.value is None or v.verdict in ("pass", "fail") else f"{v.value:.2f}"
        style = colour.get(v.verdict, "dim")
        evidence = ", ".join(f"[{n}]" for n in v.evidence)
        table.add_row(v.rubric, v.criterion, f"[{style}]{shown}[/]", escape(evidence), escape(v.reason))
    console().print(table)


def _render_event(e: Event, *, full: bool) -> Any:
    from rich.markup import escape
    from rich.text import Text

    limit = None if full else 600
    content = e.content or ""
    if limit and len(content) > limit:
        content = content[:limit] + f"… ({len(e.content or '') - limit} more characters; --full shows all)"
    if e.kind in ("system", "user"):
        return Text.assemble((f"[{e.seq}] {e.kind}: ", "bold cyan"), content)
    if e.kind == "model":
        usage = f"{e.usage.prompt_tokens}+{e.usage.completion_tokens} tok" if e.usage else "tokens unknown"
        cost = "" if e.cost_usd is None else f" ${e.cost_usd:.5f}"
        latency = "latency unknown" if e.latency_s is None else f"{e.latency_s:.3f}s"
        meta = f"turn {e.turn} · {usage} · {latency}{cost}{' · cached' if e.cached else ''}"
        calls = "".join(
            f"\n    → {escape(c.name)}({escape(_args_text(c.arguments, c.raw_arguments))})" for c in e.tool_calls
        )
        text = escape(content.strip()) if content.strip() else ""
        return f"[bold magenta][{e.seq}] model[/] [dim]({meta})[/]{_reasoning_text(e, full)} {text}{calls}"
    status = "[green]ok[/]" if e.ok else f"[red]error: {escape(e.error_type or '')}[/]"
    return f"[bold yellow][{e.seq}] tool {escape(e.tool or '')}[/] {status}\n{escape(_indent(content))}"


def _reasoning_text(e: Event, full: bool) -> str:
    """A model turn's reasoning: collapsed to its length, whole with ``--full``."""
    from rich.markup import escape

    if not e.reasoning:
        return ""
    if not full:
        return f"\n    [dim]reasoning: {len(e.reasoning):,} characters (--full shows it)[/]\n   "
    return f"\n    [dim]reasoning:[/] [italic]{escape(e.reasoning)}[/]\n   "


def _args_text(arguments: dict[str, Any] | None, raw: str | None) -> str:
    return json.dumps(arguments, ensure_ascii=False) if arguments is not None else str(raw)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def export_command(
    run: str = typer.Argument(..., help="Run id, unique prefix, name, or 'latest'."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write (.jsonl, or .jsonl.gz to compress)."),
    store: StoreOption = None,
) -> None:
    """Write a run (traces and scores) to a portable file.

    JSON Lines, gzip-compressed when the name ends in .gz. Every command that takes a RUN also takes such
    a file, so a committed export serves as a CI baseline ('evalkit gate RUN --baseline FILE');
    'evalkit import-run' loads it into a store.

    [bold]Examples[/]

      evalkit export latest -o baseline.jsonl.gz
      evalkit export nightly -o runs/nightly.jsonl --store ci.duckdb
    """
    from evalkit.api import export_run

    path, record = export_run(store_path(store), run, output)
    console().print(f"exported run {record.run_id} to {path}")


def import_command(
    file: Path = typer.Argument(..., help="A file written by 'evalkit export'."),
    replace: bool = typer.Option(False, "--replace", help="Replace a run with the same id already in the store."),
    store: StoreOption = None,
) -> None:
    """Load a run exported with 'evalkit export' into the store.

    The run keeps its id; a run with the same id already in the store is an error unless --replace is
    given.

    [bold]Examples[/]

      evalkit import-run baseline.jsonl.gz --store ci.duckdb
      evalkit import-run baseline.jsonl.gz --replace
    """
    from evalkit.api import import_run

    record = import_run(store_path(store), file, replace=replace)
    console().print(f"imported run {record.run_id} ({record.suite}) into {store_path(store)}")


def merge_command(
    stores: list[Path] = typer.Argument(..., help="Stores holding shard runs (made with 'evalkit run --shard K/N')."),
    into: Path = typer.Option(..., "--into", help="The store the merged run is written to (made if missing)."),
) -> None:
    """Combine the shards of one run, each made in its own store, into the run the unsharded command makes.

    The merged run has the unsharded command's identity: running that command against the merged store
    runs what a cut or missing shard left out, or shows the run when it is complete. Merging again rebuilds
    the merged run (same id). Shards of different commands (suite, models, options) are refused.

    [bold]Examples[/]

      evalkit merge shard-1.duckdb shard-2.duckdb shard-3.duckdb shard-4.duckdb --into all.duckdb
      evalkit report latest --store all.duckdb
    """
    from evalkit.api import merge_shards

    result = merge_shards(stores, into)
    out = console()
    out.print(
        f"merged shards {', '.join(result.shards)} into run {result.run.run_id} ({result.run.status}, "
        f"{result.samples} samples) in {into}"
    )
    if result.missing:
        out.print(f"missing shards: {', '.join(result.missing)}")
    if result.unfinished:
        out.print(
            f"{result.unfinished} samples are not finished: run the command without --shard on {into} to run them"
        )
