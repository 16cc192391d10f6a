"""A key must appear nowhere evalkit writes or prints: a sentinel key is set in a model's ``api_key_env``
variable and in its ``api_base`` userinfo, the server quotes it back in an error, and every byte of the store,
an export, the response cache, the reports, the logs (``-v``) and the CLI output is searched for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.models.gateway import ModelGateway
from evalkit.redact import redact
from tests.cli_runner import CliResult, run_cli
from tests.fakeserver import serve

SENTINEL = "sk-SENTINEL-1234567890abcdef"
KEY = "SENTINEL_PROVIDER_KEY"


def test_the_key_is_nowhere_in_store_export_cache_reports_logs_or_output(
    tmp_path: Path, mini_suite: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ModelGateway, "_backoff", lambda self, attempt, retry_after: 0.0)
    store = tmp_path / "store.duckdb"
    echo = {"status": 500, "echo_auth": True}  # "invalid credentials: Bearer sk-SENTINEL-..."
    outputs: list[CliResult] = []

    def cli(*args: str | Path) -> CliResult:
        result = run_cli("-v", *args, cwd=tmp_path, env={KEY: SENTINEL, "EVALKIT_REPORTS_DIR": str(tmp_path / "rep")})
        outputs.append(result)
        return result

    with serve([echo] * 5 + [{"content": "FINAL ANSWER: 1350 USD millions"}], repeat_last=True) as (base, server):
        leaky_base = base.replace("http://", f"http://user:{SENTINEL}@")
        models = {
            "echo": {"model": "openai/fake-model", "api_base": base, "api_key_env": KEY},
            "leaky": {"model": "openai/fake-model", "api_base": leaky_base, "api_key_env": KEY},
        }
        (tmp_path / "evalkit.yaml").write_text(json.dumps({"models": models}), encoding="utf-8")
        quoted = cli("run", mini_suite, "-m", "echo", "--store", store, "--no-progress", "-c", "1")
        preflight = cli("run", mini_suite, "-m", "leaky", "--store", store, "--no-progress", "-c", "1")
        in_url = cli("run", mini_suite, "-m", "leaky", "--store", store, "--no-progress", "-c", "1", "--no-preflight")
        resumed = cli("run", "--resume", "latest", "--store", store, "--no-progress")
    assert any(SENTINEL in h.get("authorization", "") for h in server.headers), [o.stderr for o in outputs]
    assert quoted.exit_code == 2 and "1 of 4 samples hit infrastructure errors" in quoted.stderr
    assert preflight.exit_code == 2 and "the preflight request at http://[redacted]@" in preflight.stderr
    assert in_url.exit_code == 2 and "authentication failed" in in_url.stderr
    assert resumed.exit_code == 2
    for ref in ("latest", quoted_run(store)):
        assert cli("show", ref, "--store", store).exit_code == 0
        assert (
            cli(
                "report", ref, "--store", store, "-f", "md", "-f", "html", "-f", "json", "-o", tmp_path / "out"
            ).exit_code
            == 0
        )
    assert cli("export", "latest", "-o", tmp_path / "run.jsonl", "--store", store).exit_code == 0
    assert cli("export", quoted_run(store), "-o", tmp_path / "quoted.jsonl.gz", "--store", store).exit_code == 0
    assert cli("runs", "--store", store).exit_code == 0

    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "evalkit.yaml"]
    assert store in files and store.with_suffix(".cache.sqlite") in files
    assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".json" for p in files)
    leaks = [str(p) for p in files if SENTINEL.encode() in _bytes(p)]
    leaks += [f"output of call {i}" for i, r in enumerate(outputs) if SENTINEL in r.stdout + r.stderr]
    stored = _store_text(store)  # DuckDB may compress strings: read its tables back, too
    leaks += ["store tables"] if SENTINEL in stored else []
    assert not leaks
    # ...and the trace says what failed, without it
    assert "invalid credentials: Bearer [redacted]" in stored
    assert "http://[redacted]@127.0.0.1" in stored


def _store_text(store: Path) -> str:
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(str(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)


def quoted_run(store: Path) -> str:
    import evalkit

    return next(r.run_id for r in evalkit.list_runs(store) if r.models == ("echo",))


def _bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz":
        import gzip

        data += gzip.decompress(data)
    return data


def test_redact_removes_each_shape_of_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", "plainvalue-123456")
    text = (
        f"GET http://user:{SENTINEL}@host/v1 failed; Authorization: Bearer abc.def.ghi; "
        '{"api-key": "zzzzzzzzzz"} token sk-abcdefghijklmnop and plainvalue-123456'
    )
    cleaned = redact(text)
    for secret in (SENTINEL, "abc.def.ghi", "zzzzzzzzzz", "sk-abcdefghijklmnop", "plainvalue-123456"):
        assert secret not in cleaned
    assert "http://[redacted]@host/v1" in cleaned and "failed" in cleaned
    assert redact("http://127.0.0.1:8000/v1 is fine") == "http://127.0.0.1:8000/v1 is fine"
