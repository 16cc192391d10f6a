"""A model that cannot work fails the command before the run exists: an unknown provider, missing credentials,
or a preflight request that fails end in one clear message and exit 2, with no run record left behind and no
sample's request sent. A server on this machine or a private network needs no key."""

from __future__ import annotations

from pathlib import Path

import pytest

import evalkit
from evalkit.models.preflight import PREFLIGHT_HEADER, local_api_base
from tests.cli_runner import CliResult, run_cli
from tests.fakeserver import closed_port, serve

ANSWER = {"content": "FINAL ANSWER: 1350 USD millions"}
NO_KEYS = {"OPENAI_API_KEY": None, "ANTHROPIC_API_KEY": None}


def _runs(store: Path) -> list[str]:
    return [r.run_id for r in evalkit.list_runs(store)] if store.exists() else []


def _run(suite: Path, store: Path, *args: str) -> CliResult:
    return run_cli("run", suite, "--tasks", "t1", "--store", store, "--no-progress", "--no-report", *args, env=NO_KEYS)


@pytest.mark.parametrize(
    ("model", "says"),
    [
        ("openai/gpt-4.1-mini", "missing credentials: OPENAI_API_KEY is not set"),
        ("anthropic/claude-3-5-haiku-latest", "missing credentials: ANTHROPIC_API_KEY is not set"),
        ("notaprovider/foo-bar", "litellm knows no provider 'notaprovider'"),
    ],
)
def test_a_model_that_cannot_work_fails_before_the_run_exists(
    mini_suite: Path, store: Path, model: str, says: str
) -> None:
    out = _run(mini_suite, store, "-m", "scripted/disciplined", "-m", model)
    assert out.exit_code == 2, out.stdout
    assert f"model {model!r}: {says}" in out.stderr and "nothing was run" in out.stderr
    assert "Traceback" not in out.stderr
    assert _runs(store) == []


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(401, "auth_failed"), (403, "auth_failed"), (404, "request_rejected"), (503, "server_error")],
)
def test_a_refused_preflight_is_one_line_and_exit_2(
    mini_suite: Path, store: Path, status: int, error_class: str
) -> None:
    fault = {"status": status, "body": {"error": {"message": f"refused with {status}", "type": "x"}}}
    with serve([ANSWER], repeat_last=True, preflight_fault=fault) as (base, server):
        out = _run(mini_suite, store, "-m", "openai/local", "--api-base", base)
    assert out.exit_code == 2
    (line,) = [x for x in out.stderr.splitlines() if x.startswith("  model ")]  # one line for the one model
    assert line.startswith("  model 'openai/local': the preflight request at")
    assert f"failed ({error_class})" in line and f"refused with {status}" in line
    assert len(server.preflights) == 1 and server.requests == [] and _runs(store) == []


def test_an_unreachable_server_fails_the_preflight(mini_suite: Path, store: Path) -> None:
    base = closed_port()
    out = _run(mini_suite, store, "-m", "openai/local", "--api-base", base)
    assert out.exit_code == 2 and f"the preflight request at {base} failed (connection)" in out.stderr
    assert _runs(store) == []


def test_a_failing_preflight_request_stops_the_command_and_no_preflight_skips_it(mini_suite: Path, store: Path) -> None:
    fault = {"status": 500, "body": {"error": {"message": "model not loaded", "type": "server_error"}}}
    with serve([ANSWER], repeat_last=True, preflight_fault=fault) as (base, server):
        out = _run(mini_suite, store, "-m", "openai/local", "--api-base", base)
        assert out.exit_code == 2
        assert f"the preflight request at {base} failed" in out.stderr
        assert "model not loaded" in out.stderr and "--no-preflight" in out.stderr
        assert len(server.preflights) == 1 and server.requests == []  # one request, no sample's
        assert _runs(store) == []

        skipped = _run(mini_suite, store, "-m", "openai/local", "--api-base", base, "--no-preflight")
        assert skipped.exit_code == 0, skipped.stderr
        assert len(server.preflights) == 1 and len(server.requests) == 1
    assert len(_runs(store)) == 1


def test_a_local_server_needs_no_key_and_gets_one_preflight_request(
    mini_suite: Path, store: Path, tmp_path: Path, client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve([ANSWER], repeat_last=True) as (base, server):
        config = tmp_path / "evalkit.yaml"
        config.write_text(f"models:\n  local:\n    model: openai/local\n    api_base: {base}\n    client: {client}\n")
        monkeypatch.setenv("EVALKIT_CONFIG", str(config))
        out = _run(mini_suite, store, "-m", "local")
    assert out.exit_code == 0, out.stderr
    assert len(server.preflights) == 1 and len(server.requests) == 1  # reached without OPENAI_API_KEY
    if client == "litellm":  # the placeholder litellm's OpenAI client insists on
        assert all(h["authorization"] == "Bearer no-key-needed" for h in server.headers)
    else:  # the direct client sends no key where none is needed
        assert all("authorization" not in h for h in server.headers)
    assert server.preflights[0]["max_tokens"] == 16 and "tools" not in server.preflights[0]


def test_a_judge_without_its_key_fails_before_the_run(mini_suite: Path, store: Path, tmp_path: Path) -> None:
    rubric = _judged_rubric(tmp_path)
    out = run_cli(
        "run", mini_suite, "-m", "scripted/disciplined", "--tasks", "t1", "--rubric", rubric, "--judge",
        "openai/gpt-4.1-mini", "--store", store, "--no-progress", "--no-report", env=NO_KEYS,
    )  # fmt: skip
    assert out.exit_code == 2 and "the judge cannot be used" in out.stderr
    assert "model 'openai/gpt-4.1-mini': missing credentials: OPENAI_API_KEY is not set" in out.stderr
    assert _runs(store) == []


def _judged_rubric(tmp_path: Path) -> Path:
    rubric = tmp_path / "judged.yaml"
    rubric.write_text(
        "name: judged\nversion: '1'\ncriteria:\n"
        "  - id: clear\n    category: correctness\n    description: Clear answer.\n"
        "    judge: {prompt: 'Is the answer {{ final_answer }} clear?'}\n",
        encoding="utf-8",
    )
    return rubric


def test_the_judge_is_preflighted_before_the_run(mini_suite: Path, store: Path, tmp_path: Path) -> None:
    rubric = _judged_rubric(tmp_path)
    fault = {"status": 404, "body": {"error": {"message": "no such model", "type": "invalid_request_error"}}}
    with serve([], preflight_fault=fault) as (base, server):
        (tmp_path / "evalkit.yaml").write_text(f"models:\n  grader:\n    model: openai/g\n    api_base: {base}\n")
        out = run_cli(
            "run", mini_suite, "-m", "scripted/disciplined", "--tasks", "t1", "--rubric", rubric, "--judge",
            "grader", "--store", store, "--no-progress", "--no-report", cwd=tmp_path, env=NO_KEYS,
        )  # fmt: skip
    assert out.exit_code == 2, out.stdout
    assert "the judge cannot be used" in out.stderr and "model 'grader' (openai/g)" in out.stderr
    assert len(server.preflights) == 1 and _runs(store) == []


@pytest.mark.parametrize(
    ("base", "local"),
    [
        ("http://127.0.0.1:8000/v1", True),
        ("http://localhost:8080/v1", True),
        ("http://[::1]:8000/v1", True),
        ("http://10.1.2.3:8000/v1", True),
        ("http://192.168.1.20/v1", True),
        ("http://vllm:8000/v1", True),  # a compose or cluster service name
        ("https://api.example.com/v1", False),  # a reserved name: nothing is contacted
        ("http://100.64.0.1/v1", False),  # shared address space: neither private nor loopback
        ("https://my-vllm.example.com/v1", False),
        (None, False),
    ],
)
def test_which_servers_count_as_local(base: str | None, local: bool) -> None:
    assert local_api_base(base) is local


def test_the_header_name_is_what_the_test_server_looks_for() -> None:
    assert PREFLIGHT_HEADER.lower() == "x-evalkit-preflight"
