"""Which column names ``valid_identifiers`` takes for a look-alike of the one the task needs."""

from __future__ import annotations

import pytest

from evalkit.scoring.checks._common import similar_column


@pytest.mark.parametrize(
    ("used", "needed"),
    [
        ("cost_of_revenue", "total_revenue"),
        ("eps_basic", "eps_diluted"),
        ("net_income", "operating_income"),
        ("net_income", "net_income_attributable"),
        ("investing_cash_flow", "operating_cash_flow"),
    ],
)
def test_names_that_measure_the_same_kind_of_thing_are_alike(used: str, needed: str) -> None:
    assert similar_column(used, needed)


@pytest.mark.parametrize(
    ("used", "needed"),
    [("total_revenue", "total_assets"), ("fiscal_year", "employees"), ("total_revenue", "total_revenue")],
)
def test_generic_words_and_the_same_name_are_not(used: str, needed: str) -> None:
    assert not similar_column(used, needed)
