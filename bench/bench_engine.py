"""How much the harness costs per model call, how close it gets to the ideal wall time, and how fast it starts
(a benchmark, not a test).

    python bench/bench_engine.py [--samples 300] [--latency-samples 200] [--quick] [--profile]

All in one process, offline (the scripted agent ``scripted/disciplined`` through litellm's custom-provider path,
no network, no API keys), on the mini fixture suite's task t3: list tables, read two schemas, two queries, the
calculator, the answer: 7 model calls (8 when the agent first fumbles a column name, in about 30 % of the epochs).

(a) CPU per model call (``time.process_time``, all threads) through the full evalkit path (``run_suite`` with the
    cache off, the DuckDB tools and the trace store), divided by the model events recorded, and for comparison,
    on the same conversation:
    - loop alone: the agent loop with the scripted agent's logic called directly and the tool results replayed
      (no litellm, no DuckDB);
    - loop + tools: the same with the real DuckDB tools, an environment per episode as the scheduler makes them
      (the "floor" the other rows are compared with);
    - bare litellm: a plain loop around ``litellm.acompletion`` (litellm's default settings, measured before
      evalkit configures litellm) replaying the episode's requests;
    - gateway: evalkit's ``ModelGateway.complete`` replaying the same requests.
    Timings on a shared machine vary by 10-20 % from run to run; compare rows of one run.
(b) wall time with a 50 ms simulated latency per model call and 50 samples in flight, against the ideal (every
    call exactly 50 ms and nothing else costing time, the samples assigned to the 50 workers in queue order).
(c) samples per second without latency (from the run of (a)).
(d) startup: ``evalkit --help`` wall time (median of 10 runs), the slowest command ``--help``, and whether
    litellm, pandas or duckdb were imported by loading the CLI and rendering every command's help.
(e) isolation: the median wall time of one small ``sql_query`` call in-process and through the sandbox worker
    process (``env.isolation``: checks here, execution there, the result back over a pipe), over a few thousand
    calls each; their difference is what the OS-enforced bounds cost per query (target well under 1 ms).

Prints a table, then one JSON line with every number.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before anything imports litellm: no network
os.environ.setdefault("LITELLM_TELEMETRY", "False")

import argparse
import asyncio
import copy
import heapq
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

SUITE = ROOT / "tests" / "fixtures" / "mini" / "suite"
TASK = "t3"
MODEL = "scripted/disciplined"
TARGET_CPU_MS = 1.0
TARGET_WALL_RATIO = 1.10
TARGET_HELP_S = 0.15
INSPECT_CPU_MS = 10.0  # Inspect AI on the same episode, as measured in the issue
FORBIDDEN = ("litellm", "pandas", "duckdb")


@dataclass
class Measure:
    calls: int
    cpu_s: float
    wall_s: float
    samples: int = 0

    @property
    def cpu_ms_per_call(self) -> float:
        return self.cpu_s / max(1, self.calls) * 1000


@contextmanager
def clock() -> Iterator[list[float]]:
    out: list[float] = []
    c0, w0 = time.process_time(), time.perf_counter()
    yield out
    out += [time.process_time() - c0, time.perf_counter() - w0]


# ------------------------------------------------------------------------------------------ the episode


class Fixture:
    """The suite, its built database and the episode's settings, as ``RunSession.execute`` prepares them."""

    def __init__(self) -> None:
        import jsonschema

        from evalkit.contracts.loader import load_suite
        from evalkit.env.database import build_database
        from evalkit.env.prompt import system_prompt
        from evalkit.env.tools import TOOL_SCHEMAS
        from evalkit.models import scripts
        from evalkit.runner.loop import EpisodeSettings

        self.suite = load_suite(SUITE)
        self.task = self.suite.task(TASK)
        self.database = build_database(self.suite.database)
        settings = self.suite.settings
        self.settings = EpisodeSettings(
            max_turns=settings.max_turns,
            system_prompt=system_prompt(settings.system_prompt),
            validators={name: jsonschema.Draft202012Validator(TOOL_SCHEMAS[name]) for name in settings.tools},
        )
        scripts.register_suite(self.suite)

    def env(self) -> Any:
        """An episode's environment, made as the runner makes it: a cursor of one shared connection."""
        from evalkit.env.tools import EnvironmentPool

        if not hasattr(self, "_pool"):
            self._pool = EnvironmentPool(self.database, self.suite.settings)
        return self._pool()

    def context(self, epoch: int) -> dict[str, Any]:
        return {"task_id": self.task.id, "suite_hash": self.suite.content_hash, "epoch": epoch}


class DirectModel:
    """The scripted agent's logic called directly: what the loop and the tools cost without any model client."""

    def __init__(self, fixture: Fixture, epoch: int, record: list[tuple[list[dict[str, Any]], Any]] | None) -> None:
        self.fixture, self.epoch, self.record = fixture, epoch, record

    def offered(self, tools: list[dict[str, Any]]) -> dict[str, Any]:
        return {"offered_tools": [t["function"]["name"] for t in tools], "tool_choice": "auto"}

    async def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Any:
        from evalkit.models import scripts
        from evalkit.models.types import ModelReply
        from evalkit.trace.types import ToolCall, Usage

        if self.record is not None:
            self.record.append((copy.deepcopy(messages), tools))
        results = [str(m.get("content") or "") for m in messages if m.get("role") == "tool"]
        action = scripts.next_action("disciplined", self.fixture.task, results, seed=0, epoch=self.epoch, params={})
        if isinstance(action, scripts.FinalAction):
            return ModelReply(action.text, (), Usage(10, 5), 0.0, 0.0, raw_message={"role": "assistant"})
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        call = ToolCall(f"call_{turn}_0", action.name, action.arguments)
        raw = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(action.arguments)},
                }
            ],
        }
        return ModelReply("", (call,), Usage(10, 5), 0.0, 0.0, raw_message=raw)


class RecordingEnv:
    """The real tools, keeping their outcomes (to replay without DuckDB)."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.specs: list[dict[str, Any]] = env.tool_specs()
        self.outcomes: list[Any] = []

    def tool_specs(self) -> list[dict[str, Any]]:
        return self.specs

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        outcome = self.env.call(name, arguments)
        self.outcomes.append(outcome)
        return outcome

    def close(self) -> None:
        self.env.close()


class CannedEnv:
    """The recorded tool outcomes of one episode, in order: the loop without the cost of the tools."""

    def __init__(self, recorded: RecordingEnv) -> None:
        self.specs, self.outcomes = recorded.specs, iter(recorded.outcomes)

    def tool_specs(self) -> list[dict[str, Any]]:
        return self.specs

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        return next(self.outcomes)

    def close(self) -> None:
        pass


async def _direct_episodes(
    fixture: Fixture,
    n: int,
    record: list[Any] | None = None,
    make_env: Callable[[], Any] | None = None,
    epoch: int | None = None,
) -> int:
    from evalkit.runner.loop import Episode

    calls = 0
    for i in range(n):
        env = make_env() if make_env else fixture.env()
        ep = i if epoch is None else epoch
        try:
            episode = Episode("bench", fixture.task, "direct", ep, fixture.settings)
            sample = await episode.run(env, DirectModel(fixture, ep, record))
        finally:
            env.close()
        calls += sum(1 for e in sample.events if e.kind == "model")
    return calls


def loop_and_tools(fixture: Fixture, n: int) -> Measure:
    asyncio.run(_direct_episodes(fixture, 3))
    with clock() as t:
        calls = asyncio.run(_direct_episodes(fixture, n))
    return Measure(calls, t[0], t[1], n)


def loop_alone(fixture: Fixture, recorded: RecordingEnv, n: int) -> Measure:
    def canned() -> CannedEnv:
        return CannedEnv(recorded)

    asyncio.run(_direct_episodes(fixture, 3, make_env=canned, epoch=0))
    with clock() as t:
        calls = asyncio.run(_direct_episodes(fixture, n, make_env=canned, epoch=0))
    return Measure(calls, t[0], t[1], n)


def recorded_episode(fixture: Fixture) -> tuple[list[tuple[list[dict[str, Any]], Any]], RecordingEnv]:
    """The model requests and tool outcomes of one episode (epoch 0), to replay."""
    record: list[tuple[list[dict[str, Any]], Any]] = []
    env = RecordingEnv(fixture.env())
    asyncio.run(_direct_episodes(fixture, 1, record, make_env=lambda: env, epoch=0))
    return record, env


# ---------------------------------------------------------------------------------------- model clients


def bare_litellm(fixture: Fixture, requests: list[Any], n: int) -> Measure:
    """A plain loop around ``litellm.acompletion`` with litellm's defaults; only the scripted provider is
    registered (so run this before anything configures litellm through evalkit's gateway)."""
    import litellm

    from evalkit.models.scripted import ScriptedProvider

    litellm.suppress_debug_info = True
    litellm.custom_provider_map = [{"provider": "scripted", "custom_handler": ScriptedProvider()}]
    litellm.utils.custom_llm_setup()
    metadata = {"evalkit": {**fixture.context(0), "seed": 0, "params": {}}}

    async def replay(times: int) -> int:
        calls = 0
        for _ in range(times):
            for messages, tools in requests:
                await litellm.acompletion(model=MODEL, messages=messages, tools=tools, metadata=metadata)
                calls += 1
        await asyncio.sleep(0.05)  # let litellm's background logging tasks of this loop run (and be counted)
        return calls

    asyncio.run(replay(3))
    with clock() as t:
        calls = asyncio.run(replay(n))
    return Measure(calls, t[0], t[1], n)


def gateway_only(fixture: Fixture, requests: list[Any], n: int) -> Measure:
    from evalkit.contracts.model_config import ModelConfig
    from evalkit.models.gateway import ModelGateway

    gateway = ModelGateway(ModelConfig(name="bench", model=MODEL))
    context = fixture.context(0)

    async def replay(times: int) -> int:
        calls = 0
        for _ in range(times):
            for messages, tools in requests:
                await gateway.complete(messages, tools, seed=0, context=context)
                calls += 1
        await asyncio.sleep(0.05)
        return calls

    asyncio.run(replay(3))
    with clock() as t:
        calls = asyncio.run(replay(n))
    return Measure(calls, t[0], t[1], n)


# ------------------------------------------------------------------------------------------ full path


def run_full(
    store_dir: Path, n: int, *, concurrency: int, latency_ms: float = 0.0, tag: str = "run"
) -> tuple[Measure, Any]:
    import evalkit
    from evalkit.contracts.model_config import ModelConfig

    extra = {"latency_ms": latency_ms} if latency_ms else {}
    model = ModelConfig(name="bench", model=MODEL, extra=extra)
    store = store_dir / f"{tag}.duckdb"
    with clock() as t:
        result = evalkit.run_suite(
            SUITE,
            [model],
            tasks=TASK,
            epochs=n,
            concurrency=concurrency,
            store=store,
            use_cache=False,
            keep_samples=True,
            name=tag,
        )
    calls = sum(1 for s in result.samples for e in s.events if e.kind == "model")
    bad = [s for s in result.samples if s.status != "ok" or not s.correct]
    if len(result.samples) != n or bad:
        raise SystemExit(f"benchmark run {tag} went wrong: {len(result.samples)} samples, {len(bad)} not ok/correct")
    return Measure(calls, t[0], t[1], n), result


def python_calls_per_model_call(store_dir: Path, n: int, concurrency: int) -> float:
    """Python-level function calls (including calls into C) per model call on the full path: a count that does
    not move with the machine's load, to compare two versions on a shared machine. Threads started during the
    run (litellm's executor) are counted; DuckDB's own threads run no Python and are not."""
    return calls_per_model_call(lambda: run_full(store_dir, n, concurrency=concurrency, tag="counted")[0])


def calls_per_model_call(run: Callable[[], Measure]) -> float:
    """Python-level function calls (including calls into C), in every thread, per model call of ``run``."""
    count = [0]

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(hook)
    threading.setprofile(hook)
    try:
        measure = run()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return count[0] / max(1, measure.calls)


def ideal_wall(result: Any, workers: int, latency_s: float) -> float:
    """The makespan if every model call took exactly ``latency_s`` and nothing else took any time: the samples,
    in the scheduler's queue order (by epoch), each go to the first worker free."""
    calls = {s.epoch: sum(1 for e in s.events if e.kind == "model") for s in result.samples}
    free = [0.0] * min(workers, len(calls))
    heapq.heapify(free)
    for epoch in sorted(calls):
        heapq.heappush(free, heapq.heappop(free) + calls[epoch] * latency_s)
    return max(free)


# ---------------------------------------------------------------------------------------------- startup

_HELP_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from typer.main import get_command
from typer.testing import CliRunner
from evalkit.cli.main import app
paths = []
def walk(cmd, prefix):
    paths.append(prefix)
    for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
        walk(sub, [*prefix, name])
walk(get_command(app), [])
runner = CliRunner()
failed = [p for p in paths if runner.invoke(app, [*p, "--help"]).exit_code != 0]
print(json.dumps({"commands": [" ".join(p) for p in paths], "failed": failed,
                  "imported": sorted(m for m in %r if m in sys.modules)}))
"""


# what the ``evalkit`` console script runs, on this checkout's code (PYTHONPATH below)
EVALKIT = [sys.executable, "-c", "import sys; from evalkit.cli.main import main; sys.exit(main())"]
CHECKOUT_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def time_command(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, check=False, cwd=ROOT, env=CHECKOUT_ENV)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return statistics.median(times)


def startup(runs: int) -> dict[str, Any]:
    probe = subprocess.run(
        [sys.executable, "-c", _HELP_PROBE % (FORBIDDEN,)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=CHECKOUT_ENV,
    )
    info = json.loads(probe.stdout.strip().splitlines()[-1])
    base = EVALKIT
    time_command([*base, "--help"], 2)  # warm the file cache
    root = time_command([*base, "--help"], runs)
    per_command = {c: time_command([*base, *c.split(), "--help"], max(3, runs // 3)) for c in info["commands"] if c}
    slowest = max(per_command.items(), key=lambda kv: kv[1]) if per_command else ("", 0.0)
    python = time_command([sys.executable, "-c", "pass"], runs)
    return {
        "help_s": root,
        "python_s": python,
        "slowest_help": slowest[0],
        "slowest_help_s": slowest[1],
        "commands": len(info["commands"]),
        "help_failed": info["failed"],
        "imported_by_help": info["imported"],
    }


# ------------------------------------------------------------------------------------------------ main


ISOLATION_QUERY = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"
TARGET_ISOLATION_US = 1000.0


def _worker_cpu_s() -> float:
    """CPU seconds used so far by the shared pool's idle sandbox workers (Linux ``/proc``; 0 elsewhere)."""
    from evalkit.env.isolation import shared_pool

    pool = shared_pool()
    total = 0.0
    for pid in pool.pids() if pool is not None else []:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def isolation_cost(fixture: Fixture, n: int) -> dict[str, float]:
    """Median wall µs per ``sql_query`` call, and CPU µs per call (this process plus the worker), in-process
    and through the worker, on the same query. On a loaded machine the wall figure also holds the time the
    two processes wait for a core to wake on; the CPU figure does not."""
    from evalkit.env.tools import FinanceEnvironment

    out: dict[str, float] = {}
    for name, isolated in (("in_process", False), ("worker", True)):
        env = FinanceEnvironment(fixture.database, fixture.suite.settings, isolated=isolated)
        try:
            for _ in range(50):  # warm: the worker's start, its connection, DuckDB's caches
                assert env.call("sql_query", {"query": ISOLATION_QUERY}).ok
            times = []
            cpu0, worker0 = time.process_time(), _worker_cpu_s()
            for _ in range(n):
                t0 = time.perf_counter()
                env.call("sql_query", {"query": ISOLATION_QUERY})
                times.append(time.perf_counter() - t0)
            cpu = time.process_time() - cpu0 + (_worker_cpu_s() - worker0 if isolated else 0.0)
        finally:
            env.close()
        out[f"{name}_us"] = statistics.median(times) * 1e6
        out[f"{name}_cpu_us"] = cpu / n * 1e6
    out["cost_us"] = out["worker_us"] - out["in_process_us"]
    out["cost_cpu_us"] = out["worker_cpu_us"] - out["in_process_cpu_us"]
    return out


def profile(fn: Callable[[], Any]) -> None:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.runcall(fn)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=300, help="samples for the CPU measurements")
    parser.add_argument("--latency-samples", type=int, default=200, help="samples for the latency run")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8, help="samples in flight for the CPU run")
    parser.add_argument("--help-runs", type=int, default=10)
    parser.add_argument("--isolation-calls", type=int, default=3000, help="sql_query calls per isolation path")
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a smoke test")
    parser.add_argument("--profile", action="store_true", help="cProfile the full path instead of measuring")
    args = parser.parse_args()
    if args.quick:
        args.samples, args.latency_samples, args.help_runs, args.isolation_calls = 30, 100, 3, 300

    tmp = Path(tempfile.mkdtemp(prefix="evalkit-bench-"))
    os.environ.setdefault("EVALKIT_CACHE_DIR", str(tmp / "cache"))  # the built database
    try:
        fixture = Fixture()
        if args.profile:
            run_full(tmp, 10, concurrency=args.concurrency, tag="warm")
            profile(lambda: run_full(tmp, args.samples, concurrency=args.concurrency, tag="profiled"))
            return
        requests, recorded = recorded_episode(fixture)
        alone = loop_alone(fixture, recorded, args.samples)
        floor = loop_and_tools(fixture, args.samples)
        bare = bare_litellm(fixture, requests, args.samples)  # first: litellm still has its defaults
        gateway = gateway_only(fixture, requests, args.samples)
        run_full(tmp, 10, concurrency=args.concurrency, tag="warm")
        full, _ = run_full(tmp, args.samples, concurrency=args.concurrency, tag="cpu")
        lat, lat_result = run_full(
            tmp, args.latency_samples, concurrency=args.in_flight, latency_ms=args.latency_ms, tag="latency"
        )
        ideal = ideal_wall(lat_result, args.in_flight, args.latency_ms / 1000)
        py_calls = python_calls_per_model_call(tmp, min(args.samples, 30), args.concurrency)
        start = startup(args.help_runs)
        isolation = isolation_cost(fixture, args.isolation_calls)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    report(args, alone, floor, bare, gateway, full, lat, ideal, py_calls, start, len(requests), isolation)


def report(
    args: argparse.Namespace,
    alone: Measure,
    floor: Measure,
    bare: Measure,
    gateway: Measure,
    full: Measure,
    lat: Measure,
    ideal: float,
    py_calls: float,
    start: dict[str, Any],
    episode_calls: int,
    isolation: dict[str, float],
) -> None:
    def ok(good: bool) -> str:
        return "ok" if good else "OVER"

    rows = [
        ("loop alone (canned tool results)", alone.cpu_ms_per_call, ""),
        ("loop + DuckDB tools, no litellm", floor.cpu_ms_per_call, ""),
        ("bare litellm.acompletion loop", bare.cpu_ms_per_call, ""),
        ("evalkit gateway (litellm inside)", gateway.cpu_ms_per_call, ""),
        ("evalkit full path (run_suite)", full.cpu_ms_per_call, ok(full.cpu_ms_per_call <= TARGET_CPU_MS)),
    ]
    print(f"episode: task {TASK} of {SUITE.relative_to(ROOT)}, {MODEL}, {episode_calls} model calls at epoch 0")
    print(f"\nCPU per model call ({args.samples} samples; target <= {TARGET_CPU_MS:g} ms, Inspect AI ~10 ms)")
    print(f"  {'path':36} {'ms/call':>8} {'x floor':>8} {'Inspect/x':>9}")
    for name, ms, verdict in rows:
        print(f"  {name:36} {ms:8.3f} {ms / floor.cpu_ms_per_call:8.1f} {INSPECT_CPU_MS / ms:9.1f}  {verdict}")
    print(f"  Python calls per model call on the full path (independent of the machine's load): {py_calls:.0f}")
    ratio = lat.wall_s / ideal
    print(
        f"\nwall with {args.latency_ms:g} ms latency, {args.in_flight} in flight, {lat.samples} samples: "
        f"{lat.wall_s:.3f} s vs ideal {ideal:.3f} s = {ratio:.3f}x  (target <= {TARGET_WALL_RATIO:.2f}x) "
        f"{ok(ratio <= TARGET_WALL_RATIO)}"
    )
    sps = full.samples / full.wall_s
    calls_per_s = full.calls / full.wall_s
    print(f"samples/s without latency (concurrency {args.concurrency}): {sps:.1f}  ({calls_per_s:.0f} calls/s)")
    cost = isolation["cost_us"]
    print(
        f"isolation per sql_query call ({args.isolation_calls} calls each): wall median in-process "
        f"{isolation['in_process_us']:.0f} µs, through the worker {isolation['worker_us']:.0f} µs, cost {cost:.0f} µs "
        f"(target < {TARGET_ISOLATION_US:g} µs) {ok(cost < TARGET_ISOLATION_US)}; CPU (both processes) "
        f"{isolation['in_process_cpu_us']:.0f} vs {isolation['worker_cpu_us']:.0f} µs, "
        f"cost {isolation['cost_cpu_us']:.0f} µs"
    )
    imported = start["imported_by_help"]
    print(
        f"startup: evalkit --help {start['help_s']:.3f} s (target < {TARGET_HELP_S:g} s; python alone "
        f"{start['python_s']:.3f} s) {ok(start['help_s'] < TARGET_HELP_S)}; slowest command help: "
        f"'{start['slowest_help']} --help' {start['slowest_help_s']:.3f} s; imported by help of "
        f"{start['commands']} commands: {', '.join(imported) or 'none of ' + '/'.join(FORBIDDEN)} "
        f"{ok(not imported and not start['help_failed'])}"
    )
    print(
        json.dumps(
            {
                "cpu_ms_per_call": {
                    "loop_alone": round(alone.cpu_ms_per_call, 4),
                    "loop_tools": round(floor.cpu_ms_per_call, 4),
                    "bare_litellm": round(bare.cpu_ms_per_call, 4),
                    "gateway": round(gateway.cpu_ms_per_call, 4),
                    "evalkit": round(full.cpu_ms_per_call, 4),
                },
                "python_calls_per_model_call": round(py_calls),
                "model_calls": full.calls,
                "samples": full.samples,
                "samples_per_s": round(sps, 2),
                "latency": {
                    "ms": args.latency_ms,
                    "in_flight": args.in_flight,
                    "samples": lat.samples,
                    "wall_s": round(lat.wall_s, 4),
                    "ideal_s": round(ideal, 4),
                    "ratio": round(ratio, 4),
                },
                "startup": {k: round(v, 4) if isinstance(v, float) else v for k, v in start.items()},
                "isolation_us": {k: round(v, 1) for k, v in isolation.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
