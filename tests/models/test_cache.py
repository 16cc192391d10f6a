"""The response cache is keyed on everything that decides a reply, and its entries can be inspected and removed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from evalkit.models.cache import FORMAT_VERSION, RequestKey, ResponseCache, cache_path
from evalkit.models.types import ModelReply
from evalkit.trace.types import Usage
from tests.cli_runner import run_cli

MINI = Path(__file__).resolve().parents[1] / "fixtures" / "mini"


def _reply(text: str) -> ModelReply:
    return ModelReply(content=text, tool_calls=(), usage=Usage(1, 1), latency_s=0.1, cost_usd=0.0)


def test_the_key_covers_what_decides_a_scripted_reply() -> None:
    messages = [{"role": "user", "content": "q"}]

    def key(**decides: str) -> str:
        return RequestKey({"model": "scripted/disciplined"}, [], 0, 0, decides).key(messages)

    base = key(task_id="t1", suite_hash="a", policy_code="p")
    assert base == key(task_id="t1", suite_hash="a", policy_code="p")
    assert base != key(task_id="t2", suite_hash="a", policy_code="p")
    assert base != key(task_id="t1", suite_hash="b", policy_code="p")
    assert base != key(task_id="t1", suite_hash="a", policy_code="q")


def test_a_suite_edited_between_runs_is_not_answered_from_the_old_replies(tmp_path: Path) -> None:
    """The misreading: after a suite's reference solution and answer changed, a cached re-run replayed the old
    replies and read 0% for an agent that scores 100% without the cache."""
    shutil.copytree(MINI, tmp_path / "mini")
    suite = tmp_path / "mini" / "suite"
    store = tmp_path / "store.duckdb"
    args = ("run", str(suite), "-m", "scripted/disciplined", "--tasks", "t1", "--store", str(store), "--no-progress")
    first = run_cli(*args, "--no-report", "--name", "before")
    assert first.exit_code == 0, first.stderr
    tasks = suite / "tasks.yaml"
    text = tasks.read_text()
    edited = text.replace("value: 1350.0", "value: 1500.0").replace(
        'SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"}\n      compute: rev',
        'SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2024"}\n      compute: rev',
        1,
    )
    assert edited != text
    tasks.write_text(edited)  # the same question, a corrected reference solution and answer
    again = run_cli(*args, "--no-report", "--name", "after")
    assert again.exit_code == 0, again.stderr
    from evalkit.api import get_samples

    _run, samples = get_samples(store, "after")
    assert [s.correct for s in samples] == [True]
    assert "1500" in (samples[0].final_answer or "")


def test_entries_of_an_older_format_are_never_read_and_prune_removes_them(tmp_path: Path) -> None:
    path = tmp_path / "old.cache.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL)")  # the format-1 layout
    con.execute("INSERT INTO replies VALUES ('k', '{}')")
    con.commit()
    con.close()
    cache = ResponseCache(path)
    assert cache.get("k") is None
    cache.put("new", _reply("fresh"))
    info = cache.info()
    assert (info.current, info.stale) == (1, 1)
    got = cache.get("new")
    assert got is not None and got.content == "fresh" and got.cached
    assert cache.prune() == 1
    assert (cache.info().current, cache.info().stale) == (1, 0)
    assert cache.prune(older_than_s=0) == 1
    assert cache.info().entries == 0
    cache.close()


def test_cache_commands(tmp_path: Path) -> None:
    store = tmp_path / "s.duckdb"
    missing = run_cli("cache", "info", "--store", str(store))
    assert missing.exit_code == 0 and "no response cache" in missing.stdout
    cache = ResponseCache(cache_path(store))
    for i in range(3):
        cache.put(f"k{i}", _reply(str(i)))
    cache.close()
    info = run_cli("cache", "info", "--store", str(store), "--json")
    assert info.exit_code == 0
    data = json.loads(info.stdout)
    assert (data["current"], data["stale"], data["format"]) == (3, 0, FORMAT_VERSION)
    assert run_cli("cache", "prune", "--store", str(store)).stdout.strip() == "removed 0 cached replies"
    assert run_cli("cache", "prune", "--store", str(store), "--older-than", "-1").exit_code == 2
    assert run_cli("cache", "clear", "--store", str(store)).stdout.strip() == "removed 3 cached replies"
    assert json.loads(run_cli("cache", "info", "--store", str(store), "--json").stdout)["current"] == 0


@pytest.mark.parametrize("damage", [b"not a database at all" * 100])
def test_a_damaged_cache_file_is_a_clear_error(tmp_path: Path, damage: bytes) -> None:
    store = tmp_path / "s.duckdb"
    cache_path(store).write_bytes(damage)
    result = run_cli("cache", "info", "--store", str(store))
    assert result.exit_code == 2
    assert "cannot be read" in result.stderr
