"""How long the attack corpus's hostile queries take through the real tool path (a benchmark, not a test).

    .venv/bin/python bench/bench_attack.py

Runs every query of ``tests/env/test_attack_corpus.py`` (1 s query limit, 1 s kill slack, one sandbox
worker) and every calculator input, as the test does, and prints the slowest calls, the outcome counts,
this process's peak memory and a JSON line. The test asserts the outcomes; the times are shown here.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evalkit.contracts.suite import SuiteSettings  # noqa: E402
from evalkit.env import isolation  # noqa: E402
from evalkit.env.database import build_database  # noqa: E402
from evalkit.env.tools import FinanceEnvironment  # noqa: E402
from tests.env.conftest import write_catalog  # noqa: E402
from tests.env.test_attack_corpus import (  # noqa: E402
    CALCULATOR_INPUTS,
    HOSTILE_SQL,
    SENTINEL,
    SLACK_S,
    TIMEOUT_S,
    call_tool,
    fill,
)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="evalkit-attack-"))
    (root / "outside").mkdir()
    (root / "outside" / "secret.csv").write_text(f"{SENTINEL}\n", encoding="utf-8")
    world = {"root": root, "secret_dir": root / "outside", "secret": root / "outside" / "secret.csv"}
    built = build_database(write_catalog(root / "src"), root / "cache")
    isolation._SHARED = isolation.WorkerPool(max_workers=1, slack_s=SLACK_S)
    env = FinanceEnvironment(built, SuiteSettings(query_timeout_s=TIMEOUT_S))
    timed: list[tuple[float, str, str]] = []
    try:
        for tool, arg, inputs in (("sql_query", "query", HOSTILE_SQL), ("calculator", "expression", CALCULATOR_INPUTS)):
            for template in inputs:
                text = fill(template, world) if tool == "sql_query" else template
                start = time.perf_counter()
                result = call_tool(env, tool, {arg: text})
                timed.append((time.perf_counter() - start, result.error_type or "ok", text[:70]))
    finally:
        env.close()
        isolation._SHARED.close()
    kinds: dict[str, int] = {}
    for _, kind, _ in timed:
        kinds[kind] = kinds.get(kind, 0) + 1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{len(HOSTILE_SQL)} queries and {len(CALCULATOR_INPUTS)} calculator inputs; limit {TIMEOUT_S} s + {SLACK_S} s"
    )
    for seconds, kind, text in sorted(timed, reverse=True)[:8]:
        print(f"  {seconds:6.2f} s  {kind:15} {text}")
    print(f"outcomes {kinds}; this process's peak {peak_mb} MB")
    slowest = max(t for t, _, _ in timed)
    print(json.dumps({"calls": len(timed), "slowest_s": round(slowest, 3), "kinds": kinds, "peak_mb": peak_mb}))


if __name__ == "__main__":
    main()
