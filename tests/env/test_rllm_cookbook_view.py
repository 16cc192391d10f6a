"""The rllm-finqa profile over an imported rLLM FinQA suite shows each table as the cookbook's SQLite table has
it: its columns by the names pandas gave them there (``NaT``, ``2023-01-01 00:00:00`` with pandas 3, recorded at
import as ``source_name``), which a query may use, beside evalkit's own names; and a run that uses them is
judged to name columns that exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.api import suite_import_rllm_finqa
from evalkit.contracts.loader import load_suite
from evalkit.env.database import build_database
from evalkit.env.tools import EnvironmentPool

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "rllm_finqa"
pd = pytest.importorskip("pandas")
PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("finqa") / "suites"
    suite_import_rllm_finqa(DATA, out, split="test")
    suite = load_suite(out / "test")
    p = EnvironmentPool(build_database(suite.database), suite.settings)
    yield p
    p.close()


@pytest.mark.skipif(not PANDAS_3, reason="the cookbook's column names are those pandas 3 gives")
def test_table_info_and_queries_use_the_cookbook_names(pool: EnvironmentPool) -> None:
    env = pool()
    try:
        info = env.call("get_table_info", {"company_name": "marlow", "table_name": "consolidated_balance_sheets"})
        assert json.loads(info.content)["column_names"] == [
            "NaT", "2023-01-01 00:00:00", "2022-01-01 00:00:00", "2021-01-01 00:00:00"
        ]  # fmt: skip
        query = (
            'SELECT NaT, "2023-01-01 00:00:00" FROM consolidated_balance_sheets '
            "WHERE NaT IN ('Total current assets', 'Total current liabilities')"
        )
        rows = env.call(
            "sql_query", {"company_name": "marlow", "table_name": "consolidated_balance_sheets", "query": query}
        )
        assert rows.ok, rows.content
        assert json.loads(rows.content) == [
            {"NaT": "Total current assets", "2023-01-01 00:00:00": 947},
            {"NaT": "Total current liabilities", "2023-01-01 00:00:00": 614},
        ]
        # evalkit's own names still answer, and a column that is neither gets the cookbook's hint
        plain = "SELECT c_2023 FROM consolidated_balance_sheets WHERE col_0 = 'Inventories'"
        again = env.call(
            "sql_query", {"company_name": "marlow", "table_name": "consolidated_balance_sheets", "query": plain}
        )
        assert again.ok and json.loads(again.content) == [{"c_2023": 238}]
        bad = "SELECT total_assets FROM consolidated_balance_sheets WHERE NaT = 'x'"
        err = env.call(
            "sql_query", {"company_name": "marlow", "table_name": "consolidated_balance_sheets", "query": bad}
        )
        assert not err.ok and err.error_type == "unknown_column"
        assert err.content == (
            "Error : Column not found in table. Available columns are: "
            "NaT, 2023-01-01 00:00:00, 2022-01-01 00:00:00, 2021-01-01 00:00:00"
        )
        # the checks read the query over the catalog's table, not over the view the tool ran
        assert rows.data["checked"].startswith('SELECT NaT, "2023-01-01 00:00:00" FROM "marlow_consolidated')
    finally:
        env.close()
