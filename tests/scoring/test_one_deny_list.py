"""The sandbox and the safe_sql check share one deny list: what the sandbox refuses, the check fails."""

from __future__ import annotations

import pytest

from evalkit.env.sql_checks import analyse
from evalkit.scoring.checks.safety import unsafe_constructs


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT load_aws_credentials()",
        "SELECT checkpoint()",
        "SELECT * FROM arrow_scan('x')",
        "SELECT sql_auto_complete('SEL')",
        "SELECT getenv('HOME')",
    ],
)
def test_what_the_sandbox_refuses_the_check_calls_unsafe(query: str) -> None:
    assert analyse(query, refuse_select_star=False, refuse_unfiltered=False).refusal is not None
    assert unsafe_constructs(query) != ()


def test_a_plain_query_is_neither_refused_nor_unsafe() -> None:
    query = "SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2023"
    assert analyse(query, refuse_select_star=True, refuse_unfiltered=True).refusal is None
    assert unsafe_constructs(query) == ()
