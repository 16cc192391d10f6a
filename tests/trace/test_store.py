"""TraceStore: migrations, locking, writes (upserts, atomicity, secrets) and reads."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalkit.errors import RunNotFoundError, StoreError, StoreLockedError
from evalkit.trace import connections, migrations, rows
from evalkit.trace.connections import lock_message
from evalkit.trace.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from evalkit.trace.rows import event_payload
from evalkit.trace.store import SECRET_MASK, TraceStore, scrub_secrets
from evalkit.trace.types import Event, Sample, ToolCall, Usage, dumps
from tests.trace import make_run, make_sample, make_score

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "runs" / "evalkit.duckdb"


@pytest.fixture
def wstore(db: Path) -> Iterator[TraceStore]:
    with TraceStore.open(db, write=True) as store:
        yield store


# ---- hypothesis strategies ---------------------------------------------------------------------------
text = st.text(max_size=20)
opt_text = st.none() | text
opt_float = st.none() | st.floats(allow_nan=False, allow_infinity=False)
json_scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text
json_value = st.recursive(
    json_scalar, lambda c: st.lists(c, max_size=3) | st.dictionaries(text, c, max_size=3), max_leaves=8
)
json_dict = st.dictionaries(text, json_value, max_size=4)
tool_calls = st.builds(ToolCall, id=text, name=text, arguments=st.none() | json_dict, raw_arguments=opt_text)
turns = st.integers(0, 1000)
prompt_events = st.builds(Event.prompt, st.just(0), st.sampled_from(["system", "user"]), turns, opt_text)
model_events = st.builds(
    Event.model_call,
    st.just(0),
    turns,
    content=opt_text,
    tool_calls=st.lists(tool_calls, max_size=2).map(tuple),
    usage=st.none() | st.builds(Usage, st.integers(0, 2**40), st.integers(0, 2**40)),
    latency_s=opt_float,
    cost_usd=opt_float,
    cached=st.booleans(),
)
tool_events = st.builds(
    Event.tool_result,
    st.just(0),
    turns,
    tool=text,
    ok=st.booleans(),
    content=opt_text,
    call_id=opt_text,
    arguments=st.none() | json_dict,
    data=st.none() | json_dict,
    latency_s=opt_float,
).flatmap(lambda e: st.just(e) if e.ok else st.builds(replace, st.just(e), error_type=opt_text))
events = prompt_events | model_events | tool_events
counts = st.integers(0, 2**31 - 1)
samples = st.builds(
    Sample,
    run_id=st.just("r"),
    task_id=text,
    model=text,
    epoch=st.integers(0, 1000),
    status=st.sampled_from(["ok", "infra_error", "cancelled"]),
    stop_reason=st.sampled_from(["final_answer", "max_turns", "timeout", "budget", "infra_error", "cancelled"]),
    final_answer=opt_text,
    correct=st.none() | st.booleans(),
    expected=opt_text,
    turns=counts,
    tool_calls=counts,
    tool_errors=counts,
    prompt_tokens=st.integers(0, 2**62),
    completion_tokens=st.integers(0, 2**62),
    latency_s=st.floats(allow_nan=False, allow_infinity=False),
    cost_usd=opt_float,
    error=opt_text,
    started_at=text,
    finished_at=text,
    events=st.lists(events, max_size=4).map(lambda evs: tuple(replace(e, seq=i) for i, e in enumerate(evs))),
    metadata=json_dict,
)


# ---- types and payloads ----------------------------------------------------------------------------------
@given(events)
def test_event_payload_round_trips_through_json(event: Event) -> None:
    payload = json.loads(dumps(event_payload(event)))
    assert Event.from_dict(payload) == event
    assert json.loads(dumps(event.to_dict())).items() <= payload.items()  # a superset of Event.to_dict()


@given(samples)
def test_sample_to_dict_from_dict_round_trips(sample: Sample) -> None:
    d = json.loads(dumps(sample.to_dict(with_events=False)))
    d["events"] = [json.loads(dumps(event_payload(e))) for e in sample.events]
    assert Sample.from_dict(d) == sample


def test_event_to_dict_keeps_ok_false_and_zero_cost() -> None:
    event = Event.tool_result(1, 0, tool="sql_query", ok=False, latency_s=0.0)
    assert Event.from_dict(event.to_dict()) == event
    call = Event.model_call(2, 1, latency_s=0.0, cost_usd=0.0)
    assert Event.from_dict(call.to_dict()) == call


# ---- opening, migrations, locking ------------------------------------------------------------------------
def test_open_for_write_creates_folders_and_schema(db: Path) -> None:
    with TraceStore.open(db, write=True) as store:
        assert store.writable
        assert store.query("SELECT version FROM schema_meta") == [(SCHEMA_VERSION,)]
        tables = {r[0] for r in store.query("SELECT table_name FROM duckdb_tables()")}
        assert {"schema_meta", "runs", "samples", "events", "scores"} <= tables
    with TraceStore.open(db, write=True) as store:  # reopening applies nothing new
        assert store.query("SELECT count(*) FROM schema_meta") == [(1,)]


def test_migrations_apply_to_an_empty_duckdb_file(db: Path) -> None:
    db.parent.mkdir(parents=True)
    duckdb.connect(str(db)).close()
    conn = duckdb.connect(str(db))
    try:
        assert migrate(conn, str(db)) == [name for name, _ in MIGRATIONS]
        assert migrate(conn, str(db)) == []
    finally:
        conn.close()
    with TraceStore.open(db, write=False) as store:
        assert store.list_runs() == []


def test_newer_store_is_refused_for_write_and_read(db: Path) -> None:
    TraceStore.open(db, write=True).close()
    conn = duckdb.connect(str(db))
    conn.execute("UPDATE schema_meta SET version = ?", [SCHEMA_VERSION + 1])
    conn.close()
    for write in (True, False):
        with pytest.raises(StoreError, match="written by a newer evalkit"):
            TraceStore.open(db, write=write)


def test_missing_migrations_apply_in_order_even_on_read(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    TraceStore.open(db, write=True).close()
    extra = (
        ("0002_run_notes", "ALTER TABLE runs ADD COLUMN note VARCHAR"),
        ("0003_index", "CREATE INDEX runs_name ON runs (name)"),
    )
    newer = (*migrations.MIGRATIONS, *extra)
    monkeypatch.setattr(migrations, "MIGRATIONS", newer)
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", len(newer))
    with TraceStore.open(db, write=False) as store:  # an older store is upgraded once, then read
        assert store.query("SELECT version FROM schema_meta") == [(len(newer),)]
        assert ("note",) in store.query("SELECT column_name FROM duckdb_columns() WHERE table_name = 'runs'")


def test_frame_layouts_follow_the_types() -> None:
    assert list(rows.SAMPLE_DTYPES) == ["sample_id", *rows.SAMPLE_PLAIN, "metadata"]
    assert list(rows.SCORE_DTYPES) == list(rows.SCORE_FIELDS)
    assert set(rows.EVENT_DTYPES) - {
        "sample_id",
        "run_id",
        "prompt_tokens",
        "completion_tokens",
        "payload",
    } <= {f.name for f in fields(Event)}


def test_foreign_duckdb_file_is_refused(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = duckdb.connect(str(db))
    conn.execute("CREATE TABLE prices (x INTEGER)")
    conn.close()
    with pytest.raises(StoreError, match="not an evalkit trace store"):
        TraceStore.open(db, write=True)


def test_read_of_a_missing_store_says_no_runs(db: Path) -> None:
    with pytest.raises(StoreError, match=r"no runs have been recorded at .*evalkit.duckdb"):
        TraceStore.open(db, write=False)
    assert not db.parent.exists()


def test_read_only_store_refuses_writes(db: Path) -> None:
    TraceStore.open(db, write=True).close()
    with TraceStore.open(db, write=False) as store, pytest.raises(StoreError, match="read-only"):
        store.create_run(make_run())


def test_reading_while_this_process_writes(wstore: TraceStore, db: Path) -> None:
    wstore.create_run(make_run())
    with TraceStore.open(db, write=False) as reader:
        assert [r.run_id for r in reader.list_runs()] == [make_run().run_id]
    wstore.close()


_HOLDER = """
import sys
from pathlib import Path
from evalkit.trace.store import TraceStore
store = TraceStore.open(Path(sys.argv[1]), write=True, exclusive=True)
if sys.argv[2] == "hold-file":
    with store.held():
        print("ready", flush=True)
        sys.stdin.readline()
else:
    print("ready", flush=True)
    sys.stdin.readline()
store.close()
"""


@contextmanager
def _holder(db: Path, mode: str) -> Iterator[subprocess.Popen[str]]:
    """Another process with the store open as a run's writer (``hold-file``: also holding the DuckDB file)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", _HOLDER, str(db), mode]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            yield proc
        finally:
            try:
                proc.communicate(input="done\n", timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
    assert proc.returncode == 0


def test_a_second_run_writer_gets_store_locked_error_but_readers_and_scorers_work(db: Path) -> None:
    with TraceStore.open(db, write=True) as store:
        store.create_run(make_run())
    with _holder(db, "between-batches") as proc:
        with pytest.raises(StoreLockedError) as info:
            TraceStore.open(db, write=True, exclusive=True)
        message = str(info.value)  # the holder's pid and, from /proc, its command line
        assert message.startswith(f"the store {db} is in use by another evalkit process (pid {proc.pid}")
        assert message.endswith("); wait for it to finish or use --store")
        with TraceStore.open(db, write=False) as reader:  # the run holds the file only while it writes
            assert [r.run_id for r in reader.list_runs()] == [make_run().run_id]
        with TraceStore.open(db, write=True) as writer:  # another writer (score, import-run) takes turns
            writer.write_scores([make_score(make_run().run_id, "t1|m|0")])
    with TraceStore.open(db, write=True, exclusive=True):  # released once the other process is done
        pass
    assert (db.parent / "evalkit.duckdb.lock").exists()


def test_a_reader_waits_for_a_batch_and_gives_up_with_the_holders_pid(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    TraceStore.open(db, write=True).close()
    monkeypatch.setattr(connections, "READ_WAIT_S", 0.3)
    with _holder(db, "hold-file") as proc:
        busy = connections.OPEN_STATS["busy"]
        with pytest.raises(StoreLockedError, match=f"pid {proc.pid}"):
            TraceStore.open(db, write=False)
        assert connections.OPEN_STATS["busy"] > busy  # it retried before giving up


def test_an_exclusive_writer_in_this_process_refuses_a_second_one(db: Path) -> None:
    with TraceStore.open(db, write=True, exclusive=True):
        with pytest.raises(StoreLockedError, match="another run in this process"):
            TraceStore.open(db, write=True, exclusive=True)
        with TraceStore.open(db, write=False) as reader:
            assert reader.list_runs() == []
    with pytest.raises(StoreError, match="for writing"):
        TraceStore.open(db, write=False, exclusive=True)


def test_lock_message_without_a_pid() -> None:
    assert "(pid unknown)" in lock_message("runs/evalkit.duckdb", "IO Error: Could not set lock on file")


# ---- runs ------------------------------------------------------------------------------------------------
def test_run_round_trip_and_finish(wstore: TraceStore) -> None:
    run = make_run()
    assert wstore.create_run(run) == run
    assert wstore.get_run(run.run_id) == run
    wstore.finish_run(run.run_id, "finished", "2025-01-01T01:00:00+00:00")
    assert wstore.get_run(run.run_id) == replace(run, status="finished", finished_at="2025-01-01T01:00:00+00:00")
    with pytest.raises(StoreError, match="already exists"):
        wstore.create_run(run)
    with pytest.raises(StoreError, match="unknown run status"):
        wstore.finish_run(run.run_id, "done", None)
    with pytest.raises(RunNotFoundError):
        wstore.finish_run("nope", "finished", None)
    with pytest.raises(RunNotFoundError):
        wstore.get_run("nope")


def test_secrets_are_scrubbed_on_write(wstore: TraceStore) -> None:
    base = make_run()
    options: dict[str, Any] = {
        "api_key": "sk-live-123",
        "max_tokens": 512,
        "nested": {"OPENAI_API_KEY": "sk-456", "api_key_env": "OPENAI_API_KEY", "password": "hunter2"},
        "headers": [{"Authorization": "Bearer abc"}, {"X-Request": "ok"}],
        "hf_token": "hf_789",
        "apikey": None,
    }
    models = (replace(base.models[0], extra={"api_key": "sk-extra", "top_p": 0.9}), base.models[1])
    stored = wstore.create_run(replace(base, options=options, models=models))
    run = wstore.get_run(base.run_id)
    assert run == stored
    assert run.options == {
        "api_key": SECRET_MASK,
        "max_tokens": 512,
        "nested": {"OPENAI_API_KEY": SECRET_MASK, "api_key_env": "OPENAI_API_KEY", "password": SECRET_MASK},
        "headers": [{"Authorization": SECRET_MASK}, {"X-Request": "ok"}],
        "hf_token": SECRET_MASK,
        "apikey": None,
    }
    assert run.models[0].extra == {"api_key": SECRET_MASK, "top_p": 0.9}
    assert run.models[0].api_key_env == "OPENAI_API_KEY"
    raw = " ".join(str(v) for row in wstore.query("SELECT * FROM runs") for v in row)
    for secret in ("sk-live-123", "sk-456", "hunter2", "Bearer abc", "hf_789", "sk-extra"):
        assert secret not in raw
    assert scrub_secrets({"max_tokens": 5, "prompt_tokens": 3}) == {"max_tokens": 5, "prompt_tokens": 3}


def test_transaction_rolls_back_everything(wstore: TraceStore) -> None:
    run = make_run()
    with pytest.raises(RuntimeError), wstore.transaction():
        wstore.create_run(run)
        wstore.write_samples([make_sample(run.run_id)])
        raise RuntimeError("boom")
    assert wstore.list_runs() == []
    assert wstore.query("SELECT count(*) FROM events") == [(0,)]


def test_delete_run(wstore: TraceStore) -> None:
    keep, drop = make_run("keep"), make_run("drop")
    for run in (keep, drop):
        wstore.create_run(run)
        sample = make_sample(run.run_id)
        wstore.write_samples([sample])
        wstore.write_scores([make_score(run.run_id, sample.sample_id)])
    wstore.delete_run(drop.run_id)
    assert [r.run_id for r in wstore.list_runs()] == ["keep"]
    for table in ("samples", "events", "scores"):
        assert wstore.query(f"SELECT DISTINCT run_id FROM {table}") == [("keep",)]
    with pytest.raises(RunNotFoundError):
        wstore.delete_run(drop.run_id)


# ---- samples ---------------------------------------------------------------------------------------------
_ids = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(samples, max_size=5, unique_by=lambda s: s.sample_id))
def test_samples_round_trip_through_the_store(batch: list[Sample]) -> None:
    with tempfile.TemporaryDirectory() as tmp, TraceStore.open(Path(tmp) / "s.duckdb", write=True) as store:
        run_id = f"run-{next(_ids)}"
        store.create_run(make_run(run_id))
        batch = [replace(s, run_id=run_id) for s in batch]
        store.write_samples(batch)
        got = store.samples(run_id, with_events=True)
        assert sorted(got, key=lambda s: s.sample_id) == sorted(batch, key=lambda s: s.sample_id)
        assert all(s.events == () for s in store.samples(run_id))


def test_sample_rewrite_replaces_the_earlier_record(db: Path) -> None:
    run = make_run()
    with TraceStore.open(db, write=True) as store:
        store.create_run(run)
        store.write_samples([make_sample(run.run_id, status="infra_error", n_events=6), make_sample(run.run_id, "t2")])
    with TraceStore.open(db, write=True) as store:  # after a "crash": the rows are on disk now
        again = make_sample(run.run_id, n_events=3)
        store.write_samples([again])
        assert store.samples(run.run_id, task_id="t1", with_events=True) == [again]
        assert store.query("SELECT count(*) FROM samples WHERE sample_id = ?", [again.sample_id]) == [(1,)]
        assert store.query("SELECT count(*) FROM events WHERE sample_id = ?", [again.sample_id]) == [(3,)]
        last = make_sample(run.run_id, "t2", correct=False)
        store.write_samples([make_sample(run.run_id, "t2", n_events=2), last])  # duplicates in one call
        assert store.samples(run.run_id, task_id="t2", with_events=True) == [last]
        assert store.query("SELECT count(*) FROM samples") == [(2,)]


def test_write_samples_is_one_transaction(wstore: TraceStore) -> None:
    run = make_run()
    wstore.create_run(run)
    good = make_sample(run.run_id, "t1")
    bad = replace(make_sample(run.run_id, "t2"), events=(Event(seq=0, kind="user", turn=0),) * 2)  # seq clash
    with pytest.raises(StoreError):
        wstore.write_samples([good, bad])
    assert wstore.samples(run.run_id) == []
    with pytest.raises(RunNotFoundError, match="no run other"):
        wstore.write_samples([make_sample("other")])
    assert wstore.query("SELECT count(*) FROM events") == [(0,)]


def test_sample_filters_and_finished_ids(wstore: TraceStore) -> None:
    run = make_run()
    wstore.create_run(run)
    batch = [
        make_sample(run.run_id, "t1", "gpt"),
        make_sample(run.run_id, "t1", "local", status="infra_error"),
        make_sample(run.run_id, "t2", "gpt", status="cancelled"),
        make_sample(run.run_id, "t2", "gpt", epoch=1),
    ]
    wstore.write_samples(batch)
    assert [s.sample_id for s in wstore.samples(run.run_id)] == ["t1|gpt|0", "t1|local|0", "t2|gpt|0", "t2|gpt|1"]
    assert [s.sample_id for s in wstore.samples(run.run_id, model="gpt", task_id="t2")] == ["t2|gpt|0", "t2|gpt|1"]
    assert wstore.samples(run.run_id, model="local", with_events=True) == [batch[1]]
    assert wstore.samples(run.run_id, model="nobody") == []
    assert wstore.finished_sample_ids(run.run_id) == {"t1|gpt|0", "t2|gpt|1"}
    with pytest.raises(RunNotFoundError):
        wstore.samples("nope")
    with pytest.raises(RunNotFoundError):
        wstore.finished_sample_ids("nope")


def test_scores_upsert_and_filter(wstore: TraceStore) -> None:
    run = make_run()
    wstore.create_run(run)
    sid = make_sample(run.run_id).sample_id
    first = make_score(run.run_id, sid, "answer", verdict="fail")
    other = replace(make_score(run.run_id, sid, "schema"), rubric="other", evidence=())
    wstore.write_scores([first, other])
    again = make_score(run.run_id, sid, "answer", verdict="pass")
    wstore.write_scores([again, again])
    assert wstore.scores(run.run_id) == [again, other]
    assert wstore.scores(run.run_id, rubric="other") == [other]
    assert wstore.scores(run.run_id, rubric="missing") == []
    with pytest.raises(RunNotFoundError):
        wstore.write_scores([make_score("nope", sid)])


# ---- listing and resolving -------------------------------------------------------------------------------
def test_list_runs_summaries(wstore: TraceStore) -> None:
    old = make_run("20250101-aaaa", name="a", created_at="2025-01-01T00:00:00+00:00")
    new = make_run("20250102-bbbb", name="b", created_at="2025-01-02T00:00:00+00:00")
    for run in (old, new):
        wstore.create_run(run)
    wstore.write_samples(
        [
            make_sample(old.run_id, "t1", correct=True, cost_usd=0.5),
            make_sample(old.run_id, "t2", correct=False, cost_usd=0.25),
            make_sample(old.run_id, "t3", correct=None, cost_usd=None),
            make_sample(old.run_id, "t4", status="infra_error", correct=None, cost_usd=0.0),
        ]
    )
    newest, oldest = wstore.list_runs()
    assert newest.run_id == new.run_id and newest.samples == 0 and newest.accuracy is None
    assert newest.cost_usd == 0.0 and newest.cost_complete
    assert (oldest.name, oldest.suite, oldest.models, oldest.status) == (
        "a",
        "finance-single",
        ("gpt", "local"),
        "running",
    )
    assert (oldest.samples, oldest.finished, oldest.infra_errors) == (4, 3, 1)
    assert oldest.accuracy == 0.5
    assert oldest.cost_usd == 0.75 and not oldest.cost_complete
    assert oldest.created_at == old.created_at


def test_resolve_run(wstore: TraceStore) -> None:
    with pytest.raises(RunNotFoundError, match="no runs have been recorded"):
        wstore.resolve_run("latest")
    runs = [
        make_run("20250101-120000-aaaa", name="nightly", created_at="2025-01-01T12:00:00+00:00"),
        make_run("20250101-130000-bbbb", name="nightly", created_at="2025-01-01T13:00:00+00:00"),
        make_run("20250102-090000-cccc", name=None, created_at="2025-01-02T09:00:00+00:00"),
    ]
    for run in runs:
        wstore.create_run(run)
    assert wstore.resolve_run("latest") == runs[2]
    assert wstore.resolve_run(runs[0].run_id) == runs[0]
    assert wstore.resolve_run("20250101-12") == runs[0]
    assert wstore.resolve_run("nightly") == runs[1]
    with pytest.raises(RunNotFoundError) as ambiguous:
        wstore.resolve_run("20250101")
    assert "ambiguous" in str(ambiguous.value)
    assert runs[0].run_id in str(ambiguous.value) and runs[1].run_id in str(ambiguous.value)
    assert runs[2].run_id not in str(ambiguous.value)
    with pytest.raises(RunNotFoundError) as missing:
        wstore.resolve_run("weekly")
    assert "no run matches 'weekly'" in str(missing.value) and runs[2].run_id in str(missing.value)
