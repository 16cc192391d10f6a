"""Hostile SQL and calculator input through the agent's real tool path (``FinanceEnvironment.call``).

Every query runs as an agent's would: the checks in this process, execution in a sandbox worker process
with an address-space limit and a hard kill. The corpus asserts that nothing outside the suite is read or
written, that no setting changes, that the queries DuckDB alone does not bound end as ``timeout`` or
``resource_limit`` tool errors (the kill worked: unbounded they run for minutes and take gigabytes), and
that this process's peak memory stays bounded whatever the queries ask for. How long each query took is
``bench/bench_attack.py``'s to show, not a test's.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.contracts.suite import SuiteSettings
from evalkit.env import isolation
from evalkit.env.database import BuiltDatabase, build_database
from evalkit.env.tools import FinanceEnvironment, ToolResult
from tests.env.conftest import write_catalog

TIMEOUT_S = 1.0
SLACK_S = 1.0
PARENT_PEAK_BYTES = 1536 << 20
SENTINEL = "SENTINEL-7f3a9c-not-for-agents"
T = "northwind_income_statement"

# ``{secret}`` is a file outside the suite holding SENTINEL; ``{out}`` a path that must never be created.
HOSTILE_SQL: list[str] = [
    # memory and time bombs that DuckDB alone does not bound
    "SELECT len(range(100000000)) AS n",
    "SELECT len(range(300000000)) AS n",
    "SELECT count(*) AS n FROM (SELECT unnest(range(100000000)) AS x) AS t",
    "SELECT unnest(range(100000000)) AS x LIMIT 1",
    "SELECT len(repeat('x', 1000000000)) AS n",
    "SELECT length(repeat(repeat('ab', 100000), 100000)) AS n",
    "SELECT len(list_concat(range(50000000), range(50000000))) AS n",
    "SELECT len(string_agg(repeat('x', 1000), '')) AS n FROM range(2000000) AS r(i) WHERE i >= 0",
    "SELECT count(*) AS n FROM range(100000) AS a(i), range(100000) AS b(j) WHERE a.i + b.j >= 0",
    "SELECT count(*) AS n FROM range(3000) AS a(i) CROSS JOIN range(3000) AS b(j) CROSS JOIN range(3000) AS c(k)"
    " WHERE i + j + k >= 0",
    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT max(i) AS m FROM r",
    "WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s || s FROM r WHERE length(s) < 2000000000)"
    " SELECT max(length(s)) AS m FROM r",
    "WITH RECURSIVE r(l) AS (SELECT [1] UNION ALL SELECT list_concat(l, l) FROM r WHERE len(l) < 1000000000)"
    " SELECT max(len(l)) AS m FROM r",
    "SELECT regexp_matches(repeat('a', 100000000), '(a+)+b') AS m",
    "SELECT count(*) AS n FROM range(100000000) AS r(i) WHERE regexp_matches(i::VARCHAR, '(1|11)*2$')",
    "SELECT sum(i) AS s FROM range(10000000000) AS r(i)",
    "SELECT list_sort(range(200000000))[1] AS x",
    "SELECT md5(repeat('x', 1500000000)) AS h",
    "SELECT max(x) AS m FROM (SELECT unnest(generate_series(1, 500000000)) AS x) AS t",
    "SELECT count(DISTINCT i) AS n FROM range(2000000000) AS r(i)",
    f"SELECT count(*) AS n FROM {T} AS a, range(1000000000) AS b(i) WHERE a.fiscal_year > 0",
    # file readers and writers
    "SELECT content AS c FROM read_text('{secret}')",
    "SELECT content AS c FROM read_blob('{secret}')",
    "SELECT column0 AS c FROM read_csv('{secret}')",
    "SELECT column0 AS c FROM read_csv_auto('{secret}', header = false)",
    "SELECT a AS c FROM read_json('{secret}')",
    "SELECT a AS c FROM read_parquet('{secret}')",
    "SELECT file AS f FROM glob('{secret_dir}/*')",
    "SELECT column0 AS c FROM '{secret}'",
    'SELECT column0 AS c FROM "{secret}"',
    "SELECT c FROM sniff_csv('{secret}') AS t(c)",
    "COPY (SELECT 1 AS x) TO '{out}'",
    "COPY northwind_income_statement TO '{out}' (FORMAT csv)",
    "EXPORT DATABASE '{out_dir}'",
    "ATTACH '{out}' AS other",
    "ATTACH ':memory:' AS m",
    "DETACH DATABASE main",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SELECT content AS c FROM read_text('https://example.com/x')",
    "SET enable_external_access = true",
    "SET memory_limit = '100GB'",
    "SET threads = 64",
    "RESET memory_limit",
    "PRAGMA memory_limit = '100GB'",
    "PRAGMA database_list",
    "CALL pragma_database_list()",
    "SELECT set_config('memory_limit', '100GB', false) AS x",
    "SELECT current_setting('memory_limit') AS m",
    "SELECT name AS n, value AS v FROM duckdb_settings() WHERE name = 'memory_limit'",
    "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'main'",
    "SELECT sql AS s FROM duckdb_tables() WHERE table_name <> ''",
    "SELECT getenv('HOME') AS h",
    "SELECT query(concat('SELECT * FROM read_text(''', '{secret}', ''')')) AS q",
    "SELECT * FROM query_table('northwind_income_statement')",
    # writes and DDL dressed up
    "CREATE TABLE evil AS SELECT 1 AS x",
    f"DELETE FROM {T} WHERE fiscal_year = 2021",
    f"UPDATE {T} SET total_revenue = 0 WHERE fiscal_year = 2021",
    "CREATE MACRO evil(x) AS x + 1",
    f"SELECT 1 AS x; DROP TABLE {T}",
    "CHECKPOINT",
    "VACUUM",
    # comments, quoting and unicode tricks
    "/* SELECT */ COPY (SELECT 1 AS x) TO '{out}'",
    "SELECT 1 AS x -- ; COPY (SELECT 1) TO '{out}'",
    "SELECT 1 AS x /*; ATTACH '{out}' AS o */",
    "sElEcT content AS c FrOm ReAd_TeXt('{secret}')",
    "SELECT content AS c FROM \"read_text\"('{secret}')",
    "SELECT content AS c FROM main.read_text('{secret}')",
    "SELECT content AS c FROM system.main.read_text('{secret}')",
    "SELECT content AS c FROM read_text('{secret}'\u200b)",
    "ＳＥＬＥＣＴ 1 AS x",
    "SELECT 1 AS x\u0000; COPY (SELECT 1) TO '{out}'",
    # nesting and subqueries
    "SELECT (SELECT (SELECT (SELECT content FROM read_text('{secret}')))) AS c",
    f"SELECT fiscal_year AS y FROM {T} WHERE fiscal_year IN (SELECT column0::INT FROM read_csv('{{secret}}'))",
    "SELECT " + "(" * 300 + "1" + ")" * 300 + " AS x",
    "SELECT 1 AS x WHERE " + " AND ".join(["1 = 1"] * 2000),
    "SELECT " + " + ".join(["1"] * 5000) + " AS x",
    f"WITH a AS (SELECT fiscal_year FROM {T} WHERE fiscal_year > 0) "
    "SELECT content AS c FROM a, read_text('{secret}')",
    "SELECT 'x' AS c UNION ALL SELECT content FROM read_text('{secret}')",
]

CALCULATOR_INPUTS: list[str] = [
    "10**10**10",
    "9**9**9",
    "2**2**2**2**2",
    "2**100000",
    "(10**308)*10",
    "1e308*1e308",
    "exp(1000)",
    "1e999",
    "(" * 400 + "1" + ")" * 400,
    "-" * 450 + "1",
    "+".join(["1"] * 300),
    "9" * 10000,
    "x",
    "__import__('os').system('true')",
    "().__class__.__mro__",
    "(1).real",
    "lambda: 1",
    "[1]*10**9",
    "'a'*10**9",
    "open('/etc/passwd')",
    "abs.__call__(1)",
    "max(*[1]*100)",
    "round(1.5, 10**9)",
    "factorial(1000)",
    "log(0)",
    "1/0",
    "1 if 1 else 2",
    "eval('1')",
]


@pytest.fixture(scope="module")
def pool() -> Iterator[isolation.WorkerPool]:
    """One worker, so every query (and the settings read after them) meets the same connection."""
    saved = isolation._SHARED
    isolation._SHARED = isolation.WorkerPool(max_workers=1, slack_s=SLACK_S)
    yield isolation._SHARED
    isolation._SHARED.close()
    isolation._SHARED = saved


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("attack")
    secret_dir = root / "outside"
    secret_dir.mkdir()
    (secret_dir / "secret.csv").write_text(f"{SENTINEL}\n{SENTINEL}\n", encoding="utf-8")
    return {"root": root, "secret_dir": secret_dir, "secret": secret_dir / "secret.csv"}


@pytest.fixture(scope="module")
def built(world: dict[str, Path]) -> BuiltDatabase:
    return build_database(write_catalog(world["root"] / "src"), world["root"] / "cache")


@pytest.fixture(scope="module")
def env(pool: isolation.WorkerPool, built: BuiltDatabase) -> Iterator[FinanceEnvironment]:
    e = FinanceEnvironment(built, SuiteSettings(query_timeout_s=TIMEOUT_S))
    assert e.call("sql_query", {"query": f"SELECT max(fiscal_year) AS y FROM {T}"}).content == "y\n2023"
    yield e
    e.close()


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def _settings(pool: isolation.WorkerPool, built: BuiltDatabase) -> str:
    """Every setting of the sandbox connection, read through the worker itself (the checks would refuse it)."""
    runner = isolation.IsolatedRunner(pool, built.path)
    got = runner.fetch(
        "SELECT string_agg(name || '=' || coalesce(value, ''), ';' ORDER BY name) FROM duckdb_settings()",
        max_rows=2,
        timeout_s=10.0,
    )
    assert got.ok, got.text
    assert "enable_external_access=false" in str(got.values[0])
    return str(got.values[0])


UNBOUNDED_BY_DUCKDB = [HOSTILE_SQL[0], HOSTILE_SQL[1], HOSTILE_SQL[4]]
"""Single-row expressions DuckDB can neither stream nor interrupt: they ran 93 s / 7 GB, past 10 GB and
28 s / 2 GB in-process. (A count over ``unnest(range(1e8))`` may stream to its answer within the limit.)"""


def call_tool(env: FinanceEnvironment, tool: str, args: dict[str, str]) -> ToolResult:
    """One call as the episode loop makes it: a tool that raises becomes a ``tool_crash`` error result."""
    try:
        return env.call(tool, args)
    except Exception as exc:
        return ToolResult(False, f"Error: {tool} failed: {type(exc).__name__}", "tool_crash")


def fill(template: str, world: dict[str, Path]) -> str:
    root = world["root"]
    return template.format(secret=world["secret"], secret_dir=world["secret_dir"], out=root / "written.csv",
                           out_dir=root / "dump")  # fmt: skip


def test_the_corpus_is_big_enough() -> None:
    assert len(HOSTILE_SQL) >= 60 and len(set(HOSTILE_SQL)) == len(HOSTILE_SQL)
    assert len(CALCULATOR_INPUTS) >= 20 and len(set(CALCULATOR_INPUTS)) == len(CALCULATOR_INPUTS)


@pytest.mark.slow
def test_hostile_sql_is_bounded_and_contained(
    env: FinanceEnvironment, pool: isolation.WorkerPool, built: BuiltDatabase, world: dict[str, Path]
) -> None:
    root = world["root"]
    out = root / "written.csv"
    before_files = _files(root)
    before_settings = _settings(pool, built)
    kinds: dict[str, int] = {}
    for template in HOSTILE_SQL:
        query = fill(template, world)
        result = call_tool(env, "sql_query", {"query": query})
        kinds[result.error_type or "ok"] = kinds.get(result.error_type or "ok", 0) + 1
        assert SENTINEL not in result.content, query
        if template in UNBOUNDED_BY_DUCKDB:  # stopped by the worker's bounds, as an ordinary tool error
            assert result.error_type in ("timeout", "resource_limit"), (query, result)
        if result.ok:  # what runs is harmless: our tables or constants, within the caps
            assert len(result.content) <= 4000 + 200, query
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"attack corpus: {len(HOSTILE_SQL)} queries, {kinds}, parent peak {peak_mb} MB")
    assert _files(root) == before_files  # nothing written (no COPY/EXPORT/ATTACH file, no spill)
    assert not out.exists()
    assert _settings(pool, built) == before_settings
    # the bombs were stopped by a bound, not run to completion
    assert kinds.get("timeout", 0) + kinds.get("resource_limit", 0) >= 8, kinds
    assert kinds.get("refused", 0) >= 30, kinds
    # sqlglot's parser recursing on the 300-deep parentheses is the one known crash (contained: nothing ran)
    assert kinds.get("tool_crash", 0) <= 1, kinds
    # this process never held what the queries asked for; the workers are capped by the OS
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 < PARENT_PEAK_BYTES
    status = Path("/proc/self/status")
    if status.exists():
        hwm = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        assert int(hwm.split()[1]) * 1024 < PARENT_PEAK_BYTES
    for pid in pool.pids():
        limits = Path(f"/proc/{pid}/limits")
        if limits.exists():
            line = next(x for x in limits.read_text().splitlines() if x.startswith("Max address space"))
            assert line.split()[3] == str(pool.memory_mb << 20), line


def test_hostile_calculator_input_is_refused(env: FinanceEnvironment) -> None:
    for text in CALCULATOR_INPUTS:
        result = call_tool(env, "calculator", {"expression": text})
        assert not result.ok and result.error_type == "calc_error", (text, result)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 < PARENT_PEAK_BYTES
