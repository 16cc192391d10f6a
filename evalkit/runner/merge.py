"""Shards of one run, made on several machines (``evalkit run ... --shard K/N``, each into its own store),
combined into the run the unsharded command makes (``evalkit merge STORE... --into STORE``).

A shard's record carries ``shard`` (``K/N``) and ``shard_of``: the fingerprint of the same command without
``--shard``. The merged run has that fingerprint, so it is the run the unsharded command would have made:
the same command run against the merged store resumes it when a shard was cut (its missing samples are run)
or shows it when it is complete. Merging again is idempotent: the merged run is rebuilt from the shards,
with the same id. Shards of different commands (another suite, other models or options) are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from evalkit.errors import EvalkitError
from evalkit.trace.types import RunRecord, Sample, Score, new_run_id, utc_now


class MergeError(EvalkitError):
    """The stores hold no shards, or shards that are not of one run (exit code 2)."""


@dataclass(frozen=True)
class MergeResult:
    run: RunRecord
    shards: tuple[str, ...]
    """``K/N`` of the shards merged, in order."""
    missing: tuple[str, ...]
    """``K/N`` of the shards no store held."""
    samples: int
    unfinished: int | None
    """Samples of the whole run that no shard finished (``evalkit run`` of the unsharded command runs them);
    None when the suite is no longer where the run found it, unchanged."""


@dataclass(frozen=True)
class _Shard:
    store: Path
    run: RunRecord
    slice: tuple[int, int]


def merge_shards(sources: Sequence[Path], target: Path) -> MergeResult:
    """Merge the shard runs in ``sources`` into ``target`` (see the module docstring)."""
    from evalkit.runner.options import shard_of
    from evalkit.trace.store import TraceStore

    shards: list[_Shard] = []
    for path in sources:
        if not Path(path).exists():
            raise MergeError(f"{path}: no such store")
        with TraceStore.open(Path(path), write=False) as store:
            for summary in store.list_runs():
                run = store.get_run(summary.run_id)
                if run.options.get("shard"):
                    shards.append(_Shard(Path(path), run, shard_of(run.options["shard"])))
    if not shards:
        raise MergeError(f"no shard runs (made with --shard K/N) in {', '.join(str(p) for p in sources)}")
    chosen = _one_run(shards)
    total = chosen[0].slice[1]
    present = sorted(chosen, key=lambda s: s.slice[0])
    samples: list[Sample] = []
    scores: list[Score] = []
    for shard in present:
        with TraceStore.open(shard.store, write=False) as store:
            samples += store.samples(shard.run.run_id, with_events=True)
            scores += store.scores(shard.run.run_id)
    first = present[0].run
    with TraceStore.open(target, write=True, exclusive=True) as store:
        whole = str(first.options["shard_of"])
        rows = store.query(
            "SELECT run_id, created_at FROM runs WHERE json_extract_string(options, '$.fingerprint') = ? "
            "ORDER BY created_at DESC LIMIT 1",
            [whole],
        )
        run_id, created = (rows[0][0], rows[0][1]) if rows else (new_run_id(), first.created_at)
        options = {k: v for k, v in first.options.items() if k not in ("shard", "shard_of")}
        complete = len(present) == total and all(s.run.status == "finished" for s in present)
        merged = replace(
            first,
            run_id=run_id,
            options={**options, "fingerprint": whole, "merged_from": [s.run.options["shard"] for s in present]},
            created_at=str(created),
            status="finished" if complete else "interrupted",
            finished_at=max((s.run.finished_at or "" for s in present), default="") or utc_now(),
        )
        with store.transaction():
            if rows:
                store.delete_run(run_id)
            store.add_run(merged, [replace(s, run_id=run_id) for s in samples])
            store.write_scores([replace(s, run_id=run_id) for s in scores])
    finished = sum(1 for s in samples if s.status == "ok")
    return MergeResult(
        run=merged,
        shards=tuple(str(s.run.options["shard"]) for s in present),
        missing=tuple(f"{k}/{total}" for k in range(1, total + 1) if k not in {s.slice[0] for s in present}),
        samples=len(samples),
        unfinished=None if (expected := _expected(first)) is None else expected - finished,
    )


def _one_run(shards: list[_Shard]) -> list[_Shard]:
    """The shards, all of one command, one per K (the newest when a K was run twice); ``MergeError`` when
    they are of several commands, naming what differs."""
    groups: dict[str, list[_Shard]] = {}
    for shard in shards:
        groups.setdefault(str(shard.run.options.get("shard_of")), []).append(shard)
    if len(groups) > 1:
        described = "; ".join(_describe(g[0].run) for g in groups.values())
        raise MergeError(
            "the stores hold shards of different runs (another suite, other models or options), which "
            f"cannot be merged into one: {described}"
        )
    (group,) = groups.values()
    counts = {s.slice[1] for s in group}
    if len(counts) > 1:
        raise MergeError(f"the shards split the run differently (N = {', '.join(map(str, sorted(counts)))})")
    newest: dict[int, _Shard] = {}
    for shard in sorted(group, key=lambda s: s.run.created_at):
        newest[shard.slice[0]] = shard
    return list(newest.values())


def _describe(run: RunRecord) -> str:
    models = ", ".join(m.name for m in run.models)
    return f"{run.run_id} (suite {run.suite} {run.suite_hash[:8]}, models {models}, shard {run.options.get('shard')})"


def _expected(run: RunRecord) -> int | None:
    """How many samples the whole run has (tasks × models × epochs, as the run selected the tasks), or None
    when its suite cannot be read where it was, unchanged."""
    from evalkit.contracts.loader import load_suite
    from evalkit.runner.options import RunOptions
    from evalkit.runner.session import select_tasks

    opts = RunOptions.from_record(run.options)
    try:
        suite = load_suite(run.suite_path)
    except EvalkitError:
        return None
    if suite.content_hash != run.suite_hash:
        return None
    return len(select_tasks(suite, opts.tasks, opts.limit)) * len(run.models) * opts.epochs
