"""``sweep``: a series of checkpoints × suites, each its own resumable run, then the series comparison.

>>> import evalkit
>>> result = evalkit.sweep(["finance-single"], ["scripted/reckless", "scripted/disciplined"], limit=5)
>>> [r.name for r in result.runs]
['sweep/finance-single/scripted/reckless', 'sweep/finance-single/scripted/disciplined']

The plan (which checkpoints, their order, the run names, the model name a served checkpoint is called by) is
``evalkit.runner.sweep``; each run is ``run_suite`` with the run's name, so the same sweep again resumes what
is unfinished and shows what is finished (nothing re-run); the comparison is ``evalkit.compare.sweep``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, EvalkitError, StoreError
from evalkit.runner.options import RunOptions
from evalkit.runner.sweep import Checkpoint, PlannedRun, from_globs, from_models, plan

if TYPE_CHECKING:
    from rich.console import Console

    from evalkit.api import RunResult
    from evalkit.compare.sweep import SweepComparison
    from evalkit.contracts.config import ProjectConfig
    from evalkit.contracts.model_config import ModelConfig
    from evalkit.runner.scheduler import Progress


@dataclass(frozen=True)
class SweepRun:
    """One checkpoint × suite of a sweep: its run's result, or why it could not run."""

    suite: str
    checkpoint: Checkpoint
    name: str
    result: RunResult | None
    error: str | None = None
    """Why the run could not run or finish (its ``evalkit run`` would exit 2): the sweep went on without it."""


@dataclass(frozen=True)
class SweepResult:
    name: str
    store: Path
    runs: tuple[SweepRun, ...]
    comparison: SweepComparison | None
    """None when no run could be compared (fewer than one run finished)."""

    @property
    def failed(self) -> tuple[SweepRun, ...]:
        return tuple(r for r in self.runs if r.result is None)


def sweep(
    suites: Sequence[str | Path],
    models: Sequence[str] = (),
    *,
    checkpoints: Sequence[str] = (),
    send_path: bool = False,
    name: str | None = None,
    store: str | Path | None = None,
    api_base: str | Sequence[str] | None = None,
    options: RunOptions | None = None,
    config: ProjectConfig | None = None,
    judge: str | None = None,
    alpha: float = 0.05,
    progress: Callable[[PlannedRun], Progress | None] | None = None,
    on_run: Callable[[SweepRun], None] | None = None,
    **overrides: Any,
) -> SweepResult:
    """Run every checkpoint on every suite, each as its own run named ``NAME/SUITE/CHECKPOINT`` (``name``
    defaults to ``sweep``), then compare the series (``evalkit.compare.sweep``).

    Checkpoints are ``models`` (model strings or aliases, in the order given) followed by the files or
    directories the ``checkpoints`` globs match (naturally sorted), each served by the OpenAI-compatible server
    at ``api_base`` under its base name (its path with ``send_path``; see ``evalkit.runner.sweep``). Run options
    are ``options`` with ``overrides`` as ``run_suite`` takes them. A run that cannot run (its server refuses,
    a bad model string) is recorded in the result with its error and the sweep goes on; the suites, the
    options and the rubrics are checked before anything runs, and a store held by another run stops the sweep.
    ``progress`` gives each run its progress display, ``on_run`` is told of each run as it ends.
    """
    from evalkit.api import run_suite
    from evalkit.contracts.config import default_store, load_config
    from evalkit.contracts.loader import load_suite
    from evalkit.contracts.rubric import load_rubric

    config = config if config is not None else load_config()
    store_path = Path(store) if store is not None else default_store(config)
    opts = RunOptions.of(options, **overrides)
    for ref in opts.rubrics:
        load_rubric(ref)
    if opts.shard is not None:
        raise ConfigError("a sweep runs whole runs: --shard is for evalkit run")
    series = from_models(models) + (from_globs(checkpoints, send_path=send_path) if checkpoints else [])
    if checkpoints and not api_base:
        raise ConfigError("--checkpoints needs --api-base: the URL of the server that serves the checkpoints")
    loaded = [load_suite(s) for s in suites]  # a bad suite fails before any checkpoint runs
    specs = {spec.name: spec for spec in loaded}
    planned = plan([spec.name for spec in loaded], series, name)  # runs are named after the suites' names
    done: list[SweepRun] = []
    for item in planned:
        try:
            model: str | ModelConfig = _model_of(item.checkpoint, api_base)
            result = run_suite(
                specs[item.suite],
                [model],
                options=opts,
                store=store_path,
                name=item.name,
                api_base=api_base,
                config=config,
                judge=judge,
                progress=progress(item) if progress is not None else None,
            )
            entry = SweepRun(item.suite, item.checkpoint, item.name, result)
        except StoreError:
            raise  # the store is held by another run, or broken: every other run would fail the same way
        except EvalkitError as exc:
            if exc.exit_code == 130:  # interrupted: what finished is kept, the rest of the sweep is not started
                raise
            entry = SweepRun(item.suite, item.checkpoint, item.name, None, str(exc))
        done.append(entry)
        if on_run is not None:
            on_run(entry)
    comparison = _compare(store_path, name, series, done, opts, alpha)
    return SweepResult(name=(name or "sweep"), store=store_path, runs=tuple(done), comparison=comparison)


def _model_of(checkpoint: Checkpoint, api_base: str | Sequence[str] | None) -> str | ModelConfig:
    """What the run is given: the ``--model`` string (resolved by ``run_suite``), or a served checkpoint's
    model, named after the checkpoint and sent to the sweep's server under its served name."""
    if checkpoint.path is None:
        return checkpoint.model
    from evalkit.contracts.model_config import ModelConfig

    bases = [api_base] if isinstance(api_base, str) else list(api_base or ())
    return ModelConfig(name=checkpoint.label, model=checkpoint.model, api_base=bases[0], replicas=tuple(bases[1:]))


def _compare(
    store: Path,
    name: str | None,
    series: Sequence[Checkpoint],
    runs: Sequence[SweepRun],
    opts: RunOptions,
    alpha: float,
) -> SweepComparison | None:
    from evalkit.compare.sweep import sweep_comparison
    from evalkit.trace.store import TraceStore

    ran = [r for r in runs if r.result is not None]
    if not ran:
        return None
    suites = list(dict.fromkeys(r.suite for r in runs))
    per_suite = [
        (
            s,
            [(r.checkpoint.label, r.result.run.run_id) for r in ran if r.suite == s and r.result is not None],
        )
        for s in suites
    ]
    notes = [f"{r.name}: not run ({' '.join((r.error or 'failed').split())})" for r in runs if r.result is None]
    with TraceStore.open(store, write=False) as st:
        return sweep_comparison(
            st,
            name or "sweep",
            [c.label for c in series],
            per_suite,
            rubrics=opts.rubrics,
            alpha=alpha,
            notes=notes,
        )


def render_sweep(result: SweepComparison, fmt: str) -> str:
    """The sweep's comparison as ``md``, ``html`` or ``json`` text."""
    from evalkit.compare.render_sweep import render_sweep as render

    return render(result, fmt)


def write_sweep(result: SweepComparison, fmt: str, output: str | Path | None = None) -> Path:
    """Write the sweep's comparison in ``fmt`` to ``output``, by default ``reports/sweep__NAME.EXT``."""
    from evalkit.compare.render_sweep import write_sweep as write

    return write(result, fmt, output)


def print_sweep(result: SweepComparison, console: Console) -> None:
    """Print the sweep's comparison to a rich console."""
    from evalkit.compare.render_sweep import render_sweep_terminal

    render_sweep_terminal(result, console)
