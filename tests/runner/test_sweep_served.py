"""``evalkit sweep --checkpoints GLOB --api-base URL`` end to end against an OpenAI-compatible test server:
the matches run in natural order under the names the server is sent, one checkpoint the server refuses does
not stop the others (exit 2), and the same command again runs only what is missing."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import evalkit
from evalkit.models.gateway import ModelGateway
from tests.cli_runner import run_cli
from tests.fakeserver import ScriptedServer, serve

ANSWER: dict[str, Any] = {"content": "FINAL ANSWER: 1350 USD millions"}  # the mini suite's t1
NOT_SERVED = {"error": {"message": "The model `{}` does not exist.", "type": "NotFoundError", "code": 404}}


def _refuse(state: ScriptedServer, refused: set[str]) -> list[str]:
    """Make the server answer 404 for the models in ``refused``, as vLLM does for a name it does not serve
    (preflight requests included); emptying the set serves them again. Returns the model of every request,
    answered or refused, as it arrives."""
    answer = state.next_reply
    asked: list[str] = []

    def next_reply(body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        asked.append(str(body.get("model")))
        if body.get("model") in refused:
            message = json.loads(json.dumps(NOT_SERVED).replace("{}", str(body["model"])))
            return 404, {}, message
        return answer(body, headers)

    state.next_reply = next_reply  # type: ignore[method-assign]
    return asked


def _checkpoints(root: Path) -> None:
    for step in (100, 2, 10):
        (root / "ckpts" / f"step_{step}").mkdir(parents=True)


def _sweep(mini_suite: Path, cwd: Path, base: str, *extra: str) -> Any:
    return run_cli(
        "sweep", mini_suite, "--checkpoints", "ckpts/step_*", "--api-base", base,
        "--tasks", "t1", "-k", "2", "--no-cache", "--no-progress", "--name", "rl", *extra,
        cwd=cwd,
    )  # fmt: skip


def _runs(store: Path) -> dict[str, Any]:
    """The runs by name; a name held by two runs fails (the sweep made a run it should have resumed)."""
    runs = evalkit.list_runs(store)
    named = {str(r.name): r for r in runs}
    assert len(named) == len(runs), [r.name for r in runs]
    return named


def test_a_glob_runs_in_natural_order_under_the_names_sent_and_a_refused_checkpoint_does_not_stop_the_others(
    mini_suite: Path, tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ModelGateway, "_backoff", lambda self, attempt, retry_after: 0.0)
    _checkpoints(tmp_path)
    refused = {"step_10"}
    with serve([ANSWER], repeat_last=True) as (base, server):
        asked = _refuse(server, refused)
        first = _sweep(mini_suite, tmp_path, base)
        assert first.exit_code == 2, first.stderr
        # every checkpoint was tried, in natural order, under its base name
        assert list(dict.fromkeys(asked)) == ["step_2", "step_10", "step_100"]
        assert [p["model"] for p in server.preflights] == ["step_2", "step_100"]
        assert Counter(r["model"] for r in server.requests) == {"step_2": 2, "step_100": 2}
        assert "rl/mini/step_10" in first.stderr and "1 of 3 sweep runs could not run" in first.stderr
        assert "does not exist" in first.stdout  # the refused checkpoint's line says why
        runs = _runs(store)
        assert set(runs) == {"rl/mini/step_2", "rl/mini/step_100"}
        assert all(r.status == "finished" and r.finished == 2 and r.accuracy == 1.0 for r in runs.values())
        # the comparison of the checkpoints that ran, in series order, names the one that did not
        assert "Trend over the checkpoints: mini" in first.stdout
        trend = first.stdout[first.stdout.index("Trend over the checkpoints") :]
        assert trend.index("step_2 (ref)") < trend.index("step_100")
        assert "rl/mini/step_10: not run" in first.stdout
        assert "multi-table transfer" not in first.stdout  # t1 alone: no multi-table task to set beside it

        # served again: the same command runs step_10 alone; the finished runs are shown, not re-run
        refused.clear()
        served_before = len(server.requests)
        again = _sweep(mini_suite, tmp_path, base)
        assert again.exit_code == 0, again.stderr
        assert Counter(r["model"] for r in server.requests[served_before:]) == {"step_10": 2}
        after = _runs(store)
        assert {n: r.run_id for n, r in after.items() if n != "rl/mini/step_10"} == {
            n: r.run_id for n, r in runs.items()
        }
        assert after["rl/mini/step_10"].finished == 2
        assert again.stdout.count("already finished, nothing run") == 2
        # and once more: nothing at all is sent
        served_before = len(server.requests)
        assert _sweep(mini_suite, tmp_path, base).exit_code == 0
        assert len(server.requests) == served_before and len(evalkit.list_runs(store)) == 3


def test_send_path_sends_each_match_as_written_and_an_unfinished_run_is_resumed(
    mini_suite: Path, tmp_path: Path, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ModelGateway, "_backoff", lambda self, attempt, retry_after: 0.0)
    _checkpoints(tmp_path)
    down = {"status": 503, "body": {"error": {"message": "overloaded"}}}
    # step_2's first sample is answered, then the server fails every call: its run is left unfinished
    with serve([ANSWER, *[down] * 40], repeat_last=True) as (base, server):
        first = _sweep(mini_suite, tmp_path, base, "--send-path", "--max-turns", "2", "--timeout", "5")
        assert first.exit_code == 2
        assert [p["model"] for p in server.preflights] == ["ckpts/step_2", "ckpts/step_10", "ckpts/step_100"]
    partial = _runs(store)
    assert partial["rl/mini/step_2"].finished == 1 and partial["rl/mini/step_2"].status == "interrupted"
    assert partial["rl/mini/step_10"].finished == 0 and "2 of 2 samples hit infrastructure errors" in first.stdout
    port = int(base.rsplit(":", 1)[1].split("/")[0])  # the same server again: the api_base is part of the run
    with serve([ANSWER], repeat_last=True, port=port) as (base, server):
        again = _sweep(mini_suite, tmp_path, base, "--send-path", "--max-turns", "2", "--timeout", "5")
        assert again.exit_code == 0, again.stderr
        sent = Counter(r["model"] for r in server.requests)
    resumed = _runs(store)
    assert {n: r.run_id for n, r in resumed.items()} == {n: r.run_id for n, r in partial.items()}  # the same runs
    assert sent == {"ckpts/step_2": 1, "ckpts/step_10": 2, "ckpts/step_100": 2}  # only the unfinished samples
    assert all(r.finished == 2 and r.status == "finished" for r in resumed.values())
