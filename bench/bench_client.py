"""What evalkit costs per model call against a fast OpenAI-compatible server, over the direct client and over
litellm, beside a plain aiohttp loop with the same tools (a benchmark, not a test).

    python bench/bench_client.py [--samples 200] [--latency-samples 200] [--quick]

A loopback server in its own process (so its CPU is not counted) replays the scripted agent's replies of the
mini suite's task t3 (list tables, read two schemas, two queries, the calculator, the answer: 7 model calls),
chosen by how many assistant turns the request holds, optionally after a fixed delay. On it, in one run:

- plain aiohttp loop: POST, ``json``, the tool calls run on the same DuckDB tools (an environment per episode,
  as the scheduler makes them), the messages appended; nothing recorded. The floor.
- evalkit, direct client: ``run_suite`` (loop, tools, trace store, scoring) with ``client: direct``.
- evalkit, litellm: the same with ``client: litellm``.

CPU per model call is ``time.process_time`` (all threads of this process) over the model events recorded;
Python calls per model call are counted with ``sys.setprofile`` on the direct path (a figure that does not
move with the machine's load). Then the wall time of the direct path with ``--latency-ms`` per reply and
``--in-flight`` samples at once, against the ideal (every call exactly the latency, nothing else costing time),
and the same over ``--replicas`` servers with ``--replica-in-flight`` samples at once.

Targets (issue 13): direct <= 2.5x the plain loop, litellm >= 8x the direct path, <= 1,500 Python calls per
model call, wall <= 1.10x ideal; over 4 replicas with 256 in flight, efficiency (ideal over wall) >= 0.9.
Prints a table, then one JSON line with every number.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before anything imports litellm: no network
os.environ.setdefault("LITELLM_TELEMETRY", "False")

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import (  # noqa: E402
    SUITE,
    TASK,
    Fixture,
    Measure,
    calls_per_model_call,
    clock,
    ideal_wall,
    recorded_episode,
)

TARGET_DIRECT_X_FLOOR = 2.5
TARGET_LITELLM_X_DIRECT = 8.0
TARGET_PY_CALLS = 1500
TARGET_WALL_RATIO = 1.10
TARGET_REPLICA_EFFICIENCY = 0.9

SERVER = r"""
import asyncio, json, sys
from aiohttp import web

replies = json.loads(sys.stdin.readline())
latency = float(sys.argv[2])

async def chat(request):
    body = await request.json()
    turn = sum(1 for m in body["messages"] if m.get("role") == "assistant")
    if latency:
        await asyncio.sleep(latency)
    return web.json_response(replies[min(turn, len(replies) - 1)])

app = web.Application()
app.router.add_post("/v1/chat/completions", chat)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def completions(fixture: Fixture) -> list[dict[str, Any]]:
    """The scripted agent's replies of one episode (epoch 0) as OpenAI chat completions, in turn order."""
    from evalkit.models import scripts

    requests, _ = recorded_episode(fixture)
    out = []
    for turn, (messages, _tools) in enumerate(requests):
        results = [str(m.get("content") or "") for m in messages if m.get("role") == "tool"]
        action = scripts.next_action("disciplined", fixture.task, results, seed=0, epoch=0, params={})
        if isinstance(action, scripts.FinalAction):
            message: dict[str, Any] = {"role": "assistant", "content": action.text}
            finish = "stop"
        else:
            call = {
                "id": f"call_{turn}",
                "type": "function",
                "function": {"name": action.name, "arguments": json.dumps(action.arguments)},
            }
            message, finish = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        out.append(
            {
                "id": f"cmpl-{turn}",
                "object": "chat.completion",
                "created": 0,
                "model": "scripted-disciplined",
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 700 + 60 * turn, "completion_tokens": 40, "total_tokens": 740 + 60 * turn},
            }
        )
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def replay_server(replies: list[dict[str, Any]], latency_s: float = 0.0) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(latency_s)], stdin=subprocess.PIPE, text=True)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(replies) + "\n")
    proc.stdin.flush()
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                body = json.dumps({"messages": []}).encode()
                req = urllib.request.Request(base + "/chat/completions", data=body, method="POST")
                urllib.request.urlopen(req, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the replay server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ------------------------------------------------------------------------------------------------ paths


async def _plain_episodes(fixture: Fixture, base: str, samples: int, in_flight: int) -> int:
    """A plain asyncio loop over aiohttp with the same tools: the floor."""
    import aiohttp

    from evalkit.env.tools import TOOL_SCHEMAS  # noqa: F401  (the tools' schemas are loaded as evalkit loads them)

    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(samples):
        queue.put_nowait(i)
    calls = 0

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def worker() -> None:
            nonlocal calls
            while not queue.empty():
                queue.get_nowait()
                env = fixture.env()
                tools = env.tool_specs()
                messages: list[dict[str, Any]] = [
                    {"role": "system", "content": fixture.settings.system_prompt},
                    {"role": "user", "content": fixture.task.question},
                ]
                try:
                    for _ in range(fixture.settings.max_turns):
                        body = {"model": "scripted-disciplined", "messages": messages, "tools": tools}
                        async with session.post(base + "/chat/completions", data=json.dumps(body)) as r:
                            reply = json.loads(await r.read())
                        calls += 1
                        message = reply["choices"][0]["message"]
                        messages.append(message)
                        if not message.get("tool_calls"):
                            break
                        for tc in message["tool_calls"]:
                            fn = tc["function"]
                            outcome = env.call(fn["name"], json.loads(fn["arguments"]))
                            messages.append({"role": "tool", "tool_call_id": tc["id"], "content": outcome.content})
                finally:
                    env.close()

        await asyncio.gather(*(worker() for _ in range(in_flight)))
    return calls


def plain_loop(fixture: Fixture, base: str, samples: int, in_flight: int) -> Measure:
    asyncio.run(_plain_episodes(fixture, base, 5, in_flight))
    with clock() as t:
        calls = asyncio.run(_plain_episodes(fixture, base, samples, in_flight))
    return Measure(calls, t[0], t[1], samples)


def evalkit_path(
    store_dir: Path, base: str, client: str, samples: int, in_flight: int, tag: str, replicas: tuple[str, ...] = ()
) -> tuple[Measure, Any]:
    """``in_flight`` samples at each endpoint (``base`` and its ``replicas``)."""
    import evalkit
    from evalkit.contracts.model_config import ModelConfig

    model = ModelConfig(
        name=f"served-{client}",
        model="openai/scripted-disciplined",
        api_base=base,
        replicas=replicas,
        client=client,  # type: ignore[arg-type]
    )
    with clock() as t:
        result = evalkit.run_suite(
            SUITE, [model], tasks=TASK, epochs=samples, concurrency=in_flight, store=store_dir / f"{tag}.duckdb",
            use_cache=False, keep_samples=True, name=tag, preflight=False,
        )  # fmt: skip
    calls = sum(1 for s in result.samples for e in s.events if e.kind == "model")
    bad = [s for s in result.samples if s.status != "ok" or not s.correct]
    if len(result.samples) != samples or bad:
        raise SystemExit(f"{tag}: {len(result.samples)} samples, {len(bad)} not ok/correct: {bad[:1]}")
    return Measure(calls, t[0], t[1], samples), result


def python_calls(store_dir: Path, base: str, samples: int, in_flight: int) -> float:
    return calls_per_model_call(lambda: evalkit_path(store_dir, base, "direct", samples, in_flight, "counted")[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=200, help="samples per CPU measurement")
    parser.add_argument("--concurrency", type=int, default=8, help="samples in flight for the CPU runs")
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--replica-in-flight", type=int, default=256, help="samples in flight over all replicas")
    parser.add_argument("--replica-samples", type=int, default=768)
    parser.add_argument("--quick", action="store_true", help="fewer samples, for a smoke test")
    args = parser.parse_args()
    if args.quick:
        args.samples, args.latency_samples, args.replica_samples = 20, 60, 256

    tmp = Path(tempfile.mkdtemp(prefix="evalkit-bench-client-"))
    os.environ.setdefault("EVALKIT_CACHE_DIR", str(tmp / "cache"))
    try:
        fixture = Fixture()
        replies = completions(fixture)
        with replay_server(replies) as base:
            floor = plain_loop(fixture, base, args.samples, args.concurrency)
            evalkit_path(tmp, base, "direct", 5, args.concurrency, "warm-direct")
            direct, _ = evalkit_path(tmp, base, "direct", args.samples, args.concurrency, "direct")
            evalkit_path(tmp, base, "litellm", 5, args.concurrency, "warm-litellm")
            over_litellm, _ = evalkit_path(tmp, base, "litellm", args.samples, args.concurrency, "litellm")
            py_calls = python_calls(tmp, base, min(args.samples, 30), args.concurrency)
        with replay_server(replies, args.latency_ms / 1000) as base:
            lat, lat_result = evalkit_path(tmp, base, "direct", args.latency_samples, args.in_flight, "latency")
        ideal = ideal_wall(lat_result, args.in_flight, args.latency_ms / 1000)
        with ExitStack() as servers:
            bases = [
                servers.enter_context(replay_server(replies, args.latency_ms / 1000)) for _ in range(args.replicas)
            ]
            per_endpoint = args.replica_in_flight // args.replicas
            rep, rep_result = evalkit_path(
                tmp, bases[0], "direct", args.replica_samples, per_endpoint, "replicas", tuple(bases[1:])
            )
        rep_ideal = ideal_wall(rep_result, per_endpoint * args.replicas, args.latency_ms / 1000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, len(replies), floor, direct, over_litellm, py_calls, lat, ideal, rep, rep_ideal)


def report(
    args: argparse.Namespace,
    episode_calls: int,
    floor: Measure,
    direct: Measure,
    over_litellm: Measure,
    py_calls: float,
    lat: Measure,
    ideal: float,
    rep: Measure,
    rep_ideal: float,
) -> None:
    def ok(good: bool) -> str:
        return "ok" if good else "OVER"

    f, d, m = floor.cpu_ms_per_call, direct.cpu_ms_per_call, over_litellm.cpu_ms_per_call
    print(f"episode: task {TASK} of {SUITE.relative_to(ROOT)}, {episode_calls} model calls, loopback HTTP server")
    print(f"\nCPU per model call ({args.samples} samples, {args.concurrency} in flight)")
    print(f"  {'path':40} {'ms/call':>8} {'x plain':>8}")
    print(f"  {'plain aiohttp loop + DuckDB tools':40} {f:8.3f} {1.0:8.2f}")
    verdict = ok(d / f <= TARGET_DIRECT_X_FLOOR)
    target = f"(target <= {TARGET_DIRECT_X_FLOOR}x)"
    print(f"  {'evalkit full path, direct client':40} {d:8.3f} {d / f:8.2f}  {target} {verdict}")
    verdict = ok(m / d >= TARGET_LITELLM_X_DIRECT)
    print(f"  {'evalkit full path, litellm':40} {m:8.3f} {m / f:8.2f}  = {m / d:.1f}x the direct path "
          f"(target >= {TARGET_LITELLM_X_DIRECT:g}x) {verdict}")  # fmt: skip
    print(f"  Python calls per model call, direct path: {py_calls:.0f} (target <= {TARGET_PY_CALLS}) "
          f"{ok(py_calls <= TARGET_PY_CALLS)}")  # fmt: skip
    ratio = lat.wall_s / ideal
    print(
        f"\nwall, direct client, {args.latency_ms:g} ms per reply, {args.in_flight} in flight, {lat.samples} samples: "
        f"{lat.wall_s:.3f} s vs ideal {ideal:.3f} s = {ratio:.3f}x (target <= {TARGET_WALL_RATIO:.2f}x) "
        f"{ok(ratio <= TARGET_WALL_RATIO)}"
    )
    efficiency = rep_ideal / rep.wall_s
    print(
        f"replicas: {args.replicas} loopback servers, {args.replica_in_flight} in flight, {rep.samples} samples: "
        f"{rep.wall_s:.3f} s vs ideal {rep_ideal:.3f} s = efficiency {efficiency:.3f} "
        f"(target >= {TARGET_REPLICA_EFFICIENCY}) {ok(efficiency >= TARGET_REPLICA_EFFICIENCY)}"
    )
    figures = {
        "cpu_ms_per_call": {"plain_aiohttp": round(f, 4), "direct": round(d, 4), "litellm": round(m, 4)},
        "direct_x_plain": round(d / f, 3),
        "litellm_x_direct": round(m / d, 3),
        "python_calls_per_model_call": round(py_calls),
        "samples_per_s": {
            "direct": round(direct.samples / direct.wall_s, 2),
            "litellm": round(over_litellm.samples / over_litellm.wall_s, 2),
        },
        "latency": {
            "ms": args.latency_ms,
            "in_flight": args.in_flight,
            "samples": lat.samples,
            "wall_s": round(lat.wall_s, 4),
            "ideal_s": round(ideal, 4),
            "ratio": round(ratio, 4),
        },
        "replicas": {
            "endpoints": args.replicas,
            "in_flight": args.replica_in_flight,
            "samples": rep.samples,
            "wall_s": round(rep.wall_s, 4),
            "ideal_s": round(rep_ideal, 4),
            "efficiency": round(efficiency, 4),
        },
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
