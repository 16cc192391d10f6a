"""rllm-finqa calls read as evalkit's facts (``scoring.profile_view``), also for traces recorded elsewhere
(no ``data`` from evalkit's tool): the cookbook's ``_get_sql_name`` names the table (``{company}_{table}``)."""

from __future__ import annotations

from typing import Any

from evalkit.scoring.profile_view import as_evalkit_event, as_evalkit_events
from evalkit.scoring.trace_view import sql_refs
from evalkit.trace.types import Event


def tool(tool: str, arguments: dict[str, Any], ok: bool = True, **kw: Any) -> Event:
    return Event.tool_result(3, 1, tool=tool, ok=ok, arguments=arguments, **kw)


def test_table_names_by_the_cookbooks_rule() -> None:
    info = as_evalkit_event(
        tool("get_table_info", {"company_name": "Northwind ", "table_name": "Income_Statement.json"})
    )
    assert info.arguments == {"table": "northwind_Income_Statement"}
    listing = as_evalkit_event(tool("get_table_names", {"company_name": "northwind"}))
    assert listing.arguments == {"company": "northwind"}


def test_query_names_the_sql_table() -> None:
    e = as_evalkit_event(
        tool(
            "sql_query",
            {
                "company_name": "northwind",
                "table_name": "income_statement",
                "query": "SELECT i.total_revenue FROM `income_statement` i JOIN balance_sheet b ON i.fiscal_year = "
                "b.fiscal_year WHERE b.cash > 1",
            },
        )
    )
    assert e.arguments is not None
    # only table_name is rewritten, as the tool does: the other table keeps the name it was given
    assert sql_refs(e.arguments["query"]).tables == ("northwind_income_statement", "balance_sheet")


def test_recorded_execution_wins_and_unknown_tables_get_the_sql_form() -> None:
    executed = 'SELECT x FROM "northwind_income_statement" WHERE y = 1'
    e = as_evalkit_event(
        tool(
            "sql_query",
            {"company_name": "northwind", "table_name": "income_statement", "query": "SELECT x FROM income_statement"},
            data={"executed": executed},
        )
    )
    assert e.arguments == {"query": executed}
    missing = as_evalkit_event(
        tool(
            "sql_query",
            {"company_name": "northwind", "table_name": "financials", "query": "SELECT x FROM financials LIMIT 1"},
            ok=False,
            error_type="unknown_table",
            data={"missing": "financials"},
        )
    )
    assert missing.data == {"missing": "northwind_financials"}
    assert missing.arguments == {"query": 'SELECT x FROM "northwind_financials" LIMIT 1'}


def test_evalkit_events_are_left_alone() -> None:
    events = (
        tool("get_table_info", {"table": "northwind_income_statement"}),
        tool("calculator", {"expression": "1 + 1"}),
    )
    assert as_evalkit_events(events) is events


def test_the_cookbook_error_texts_are_typed() -> None:
    from evalkit.contracts.rllm_names import cookbook_error

    cases = {
        "Error: table balance_sheet for company bluepeak could not be found.": ("unknown_table", "balance_sheet"),
        'Error: Table "bs" not found for company "acme". Use get_table_names for full list.': ("unknown_table", "bs"),
        'Error: Column "revenue" not found. Available columns are: col_0, 2023': ("unknown_column", "revenue"),
        "Error : Column not found in table. Available columns are: col_0, 2023": ("unknown_column", None),
        'Error : "SELECT *" is not allowed. Please list columns explicitly, e.g., ...': ("refused", None),
        "Error: Query needs a filter (WHERE, LIMIT, GROUP BY) or aggregate (COUNT, SUM, ...).": ("refused", None),
        "Error evaluating expression: '1/'. Details: invalid syntax": ("calc_error", None),
        "Error: unknown tool 'lookup'. Valid tools: ['get_table_names']": ("unknown_tool", None),
        "Error: Company name zeta not found, use a valid company name.": ("unknown_company", "zeta"),
    }  # fmt: skip
    assert {text: cookbook_error(text) for text in cases} == cases
    assert cookbook_error("Error: no such column: total") is None  # SQLite's own words: inferred elsewhere
