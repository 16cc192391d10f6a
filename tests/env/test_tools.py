from __future__ import annotations

import dataclasses
from pathlib import Path

import jsonschema
import pytest

from evalkit.contracts.suite import ALL_TOOLS, SuiteSettings
from evalkit.env.catalog import TableInfo
from evalkit.env.database import BuiltDatabase, build_database
from evalkit.env.tools import TOOL_SCHEMAS, FinanceEnvironment, ToolResult

from .conftest import CATALOG, FILES, write_catalog


def test_tool_specs_are_openai_functions(env: FinanceEnvironment) -> None:
    specs = env.tool_specs()
    assert [s["function"]["name"] for s in specs] == list(ALL_TOOLS)
    for spec in specs:
        assert spec["type"] == "function"
        fn = spec["function"]
        assert fn["parameters"] is TOOL_SCHEMAS[fn["name"]]
        assert len(fn["description"]) > 40
        jsonschema.Draft202012Validator.check_schema(fn["parameters"])
    sql = next(s["function"]["description"] for s in specs if s["function"]["name"] == "sql_query")
    assert "SELECT * is refused" in sql and "add a WHERE filter" in sql and "At most 50 rows" in sql
    calc = next(s["function"]["description"] for s in specs if s["function"]["name"] == "calculator")
    assert "ONE arithmetic expression" in calc


def test_specs_follow_settings(built: BuiltDatabase) -> None:
    settings = SuiteSettings(tools=("sql_query", "calculator"), refuse_select_star=False, refuse_unfiltered=False)
    with FinanceEnvironment(built, settings) as env:
        specs = env.tool_specs()
        assert [s["function"]["name"] for s in specs] == ["sql_query", "calculator"]
        assert "SELECT *" not in specs[0]["function"]["description"]
        assert "WHERE" not in specs[0]["function"]["description"]
        result = env.call("get_table_names", {})
        assert not result.ok and result.error_type == "unknown_tool" and "sql_query, calculator" in result.content


def test_schemas_validate_arguments() -> None:
    v = jsonschema.Draft202012Validator(TOOL_SCHEMAS["sql_query"])
    assert v.is_valid({"query": "SELECT 1"})
    assert not v.is_valid({}) and not v.is_valid({"query": 1}) and not v.is_valid({"query": "x", "extra": 1})
    assert jsonschema.Draft202012Validator(TOOL_SCHEMAS["get_table_names"]).is_valid({})


def test_get_table_names(env: FinanceEnvironment) -> None:
    everything = env.call("get_table_names", {})
    assert everything.ok
    assert everything.content.splitlines() == [
        "Northwind Analytics Inc. (northwind, NWA):",
        "  northwind_income_statement",
        "  northwind_balance_sheet",
        "Globex Corporation (globex, GBX):",
        "  globex_income_statement",
    ]
    assert everything.data == {"tables": list(env.catalog.table_names), "company": None}
    for ref in ("northwind", "Northwind Analytics Inc.", "nwa"):
        one = env.call("get_table_names", {"company": ref})
        assert one.ok and one.content == "northwind_income_statement\nnorthwind_balance_sheet", ref
        assert one.data == {"tables": ["northwind_income_statement", "northwind_balance_sheet"], "company": "northwind"}


def test_get_table_names_unknown_company(env: FinanceEnvironment) -> None:
    result = env.call("get_table_names", {"company": "Globx Corp"})
    assert not result.ok and result.error_type == "unknown_company"
    assert "unknown company 'Globx Corp'" in result.content
    assert "Closest matches: Globex Corporation (globex, GBX)" in result.content
    assert result.data is not None and result.data["suggestions"] == ["Globex Corporation (globex, GBX)"]


def test_get_table_info(env: FinanceEnvironment) -> None:
    result = env.call("get_table_info", {"table": "northwind_income_statement"})
    assert result.ok
    lines = result.content.splitlines()
    assert lines[0] == (
        "Table northwind_income_statement (company: Northwind Analytics Inc. (northwind, NWA); "
        "fiscal year ends June 30)"
    )
    assert "3 rows. Columns:" in lines
    assert "- total_revenue DOUBLE [USD millions]: Total net revenue" in lines
    assert lines[-1] == (
        "- net_income VARCHAR [USD millions]: text like $1,234.5, negatives in parentheses "
        "(values: '$1,234.5', '$120.5', '($45.0)')"
    )
    assert result.data is not None and result.data["rows"] == 3
    assert result.data["columns"][2]["values"] == ["$1,234.5", "$120.5", "($45.0)"]
    assert env.call("get_table_info", {"table": "NORTHWIND_INCOME_STATEMENT"}) is result  # cached


def test_get_table_info_caps_distinct_values(tmp_path: Path) -> None:
    files = dict(FILES)
    rows = "".join(f"2022,Segment {i:02d},{i}\n" for i in range(12))
    files["globex_income_statement.csv"] = "fiscal_year,segment,revenue\n" + rows
    built = build_database(write_catalog(tmp_path / "src", CATALOG, files), tmp_path / "cache")
    with FinanceEnvironment(built, SuiteSettings()) as env:
        result = env.call("get_table_info", {"table": "globex_income_statement"})
    assert result.ok and result.data is not None
    assert result.data["columns"][1]["values"][:8] == [f"Segment {i:02d}" for i in range(8)]
    assert "'Segment 07', …)" in result.content and "Segment 08" not in result.content


def test_get_table_info_unknown_table(env: FinanceEnvironment) -> None:
    result = env.call("get_table_info", {"table": "northwind_income_stmt"})
    assert not result.ok and result.error_type == "unknown_table"
    assert "Closest matches: northwind_income_statement" in result.content
    assert result.data is not None and result.data["suggestions"][0] == "northwind_income_statement"


def test_sql_query_happy_path(env: FinanceEnvironment) -> None:
    result = env.call(
        "sql_query",
        {
            "query": "SELECT fiscal_year, total_revenue FROM northwind_income_statement "
            "WHERE fiscal_year >= 2022 ORDER BY 1"
        },
    )
    assert result == ToolResult(
        True,
        "fiscal_year | total_revenue\n2022 | 1200\n2023 | 1100",
        None,
        {
            "tables": ["northwind_income_statement"],
            "columns": ["fiscal_year", "total_revenue"],
            "rows": 2,
            "shown": 2,
            "truncated": False,
        },
    )


def test_sql_query_truncated(built: BuiltDatabase) -> None:
    with FinanceEnvironment(built, dataclasses.replace(SuiteSettings(), row_cap=5)) as env:
        result = env.call("sql_query", {"query": "SELECT i FROM range(20) t(i)"})
    assert result.ok and result.data is not None
    assert result.data["truncated"] is True and result.data["rows"] == 20 and result.data["shown"] == 5
    assert result.content.endswith("… 15 more rows not shown (at most 5 rows); add a filter or LIMIT")


def test_sql_query_unknown_table(env: FinanceEnvironment) -> None:
    result = env.call("sql_query", {"query": "SELECT cash FROM northwind_balance WHERE fiscal_year = 2022"})
    assert not result.ok and result.error_type == "unknown_table"
    assert "Table with name northwind_balance does not exist" in result.content
    assert "Closest table names: northwind_balance_sheet" in result.content
    assert result.data is not None and result.data["missing"] == "northwind_balance"


def test_sql_query_unknown_column(env: FinanceEnvironment) -> None:
    result = env.call("sql_query", {"query": "SELECT revenue FROM northwind_income_statement WHERE fiscal_year = 2022"})
    assert not result.ok and result.error_type == "unknown_column"
    assert "Columns of northwind_income_statement: fiscal_year, total_revenue, net_income." in result.content
    assert result.data == {
        "missing": "revenue",
        "tables": ["northwind_income_statement"],
        "columns": {"northwind_income_statement": ["fiscal_year", "total_revenue", "net_income"]},
    }
    joined = env.call(
        "sql_query",
        {
            "query": "SELECT b.cash, i.revenue FROM northwind_balance_sheet b JOIN northwind_income_statement i "
            "ON b.fiscal_year = i.fiscal_year WHERE b.fiscal_year = 2022"
        },
    )
    assert joined.error_type == "unknown_column" and joined.data is not None
    assert set(joined.data["columns"]) == {"northwind_balance_sheet", "northwind_income_statement"}


def test_sql_query_refused_and_sql_error(env: FinanceEnvironment) -> None:
    star = env.call("sql_query", {"query": "SELECT * FROM northwind_balance_sheet WHERE fiscal_year = 2022"})
    assert not star.ok and star.error_type == "refused" and "SELECT * is not allowed" in star.content
    bad = env.call(
        "sql_query", {"query": "SELECT CAST(net_income AS DOUBLE) AS x FROM northwind_income_statement LIMIT 3"}
    )
    assert not bad.ok and bad.error_type == "sql_error" and "Conversion Error" in bad.content


def test_sql_query_timeout(built: BuiltDatabase) -> None:
    with FinanceEnvironment(built, dataclasses.replace(SuiteSettings(), query_timeout_s=0.3)) as env:
        result = env.call(
            "sql_query",
            {"query": "SELECT sum(i % 7) AS n FROM range(100000000000) AS r(i)"},  # CPU, no memory
        )
    assert not result.ok and result.error_type == "timeout"


def test_calculator_tool(env: FinanceEnvironment) -> None:
    ok = env.call("calculator", {"expression": "($1,234.5 - 1,000) / 1,000 * 100"})
    assert ok == ToolResult(True, "23.45", None, {"value": pytest.approx(23.45)})
    assert env.call("calculator", {"expression": "1/3"}).content == "0.3333333333"
    bad = env.call("calculator", {"expression": "1/0"})
    assert not bad.ok and bad.error_type == "calc_error" and "division by zero" in bad.content


def test_bad_arguments_and_closed(built: BuiltDatabase) -> None:
    env = FinanceEnvironment(built, SuiteSettings())
    assert env.call("sql_query", {}).error_type == "bad_arguments"
    assert env.call("sql_query", {"query": 5}).error_type == "bad_arguments"
    assert env.call("sql_query", {"query": "SELECT 1", "limit": 3}).error_type == "bad_arguments"
    assert env.call("drop_tables", {}).error_type == "unknown_tool"
    env.close()
    env.close()  # idempotent
    assert env.call("calculator", {"expression": "1+1"}).error_type == "closed"


def test_repeated_calls_give_the_same_results_and_describe_a_table_once(
    env: FinanceEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What keeps a tool call cheap: a table is described (its queries run) once, then the result is reused.
    The per-call cost itself is printed by ``bench/bench_tools.py``."""
    described: list[str] = []
    describe = env._describe

    def counting(info: TableInfo) -> ToolResult:
        described.append(info.name)
        return describe(info)

    monkeypatch.setattr(env, "_describe", counting)
    calls = [
        ("get_table_names", {"company": "GBX"}),
        ("get_table_info", {"table": "globex_income_statement"}),
        ("calculator", {"expression": "(1,234.5 - 1000) / 1000"}),
    ]
    first = [env.call(name, args) for name, args in calls]
    assert all(r.ok for r in first), first
    for _ in range(200):
        assert [env.call(name, args) for name, args in calls] == first
    assert described == ["globex_income_statement"]


def test_environment_over_a_user_duckdb_file(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "mine.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE acme_income AS SELECT 2024 AS fiscal_year, 1.5 AS revenue")
    con.execute("CREATE TABLE acme_balance AS SELECT 2024 AS fiscal_year, 9.0 AS cash")
    con.close()
    with FinanceEnvironment(build_database(path), SuiteSettings()) as env:
        assert env.call("get_table_names", {"company": "acme"}).content == "acme_balance\nacme_income"
        info = env.call("get_table_info", {"table": "acme_income"})
        assert info.ok and "- revenue DECIMAL(2,1)" in info.content
        result = env.call("sql_query", {"query": "SELECT revenue FROM acme_income WHERE fiscal_year = 2024"})
        assert result.content == "revenue\n1.5"


def test_an_environment_opens_beside_a_runs_pool_in_one_process(built: BuiltDatabase) -> None:
    """DuckDB refuses a second connection to a file with another configuration in one process: an
    environment opened while a run's pool holds the database (a benchmark, an API user) must still work."""
    from evalkit.env.tools import EnvironmentPool

    pool = EnvironmentPool(built, SuiteSettings())
    try:
        env = FinanceEnvironment(built, SuiteSettings())
        try:
            assert env.call("get_table_names", {}).ok
        finally:
            env.close()
    finally:
        pool.close()
