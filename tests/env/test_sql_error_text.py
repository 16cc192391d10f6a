"""What ``sql_query`` returns for a DuckDB error an agent can act on: the error's first line, a few of the
candidate functions DuckDB lists (not all of them: ``extract`` has 20) and where in the query it failed."""

from __future__ import annotations

from evalkit.suites.service import suite_sql

WHERE = "FROM northwind_income_statement WHERE fiscal_year = 2023"


def test_a_function_called_with_wrong_argument_types_lists_at_most_five_candidates() -> None:
    result = suite_sql("finance-single", f"SELECT time_bucket(fiscal_year, 1) {WHERE}")
    assert not result.ok and result.error_type == "sql_error"
    text = result.content
    first = text.splitlines()[0]
    assert first.startswith("Error: Binder Error: No function matches the given name and argument types")
    assert "time_bucket(INTEGER, INTEGER_LITERAL)" in first
    candidates = [line for line in text.splitlines() if line.strip().startswith("time_bucket(")]
    assert 1 <= len(candidates) <= 5
    assert text.count("more candidate functions") == 1  # says once that some were left out, and how many
    lines = text.splitlines()
    pointer = next(i for i, line in enumerate(lines) if line.startswith("LINE 1: SELECT time_bucket(fiscal_year, 1)"))
    assert set(lines[pointer + 1].strip()) == {"^"}  # where it failed stays, with its marker under it
    assert len(text) < 800


def test_a_short_error_is_left_as_it_is() -> None:
    result = suite_sql("finance-single", f"SELECT fiscal_year + 'abc' {WHERE}")
    assert not result.ok
    assert '"+"("left" INTEGER, "right" DATE, /) -> DATE' in result.content
    assert "more candidate functions" not in result.content
