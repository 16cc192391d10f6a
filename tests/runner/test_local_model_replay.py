"""Real exchanges with a real local model, replayed: Gemma 3 270M on llama-cpp-python's OpenAI-compatible server,
recorded by ``make local-model`` (``bench/local_model.py``) into ``tests/fixtures/local_model/``.

Each recorded run is replayed by ``tests.replayserver`` to the same ``evalkit run`` command, with the cache off.
The replay answers only requests that equal a recorded one, so these tests hold evalkit to what the real server
accepted: the tools offered (``tool_choice: "auto"`` with native tools, the tool prompt in the system message
with the text protocol), tool-call turns replayed with ``content: ""``, and the replies read as the server gave
them (tool calls, final answers, finish reasons, prompt tokens). ``tests/fakeserver.py`` imitates these quirks;
this is the real thing, without the build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import evalkit
from evalkit.contracts.answers import extract_final_answer
from evalkit.models.textproto import parse_tool_calls
from evalkit.trace.types import Event, Sample
from tests.cli_runner import run_cli
from tests.conftest import isolated_env
from tests.replayserver import Exchange, ReplayServer, comparable, load_exchanges, serve

FIXTURES = Path(__file__).parents[1] / "fixtures" / "local_model"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
RUNS: dict[str, dict[str, Any]] = {r["name"]: r for r in MANIFEST["runs"]}
KEY_ENV = "EVALKIT_LOCAL_MODEL_KEY"


@dataclass(frozen=True)
class Replay:
    run: dict[str, Any]
    exchanges: list[Exchange]
    """The recorded exchanges of the samples (the preflight apart)."""
    preflights: list[Exchange]
    server: ReplayServer
    samples: list[Sample]
    """In the order they ran (one at a time: ``--concurrency 1``)."""

    @property
    def native(self) -> bool:
        return bool(self.run["protocol"] == "native")


@pytest.fixture(scope="module", params=sorted(RUNS))
def replay(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Replay:
    run = RUNS[request.param]
    exchanges = load_exchanges(FIXTURES / run["fixture"])
    folder = tmp_path_factory.mktemp(run["name"])
    with serve(exchanges) as (base, server):
        models = {alias: {**entry, "api_base": base} for alias, entry in run["model"].items()}
        config = folder / "evalkit.yaml"
        config.write_text(yaml.safe_dump({"models": models}), encoding="utf-8")
        env = {**isolated_env(folder, cache_dir), "EVALKIT_CONFIG": str(config), KEY_ENV: "not-a-secret"}
        out = run_cli(*run["arguments"], "--name", run["name"], env=env)
    assert out.exit_code == run["exit_code"], out.stdout + out.stderr  # what evalkit said of the real run
    _, samples = evalkit.get_samples(folder / "store.duckdb", run["name"])
    samples_exchanges = [e for e in exchanges if not e.preflight]
    preflights = [e for e in exchanges if e.preflight]
    return Replay(run, samples_exchanges, preflights, server, sorted(samples, key=lambda s: s.started_at))


def _assistant_turns(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] == "assistant"]


def test_the_recordings_are_of_both_suites_through_both_protocols() -> None:
    assert {(r["suite"], r["protocol"]) for r in RUNS.values()} == {
        (suite, protocol) for suite in ("finance-single", "finance-multi") for protocol in ("native", "text")
    }
    assert all("--no-cache" in r["arguments"] and r["summary"]["samples"] >= 1 for r in RUNS.values())


def test_evalkit_sends_exactly_what_the_real_server_was_sent(replay: Replay) -> None:
    assert replay.server.unmatched == [], "evalkit sent a request the real server never saw"
    assert replay.server.unused == [], "a recorded exchange was never asked for"
    assert [comparable(r) for r in replay.server.requests] == [comparable(e.request) for e in replay.exchanges]


def test_the_preflight_the_real_server_answered_is_sent_once_before_the_samples(replay: Replay) -> None:
    (recorded,) = replay.preflights
    assert recorded.status == 200 and "tools" not in recorded.request
    assert [comparable(r) for r in replay.server.preflights] == [comparable(recorded.request)]


def test_the_tools_are_offered_the_way_the_protocol_needs(replay: Replay) -> None:
    for body in replay.server.requests:
        system = body["messages"][0]
        assert system["role"] == "system"
        if replay.native:
            names = [t["function"]["name"] for t in body["tools"]]
            assert "sql_query" in names and body["tool_choice"] == "auto"
            assert "<tools>" not in system["content"]
        else:
            assert "tools" not in body and "tool_choice" not in body
            assert "<tools>" in system["content"] and '"name":"sql_query"' in system["content"]
    for sample in replay.samples:
        assert "sql_query" in sample.metadata["offered_tools"]
        assert sample.metadata["tool_protocol"] == replay.run["protocol"]
        assert sample.metadata["tool_choice"] == ("auto" if replay.native else None)


def test_every_replayed_assistant_turn_has_text_content_and_tool_call_turns_have_empty_content(
    replay: Replay,
) -> None:
    replayed_tool_turns = 0
    for body in replay.server.requests:
        for message in _assistant_turns(body):
            assert isinstance(message["content"], str), message
            if message.get("tool_calls"):
                replayed_tool_turns += 1
                assert message["content"] == "", message
    recorded_calls_then_more = sum(1 for s in replay.samples for e in _model_events(s)[:-1] if e.tool_calls)
    if replay.native:  # a tool-call turn that the sample went on from came back in the next request
        assert replayed_tool_turns >= recorded_calls_then_more
    else:
        assert replayed_tool_turns == 0  # text-protocol calls travel in the content


def _arguments(raw: str) -> dict[str, Any] | None:
    """The arguments as evalkit reads them: a JSON object, else None (a malformed call)."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _model_events(sample: Sample) -> list[Event]:
    return [e for e in sample.events if e.kind == "model"]


def _answered(replay: Replay) -> list[tuple[Sample, Event, Exchange]]:
    """Each model event beside the recorded exchange that answered it: the samples ran one at a time, so the
    successful exchanges come in the order of the samples' model turns."""
    answered = [e for e in replay.exchanges if e.status == 200]
    pairs = [(s, event) for s in replay.samples for event in _model_events(s)]
    assert len(pairs) == len(answered)
    return [(s, event, exchange) for (s, event), exchange in zip(pairs, answered, strict=True)]


def test_the_samples_record_what_the_server_replied(replay: Replay) -> None:
    for sample, event, exchange in _answered(replay):
        (choice,) = exchange.response["choices"]
        message, usage = choice["message"], exchange.response["usage"]
        assert event.finish_reason == choice["finish_reason"]
        assert event.usage is not None and event.usage.prompt_tokens == usage["prompt_tokens"]
        assert event.usage.completion_tokens == usage["completion_tokens"]
        if replay.native:
            raw_calls = message.get("tool_calls") or ()
            sent = [(c["function"]["name"], _arguments(c["function"]["arguments"])) for c in raw_calls]
            assert (event.content or "") == (message["content"] or "")
            for call, raw in zip(event.tool_calls, raw_calls, strict=True):
                if call.arguments is None:  # broken JSON (the real model's runaway arguments): kept as sent
                    assert call.raw_arguments == raw["function"]["arguments"]
        else:
            sent = [(c.name, c.arguments) for c in parse_tool_calls(message["content"])[1]]
        assert [(c.name, c.arguments) for c in event.tool_calls] == sent
        assert sample.prompt_tokens >= usage["prompt_tokens"]
    for sample in replay.samples:
        last = _model_events(sample)[-1]
        if sample.stop_reason == "final_answer":
            assert sample.final_answer == extract_final_answer(last.content or "")
        assert sample.tool_calls == sum(len(e.tool_calls) for e in _model_events(sample))
        assert sample.prompt_tokens == sum(e.usage.prompt_tokens for e in _model_events(sample) if e.usage)


def test_no_sample_is_an_infrastructure_error_unless_the_server_answered_with_one(replay: Replay) -> None:
    errors = [s for s in replay.samples if s.status != "ok"]
    if all(e.status == 200 for e in replay.exchanges):
        assert errors == [], [s.error for s in errors]
    assert len(replay.samples) == replay.run["summary"]["samples"]


def test_the_replay_reads_what_the_real_run_read(replay: Replay) -> None:
    seen = replay.run["summary"]
    samples = replay.samples
    assert sum(1 for s in samples if s.correct) == seen["correct"]
    assert sum(s.turns for s in samples) == seen["turns"]
    assert sum(s.tool_calls for s in samples) == seen["tool_calls"]
    assert sum(s.tool_errors for s in samples) == seen["tool_errors"]
    stops: dict[str, int] = {}
    for s in samples:
        stops[s.stop_reason] = stops.get(s.stop_reason, 0) + 1
    assert stops == seen["stop_reasons"]
    assert [_model_events(s)[0].usage.prompt_tokens for s in samples if _model_events(s)[0].usage] == seen[
        "first_prompt_tokens"
    ]


def test_the_server_puts_the_tools_in_the_prompt_only_with_a_tool_choice() -> None:
    """The quirk ``tool_choice: auto`` is sent for, as the real server showed it: the first native request,
    sent again with and without ``tool_choice`` and without tools."""
    probe = MANIFEST["probe_prompt_tokens"]
    assert probe["tools_and_tool_choice"] > probe["no_tools"]
    assert probe["tools_without_tool_choice"] == probe["no_tools"]
    (first,) = [r for r in RUNS.values() if r["suite"] == "finance-single" and r["protocol"] == "native"]
    assert first["summary"]["first_prompt_tokens"][0] == probe["tools_and_tool_choice"]
