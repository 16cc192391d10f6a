"""``evalkit suite ...`` through the CLI: verify's exit codes, the agent's view of sql/tables/info, stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.contracts.yamlfile import load_schema
from evalkit.errors import EvalkitError
from evalkit.suites.questions import FIELDS
from tests.suites.test_verify import mutated_mini

EVALKIT = Path(sys.executable).with_name("evalkit")
ACME = "acme_income_statement"


def invoke(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; evalkit's exceptions give their exit codes, as ``evalkit.cli.main.main`` does."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    exc = result.exception
    if isinstance(exc, EvalkitError):
        return exc.exit_code, result.stdout, str(exc)
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return result.exit_code, result.stdout, result.stderr


def test_verify_cli_passes_on_a_good_suite(mini_suite: Path) -> None:
    code, out, _ = invoke("suite", "verify", str(mini_suite))
    assert code == 0
    assert "mini 1.0: 4/4 tasks verified" in out


def test_verify_cli_reports_disagreeing_tasks_and_exits_1(tmp_path: Path) -> None:
    folder = mutated_mini(
        tmp_path,
        ("value: 1350.0", "value: 1400.0"),
        ("SELECT segment FROM zenith_segment_revenue", "SELECT * FROM zenith_segment_revenue"),
    )
    code, out, err = invoke("suite", "verify", str(folder))
    assert code == 1
    lines = out.splitlines()
    assert "t1  expected 1400 USD millions, got 1350 USD millions: outside the tolerance (rel 0.001)" in lines
    assert (
        "t4  expected Cloud, got nothing: step 1 (top): refused by the agent's sandbox: SELECT * is not allowed; "
        "name the columns you need explicitly (get_table_info lists them)" in lines
    )
    assert "t2" not in out and "t3" not in out
    assert "2/4 tasks verified (2 disagree)" in out
    assert "disagree with their reference" in err

    code, out, _ = invoke("suite", "verify", str(folder), "--json")
    assert code == 1
    data = json.loads(out)
    assert data["failed"] == 2 and data["verified"] == 2
    assert {r["task"] for r in data["results"] if not r["ok"]} == {"t1", "t4"}


def test_verify_exit_codes_through_the_real_command(tmp_path: Path, mini_suite: Path) -> None:
    folder = mutated_mini(tmp_path, ("value: 250.0", "value: 260.0"))
    env = {**os.environ, "COLUMNS": "200"}
    bad = subprocess.run([str(EVALKIT), "suite", "verify", str(folder)], capture_output=True, text=True, env=env)
    assert bad.returncode == 1, bad.stderr
    assert bad.stdout.startswith("t3  expected 260 USD thousands, got 250 USD thousands") and "error:" in bad.stderr
    good = subprocess.run([str(EVALKIT), "suite", "verify", str(mini_suite)], capture_output=True, text=True, env=env)
    assert good.returncode == 0, good.stderr
    missing = subprocess.run([str(EVALKIT), "suite", "verify", "nope"], capture_output=True, text=True, env=env)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_sql_prints_the_agents_view(mini_suite: Path) -> None:
    code, out, _ = invoke("suite", "sql", str(mini_suite), f"SELECT total_revenue FROM {ACME} WHERE fiscal_year = 2023")
    assert code == 0
    assert out == "total_revenue\n1350\n"


def test_sql_refusal_is_shown_as_the_agent_sees_it(mini_suite: Path) -> None:
    code, out, err = invoke("suite", "sql", str(mini_suite), f"SELECT * FROM {ACME} WHERE fiscal_year = 2023")
    assert code == 2
    assert out.startswith("Error: refused: SELECT * is not allowed")
    assert "sql_query returned an error (refused)" in err


def test_sql_unknown_column_lists_the_real_columns(mini_suite: Path) -> None:
    query = f"SELECT revenue FROM {ACME} WHERE fiscal_year = 2023"
    code, out, _ = invoke("suite", "sql", str(mini_suite), query)
    assert code == 2
    assert "Error:" in out and '"revenue"' in out
    assert "Columns of acme_income_statement: fiscal_year, total_revenue, operating_income, net_income." in out
    code, out, _ = invoke("suite", "sql", str(mini_suite), query, "--json")
    data = json.loads(out)
    assert code == 2 and data["ok"] is False and data["error_type"] == "unknown_column"


def test_tables_and_info(mini_suite: Path) -> None:
    code, out, _ = invoke("suite", "tables", str(mini_suite))
    assert code == 0
    assert "Acme Widgets Inc. (acme, ACW):\n  acme_income_statement\n  acme_headcount" in out
    code, out, _ = invoke("suite", "tables", str(mini_suite), "--company", "ZNC")
    assert (code, out) == (0, "zenith_segment_revenue\n")
    code, out, _ = invoke("suite", "tables", str(mini_suite), "--company", "Globex")
    assert code == 2 and "unknown company 'Globex'" in out
    code, out, _ = invoke("suite", "info", str(mini_suite), "acme_headcount")
    assert code == 0 and out.startswith("Table acme_headcount (company: Acme Widgets Inc. (acme, ACW)")
    assert "- employees INTEGER [persons]" in out
    code, out, _ = invoke("suite", "info", str(mini_suite), "acme_income")
    assert code == 2 and "Closest matches: acme_income_statement" in out


def test_stats(mini_suite: Path) -> None:
    code, out, _ = invoke("suite", "stats", str(mini_suite), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["tasks"] == 4
    assert data["kinds"] == {"single_table": 3, "multi_table": 1}
    assert data["answer_kinds"] == {"number": 3, "text": 1}
    assert data["units"] == {"%": 1, "USD millions": 1, "USD thousands": 1}
    assert data["companies"] == {"acme": 3, "zenith": 1}
    assert data["tables"]["acme_income_statement"] == 3
    assert data["mean_reference_steps"] == pytest.approx(1.5)
    code, out, _ = invoke("suite", "stats", str(mini_suite))
    assert code == 0 and "mini 1.0: 4 tasks" in out and "single_table" in out and "mean steps" in out


def test_stats_of_builtin_suite_counts_templates_and_lists() -> None:
    code, out, _ = invoke("suite", "stats", "finance-multi", "--json")
    data = json.loads(out)
    assert code == 0 and data["tasks"] == 60 and data["answer_kinds"]["template"] >= 1
    assert sum(data["kinds"].values()) == 60


def test_list_validate_show(mini_suite: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = invoke("suite", "validate", str(mini_suite))
    assert code == 0 and "mini 1.0: valid (4 tasks; 3 tables)" in out
    code, out, _ = invoke("suite", "show", str(mini_suite), "t3")
    assert code == 0 and "emp = SELECT employees FROM acme_headcount" in out
    assert "answer: 250 USD thousands (within 0.5 % relative)" in out and "ExpectedAnswer(" not in out
    code, _, err = invoke("suite", "show", str(mini_suite), "t33")
    assert code == 2 and "no task 't33'" in err and "t3" in err
    broken = mutated_mini(tmp_path, ("kind: single_table", "kind: one_table"))
    monkeypatch.setenv("EVALKIT_SUITES_PATH", str(broken.parent))
    code, out, _ = invoke("suite", "list", "--json")
    rows = {r["suite"]: r for r in json.loads(out)}
    assert code == 0 and rows["finance-single"]["tasks"] == 104
    assert "one_table" in rows["suite"]["error"]
    code, _, err = invoke("suite", "validate", str(broken))
    assert code == 2 and "tasks.yaml:" in err


def test_import_help_documents_every_field_and_unit() -> None:
    code, out, _ = invoke("suite", "import", "--help")
    assert code == 0
    for name in FIELDS:
        assert f"{name}:" in out
    units = [u for u in load_schema("tasks")["$defs"]["unit"]["enum"] if u is not None]
    for unit in units:
        assert unit in FIELDS["unit"]
    assert "rel:0.01" in out and "abs:0.5" in out and "suites/NAME" in out
