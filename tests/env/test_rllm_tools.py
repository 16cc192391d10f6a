"""The rllm-finqa profile, call by call, against rLLM's FinQA cookbook (``cookbooks/finqa/finqa_tools.py`` and
``finqa_flow.py`` of rllm-org/rllm): the strings below are quoted from its code."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from evalkit.contracts.suite import SuiteSettings
from evalkit.env.database import BuiltDatabase
from evalkit.env.rllm_tools import MAX_TURNS, TOOL_SPECS, RllmFinqaEnvironment, truncate
from evalkit.env.tools import EnvironmentPool

RLLM = SuiteSettings(profile="rllm-finqa")


@pytest.fixture
def env(built: BuiltDatabase) -> Iterator[RllmFinqaEnvironment]:
    e = RllmFinqaEnvironment(built, RLLM)
    yield e
    e.close()


def q(env: RllmFinqaEnvironment, query: str, table: str = "income_statement", company: str = "northwind") -> str:
    return env.call("sql_query", {"company_name": company, "table_name": table, "query": query}).content


def test_specs_are_the_cookbooks(env: RllmFinqaEnvironment) -> None:
    specs = env.tool_specs()
    assert [s["function"]["name"] for s in specs] == ["get_table_names", "get_table_info", "sql_query", "calculator"]
    required = {s["function"]["name"]: s["function"]["parameters"]["required"] for s in specs}
    assert required == {
        "get_table_names": ["company_name"],
        "get_table_info": ["company_name", "table_name"],
        "sql_query": ["company_name", "table_name", "query"],
        "calculator": ["expression"],
    }
    assert specs[2]["function"]["description"] == (
        "Execute a filtered SQLite query against a pre-loaded company table. Must include a WHERE / LIMIT / "
        "GROUP BY / ORDER BY clause or an aggregate (COUNT/MAX/MIN/SUM/AVG). SELECT * is rejected — list "
        "columns explicitly."
    )
    assert specs[3]["function"]["description"] == "Safely evaluate a numeric expression and return the float result."
    specs[0]["function"]["name"] = "changed"  # a copy: the environment's specs stay
    assert env.tool_specs()[0]["function"]["name"] == "get_table_names" == TOOL_SPECS[0]["function"]["name"]
    assert MAX_TURNS == 20


def test_pool_gives_the_profile_of_the_suite(built: BuiltDatabase) -> None:
    pool = EnvironmentPool(built, RLLM)
    try:
        env = pool()
        assert isinstance(env, RllmFinqaEnvironment)
        assert env.call("get_table_names", {"company_name": "globex"}).content == "['income_statement']"
        env.close()
        other = EnvironmentPool(built, dataclasses.replace(RLLM, profile="evalkit"))
        assert not isinstance(other(), RllmFinqaEnvironment)
        other.close()
    finally:
        pool.close()


def test_get_table_names(env: RllmFinqaEnvironment) -> None:
    r = env.call("get_table_names", {"company_name": " NorthWind "})  # lower().strip(), as _normalize_company
    assert r.ok and r.content == "['income_statement', 'balance_sheet']"
    assert r.data is not None and r.data["tables"] == ["northwind_income_statement", "northwind_balance_sheet"]
    r = env.call("get_table_names", {"company_name": "Northwind Analytics Inc."})
    assert not r.ok and r.error_type == "unknown_company"
    assert r.content == "Error: Company name Northwind Analytics Inc. not found, use a valid company name."


def test_get_table_info_json(env: RllmFinqaEnvironment) -> None:
    r = env.call("get_table_info", {"company_name": "globex", "table_name": "Income_Statement.json"})
    assert r.ok and r.data == {"table": "globex_income_statement", "company": "globex"}
    payload = {
        "description": "Income statement, FY2021-2023.",
        "column_units": {"revenue": "USD thousands"},
        "column_names": ["fiscal_year", "segment", "revenue"],
        "column_dtypes": {"fiscal_year": "int64", "segment": "object", "revenue": "float64"},
        # revenue's values after the first row are all digits: dropped, as _compute_table_info drops them
        "unique_vals_per_col": {"fiscal_year": [2021, 2022, 2023], "segment": ["Aerospace", "Energy"]},
    }
    assert r.content == json.dumps(payload, indent=0).replace("\n", "")
    assert "\n" not in r.content
    info = json.loads(
        env.call("get_table_info", {"company_name": "northwind", "table_name": "income_statement"}).content
    )
    # amounts stored as text ('$1,234.5', '($45.0)') are digits once punctuation goes: dropped too
    assert list(info["unique_vals_per_col"]) == ["fiscal_year"]
    assert info["column_dtypes"]["net_income"] == "object" and "index" not in info


def test_get_table_info_errors(env: RllmFinqaEnvironment) -> None:
    r = env.call("get_table_info", {"company_name": "acme", "table_name": "x"})
    assert (r.ok, r.error_type, r.content) == (False, "unknown_company", 'Error: Company "acme" not found.')
    r = env.call("get_table_info", {"company_name": "northwind", "table_name": "cash_flow"})
    assert r.error_type == "unknown_table"
    assert r.content == (
        'Error: Table "cash_flow" not found for company "northwind". Use get_table_names for full list.'
    )


def test_sql_query_refusals(env: RllmFinqaEnvironment) -> None:
    assert q(env, "  ") == "Error : query must not be empty."
    assert q(env, "select * from income_statement where fiscal_year = 2021") == (
        'Error : "SELECT *" is not allowed. Please list columns explicitly, e.g., '
        "SELECT column1, column2 FROM income_statement LIMIT 5."
    )
    assert q(env, "SELECT total_revenue FROM income_statement") == (
        "Error: Query needs a filter (WHERE, LIMIT, GROUP BY) or aggregate (COUNT, SUM, AVG, MIN, MAX)."
    )
    assert q(env, "SELECT 1 LIMIT 1") == "Error: Missing FROM clause. Use: SELECT ... FROM income_statement ..."
    assert q(env, "SELECT cash FROM cash_flow LIMIT 1", table="cash_flow") == (
        "Error: table cash_flow for company northwind could not be found."
    )
    assert q(env, "SELECT cash FROM x LIMIT 1", company="acme") == (
        "Error: table income_statement for company acme could not be found."
    )


def test_sql_query_rows_as_json_records(env: RllmFinqaEnvironment) -> None:
    r = env.call(
        "sql_query",
        {
            "company_name": "globex",
            "table_name": "income_statement",
            "query": "SELECT segment, revenue FROM income_statement WHERE fiscal_year = 2023 ORDER BY segment",
        },
    )
    assert r.ok and r.content == '[{"segment":"Aerospace","revenue":6000.0},{"segment":"Energy","revenue":6900.0}]'
    assert r.data is not None and r.data["tables"] == ["globex_income_statement"]
    assert r.data["executed"].endswith('FROM "globex_income_statement" WHERE fiscal_year = 2023 ORDER BY segment')
    # a quoted identifier and a trailing semicolon are rewritten too
    assert q(env, 'SELECT cash FROM "balance_sheet" WHERE fiscal_year = 2021;', table="balance_sheet") == (
        '[{"cash":300.0}]'
    )
    assert q(env, "SELECT fiscal_year FROM income_statement WHERE fiscal_year = 1990") == "[]"


def test_one_table_per_query(env: RllmFinqaEnvironment) -> None:
    """Only ``table_name`` is rewritten: a second table named by its identifier does not exist, by its SQL
    name (``{company}_{table}``) it does, as in the cookbook's SQLite store."""
    by_identifier = q(
        env, "SELECT i.fiscal_year FROM income_statement i JOIN balance_sheet b ON i.fiscal_year = b.fiscal_year "
        "WHERE b.cash > 400"
    )  # fmt: skip
    assert by_identifier.startswith("Error: Execution failed on sql '") and "balance_sheet" in by_identifier
    assert "LINE 1" not in by_identifier
    by_sql_name = q(
        env, "SELECT i.fiscal_year FROM income_statement i JOIN northwind_balance_sheet b "
        "ON i.fiscal_year = b.fiscal_year WHERE b.cash > 400"
    )  # fmt: skip
    assert by_sql_name == '[{"fiscal_year":2023}]'


def test_available_columns_hints(env: RllmFinqaEnvironment) -> None:
    r = env.call(
        "sql_query",
        {
            "company_name": "northwind",
            "table_name": "income_statement",
            "query": "SELECT revenue FROM income_statement WHERE fiscal_year = 2022",
        },
    )
    assert (r.ok, r.error_type) == (False, "unknown_column")
    assert (
        r.content == "Error : Column not found in table. Available columns are: fiscal_year, total_revenue, net_income"
    )
    # a quoted name that is no column reads as text in SQLite; the cookbook catches it by the value
    assert q(env, "SELECT 'revenue' FROM income_statement WHERE fiscal_year = 2022") == (
        'Error: Column "revenue" not found. Available columns are: fiscal_year, net_income, total_revenue'
    )


def test_sandbox_stays_underneath(env: RllmFinqaEnvironment) -> None:
    r = env.call(
        "sql_query",
        {
            "company_name": "northwind",
            "table_name": "income_statement",
            "query": "DELETE FROM income_statement WHERE fiscal_year = 2021",
        },
    )
    assert (r.ok, r.error_type) == (False, "refused") and "only read-only SELECT queries are allowed" in r.content
    out = q(env, "SELECT read_csv('/etc/passwd') AS x FROM income_statement LIMIT 1")
    assert out.startswith("Error: refused:") and "reads files" in out


def test_output_truncation(env: RllmFinqaEnvironment) -> None:
    assert truncate("short", n=100) == "short"
    long = truncate("a" * 1000, n=200)
    assert long == "a" * 100 + "\n…(truncated 800 chars)…\n" + "a" * 100
    r = env.call(
        "sql_query",
        {
            "company_name": "northwind",
            "table_name": "income_statement",
            "query": "SELECT repeat('x', 9000) AS s FROM income_statement LIMIT 1",
        },
    )
    full = '[{"s":"' + "x" * 9000 + '"}]'
    assert r.ok and r.content == full[:4000] + f"\n…(truncated {len(full) - 8000} chars)…\n" + full[-4000:]
    assert r.data is not None and r.data["truncated"] is True


def test_calculator(env: RllmFinqaEnvironment) -> None:
    def calc(expression: object) -> str:
        return env.call("calculator", {"expression": expression}).content

    assert calc("2 + 3") == "5.0"  # float(result), as the cookbook returns it
    assert calc("2^3") == "8.0"
    assert calc("$1,234 + $5,678") == "6912.0"
    assert calc("50% * 200") == "100.0"
    assert calc("not a number").startswith("Error evaluating expression: 'not a number'. Details: ")
    assert calc(12) == "Error: Input expression must be a string."


def test_dispatcher_messages(env: RllmFinqaEnvironment) -> None:
    r = env.call("get_tables", {})
    assert (r.error_type, r.content) == (
        "unknown_tool",
        "Error: unknown tool 'get_tables'. Valid tools: "
        "['get_table_names', 'get_table_info', 'sql_query', 'calculator']",
    )
    r = env.dispatch("sql_query", None, '{"company_name": "northwind",')
    assert r.error_type == "malformed_call"
    assert r.content.startswith("Error: failed to parse tool arguments: Expecting property name enclosed in double")
    r = env.call("sql_query", {"company_name": "northwind", "table_name": "income_statement"})
    assert (
        r.content == "Error: bad arguments for sql_query: sql_query() missing 1 required positional argument: 'query'"
    )
    r = env.call("get_table_names", {"company": "northwind"})
    assert r.error_type == "bad_arguments" and "got an unexpected keyword argument 'company'" in r.content
    r = env.call("get_table_names", {"company_name": 7})
    assert r.content == "Error: get_table_names raised AttributeError: 'int' object has no attribute 'lower'"


def test_tools_of_the_suite_only(built: BuiltDatabase) -> None:
    with RllmFinqaEnvironment(built, dataclasses.replace(RLLM, tools=("sql_query", "calculator"))) as env:
        assert [s["function"]["name"] for s in env.tool_specs()] == ["sql_query", "calculator"]
        assert env.call("get_table_names", {"company_name": "globex"}).content == (
            "Error: unknown tool 'get_table_names'. Valid tools: ['sql_query', 'calculator']"
        )
