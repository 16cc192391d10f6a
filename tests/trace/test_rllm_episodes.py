"""rLLM's saved episodes (``rllm eval ... --save-episodes``) read and scored as they are.

The fixture (``tests/fixtures/rllm_episodes/generate.py``) is written from rLLM's own code: the run folder of
``rllm/eval/episode_store.py``, every field of ``rllm.types.Episode``/``Trajectory``/``Step``, the steps the
FinQA flow records (the whole conversation per step, ``thought`` = the reply's content, Qwen3's ``<think>``
left in the content) and the cookbook's tool texts. The labels below (who was right, which behaviour failed)
come from what each scripted episode does, not from evalkit's output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evalkit.api import score_traces
from evalkit.errors import ImportFormatError
from evalkit.trace.external import parse_correct_from
from evalkit.trace.rllm_episodes import read_rllm_episodes
from evalkit.trace.store import TraceStore
from tests.cli_runner import run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RUN = FIXTURES / "rllm_episodes" / "finqa_eval_run"
DATA = FIXTURES / "rllm_finqa"


@pytest.fixture(scope="module")
def finqa_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture dataset imported as a suite, as a user imports the cookbook's data."""
    from evalkit.api import suite_import_rllm_finqa

    out = tmp_path_factory.mktemp("finqa") / "suites"
    suite_import_rllm_finqa(DATA, out, split="test")
    return out / "test"


def _by_episode(traces: list) -> dict[str, object]:
    return {t.sample.metadata["external"]["episode_id"]: t.sample for t in traces}


def test_episodes_read_with_the_run_model_the_task_ids_and_the_skipped_error() -> None:
    notes: list[str] = []
    traces = read_rllm_episodes(RUN, run_id="r1", notes=notes)
    samples = _by_episode(traces)
    assert sorted(samples) == ["1:0", "2:0", "2:1", "4:0"]
    assert {s.model for s in samples.values()} == {"rLLM/rLLM-FinQA-4B"}  # from meta.json
    # the row's question_id names the task (the episode id holds the row's index)
    assert {k: s.task_id for k, s in samples.items()} == {
        "1:0": "finqa-0019", "4:0": "finqa-0022", "2:0": "finqa-0020", "2:1": "finqa-0020"
    }  # fmt: skip
    assert (samples["2:0"].epoch, samples["2:1"].epoch) == (0, 1)
    assert notes == ["skipped 1 rLLM episodes that ended in an error before any step"]
    meta = samples["1:0"].metadata["external"]
    assert (meta["is_correct"], meta["reward"], meta["kind"], meta["company"]) == (True, 1.0, "single_table", "marlow")
    assert meta["signals"] == {"accuracy": 1.0, "table_access": 1.0}


def test_the_conversation_is_put_together_once_with_reasoning_apart() -> None:
    sample = _by_episode(read_rllm_episodes(RUN, run_id="r1"))["1:0"]
    tools = [e for e in sample.events if e.kind == "tool"]
    assert [e.tool for e in tools] == ["get_table_names", "get_table_info", "sql_query", "sql_query", "calculator"]
    assert tools[0].arguments == {"company_name": "marlow"}
    assert [e.ok for e in tools] == [True, True, False, True, True]
    assert tools[2].content.startswith("Error : Column not found in table. Available columns are: NaT, 2023-01-01")
    models = [e for e in sample.events if e.kind == "model"]
    assert len(models) == 6 and [e.turn for e in models] == [1, 2, 3, 4, 5, 6]
    last = models[-1]
    assert last.reasoning.startswith("\n947 / 614 = 1.5423. Maybe I should say 2.0?")
    assert "<think>" not in (last.content or "") and "2.0" not in (last.content or "")
    assert sample.final_answer.startswith("The current ratio at the end of 2023 was 1.54")
    assert "Maybe" not in sample.final_answer


def test_without_a_suite_the_gold_answer_decides_and_the_stored_verdict_is_kept() -> None:
    samples = _by_episode(read_rllm_episodes(RUN, run_id="r1"))
    # the prose answer is right; the made-up one is wrong (the thinking's "FINAL ANSWER: 3.31" is not read);
    # the second rollout of the change says 2.0 for -2.0: rLLM's judge accepted it, evalkit's matcher does not
    assert {k: s.correct for k, s in samples.items()} == {"1:0": True, "4:0": False, "2:0": True, "2:1": False}
    assert samples["2:1"].metadata["stored_correct"]["correct"] is True
    assert samples["4:0"].final_answer == "2.10"


def test_the_stored_verdict_decides_when_there_is_no_gold(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    for file in (run / "episodes").glob("*.json"):
        data = json.loads(file.read_text())
        data["task"]["metadata"].pop("ground_truth")
        file.write_text(json.dumps(data))
    samples = _by_episode(read_rllm_episodes(run, run_id="r1"))
    assert {k: s.correct for k, s in samples.items()} == {"1:0": True, "4:0": False, "2:0": True, "2:1": True}
    signal = parse_correct_from("metadata.reward>=1")
    by_reward = _by_episode(read_rllm_episodes(run, run_id="r1", correct_from=signal))
    assert by_reward["2:1"].correct is True and by_reward["4:0"].correct is False


def test_broken_episode_files_are_named_with_the_key(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    first = sorted((run / "episodes").glob("*.json"))[0]
    data = json.loads(first.read_text())
    data["trajectories"][0]["steps"][1]["chat_completions"] = "not a list"
    first.write_text(json.dumps(data))
    (run / "episodes" / "episode_000009_9.json").write_text('{\n  "id": ')
    with pytest.raises(ImportFormatError) as err:
        read_rllm_episodes(run, run_id="r1")
    text = str(err.value)
    assert f"{first}: trajectories[0].steps[1].chat_completions: must be a list of chat messages" in text
    assert "episode_000009_9.json:2: invalid JSON" in text


def test_episodes_score_against_the_imported_suite(finqa_suite: Path, store: Path) -> None:
    result = score_traces(RUN, ["tool-discipline", "answer"], suite=finqa_suite, store_path=store)
    assert result.samples == 4
    assert any("skipped 1 rLLM episodes" in n for n in result.notes)
    with TraceStore.open(store, write=False) as st:
        samples = {s.metadata["external"]["episode_id"]: s for s in st.samples(result.run.run_id)}
        scores = st.scores(result.run.run_id)
    verdicts = {(sc.sample_id, sc.criterion): sc.verdict for sc in scores}
    assert {k: s.correct for k, s in samples.items()} == {"1:0": True, "4:0": False, "2:0": True, "2:1": False}

    def of(episode: str, criterion: str) -> str:
        return verdicts[(samples[episode].sample_id, criterion)]

    # listed the tables, read the schema, hit a column error and fixed the query
    # (the wrong column it fixed right after the error is tolerated, as the rubric says)
    criteria = ("discovered_tables", "inspected_schema", "recovered_after_error", "valid_identifiers")
    assert [of("1:0", c) for c in criteria] == ["pass"] * 4
    # the cookbook's own column names (pandas made "2023" a date there: "2023-01-01 00:00:00", and the empty
    # label NaT) are the catalog's columns by their source_name, in a query the tool refused for its filter
    assert of("2:0", "valid_identifiers") == "pass"
    # queried a table that does not exist, twice, then made up an answer
    assert [of("4:0", c) for c in ("discovered_tables", "valid_identifiers", "no_unfounded_answer")] == ["fail"] * 3
    assert of("4:0", "recovered_after_error") == "fail"
    # the cookbook's error texts are read as what they say: a table that could not be found was rejected by
    # the tool, a column hint is an unknown column, an unfiltered query a refusal
    reasons = {(sc.sample_id, sc.criterion): sc.reason for sc in scores}
    assert "(1 rejected by the tool)" in reasons[(samples["4:0"].sample_id, "valid_identifiers")]
    assert "(unknown_column)" in reasons[(samples["1:0"].sample_id, "recovered_after_error")]
    assert "(refused)" in reasons[(samples["2:0"].sample_id, "recovered_after_error")]


def test_score_traces_cli_reads_an_episode_folder(finqa_suite: Path, store: Path) -> None:
    out = run_cli("score", "--traces", RUN, "--suite", finqa_suite, "-r", "tool-discipline", "--store", store)
    assert out.exit_code == 0, out.stderr
    assert "4 samples" in out.stdout or "4 episodes" in out.stdout, out.stdout
    shown = run_cli("show", "latest", "--store", store)
    assert shown.exit_code == 0, shown.stderr


def test_the_cookbook_names_count_only_for_traces_recorded_there(
    finqa_suite: Path, store: Path, tmp_path: Path
) -> None:
    """The same query through evalkit's own tools (an OpenAI-format log, not an rLLM episode, no rllm-finqa
    call) names columns that do not exist in the suite."""
    from evalkit.api import get_samples

    query = (
        'SELECT NaT, "2023-01-01 00:00:00" FROM marlow_consolidated_statements_of_operations '
        "WHERE NaT = 'Interest expense, net'"
    )
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "sql_query", "arguments": json.dumps({"query": query})},
    }
    messages = [
        {"role": "user", "content": "What was the change in net interest expense?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": 'Error: Binder Error: Referenced column "NaT" not found'},
        {"role": "assistant", "content": "FINAL ANSWER: -2.0"},
    ]
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps({"task_id": "finqa-0020", "messages": messages}) + "\n")
    result = score_traces(log, ["tool-discipline"], suite=finqa_suite, store_path=store)
    _, (sample,) = get_samples(store, result.run.run_id)
    with TraceStore.open(store, write=False) as st:
        verdict = {sc.criterion: sc for sc in st.scores(result.run.run_id)}["valid_identifiers"]
    assert sample.metadata.get("source") != "rllm"
    assert verdict.verdict == "fail" and "2023-01-01 00:00:00" in verdict.reason, verdict.reason
