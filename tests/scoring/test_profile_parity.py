"""Every scripted persona through ``tools: {profile: evalkit}`` and ``tools: {profile: rllm-finqa}`` gets the same
verdicts from the built-in rubrics: the trace view reads both profiles' calls as the same facts.

Run on a subset of the built-in suites (``finance-single``'s first tasks; ``finance-multi``'s first ones, one
needing a rename and the cross-company tasks that have no company). The rubrics are ``tool-discipline`` and
``answer``; ``narrative-judge`` needs a judge model, and is skipped in both profiles alike.

One difference is inherent, and the only one allowed: a script that names a table without its company prefix
(``revenue_by_segment`` for ``northwind_revenue_by_segment``) slips in the evalkit profile (an unknown table,
then corrected: ``recovered_after_error`` passes) but may name the table's own identifier in the rllm-finqa
profile, where nothing fails (``recovered_after_error`` does not apply). (Where the script slips on a column
instead, as it does when the schema it reads back has other words in it, both profiles pass.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from evalkit.api import get_samples, get_scores, run_suite
from evalkit.contracts.builtin import builtin_dir
from evalkit.contracts.config import SCRIPTED_AGENTS
from evalkit.contracts.loader import load_suite
from evalkit.env.database import build_database
from evalkit.trace.types import Sample

SUBSETS: dict[str, dict[str, Any]] = {
    "finance-single": {"limit": 16},
    "finance-multi": {"tasks": "fm-00[1-8],fm-029,fm-048,fm-049,fm-05[0-5]"},
}
RUBRICS = ["tool-discipline", "answer"]

Key = tuple[str, str, str]  # model, task, rubric.criterion


def suite_copy(name: str, profile: str, root: Path) -> Path:
    """The built-in suite with its tool profile set (its tasks and database where they are)."""
    src = builtin_dir("suites") / name
    data = yaml.safe_load((src / "suite.yaml").read_text(encoding="utf-8"))
    data["database"] = str((src / data["database"]).resolve())
    data["tasks"] = str((src / data.get("tasks", "tasks.yaml")).resolve())
    data["tools"] = {"profile": profile}
    folder = root / f"{name}-{profile}"
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return folder


def run_profile(
    name: str, profile: str, root: Path
) -> tuple[dict[Key, tuple[str, Any]], dict[tuple[str, str], Sample]]:
    store = root / f"{name}-{profile}.duckdb"
    result = run_suite(
        str(suite_copy(name, profile, root)),
        list(SCRIPTED_AGENTS),
        store=store,
        rubrics=RUBRICS,
        preflight=False,
        use_cache=False,
        **SUBSETS[name],
    )
    _, samples = get_samples(store, result.run.run_id)
    by_id = {s.sample_id: s for s in samples}
    _, scores = get_scores(store, result.run.run_id)
    verdicts: dict[Key, tuple[str, Any]] = {
        (by_id[x.sample_id].model, by_id[x.sample_id].task_id, f"{x.rubric}.{x.criterion}"): (x.verdict, x.value)
        for x in scores
    }
    return verdicts, {(s.model, s.task_id): s for s in samples}


def prefix_slip(sample: Sample, tables: set[str]) -> bool:
    """The sample's script named a real table without its company prefix (an unknown table in evalkit)."""
    for e in sample.events:
        missing = str((e.data or {}).get("missing") or "") if e.kind == "tool" else ""
        if e.error_type == "unknown_table" and any(t.endswith("_" + missing) for t in tables if missing):
            return True
    return False


@pytest.fixture(scope="module", params=list(SUBSETS))
def both(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    name = request.param
    root = tmp_path_factory.mktemp(name)
    catalog = build_database(load_suite(name).database).catalog
    return {
        "evalkit": run_profile(name, "evalkit", root),
        "rllm": run_profile(name, "rllm-finqa", root),
        "tables": {t.name for t in catalog.tables},
    }


def test_every_persona_ran_through_both_profiles(both: dict[str, Any]) -> None:
    ev, rl = both["evalkit"][1], both["rllm"][1]
    assert set(ev) == set(rl) and {m for m, _ in ev} == set(SCRIPTED_AGENTS)
    rllm_calls = [e for s in rl.values() for e in s.events if e.kind == "tool" and e.tool != "calculator"]
    assert rllm_calls and all("company_name" in (e.arguments or {}) for e in rllm_calls)
    for key, sample in ev.items():  # the same answers, turns and calls
        other = rl[key]
        assert (other.correct, other.stop_reason, other.tool_calls) == (
            sample.correct,
            sample.stop_reason,
            sample.tool_calls,
        ), key
        assert [e.tool for e in other.events if e.kind == "tool"] == [e.tool for e in sample.events if e.kind == "tool"]


def test_same_verdicts_on_every_criterion(both: dict[str, Any]) -> None:
    ev, rl = both["evalkit"][0], both["rllm"][0]
    assert set(ev) == set(rl) and len(ev) > 500
    criteria = {c for _, _, c in ev}
    assert {
        "tool-discipline.inspected_schema",
        "tool-discipline.valid_identifiers",
        "answer.answer_correct",
    } <= criteria
    slips = {k for k, s in both["evalkit"][1].items() if prefix_slip(s, both["tables"])}
    differ = {k for k in ev if ev[k] != rl[k]}
    expected = {(m, t, c) for (m, t, c) in ev if (m, t) in slips and c == "tool-discipline.recovered_after_error"}
    assert differ <= expected, sorted(differ - expected)
    for k in differ:  # the slip has no counterpart: nothing failed, so there was nothing to recover from
        assert (ev[k][0], rl[k][0]) == ("pass", "na"), k
        assert not any(not e.ok for e in both["rllm"][1][k[:2]].events if e.kind == "tool"), k
    assert {v for k, v in ev.items() if k[2] == "tool-discipline.safe_sql"} >= {("fail", 0.0)}  # hostile is caught
