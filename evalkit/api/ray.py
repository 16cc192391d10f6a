"""``evalkit run ... --ray [ADDRESS]``: the run's shards as Ray tasks, merged into the store as they finish.

A function of its own rather than an option of ``run_suite``: it takes what only a cluster needs (the
address, the shard count and folder, the resources and labels of the machines) and runs ``run_suite`` once
per shard inside the Ray workers (``run_shard``). The result is the ``RunResult`` of the merged run, the
unsharded command's: a report, a comparison or the same command without ``--ray`` treat it as any run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.contracts.config import ProjectConfig, default_store, load_config, resolve_model
from evalkit.contracts.loader import load_suite
from evalkit.contracts.model_config import ModelConfig
from evalkit.contracts.rubric import load_rubric
from evalkit.contracts.suite import SuiteSpec
from evalkit.errors import ConfigError, EvalkitError
from evalkit.runner import ray_plan, ray_shards
from evalkit.runner.options import RunOptions, fingerprint
from evalkit.runner.scheduler import NoProgress, Progress, report_phase
from evalkit.runner.session import RunInterrupted, select_tasks, summarise

if TYPE_CHECKING:
    from evalkit.api import RunResult


def run_suite_on_ray(
    suite: str | Path | SuiteSpec,
    models: Sequence[str | ModelConfig],
    *,
    address: str | None = None,
    shards: int | None = None,
    storage: str | Path | None = None,
    resources: Mapping[str, float] | Sequence[str] | None = None,
    labels: Mapping[str, str] | Sequence[str] | None = None,
    num_cpus: int | None = None,
    resume: str | None = None,
    options: RunOptions | None = None,
    store: str | Path | None = None,
    name: str | None = None,
    api_base: str | Sequence[str] | None = None,
    config: ProjectConfig | None = None,
    progress: Progress | None = None,
    judge: str | None = None,
    **overrides: Any,
) -> RunResult:
    """Run a suite as ``run_suite`` does, its samples split into ``shards`` slices (``--shard K/N``), each a
    Ray task on the cluster at ``address`` (``auto``, ``HOST:PORT``, ``ray://HOST:PORT``; None or ``local``:
    a local instance of ``num_cpus`` CPUs, else ``workers`` when more than 1, else the machine's). Each shard
    writes its own store under ``storage`` (default: ``<store>.shards/`` beside the store; on a cluster of
    several machines a shared filesystem), and the shards are merged into ``store`` as they finish.
    ``resources`` and ``labels`` are what each task asks of its machine (custom resources, node labels; a
    mapping or ``NAME=VALUE`` strings), so the tasks run where the model servers are. The same call again
    resumes the run: only the samples no shard finished are run. Judge criteria are graded once, on the
    merged run."""
    from evalkit.api import RunResult, run_suite
    from evalkit.scoring.service import check_judge, score_run, stored_result
    from evalkit.trace.store import TraceStore

    config = config if config is not None else load_config()
    store_path = Path(store) if store is not None else default_store(config)
    opts = RunOptions.of(options, **overrides)
    if resume is not None:
        raise ConfigError("--ray resumes a run when the same command runs again; leave out --resume")
    if opts.shard is not None:
        raise ConfigError("--ray runs every shard itself: leave out --shard (--shards N sets how many)")
    if opts.new:
        raise ConfigError(
            "--ray does not start a second run of a command that already ran (--new): use another --store"
        )
    if not models:
        raise ConfigError("give at least one --model")
    placement = ray_shards.RayPlacement(
        address=ray_plan.parse_address(address),
        num_cpus=num_cpus if num_cpus is not None else (opts.workers if opts.workers > 1 else None),
        resources=_pairs(resources, "--ray-resources", number=True),
        labels=_pairs(labels, "--ray-label", number=False),
    )
    spec = suite if isinstance(suite, SuiteSpec) else load_suite(suite)
    resolved = [m if isinstance(m, ModelConfig) else resolve_model(m, config, api_base=api_base) for m in models]
    if len({m.name for m in resolved}) != len(resolved):
        raise ConfigError("the same model is given twice")
    whole = fingerprint(spec, resolved, opts)
    previous = ray_plan.whole_run(store_path, whole)
    if previous is not None:
        if previous.name != name:
            raise ConfigError(
                f"the store holds run {previous.run_id} ({previous.name or 'no name'}) of the same command; "
                "give its --name, or another --store"
            )
        if previous.status == "finished":  # shown as the same command without --ray shows it
            return run_suite(spec, resolved, options=opts, store=store_path, name=name, config=config, judge=judge)
        if "merged_from" not in previous.options:
            raise ConfigError(
                f"the store holds the unfinished run {previous.run_id} of this command, made without --ray; "
                f"complete it without --ray (evalkit run --resume {previous.run_id}) or use another --store"
            )
    refs = list(opts.rubrics)
    for ref in refs:
        load_rubric(ref)  # a bad rubric fails before any task starts, and so does a judge that cannot work
    if refs and (judge is not None or config.judge is not None):
        check_judge(refs, judge, config, opts.preflight)
    tasks = select_tasks(spec, opts.tasks, opts.limit)
    total = len(tasks) * len(resolved) * opts.epochs
    folder = Path(storage) if storage is not None else ray_plan.default_storage(store_path)
    where = f"the Ray cluster at {placement.address}" if placement.address else "a local Ray instance"
    report_phase(progress, f"starting {where}")
    with ray_shards.connected(placement) as ray:
        count = ray_plan.shard_count(shards, folder, whole, ray_shards.cluster_cpus(ray), total)
        jobs = [
            ray_shards.ShardJob(
                shard=k,
                count=count,
                store=ray_plan.shard_store(folder, whole, k, count),
                suite=str(spec.path),
                models=tuple(resolved),
                # the budget is shared out: each shard stops at its part of it
                options=replace(
                    opts, shard=f"{k}/{count}", workers=1, max_cost=opts.max_cost / count if opts.max_cost else None
                ),
                name=name,
                config=replace(config, judge=None),  # the merged run is judged once, below
                env=ray_shards.forwarded_env(),
            )
            for k in range(1, count + 1)
        ]
        before = ray_plan.finished_before(jobs, spec)
        per_model = {m.name: (len(tasks) * opts.epochs, before.get(m.name, 0)) for m in resolved}
        totals = (total, sum(before.values()), per_model)
        outcome = ray_shards.run_shards(
            ray, jobs, run_shard, store_path, placement, progress if progress is not None else NoProgress(), totals
        )
    if outcome.merged is None:
        if outcome.interrupted:
            raise RunInterrupted("the run was interrupted before any shard wrote a sample; no run was recorded")
        raise EvalkitError("no shard wrote a sample:\n" + "\n".join(outcome.failures))
    run_id = outcome.merged.run.run_id
    if outcome.interrupted:
        raise RunInterrupted(
            f"run {run_id} interrupted; the samples the shards finished are kept (under {folder / whole}). "
            "Resume with the same command"
        )
    with TraceStore.open(store_path, write=False) as st:
        run = st.get_run(run_id)
        samples = st.samples(run_id)
    halts = [*outcome.failures]
    if outcome.failures:
        halts.append(f"the same command again runs the failed shards' samples (their stores: {folder / whole})")
    halts += dict.fromkeys(h for o in outcome.outcomes.values() for h in o.halts)  # each model's halt once
    scored = None
    if refs:
        judged = (judge is not None or config.judge is not None) and any(
            c.judge is not None for ref in refs for c in load_rubric(ref).criteria
        )
        if judged:
            scored = score_run(store_path, run_id, refs, judge_model=judge, config=config)
        else:
            scored = stored_result(store_path, run_id, refs)
    return RunResult(
        run=run,
        store=store_path,
        summaries=summarise(samples, [m.name for m in resolved]),
        resumed_from=sum(before.values()),
        ran=sum(o.ran for o in outcome.outcomes.values()),
        stopped_by_budget=any(o.stopped_by_budget for o in outcome.outcomes.values()),
        halts=tuple(halts),
        total=total,
        score=scored,
    )


def _pairs(given: Mapping[str, Any] | Sequence[str] | None, option: str, number: bool) -> dict[str, Any]:
    if given is None:
        return {}
    if isinstance(given, Mapping):
        return dict(given)
    return ray_plan.parse_pairs(list(given), option, number)


def run_shard(job: ray_shards.ShardJob, board: Any) -> ray_shards.ShardOutcome:
    """One shard, in a Ray worker: ``run_suite`` of its slice into its own store (resumed when an earlier
    attempt left it unfinished), its finished samples reported to ``board``."""
    from evalkit.api import run_suite

    reporter = ray_shards.ShardReporter(board, job.shard)
    try:
        with ray_shards.task_environment(job.env):
            result = run_suite(
                job.suite,
                list(job.models),
                options=job.options,
                store=job.store,
                name=job.name,
                config=job.config,
                progress=reporter,
            )
    finally:
        reporter.close()
    return ray_shards.ShardOutcome(
        status=result.run.status, ran=result.ran, stopped_by_budget=result.stopped_by_budget, halts=result.halts
    )
