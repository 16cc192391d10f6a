"""Portable run files: export → import round trips, validation with file:LINE problems, atomic imports."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from evalkit.errors import ImportFormatError, StoreError
from evalkit.trace.portable import FORMAT_VERSION, export_run, import_run, read_run_file
from evalkit.trace.store import TraceStore
from evalkit.trace.types import RunRecord, dumps
from tests.trace import make_run, make_sample, make_score


@pytest.fixture
def source(tmp_path: Path) -> Iterator[TraceStore]:
    """A store holding one finished run with samples, events and scores (and an unrelated second run)."""
    with TraceStore.open(tmp_path / "source.duckdb", write=True) as store:
        run = make_run("20250101-000000-abcd", name="nightly")
        store.create_run(run)
        samples = [
            make_sample(run.run_id, "t1", "gpt"),
            make_sample(run.run_id, "t1", "local", status="infra_error", correct=None, cost_usd=None),
            replace(make_sample(run.run_id, "t-ü", "gpt"), final_answer="Ω ≈ 42 🧮", metadata={}),
        ]
        store.write_samples(samples)
        store.write_scores([make_score(run.run_id, s.sample_id, c) for s in samples for c in ("answer", "schema")])
        store.finish_run(run.run_id, "finished", "2025-01-01T00:10:00+00:00")
        store.create_run(make_run("other", name="other"))
        yield store


@pytest.fixture
def target(tmp_path: Path) -> Iterator[TraceStore]:
    with TraceStore.open(tmp_path / "target.duckdb", write=True) as store:
        yield store


def _snapshot(store: TraceStore, run_id: str) -> tuple[Any, ...]:
    return store.get_run(run_id), store.samples(run_id, with_events=True), store.scores(run_id)


def _write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else dumps(x)) + "\n" for x in lines), encoding="utf-8")
    return path


def _exported_lines(source: TraceStore, tmp_path: Path) -> list[dict[str, Any]]:
    path = export_run(source, "nightly", tmp_path / "run.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", ["run.jsonl", "nested/run.jsonl.gz"])
def test_export_then_import_equals_the_original(
    source: TraceStore, target: TraceStore, tmp_path: Path, name: str
) -> None:
    path = export_run(source, "nightly", tmp_path / name)
    assert path == tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            header = json.loads(f.readline())
    else:
        header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert (header["format"], header["version"], header["samples"], header["scores"]) == ("evalkit-run", 1, 3, 6)
    run = import_run(target, path)
    assert run == source.get_run("20250101-000000-abcd")
    original = _snapshot(source, run.run_id)
    assert _snapshot(target, run.run_id) == original
    assert any(e.ok is False for s in original[1] for e in s.events)  # the values Event.to_dict would lose
    assert [r.run_id for r in target.list_runs()] == [run.run_id]
    assert not list(path.parent.glob(".*.tmp"))


def test_export_is_deterministic(source: TraceStore, tmp_path: Path) -> None:
    a = export_run(source, "nightly", tmp_path / "a.jsonl.gz").read_bytes()
    b = export_run(source, "20250101", tmp_path / "b.jsonl.gz").read_bytes()
    assert a == b


def test_import_of_an_existing_run_needs_replace(source: TraceStore, target: TraceStore, tmp_path: Path) -> None:
    path = export_run(source, "nightly", tmp_path / "run.jsonl")
    import_run(target, path)
    target.write_samples([make_sample("20250101-000000-abcd", "extra")])
    with pytest.raises(StoreError, match=r"already in the store.*--replace"):
        import_run(target, path)
    assert len(target.samples("20250101-000000-abcd")) == 4
    import_run(target, path, replace=True)
    assert _snapshot(target, "20250101-000000-abcd") == _snapshot(source, "20250101-000000-abcd")


def test_corrupt_file_reports_the_line_and_leaves_the_store_unchanged(
    source: TraceStore, target: TraceStore, tmp_path: Path
) -> None:
    target.create_run(make_run("already-here"))
    before = target.list_runs()
    lines = _exported_lines(source, tmp_path)
    del lines[2]["model"]  # line 3: the second sample
    lines[3]["epoch"] = "one"  # line 4
    path = _write_lines(tmp_path / "bad.jsonl", lines)
    with pytest.raises(ImportFormatError) as info:
        import_run(target, path)
    assert str(info.value).splitlines() == [
        f"{path}:3: missing field 'model'",
        f'{path}:4: epoch: expected int, got "one"',
    ]
    assert target.list_runs() == before
    assert target.query("SELECT count(*) FROM samples") == [(0,)]


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda ls: ls.__setitem__(1, "{not json"), ":2: invalid JSON: Expecting property name"),
        (lambda ls: ls.__setitem__(1, [1, 2]), ":2: expected a JSON object, got [1, 2]"),
        (lambda ls: ls[1].__setitem__("type", "sampel"), ':2: unknown line type "sampel"'),
        (lambda ls: ls[1]["events"][0].__setitem__("kind", "robot"), ":2: events[0].kind: expected one of 'system'"),
        (lambda ls: ls[1]["events"][1].pop("kind"), ":2: missing field 'events[1].kind'"),
        (
            lambda ls: ls[1]["events"][1]["usage"].__setitem__("prompt_tokens", None),
            ":2: events[1].usage.prompt_tokens: expected int, got null",
        ),
        (lambda ls: ls[1].__setitem__("colour", "red"), ":2: unknown field 'colour'"),
        (lambda ls: ls[1].__setitem__("run_id", "elsewhere"), ":2: run_id 'elsewhere' differs from the header's"),
        (lambda ls: ls.insert(2, ls[1]), ":3: duplicate sample 't-ü|gpt|0' (first on line 2)"),
        (
            lambda ls: ls[-1].__setitem__("sample_id", "ghost"),
            ":10: score for sample 'ghost', which is not in the file",
        ),
        (lambda ls: ls.pop(), ": the header announces 6 scores but the file has 5 (truncated?)"),
        (lambda ls: ls[0]["run"].pop("suite"), ":1: missing field 'run.suite'"),
        (lambda ls: ls[0]["run"]["models"][0].__setitem__("tool_protocol", "smoke"), ":1: run.models[0].tool_protocol"),
    ],
)
def test_validation_problems_name_the_line(
    source: TraceStore, target: TraceStore, tmp_path: Path, mutate: Any, problem: str
) -> None:
    lines = _exported_lines(source, tmp_path)
    mutate(lines)
    path = _write_lines(tmp_path / "bad.jsonl", lines)
    with pytest.raises(ImportFormatError) as info:
        import_run(target, path)
    assert f"{path}{problem}" in str(info.value)
    assert target.list_runs() == []


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ({"format": "inspect-log", "version": 1}, 'not an evalkit run export (format "inspect-log"'),
        ({"format": "evalkit-run", "version": FORMAT_VERSION + 1}, "written by a newer evalkit (format version 2"),
        ({"format": "evalkit-run", "version": "1"}, "version must be an integer"),
    ],
)
def test_unknown_format_or_newer_version(
    target: TraceStore, tmp_path: Path, header: dict[str, Any], problem: str
) -> None:
    path = _write_lines(tmp_path / "x.jsonl", [{**header, "run": make_run().to_dict()}])
    with pytest.raises(ImportFormatError, match=r"x.jsonl:1: ") as info:
        import_run(target, path)
    assert problem in str(info.value)


def test_unreadable_files(target: TraceStore, tmp_path: Path, source: TraceStore) -> None:
    with pytest.raises(ImportFormatError, match="no such file"):
        import_run(target, tmp_path / "missing.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(ImportFormatError, match=r"empty.jsonl:1: empty file"):
        import_run(target, empty)
    data = export_run(source, "nightly", tmp_path / "run.jsonl.gz").read_bytes()
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportFormatError, match=r"truncated.jsonl.gz:.*cannot read the file"):
        import_run(target, truncated)
    not_gz = tmp_path / "plain.jsonl.gz"
    not_gz.write_text("{}\n")
    with pytest.raises(ImportFormatError, match=r"plain.jsonl.gz:1: cannot read the file"):
        import_run(target, not_gz)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"format": "caf\xe9"}\n')
    with pytest.raises(ImportFormatError, match=r"latin.jsonl:1: not UTF-8"):
        import_run(target, latin)
    assert target.list_runs() == []


def test_a_failed_write_leaves_nothing_behind(
    source: TraceStore, target: TraceStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = export_run(source, "nightly", tmp_path / "run.jsonl")

    def broken(scores: Any) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(target, "write_scores", broken)
    with pytest.raises(StoreError, match="disk full"):
        import_run(target, path)
    assert target.list_runs() == []
    assert target.query("SELECT count(*) FROM events") == [(0,)]


def test_files_written_with_plain_to_dict_import(source: TraceStore, target: TraceStore, tmp_path: Path) -> None:
    run = source.get_run("20250101-000000-abcd")
    samples = source.samples(run.run_id, with_events=True)
    lines: list[Any] = [{"format": "evalkit-run", "version": 1, "run": run.to_dict()}]
    lines += [{"type": "sample", **s.to_dict()} for s in samples]
    path = _write_lines(tmp_path / "plain.jsonl", lines)
    got, got_samples, got_scores = read_run_file(path)
    assert isinstance(got, RunRecord) and got == run
    assert [s.sample_id for s in got_samples] == [s.sample_id for s in samples] and got_scores == []
    assert import_run(target, path) == run
