"""Sample ids are collision-free: a ``|`` inside a task id or model name cannot make two samples one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import evalkit
from evalkit.errors import StoreError
from evalkit.scoring.service import score_traces
from evalkit.trace.store import TraceStore
from evalkit.trace.types import SampleKey, sample_id_of, split_sample_id
from tests.trace import make_run, make_sample
from tests.trace.test_external import disciplined, reckless, write_jsonl

names = st.text(alphabet=st.sampled_from(["a", "b", "|", "\\", "x", "0"]), max_size=6)


@given(task=names, model=names, epoch=st.integers(0, 99), task2=names, model2=names, epoch2=st.integers(0, 99))
def test_sample_ids_are_unique_and_split_back(
    task: str, model: str, epoch: int, task2: str, model2: str, epoch2: int
) -> None:
    one, two = sample_id_of(task, model, epoch), sample_id_of(task2, model2, epoch2)
    assert split_sample_id(one) == (task, model, str(epoch))
    assert (one == two) == ((task, model, epoch) == (task2, model2, epoch2))


def test_ids_of_ordinary_names_are_unchanged() -> None:
    assert SampleKey("t1", "scripted/disciplined", 2).sample_id == "t1|scripted/disciplined|2"
    assert SampleKey("a|b", "c", 0).sample_id == "a\\|b|c|0"
    assert SampleKey("a", "b|c", 0).sample_id == "a|b\\|c|0"


def test_the_colliding_pair_is_stored_as_two_samples(tmp_path: Path) -> None:
    run = make_run()
    pair = [
        replace(make_sample(run.run_id), task_id="a|b", model="c"),
        replace(make_sample(run.run_id), task_id="a", model="b|c"),
    ]
    with TraceStore.open(tmp_path / "s.duckdb", write=True) as store:
        store.add_run(run, pair)
        got = store.samples(run.run_id, with_events=True)
    assert sorted((s.task_id, s.model) for s in got) == [("a", "b|c"), ("a|b", "c")]
    assert all(len(s.events) == len(pair[0].events) for s in got)  # each found its own events


def test_an_import_that_would_lose_a_sample_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    run = make_run()
    same = make_sample(run.run_id)
    with TraceStore.open(tmp_path / "s.duckdb", write=True) as store:
        with pytest.raises(StoreError, match="2 samples given but 1 stored"):
            store.add_run(run, [same, replace(same, correct=False)])
        assert store.list_runs() == []


def test_score_traces_keeps_both_episodes_of_the_colliding_pair(tmp_path: Path, store: Path) -> None:
    first = {**disciplined(), "task_id": "a|b", "model": "c"}
    second = {**reckless(), "task_id": "a", "model": "b|c"}
    traces = write_jsonl(tmp_path / "pair.jsonl", [first, second])
    rubric = Path(__file__).resolve().parents[2] / "rubrics" / "tool-discipline.yaml"
    result = score_traces(traces, [rubric], suite=None, store_path=store)
    assert result.samples == 2
    _, samples = evalkit.get_samples(store, result.run.run_id, with_events=True)
    assert sorted((s.task_id, s.model) for s in samples) == [("a", "b|c"), ("a|b", "c")]
    assert {s.sample_id for s in samples} == {sc.sample_id for sc in result.scores}
    assert [r.samples for r in evalkit.list_runs(store)] == [2]
