"""Provider faults through the real CLI against ``tests.fakeserver``, over both clients (litellm's and the
direct one, the ``client`` fixture): every fault is a recorded, classified
error of its sample (never a crash of the run), the run exits 2 and says how many samples were lost, and
``evalkit run --resume`` runs again exactly the samples that did not finish (counted at the server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.models.gateway import ModelGateway
from evalkit.trace.types import Sample
from tests.cli_runner import CliResult, run_cli
from tests.fakeserver import closed_port, serve

ANSWER: dict[str, Any] = {"content": "FINAL ANSWER: 1350 USD millions"}
KEY = "FAULT_KEY"
COMPLETION = {"id": "x", "object": "chat.completion", "created": 1, "model": "fake"}


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries still happen (and are counted at the server), without the seconds of backoff between them."""
    monkeypatch.setattr(ModelGateway, "_backoff", lambda self, attempt, retry_after: 0.0)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def _config(project: Path, base: str, **fields: Any) -> None:
    model = {"model": "openai/fake-model", "api_base": base, "api_key_env": KEY, **fields}
    (project / "evalkit.yaml").write_text(json.dumps({"models": {"fake": model}}), encoding="utf-8")


def _run(project: Path, mini_suite: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_cli(
        "run",
        mini_suite,
        "-m",
        "fake",
        "--store",
        project / "store.duckdb",
        "--no-progress",
        "--no-report",
        "-c",
        "1",
        *args,
        cwd=project,
        env={KEY: "not-a-secret-value", **(env or {})},
    )


def _resume(project: Path, run_id: str) -> CliResult:
    return run_cli(
        "run", "--resume", run_id, "--store", project / "store.duckdb", "--no-progress", "--no-report",
        cwd=project, env={KEY: "not-a-secret-value"},
    )  # fmt: skip


def _samples(project: Path) -> dict[str, Sample]:
    run = evalkit.list_runs(project / "store.duckdb")[0]
    return {s.task_id + f"#{s.epoch}": s for s in evalkit.get_samples(project / "store.duckdb", run.run_id)[1]}


def _run_id(project: Path) -> str:
    return evalkit.list_runs(project / "store.duckdb")[0].run_id


def _completion(**choice_fields: Any) -> dict[str, Any]:
    return {**COMPLETION, "choices": [{"index": 0, "finish_reason": "stop", **choice_fields}]}


def _call(arguments: Any) -> dict[str, Any]:
    return {"id": "c1", "type": "function", "function": {"name": "sql_query", "arguments": arguments}}


MALFORMED: dict[str, dict[str, Any]] = {
    "empty choices": {"reply": {**COMPLETION, "choices": []}},
    "missing message": {"reply": _completion()},
    "arguments a JSON list": {"reply": _completion(message={"role": "assistant", "tool_calls": [_call([1, 2])]})},
    "arguments a number": {"reply": _completion(message={"role": "assistant", "tool_calls": [_call(5)]})},
    "not JSON": {"raw": "<html>502 upstream</html>"},
    "10 MB reply": {"content": "x" * 10_485_760},
}


@pytest.mark.parametrize("fault", list(MALFORMED))
def test_a_malformed_reply_is_an_error_of_its_sample_and_resume_reruns_only_it(
    fault: str, project: Path, mini_suite: Path, client: str
) -> None:
    item = MALFORMED[fault]
    with serve([item, item, ANSWER], repeat_last=True) as (base, server):  # tried once more, then good replies
        _config(project, base, client=client)
        first = _run(project, mini_suite)
        samples = _samples(project)
        assert len(server.requests) == 2 + 3
        before = len(server.requests)
        again = _resume(project, _run_id(project))
        assert len(server.requests) - before == 1  # only the failed sample ran again
    assert first.exit_code == 2, first.stderr
    assert "1 of 4 samples hit infrastructure errors" in first.stderr
    assert f"evalkit run --resume {_run_id(project)}" in " ".join(first.stderr.split())
    assert "internal error" not in first.stderr
    (failed,) = [s for s in samples.values() if s.status != "ok"]
    assert failed.task_id == "t1" and failed.status == "infra_error" and failed.correct is None
    assert failed.metadata["error_class"] == "malformed_reply"
    assert (failed.error or "").startswith("malformed reply: ")
    assert len(failed.metadata["retries"]) == 1  # one retry, not max_attempts
    assert again.exit_code == 0, again.stderr
    assert all(s.status == "ok" for s in _samples(project).values())


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_stops_the_run_at_once_naming_model_and_status(
    status: int, project: Path, mini_suite: Path, client: str
) -> None:
    refused = {"status": status, "body": {"error": {"message": "invalid api key", "type": "auth"}}}
    with serve([refused, ANSWER], repeat_last=True) as (base, server):
        _config(project, base, client=client)
        first = _run(project, mini_suite)
        assert len(server.requests) == 1  # not retried, and no other sample started
        samples = _samples(project)
        again = _resume(project, _run_id(project))
        assert len(server.requests) == 1 + 4  # the refused sample and the three never started
    assert first.exit_code == 2
    message = " ".join(first.stderr.split())
    assert "model fake: authentication failed" in message and f"HTTP {status}" in message
    assert f"evalkit run --resume {_run_id(project)}" in message
    (only,) = samples.values()
    assert only.status == "infra_error" and only.correct is None and only.metadata["error_class"] == "auth_failed"
    assert again.exit_code == 0, again.stderr


def test_a_dead_server_stops_the_model_after_three_samples_and_resume_runs_the_rest(
    project: Path, mini_suite: Path, client: str
) -> None:
    base = closed_port()
    _config(project, base, client=client)
    refused = _run(project, mini_suite, "-k", "3")  # the preflight request finds it dead: nothing runs
    assert refused.exit_code == 2 and "the preflight request at" in refused.stderr
    assert "failed (connection)" in refused.stderr and "nothing was run" in refused.stderr
    first = _run(project, mini_suite, "-k", "3", "--no-preflight")  # 12 samples; as if it died mid-run
    samples = _samples(project)
    assert first.exit_code == 2
    message = " ".join(first.stderr.split())
    assert "3 consecutive samples failed with the same error (connection)" in message
    assert "3 of 12 samples hit infrastructure errors" in message and "9 of 12 samples were not run" in message
    assert len(samples) == 3 and {s.metadata["error_class"] for s in samples.values()} == {"connection"}
    port = int(base.rsplit(":", 1)[1].split("/")[0])
    with serve([ANSWER], repeat_last=True, port=port) as (_, server):  # the server is back
        again = _resume(project, _run_id(project))
        assert len(server.requests) == 12
    assert again.exit_code == 0, again.stderr


def test_the_same_server_error_for_every_sample_is_a_rejected_request_not_an_outage(
    project: Path, mini_suite: Path, client: str
) -> None:
    same = {"status": 500, "body": {"error": {"message": "unsupported parameter: tool_choice", "type": "server"}}}
    with serve([same] * 15 + [ANSWER], repeat_last=True) as (base, server):
        _config(project, base, client=client)
        first = _run(project, mini_suite, "-k", "3")
        assert len(server.requests) == 15  # 3 samples × 5 attempts, not 12 × 5
        samples = _samples(project)
        before = len(server.requests)
        again = _resume(project, _run_id(project))
        assert len(server.requests) - before == 9  # the samples never started; the rejected ones are not re-run
    assert first.exit_code == 2
    message = " ".join(first.stderr.split())
    assert "HTTP 500 with the same reply (request_rejected)" in message
    assert "3 of 12 samples were rejected by the provider (request_rejected)" in message
    assert {s.stop_reason for s in samples.values()} == {"request_rejected"}
    assert {s.metadata["error_class"] for s in samples.values()} == {"request_rejected"}
    assert all(s.status == "infra_error" and s.correct is None for s in samples.values())
    assert again.exit_code == 2  # still incomplete: three samples were rejected
    assert "3 of 12 samples were rejected" in again.stderr


@pytest.mark.parametrize("status", [400, 404])
def test_a_client_error_is_rejected_at_once_and_not_retried(
    status: int, project: Path, mini_suite: Path, client: str
) -> None:
    bad = {"status": status, "body": {"error": {"message": "no such model: fake-model", "type": "invalid_request"}}}
    with serve([bad], repeat_last=True) as (base, server):
        _config(project, base, client=client)
        first = _run(project, mini_suite)
        assert len(server.requests) == 3  # one request per sample, and the fourth never started
        samples = _samples(project)
        again = _resume(project, _run_id(project))
        assert len(server.requests) == 3 + 1  # only the sample never started: the rejected ones are not re-run
    assert first.exit_code == 2 and again.exit_code == 2
    assert {s.stop_reason for s in samples.values()} == {"request_rejected"}
    assert {s.metadata.get("http_status") for s in samples.values()} == {status}


def test_a_slow_server_times_out_the_call_and_resume_reruns_it(project: Path, mini_suite: Path, client: str) -> None:
    slow = {**ANSWER, "delay_s": 1.0}
    with serve([slow] * 5 + [ANSWER], repeat_last=True) as (base, server):  # every attempt times out
        _config(project, base, client=client)
        first = _run(project, mini_suite, "--tasks", "t1", "--timeout", "0.2")
        (sample,) = _samples(project).values()
        before = len(server.requests)
        again = _resume(project, _run_id(project))
        assert len(server.requests) - before == 1
    assert first.exit_code == 2 and "1 of 1 samples hit infrastructure errors" in first.stderr
    assert sample.status == "infra_error" and sample.metadata["error_class"] == "timeout"
    assert again.exit_code == 0, again.stderr


def test_the_command_line_concurrency_wins_over_evalkit_yaml(
    project: Path, mini_suite: Path, client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evalkit.runner import scheduler

    seen: list[int | None] = []
    original = scheduler.Scheduler.run

    async def spy(self: scheduler.Scheduler, *args: Any, **kwargs: Any) -> Any:
        seen.extend(m.concurrency for m in self.models)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(scheduler.Scheduler, "run", spy)
    with serve([ANSWER], repeat_last=True) as (base, _):
        _config(project, base, client=client, concurrency=2)
        given = _run(project, mini_suite, "--tasks", "t1", "-c", "5", "--name", "given")
        left_out = run_cli(
            "run", mini_suite, "-m", "fake", "--store", project / "store.duckdb", "--no-progress", "--no-report",
            "--tasks", "t1", "--new", cwd=project, env={KEY: "x"},
        )  # fmt: skip
    assert given.exit_code == 0 and left_out.exit_code == 0, left_out.stderr
    assert seen == [5, 2]


def test_an_event_keeps_at_most_64_kib_of_a_field_and_says_what_was_cut() -> None:
    from evalkit.trace.caps import MAX_FIELD_CHARS
    from evalkit.trace.types import Event, ToolCall

    big = "y" * 500_000
    event = Event.model_call(1, 1, content=big, tool_calls=(ToolCall("c", "sql_query", {"query": big}, big),))
    assert event.content is not None and len(event.content) < MAX_FIELD_CHARS + 100
    assert event.content.endswith("…[cut: 500,000 chars, 434,464 not stored]")
    call = event.tool_calls[0]
    assert call.raw_arguments is not None and len(call.raw_arguments) < MAX_FIELD_CHARS + 100
    assert call.arguments is not None and len(call.arguments["query"]) < MAX_FIELD_CHARS + 100
    tool = Event.tool_result(2, 1, tool="sql_query", ok=True, content=big, arguments={"query": big})
    assert tool.content is not None and "not stored]" in tool.content
    assert len(json.dumps(tool.to_dict())) < 3 * MAX_FIELD_CHARS
    small = Event.model_call(3, 1, content="short")
    assert small.content == "short"
