"""``evalkit export-failures`` end to end over a scripted run of the mini suite: the tasks exported are the ones
whose samples failed the criterion in the store, the filters narrow them, every tool result of a
demonstration is what the tools return, the lines re-import as a suite that verifies, the rLLM rows fit the
cookbook's layout, and every request that cannot be met is an exit-2 error that says what to run."""

from __future__ import annotations

import json
import shlex
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import jsonschema
import pytest

from evalkit.contracts.answers import check_answer
from evalkit.contracts.loader import load_suite
from evalkit.contracts.yamlfile import load_schema
from evalkit.env.database import build_database
from evalkit.env.tools import FinanceEnvironment
from tests.cli_runner import run_cli
from tests.conftest import FIXTURES, isolated_env

MINI = FIXTURES / "mini" / "suite"
MODELS = ("scripted/skips-discovery", "scripted/noisy@0.5", "scripted/disciplined")
RLLM_KEYS = {
    "question", "ground_truth", "data_source", "company", "question_id", "question_type", "core_question",
    "table_name", "columns_used", "rows_used", "explanation",
}  # fmt: skip
"""The keys of ``preprocess_fn`` in rLLM's cookbooks/finqa/prepare_finqa_data.py."""

Env = dict[str, str | None]


@pytest.fixture(scope="module")
def run_env(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Env:
    """The environment of a store holding run ``ef``: three personas over the mini suite, two epochs, scored
    with tool-discipline (skips-discovery never reads a schema; noisy sometimes does not; disciplined does)."""
    env = isolated_env(tmp_path_factory.mktemp("export-failures"), cache_dir)
    models = [w for m in MODELS for w in ("--model", m)]
    out = run_cli(
        "run", MINI, *models, "--epochs", "2", "--seed", "19", "--rubric", "tool-discipline", "--name", "ef", env=env
    )
    assert out.exit_code == 0, out.stderr
    return env


def export(env: Env, *args: str | Path) -> tuple[list[dict[str, Any]], str]:
    out = run_cli("export-failures", *args, env=env)
    assert out.exit_code == 0, out.stderr
    target = Path(args[list(args).index("-o") + 1])
    return [json.loads(line) for line in target.read_text().splitlines()], out.stdout + out.stderr


def stored_failures(env: Env, criterion: str, model: str | None = None) -> dict[str, dict[str, Any]]:
    """task → failed sample ids, finished samples and per-model counts, straight from the store's tables."""
    con = duckdb.connect(str(env["EVALKIT_STORE"]), read_only=True)
    try:
        rows = con.execute(
            "SELECT s.task_id, s.model, s.sample_id, sc.verdict FROM samples s "
            "JOIN scores sc USING (run_id, sample_id) WHERE sc.criterion = ? AND s.status = 'ok'",
            [criterion],
        ).fetchall()
    finally:
        con.close()
    out: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"ids": [], "samples": 0, "by_model": defaultdict(lambda: [0, 0])}
    )
    for task, m, sample_id, verdict in rows:
        if model is not None and m != model:
            continue
        out[task]["samples"] += 1
        out[task]["by_model"][m][1] += 1
        if verdict == "fail":
            out[task]["ids"].append(sample_id)
            out[task]["by_model"][m][0] += 1
    return {t: v for t, v in out.items() if v["ids"]}


def test_the_exported_tasks_are_exactly_those_whose_samples_failed(run_env: Env, tmp_path: Path) -> None:
    lines, said = export(run_env, "ef", "--criterion", "inspected_schema", "-o", tmp_path / "f.jsonl")
    expected = stored_failures(run_env, "inspected_schema")
    assert [line["id"] for line in lines] == sorted(expected) and len(expected) >= 3
    for line in lines:
        got, want = line["export"], expected[line["id"]]
        assert sorted(got["sample_ids"]) == sorted(want["ids"]) and got["failed"] == len(want["ids"])
        assert got["samples"] == want["samples"]
        failing_models = {m: {"failed": f, "samples": n} for m, (f, n) in want["by_model"].items() if f}
        assert got["by_model"] == failing_models and "scripted/disciplined" not in got["by_model"]
        assert (got["rubric"], got["criterion"], got["run"]) == ("tool-discipline", "inspected_schema", "ef")
    failed = sum(len(v["ids"]) for v in expected.values())
    assert f"{len(lines)} task(s) where tool-discipline.inspected_schema failed ({failed} of their" in said


def test_kind_and_model_narrow_the_tasks(run_env: Env, tmp_path: Path) -> None:
    suite = load_suite(MINI)
    single = {t.id for t in suite.tasks if t.kind == "single_table"}
    lines, _ = export(run_env, "ef", "-c", "inspected_schema", "--kind", "single_table", "-o", tmp_path / "s.jsonl")
    assert [line["id"] for line in lines] == sorted(set(stored_failures(run_env, "inspected_schema")) & single)
    assert all(line["kind"] == "single_table" for line in lines) and len(lines) < len(suite.tasks)

    noisy = "scripted/noisy@0.5"
    want = stored_failures(run_env, "inspected_schema", model=noisy)
    args = ("ef", "-c", "tool-discipline.inspected_schema", "--model", noisy, "-o", tmp_path / "n.jsonl")
    lines, _ = export(run_env, *args)
    assert 0 < len(want) < len(suite.tasks)  # noisy fails the criterion on some tasks only
    assert [line["id"] for line in lines] == sorted(want)
    assert all(set(line["export"]["by_model"]) == {noisy} for line in lines)
    assert all(line["export"]["samples"] == 2 for line in lines)  # one model's two epochs, not every model's


def test_each_trajectory_is_the_reference_run_through_the_real_tools(run_env: Env, tmp_path: Path) -> None:
    lines, _ = export(run_env, "ef", "-c", "inspected_schema", "-o", tmp_path / "f.jsonl")
    suite = load_suite(MINI)
    with FinanceEnvironment(build_database(suite.database), suite.settings) as env:
        for line in lines:
            task = suite.task(line["id"])
            messages = line["messages"]
            assert [m["role"] for m in messages[:2]] == ["system", "user"] and messages[1]["content"] == task.question
            calls = [m["tool_calls"][0]["function"] for m in messages if m.get("tool_calls")]
            results = [m for m in messages if m["role"] == "tool"]
            assert len(calls) == len(results)
            for call, result in zip(calls, results, strict=True):
                assert env.call(call["name"], json.loads(call["arguments"])).content == result["content"]
            names = [c["name"] for c in calls]
            assert names[0] == "get_table_names"
            infos = [json.loads(c["arguments"])["table"] for c in calls if c["name"] == "get_table_info"]
            assert infos == list(task.tables)
            queries = [json.loads(c["arguments"])["query"] for c in calls if c["name"] == "sql_query"]
            assert queries == [s.sql for s in task.reference.steps]
            plain = task.reference.compute in (None, task.reference.steps[-1].bind)
            assert ("calculator" in names) is not plain
            final = messages[-1]
            assert final["role"] == "assistant" and final["content"].startswith("FINAL ANSWER: ")
            assert check_answer(task.answer, final["content"], question=task.question).correct
            assert {t["function"]["name"] for t in line["tools"]} == set(names) | {"calculator"}


def test_the_demonstrations_pass_the_criterion_that_failed(run_env: Env, tmp_path: Path) -> None:
    import evalkit

    lines, _ = export(run_env, "ef", "-c", "inspected_schema", "-o", tmp_path / "f.jsonl")
    traces = tmp_path / "traces.jsonl"
    traces.write_text("".join(json.dumps({"messages": x["messages"], "task_id": x["id"]}) + "\n" for x in lines))
    result = evalkit.score_traces(traces, ["tool-discipline"], suite=str(MINI), store_path=tmp_path / "t.duckdb")
    verdicts = {s.verdict for s in result.scores if s.criterion == "inspected_schema"}
    assert verdicts == {"pass"}
    assert all(s.verdict != "fail" for s in result.scores), [s for s in result.scores if s.verdict == "fail"]


def test_the_lines_reimport_as_a_suite_that_verifies(run_env: Env, tmp_path: Path) -> None:
    target = tmp_path / "f.jsonl"
    lines, said = export(run_env, "ef", "-c", "inspected_schema", "-o", target)
    command = next(line for line in said.splitlines() if line.startswith("re-import: "))
    words = shlex.split(command.removeprefix("re-import: "))
    database = words[words.index("--tables") + 1]
    out = run_cli(
        "suite",
        "import",
        "again",
        "--tables",
        database,
        "--questions",
        target,
        "--out",
        tmp_path / "again",
        env=run_env,
    )
    assert out.exit_code == 0, out.stderr
    assert f"{len(lines)} with a verified reference" in out.stdout
    verified = run_cli("suite", "verify", tmp_path / "again", env=run_env)
    assert verified.exit_code == 0 and f"{len(lines)}/{len(lines)} tasks verified" in verified.stdout
    again = load_suite(tmp_path / "again")
    original = load_suite(MINI)
    for task in again.tasks:
        assert task.answer == original.task(task.id).answer and task.tables == original.task(task.id).tables


def test_rllm_rows_fit_the_cookbook_layout(run_env: Env, tmp_path: Path) -> None:
    rows, said = export(run_env, "ef", "-c", "inspected_schema", "--format", "rllm", "-o", tmp_path / "r.jsonl")
    schema = load_schema("rllm-finqa-row")
    suite = load_suite(MINI)
    assert rows and "as rLLM FinQA rows" in said
    for row in rows:
        jsonschema.Draft202012Validator(schema).validate(row)
        assert set(row) == RLLM_KEYS
        task = suite.task(row["question_id"])
        assert row["table_name"] == list(task.tables) and row["company"] == task.company
        assert row["question_type"] == task.kind and row["question"] == row["core_question"] == task.question
        assert check_answer(task.answer, f"FINAL ANSWER: {row['ground_truth']}").correct
        assert row["columns_used"] and all(isinstance(c, str) for c in row["columns_used"])
    bad = dict(rows[0], table_name="acme_income_statement")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(bad)


def test_an_exported_run_file_is_read_as_the_stored_run(run_env: Env, tmp_path: Path) -> None:
    out = run_cli("export", "ef", "-o", tmp_path / "run.jsonl", env=run_env)
    assert out.exit_code == 0, out.stderr
    from_file, _ = export(run_env, tmp_path / "run.jsonl", "-c", "inspected_schema", "-o", tmp_path / "a.jsonl")
    from_store, _ = export(run_env, "ef", "-c", "inspected_schema", "-o", tmp_path / "b.jsonl")
    assert from_file == from_store


def mini_copy(folder: Path, *, tasks: str | None = None, profile: str | None = None) -> Path:
    """The mini suite in ``folder`` (its database where it is), with other tasks or a tool profile."""
    suite = folder / "suite"
    suite.mkdir()
    text = (MINI / "suite.yaml").read_text().replace("database: ../data", f"database: {MINI.parent / 'data'}")
    (suite / "suite.yaml").write_text(text + (f"tools:\n  profile: {profile}\n" if profile else ""))
    (suite / "tasks.yaml").write_text(tasks if tasks is not None else (MINI / "tasks.yaml").read_text())
    return suite


def test_a_task_without_reference_sql_is_exported_without_a_trajectory(cache_dir: Path, tmp_path: Path) -> None:
    tasks = (MINI / "tasks.yaml").read_text()
    suite = mini_copy(tmp_path, tasks=tasks[: tasks.index("    reference:", tasks.index("id: t4"))])
    env = isolated_env(tmp_path, cache_dir)
    out = run_cli("run", suite, "--model", "scripted/big-model", "--rubric", "tool-discipline", env=env)
    assert out.exit_code == 0, out.stderr
    lines, said = export(env, "latest", "-c", "inspected_schema", "-o", tmp_path / "f.jsonl")
    by_id = {line["id"]: line for line in lines}
    assert by_id["t4"]["messages"] is None and by_id["t4"]["export"]["no_trajectory"] == "no reference SQL"
    assert "sql" not in by_id["t4"] and all(by_id[t]["messages"] for t in ("t1", "t2", "t3"))
    assert "t4: no trajectory (no reference SQL)" in said and "1 task(s) without reference SQL" in said
    assert f"{len(lines) - 1} with a trajectory" in said


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-c", "no_such_check"), "unknown criterion 'no_such_check'"),
        (("-c", "inspected_schema", "--rubric", "answer"), "not in rubric answer; the run's scored criteria: none"),
        (("-c", "answer_correct"), "run `evalkit score ef --rubric answer` first"),
        (("-c", "safe_sql"), "did not fail in run ef"),
        (
            ("-c", "inspected_schema", "--model", "scripted/disciplined"),
            "did not fail in run ef for scripted/disciplined",
        ),
        (("-c", "inspected_schema", "--model", "nobody"), "has no finished sample of it"),
        (("-c", "inspected_schema", "--kind", "wide"), "use single_table or multi_table"),
        (("-c", "inspected_schema", "--format", "csv"), "use one of openai, rllm"),
    ],
)
def test_requests_that_cannot_be_met_exit_2(run_env: Env, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    out = run_cli("export-failures", "ef", *args, "-o", tmp_path / "x.jsonl", env=run_env)
    assert out.exit_code == 2 and message in out.stderr, out.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_an_unscored_run_says_which_score_command_to_run(run_env: Env, tmp_path: Path) -> None:
    env = {**run_env, "EVALKIT_STORE": str(tmp_path / "store.duckdb")}
    assert run_cli("run", MINI, "--model", "scripted/reckless", "--name", "bare", env=env).exit_code == 0
    out = run_cli("export-failures", "bare", "-c", "inspected_schema", "-o", tmp_path / "x.jsonl", env=env)
    assert out.exit_code == 2
    assert "run `evalkit score bare --rubric tool-discipline` first" in out.stderr


def test_the_report_names_a_command_that_exports_what_it_ranks(run_env: Env, tmp_path: Path) -> None:
    out = run_cli("report", "ef", "-f", "json", "-o", tmp_path / "r.json", env=run_env)
    assert out.exit_code == 0, out.stderr
    groups = json.loads((tmp_path / "r.json").read_text())["groups"]
    noisy = next(g for g in groups if g["model"] == "scripted/noisy@0.5")
    assert [(c["rubric"], c["criterion"]) for c in noisy["export_commands"]] == [
        (b["rubric"], b["criterion"]) for b in noisy["train_next"]
    ]
    first = noisy["export_commands"][0]
    words = shlex.split(first["command"])
    assert words[:3] == ["evalkit", "export-failures", "ef"] and words[words.index("--kind") + 1] == first["kind"]
    done = run_cli(*words[1:], cwd=tmp_path, env=run_env)
    assert done.exit_code == 0, done.stderr
    lines = [json.loads(x) for x in (tmp_path / words[-1]).read_text().splitlines()]
    assert lines and all(x["kind"] == first["kind"] for x in lines)
    kinds = {t.id: t.kind for t in load_suite(MINI).tasks}
    want = stored_failures(run_env, first["criterion"], model="scripted/noisy@0.5")
    assert [x["id"] for x in lines] == sorted(t for t in want if kinds[t] == first["kind"])
    assert first["failed_samples"] == sum(len(v["ids"]) for v in want.values())
    term = run_cli("report", "ef", env=run_env)
    assert first["command"] in term.stdout


def test_import_reads_past_exactly_the_keys_an_export_adds() -> None:
    from evalkit.report.failure_export import PASSED_OVER as written
    from evalkit.suites.questions import FIELDS
    from evalkit.suites.questions import PASSED_OVER as read

    assert written == read and not set(read) & set(FIELDS)


def test_arithmetic_sql_reads_otherwise_is_demonstrated_but_not_folded_into_one_query() -> None:
    import math
    from dataclasses import replace

    from evalkit.contracts.suite import Tolerance
    from evalkit.env.prompt import system_prompt
    from evalkit.report.demonstration import demonstrate, single_query

    suite = load_suite(MINI)
    t2 = suite.task("t2")
    answer = replace(t2.answer, value=math.log(1500 / 1350), unit=None, tolerance=Tolerance(abs=1e-6))
    task = replace(t2, answer=answer, reference=replace(t2.reference, compute="log(rev_2024 / rev_2023)"))
    with FinanceEnvironment(build_database(suite.database), suite.settings) as env:
        demo = demonstrate(task, env, system_prompt(None))
        assert demo.messages is not None and demo.answer is not None
        calc = [
            m for m in demo.messages if m.get("tool_calls") and m["tool_calls"][0]["function"]["name"] == "calculator"
        ]
        assert json.loads(calc[0]["tool_calls"][0]["function"]["arguments"]) == {"expression": "log(1500 / 1350)"}
        assert single_query(task, env) is None  # DuckDB's log is base 10: folding it would change the answer
        assert single_query(t2, env) is not None
        wrong = replace(task, answer=replace(answer, value=1.0))
        missed = demonstrate(wrong, env, system_prompt(None))
        assert missed.messages is None and missed.reason and "the reference solution gives" in missed.reason


def test_a_suite_on_the_rllm_finqa_profile_is_demonstrated_in_the_cookbook_tools(
    cache_dir: Path, tmp_path: Path
) -> None:
    import evalkit
    from evalkit.env.profiles import profile_system_prompt
    from evalkit.env.tools import EnvironmentPool

    suite = mini_copy(tmp_path, profile="rllm-finqa")
    env = isolated_env(tmp_path, cache_dir)
    out = run_cli("run", suite, "--model", "scripted/skips-discovery", "--rubric", "tool-discipline", env=env)
    assert out.exit_code == 0, out.stderr
    lines, _ = export(env, "latest", "-c", "inspected_schema", "-o", tmp_path / "f.jsonl")
    spec = load_suite(suite)
    pool = EnvironmentPool(build_database(spec.database), spec.settings)
    try:
        with pool() as tools:
            assert lines and all(line["tools"] == tools.tool_specs() for line in lines)
            for line in lines:
                messages = line["messages"]
                assert messages[0]["content"] == profile_system_prompt(spec.settings)
                calls = [m["tool_calls"][0]["function"] for m in messages if m.get("tool_calls")]
                replies = [m["content"] for m in messages if m["role"] == "tool"]
                for call, reply in zip(calls, replies, strict=True):
                    arguments = json.loads(call["arguments"])
                    assert call["name"] == "calculator" or arguments["company_name"] == spec.task(line["id"]).company
                    assert tools.call(call["name"], arguments).content == reply
    finally:
        pool.close()
    traces = tmp_path / "traces.jsonl"
    traces.write_text("".join(json.dumps({"messages": x["messages"], "task_id": x["id"]}) + "\n" for x in lines))
    result = evalkit.score_traces(traces, ["tool-discipline"], suite=str(suite), store_path=tmp_path / "t.duckdb")
    assert {s.verdict for s in result.scores if s.criterion == "inspected_schema"} == {"pass"}


def test_an_output_that_cannot_be_written_is_an_error_not_a_traceback(run_env: Env, tmp_path: Path) -> None:
    out = run_cli("export-failures", "ef", "-c", "inspected_schema", "-o", tmp_path, env=run_env)
    assert out.exit_code == 2 and f"cannot write {tmp_path}" in out.stderr and "Traceback" not in out.stderr
