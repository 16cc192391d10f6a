"""The gate's error rates, measured on real runs of ``scripted/noisy``.

A 200-task suite is made from ``finance-single`` (its 104 tasks, and 96 of them again under new ids: the
noisy agent draws per task id, so a copy is a new task). Runs of ``noisy@0.7`` with different seeds have
no true difference between them; ``noisy@0.6`` is 10 points worse. The gate, with its default policy
(accuracy, rubric score and every criterion, Holm-corrected, alpha 0.05), should fail at most about alpha
of the equal pairs and catch the drop in most of the worse ones: with the defaults below (8 and 4 runs:
28 equal pairs, 32 worse ones) expect false alarms at or under 10 % and more than half of the drops caught.
``tests/compare/test_gate_simulation.py`` checks the same two properties on a small, fixed simulation.

    .venv/bin/python bench/bench_gate_simulation.py [--same 8] [--worse 4] [--tasks 200]

Takes minutes (every run is a real run of the agent loop, scored with both built-in rubrics). Prints the
two rates with their counts, the seconds spent, and a JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
SAME_P, WORSE_P = 0.7, 0.6


def make_suite(folder: Path, n_tasks: int) -> Path:
    """``finance-single`` grown (or cut) to ``n_tasks`` tasks: its tasks, then copies of them under new ids
    (``t1-b``, ``t1-c``, ...)."""
    import yaml

    source = ROOT / "suites" / "finance-single"
    tasks = yaml.safe_load((source / "tasks.yaml").read_text())["tasks"]
    copies = -(-n_tasks // len(tasks))
    grown = [{**t, "id": t["id"] + (f"-{chr(ord('a') + k)}" if k else "")} for k in range(copies) for t in tasks]
    suite = yaml.safe_load((source / "suite.yaml").read_text())
    suite.update(name=f"finance-{n_tasks}", database=str(ROOT / "suites" / "data" / "finance"))
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_text(yaml.safe_dump(suite))
    (folder / "tasks.yaml").write_text(yaml.safe_dump({"tasks": grown[:n_tasks]}, sort_keys=False))
    return folder


def run_noisy(suite: Path, store: Path, p: float, seeds: range) -> list[str]:
    """One scored run of ``scripted/noisy@p`` per seed; their run ids."""
    import evalkit

    ids = []
    for seed in seeds:
        result = evalkit.run_suite(
            suite,
            [f"scripted/noisy@{p}"],
            seed=seed,
            store=store,
            name=f"noisy{p}-seed{seed}",
            rubrics=["tool-discipline", "answer"],
            concurrency=16,
        )
        ids.append(result.run.run_id)
    return ids


def failures(store: Path, pairs: list[tuple[str, str]]) -> int:
    """How many (baseline, candidate) pairs the gate, with its default policy, fails."""
    from evalkit.compare.gate import run_gate
    from evalkit.compare.policy import GatePolicy
    from evalkit.trace.store import TraceStore

    policy = GatePolicy()
    with TraceStore.open(store, write=False) as st:
        return sum(not run_gate(st, candidate, baseline, policy).passed for baseline, candidate in pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--same", type=int, default=8, help=f"runs of noisy@{SAME_P} (seeds 1..N)")
    parser.add_argument("--worse", type=int, default=4, help=f"runs of noisy@{WORSE_P} (seeds 101..)")
    parser.add_argument("--tasks", type=int, default=200, help="tasks in the suite")
    args = parser.parse_args()

    figures: dict[str, float] = {"tasks": args.tasks}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.setdefault("EVALKIT_CACHE_DIR", str(folder / "cache"))
        os.environ["EVALKIT_REPORTS_DIR"] = str(folder / "reports")
        suite = make_suite(folder / "suite", args.tasks)
        store = folder / "store.duckdb"
        t = time.perf_counter()
        same = run_noisy(suite, store, SAME_P, range(1, args.same + 1))
        worse = run_noisy(suite, store, WORSE_P, range(101, 101 + args.worse))
        figures["runs_s"] = time.perf_counter() - t
        t = time.perf_counter()
        equal_pairs = list(itertools.combinations(same, 2))
        worse_pairs = list(itertools.product(same, worse))
        false_alarms = failures(store, equal_pairs)
        caught = failures(store, worse_pairs)
        figures["gates_s"] = time.perf_counter() - t
    figures |= {"equal_pairs": len(equal_pairs), "false_alarms": false_alarms}
    figures |= {"worse_pairs": len(worse_pairs), "caught": caught}
    figures["false_alarm_rate"] = false_alarms / len(equal_pairs) if equal_pairs else float("nan")
    figures["caught_rate"] = caught / len(worse_pairs) if worse_pairs else float("nan")
    print(
        f"false alarms with no true difference: {figures['false_alarm_rate']:.1%} "
        f"({false_alarms} of {len(equal_pairs)} pairs, alpha 5%)"
    )
    print(f"drops of 10 points caught: {figures['caught_rate']:.1%} ({caught} of {len(worse_pairs)} pairs)")
    print(f"runs {figures['runs_s']:.1f} s, gates {figures['gates_s']:.1f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
