"""End to end through the real CLI: the scripted agents on the mini fixture suite, checked on the recorded
events, not only on the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import evalkit
from evalkit.trace.types import Sample
from tests.cli_runner import run_cli
from tests.conftest import FIXTURES, isolated_env


def _tables_inspected_before_queried(sample: Sample) -> bool:
    inspected: set[str] = set()
    for e in sample.events:
        if e.kind != "tool":
            continue
        if e.tool == "get_table_info" and e.ok:
            inspected.add(str((e.arguments or {}).get("table")))
        if e.tool == "sql_query" and e.ok:
            queried = set((e.data or {}).get("tables", []))
            if not queried or not queried <= inspected:
                return False
    return True


@pytest.fixture(scope="module")
def e2e_store(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Path:
    """The store of one ``evalkit run`` (disciplined and reckless on the mini suite) named ``e2e``, shared by
    the tests below: they only read it (one of them counts on it holding this one run)."""
    folder = tmp_path_factory.mktemp("e2e")
    store = folder / "store.duckdb"
    out = run_cli(
        "run",
        FIXTURES / "mini" / "suite",
        "-m",
        "scripted/disciplined",
        "-m",
        "scripted/reckless",
        "--store",
        store,
        "--name",
        "e2e",
        "--no-progress",
        env=isolated_env(folder, cache_dir),
    )
    assert out.returncode == 0, out.stderr
    assert "run 2" in out.stdout and "finished" in out.stdout
    return store


def test_disciplined_inspects_before_querying_and_answers_right(e2e_store: Path) -> None:
    _, samples = evalkit.get_samples(e2e_store, "e2e", model="scripted/disciplined")
    assert len(samples) == 4
    for s in samples:
        assert s.correct is True, (s.task_id, s.final_answer, s.expected)
        assert s.stop_reason == "final_answer" and s.status == "ok"
        tools = [e.tool for e in s.events if e.kind == "tool"]
        assert tools[0] == "get_table_names"
        assert _tables_inspected_before_queried(s), s.task_id


def test_reckless_hits_unknown_tables_and_answers_wrong(e2e_store: Path) -> None:
    _, samples = evalkit.get_samples(e2e_store, "e2e", model="scripted/reckless")
    assert len(samples) == 4
    for s in samples:
        assert s.correct is False
        errors = [e for e in s.events if e.kind == "tool" and not e.ok]
        assert errors and all(e.error_type == "unknown_table" for e in errors)
        queries = [json.dumps(e.arguments) for e in errors]
        assert queries[0] == queries[1]  # it repeats the failing call
        assert not any(e.tool == "get_table_info" for e in s.events if e.kind == "tool")
        assert s.final_answer  # and still states an answer with confidence


def test_runs_lists_and_show_renders_the_trace(e2e_store: Path) -> None:
    runs = run_cli("runs", "--store", str(e2e_store), env={"COLUMNS": "200"})
    assert runs.returncode == 0
    assert "e2e" in runs.stdout and "mini" in runs.stdout and "scripted/disciplined" in runs.stdout
    show = run_cli(
        "show", "e2e", "t3", "--model", "scripted/disciplined", "--store", str(e2e_store), env={"COLUMNS": "200"}
    )
    assert show.returncode == 0, show.stderr
    for expected in (
        "get_table_names",
        "get_table_info",
        "sql_query",
        "calculator",
        "answer: 250",
        "correct",
        "tokens",
    ):
        assert expected in show.stdout
    reckless = run_cli(
        "show", "latest", "t1", "-m", "scripted/reckless", "--store", str(e2e_store), env={"COLUMNS": "200"}
    )
    assert "error: unknown_table" in reckless.stdout and "wrong" in reckless.stdout


def test_run_references_id_prefix_name_latest(e2e_store: Path) -> None:
    (summary,) = evalkit.list_runs(e2e_store)
    for ref in (summary.run_id, summary.run_id[:12], "e2e", "latest"):
        record, _ = evalkit.get_samples(e2e_store, ref, with_events=False)
        assert record.run_id == summary.run_id
    missing = run_cli("show", "no-such-run", "--store", str(e2e_store))
    assert missing.returncode == 2 and "no-such-run" in missing.stderr and "Traceback" not in missing.stderr


def test_export_and_import_round_trip(e2e_store: Path, tmp_path: Path) -> None:
    exported = tmp_path / "run.jsonl.gz"
    out = run_cli("export", "e2e", "-o", str(exported), "--store", str(e2e_store))
    assert out.returncode == 0, out.stderr
    other = tmp_path / "other.duckdb"
    imp = run_cli("import-run", str(exported), "--store", str(other))
    assert imp.returncode == 0, imp.stderr
    a = evalkit.get_samples(e2e_store, "e2e")[1]
    b = evalkit.get_samples(other, "e2e")[1]
    assert [s.to_dict() for s in a] == [s.to_dict() for s in b]
    again = run_cli("import-run", str(exported), "--store", str(other))
    assert again.returncode == 2 and "already" in again.stderr


def test_text_protocol_is_parsed_and_recorded(mini_suite: Path, store: Path, tmp_path: Path) -> None:
    (tmp_path / "evalkit.yaml").write_text(
        "models:\n  texty:\n    model: scripted/disciplined\n    tool_protocol: text\n", encoding="utf-8"
    )
    out = run_cli("run", str(mini_suite), "-m", "texty", "--store", str(store), "--no-progress", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    _, samples = evalkit.get_samples(store, "latest")
    assert all(s.correct for s in samples)
    first_model = next(e for s in samples for e in s.events if e.kind == "model")
    assert first_model.tool_calls and first_model.tool_calls[0].name == "get_table_names"
    system = next(e for e in samples[0].events if e.kind == "system")
    assert "<tool_call>" in (system.content or "")  # the tools were described in the prompt


def test_noisy_agent_is_deterministic_per_seed_and_varies_across_seeds(mini_suite: Path, store: Path) -> None:
    def outcomes(seed: int) -> list[bool | None]:
        r = evalkit.run_suite(
            mini_suite,
            ["scripted/noisy@0.5"],
            epochs=6,
            seed=seed,
            store=store,
            keep_samples=True,
            use_cache=False,
            new=True,
        )
        return [s.correct for s in sorted(r.samples, key=lambda s: (s.task_id, s.epoch))]

    a1, a2, b = outcomes(1), outcomes(1), outcomes(2)
    assert a1 == a2
    assert a1 != b
    assert 0 < sum(bool(x) for x in a1) < len(a1)


def test_bad_input_is_a_clear_error_with_exit_code_2(mini_suite: Path, store: Path, tmp_path: Path) -> None:
    out = run_cli("run", str(mini_suite), "-m", "scripted/nonsense", "--store", str(store))
    assert out.returncode == 2 and "unknown scripted agent" in out.stderr and "Traceback" not in out.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "suite.yaml").write_text('name: bad\nversion: "1"\ndatabase: .\nsetings: {}\n', encoding="utf-8")
    out = run_cli("run", str(bad), "-m", "scripted/disciplined", "--store", str(store))
    assert out.returncode == 2
    assert "suite.yaml:4 setings" in out.stderr
    nomodel = run_cli("run", str(mini_suite), "--store", str(store))
    assert nomodel.returncode == 2 and "--model" in nomodel.stderr


def test_cache_replays_replies_and_no_cache_does_not(mini_suite: Path, store: Path) -> None:
    evalkit.run_suite(mini_suite, ["scripted/disciplined"], tasks="t1", store=store, name="a")
    second = evalkit.run_suite(
        mini_suite,
        ["scripted/disciplined"],
        tasks="t1",
        store=store,
        name="b",
        keep_samples=True,
        new=True,
        use_cache=True,
    )
    assert second.samples and not second.already_finished
    assert all(e.cached for s in second.samples for e in s.events if e.kind == "model")
    third = evalkit.run_suite(
        mini_suite,
        ["scripted/disciplined"],
        tasks="t1",
        store=store,
        name="c",
        keep_samples=True,
        use_cache=False,
        new=True,
    )
    assert not any(e.cached for s in third.samples for e in s.events if e.kind == "model")
    epochs = evalkit.run_suite(
        mini_suite, ["scripted/disciplined"], tasks="t1", store=store, name="d", epochs=2, keep_samples=True
    )
    by_epoch = {s.epoch: s for s in epochs.samples}
    assert not any(e.cached for e in by_epoch[1].events if e.kind == "model")  # a new epoch is a new request
