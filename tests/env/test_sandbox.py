"""One test per escape route: each asserts a clear refusal AND that nothing happened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from evalkit.env import sandbox as sandbox_mod
from evalkit.env.database import BuiltDatabase, open_readonly
from evalkit.env.sandbox import SqlOutcome, SqlSandbox
from evalkit.env.sql_checks import QueryCheck

SECRET = "TOPSECRET_7f3a"


@pytest.fixture
def con(built: BuiltDatabase) -> Iterator[duckdb.DuckDBPyConnection]:
    c = open_readonly(built.path)
    yield c
    c.close()


@pytest.fixture
def box(con: duckdb.DuckDBPyConnection) -> Iterator[SqlSandbox]:
    s = SqlSandbox(con, row_cap=10, char_cap=4000, timeout_s=5.0)
    yield s
    s.close()


@pytest.fixture
def secret_csv(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(f"a,b\n{SECRET},1\n")
    return path


def _refused(out: SqlOutcome, *words: str) -> None:
    assert not out.ok and out.error_kind == "refused", out
    assert out.text.startswith("refused:")
    for w in words:
        assert w.lower() in out.text.lower(), out.text
    assert SECRET not in out.text


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return (
        con.cursor().execute("SELECT table_catalog, table_schema, table_name FROM information_schema.tables").fetchall()
    )


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> object:
    row = con.cursor().execute(f"SELECT current_setting('{name}')").fetchone()
    return row[0] if row else None


def _cash(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.cursor().execute("SELECT fiscal_year, cash FROM northwind_balance_sheet ORDER BY 1").fetchall()


# ------------------------------------------------------------------------------------------ statements


def test_multiple_statements(box: SqlSandbox, con: duckdb.DuckDBPyConnection) -> None:
    before = _tables(con)
    _refused(box.run("SELECT 1 AS x; DROP TABLE northwind_balance_sheet"), "exactly one", "got 2")
    assert _tables(con) == before


def test_insert(box: SqlSandbox, con: duckdb.DuckDBPyConnection) -> None:
    before = _cash(con)
    _refused(box.run("INSERT INTO northwind_balance_sheet VALUES (2030, 1.0)"), "only read-only select", "not INSERT")
    assert _cash(con) == before


def test_create(box: SqlSandbox, con: duckdb.DuckDBPyConnection) -> None:
    before = _tables(con)
    _refused(box.run("CREATE TEMP TABLE stash AS SELECT 1 AS x"), "CREATE")
    _refused(box.run("CREATE MACRO m(x) AS x + 1"), "CREATE")
    assert _tables(con) == before


def test_drop(box: SqlSandbox, con: duckdb.DuckDBPyConnection) -> None:
    before = _tables(con)
    _refused(box.run("DROP TABLE northwind_balance_sheet"), "DROP")
    assert _tables(con) == before


def test_update(box: SqlSandbox, con: duckdb.DuckDBPyConnection) -> None:
    before = _cash(con)
    _refused(box.run("UPDATE northwind_balance_sheet SET cash = 0"), "UPDATE")
    _refused(box.run("DELETE FROM northwind_balance_sheet WHERE fiscal_year = 2021"), "DELETE")
    assert _cash(con) == before


def test_copy_to_file(box: SqlSandbox, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    _refused(box.run(f"COPY (SELECT fiscal_year FROM northwind_balance_sheet LIMIT 1) TO '{target}'"), "COPY")
    _refused(box.run(f"COPY northwind_balance_sheet TO '{target}' (FORMAT csv)"), "COPY")
    assert not target.exists()


def test_attach(box: SqlSandbox, con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    target = tmp_path / "other.duckdb"
    databases = con.cursor().execute("SELECT database_name FROM duckdb_databases()").fetchall()
    _refused(box.run(f"ATTACH '{target}' AS other"), "ATTACH")
    _refused(box.run("DETACH memory"), "DETACH")
    assert not target.exists()
    assert con.cursor().execute("SELECT database_name FROM duckdb_databases()").fetchall() == databases


def test_install(box: SqlSandbox) -> None:
    ext_dir = Path.home() / ".duckdb"
    before = sorted(ext_dir.rglob("*")) if ext_dir.exists() else None
    _refused(box.run("INSTALL httpfs"), "INSTALL")
    _refused(box.run("FORCE INSTALL httpfs FROM core_nightly"), "not FORCE")
    assert (sorted(ext_dir.rglob("*")) if ext_dir.exists() else None) == before


def test_load(box: SqlSandbox, con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    fake = tmp_path / "evil.duckdb_extension"
    fake.write_bytes(b"\0" * 64)
    functions = con.cursor().execute("SELECT count(*) FROM duckdb_functions()").fetchone()
    _refused(box.run(f"LOAD '{fake}'"), "LOAD")
    _refused(box.run("LOAD httpfs"), "LOAD")
    assert con.cursor().execute("SELECT count(*) FROM duckdb_functions()").fetchone() == functions


def test_pragma(box: SqlSandbox, con: duckdb.DuckDBPyConnection) -> None:
    before = _setting(con, "memory_limit")
    _refused(box.run("PRAGMA memory_limit='16GB'"), "PRAGMA")
    _refused(box.run("PRAGMA database_list"), "PRAGMA")
    assert _setting(con, "memory_limit") == before


def test_set(box: SqlSandbox, con: duckdb.DuckDBPyConnection) -> None:
    before = (_setting(con, "threads"), _setting(con, "enable_external_access"))
    _refused(box.run("SET threads = 7"), "SET")
    _refused(box.run("SET enable_external_access = true"), "SET")
    _refused(box.run("RESET threads"), "RESET")
    assert (_setting(con, "threads"), _setting(con, "enable_external_access")) == before == (2, False)


def test_call(box: SqlSandbox, secret_csv: Path) -> None:
    _refused(box.run(f"CALL read_text('{secret_csv}')"), "CALL")
    _refused(box.run("CALL pragma_database_list()"), "CALL")


# -------------------------------------------------------------------------------------- reading files


def test_read_csv(box: SqlSandbox, secret_csv: Path) -> None:
    _refused(box.run(f"SELECT a FROM read_csv('{secret_csv}') LIMIT 1"), "read_csv() reads files")
    _refused(box.run(f"SELECT a FROM read_csv_auto('{secret_csv}') LIMIT 1"), "read_csv_auto()")
    _refused(box.run(f"SELECT a FROM sniff_csv('{secret_csv}') LIMIT 1"), "sniff_csv()")


def test_read_parquet(box: SqlSandbox, tmp_path: Path) -> None:
    path = tmp_path / "secret.parquet"
    writer = duckdb.connect()
    writer.execute(f"COPY (SELECT '{SECRET}' AS a) TO '{path}' (FORMAT parquet)")
    writer.close()
    _refused(box.run(f"SELECT a FROM read_parquet('{path}') LIMIT 1"), "read_parquet()")
    _refused(box.run(f"SELECT a FROM parquet_scan('{path}') LIMIT 1"), "parquet_scan()")


def test_read_text_and_blob(box: SqlSandbox, secret_csv: Path) -> None:
    _refused(box.run(f"SELECT content FROM read_text('{secret_csv}') LIMIT 1"), "read_text()")
    _refused(box.run(f"SELECT content FROM read_blob('{secret_csv}') LIMIT 1"), "read_blob()")
    _refused(box.run(f"SELECT json FROM read_json_auto('{secret_csv}') LIMIT 1"), "read_json_auto()")


def test_glob(box: SqlSandbox, secret_csv: Path) -> None:
    _refused(box.run(f"SELECT file FROM glob('{secret_csv.parent}/*') LIMIT 5"), "glob()")


def test_file_path_as_table(box: SqlSandbox, secret_csv: Path) -> None:
    _refused(box.run(f"SELECT a FROM '{secret_csv}' LIMIT 1"), "reading files")
    _refused(box.run(f'SELECT a FROM "{secret_csv}" LIMIT 1'), "reading files")
    _refused(box.run(f"FROM '{secret_csv}' SELECT a LIMIT 1"), "reading files")


def test_sql_from_a_string(box: SqlSandbox, secret_csv: Path) -> None:
    _refused(box.run(f"SELECT a FROM query('SELECT a FROM read_csv(''{secret_csv}'')') LIMIT 1"), "query()")


def test_python_variable_scan(box: SqlSandbox) -> None:
    leak_frame = {"a": [SECRET]}  # noqa: F841 - a replacement scan would find a frame-local object
    out = box.run("SELECT a FROM leak_frame LIMIT 1")
    assert not out.ok and SECRET not in out.text


# ---------------------------------------------------------------------------------- settings and env


def test_getenv(box: SqlSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_TEST_SECRET", SECRET)
    _refused(box.run("SELECT getenv('EVALKIT_TEST_SECRET') AS v"), "getenv()")


def test_current_setting(box: SqlSandbox) -> None:
    _refused(box.run("SELECT current_setting('memory_limit') AS v"), "current_setting()")


def test_meta_functions(box: SqlSandbox) -> None:
    _refused(box.run("SELECT name, value FROM duckdb_settings() LIMIT 5"), "duckdb_settings()")
    _refused(box.run("SELECT database_name, path FROM duckdb_databases() LIMIT 5"), "duckdb_databases()")
    _refused(box.run("SELECT name, setting FROM pg_settings LIMIT 5"), "system table")


# ------------------------------------------------------------------------------------ resource limits


def test_timeout_interrupts_long_query(con: duckdb.DuckDBPyConnection) -> None:
    """The query could not finish in any reasonable time: it returns only because it was interrupted."""
    box = SqlSandbox(con, timeout_s=0.5)
    out = box.run("SELECT count(*) AS n FROM range(100000000000) a, range(100000000000) b")
    assert not out.ok and out.error_kind == "timeout", out
    assert out.error_class == "InterruptException", out
    assert "ran longer than 0.5 s and was cancelled" in out.text
    assert box.run("SELECT 41 + 1 AS answer").text == "answer\n42"  # the connection is still usable
    box.close()


def test_row_cap_truncates_with_note(box: SqlSandbox) -> None:
    """A billion rows are answered without being materialised: reading them all would run far past the box's
    5 s limit and come back as a timeout, not as an answer."""
    out = box.run("SELECT i FROM range(1000000000) t(i)")
    assert out.ok and out.truncated and out.rows == 10
    lines = out.text.splitlines()
    assert lines[:3] == ["i", "0", "1"] and len(lines) == 12
    assert lines[-1] == "… 999,999,990 more rows not shown (at most 10 rows); add a filter or LIMIT"


def test_char_cap_truncates_with_note(con: duckdb.DuckDBPyConnection) -> None:
    box = SqlSandbox(con, row_cap=1000, char_cap=300)
    out = box.run("SELECT i, repeat('x', 40) AS pad FROM range(100) t(i)")
    assert out.ok and out.truncated and 0 < out.rows < 10
    assert len(out.text) < 450
    assert out.text.endswith("more rows not shown (output capped at 300 characters); add a filter or LIMIT")
    box.close()


def test_select_star(box: SqlSandbox) -> None:
    for q in (
        "SELECT * FROM northwind_balance_sheet WHERE fiscal_year = 2022",
        "SELECT b.* FROM northwind_balance_sheet b WHERE fiscal_year = 2022",
        "SELECT COLUMNS(*) FROM northwind_balance_sheet LIMIT 1",
        "FROM northwind_balance_sheet LIMIT 1",
    ):
        _refused(box.run(q), "SELECT * is not allowed", "name the columns")
    assert box.run("SELECT count(*) AS n FROM northwind_balance_sheet").text == "n\n3"


def test_unfiltered(box: SqlSandbox) -> None:
    for q in (
        "SELECT fiscal_year, cash FROM northwind_balance_sheet",
        "WITH c AS (SELECT fiscal_year, cash FROM northwind_balance_sheet) SELECT cash FROM c",
        "SELECT x.cash FROM (SELECT cash FROM northwind_balance_sheet) x",
        "SELECT b.cash, i.total_revenue FROM northwind_balance_sheet b "
        "JOIN northwind_income_statement i USING (fiscal_year)",
    ):
        _refused(box.run(q), "add a filter or an aggregate")
    for q in (
        "SELECT cash FROM northwind_balance_sheet WHERE fiscal_year = 2022",
        "SELECT segment, sum(revenue) AS r FROM globex_income_statement GROUP BY segment ORDER BY 1",
        "SELECT max(cash) AS m FROM northwind_balance_sheet",
        "SELECT cash FROM northwind_balance_sheet ORDER BY cash DESC LIMIT 1",
        "WITH c AS (SELECT cash FROM northwind_balance_sheet WHERE fiscal_year > 2021) SELECT cash FROM c",
        "SELECT DISTINCT segment FROM globex_income_statement",
    ):
        assert box.run(q).ok, q


def test_checks_can_be_switched_off(con: duckdb.DuckDBPyConnection) -> None:
    box = SqlSandbox(con, refuse_select_star=False, refuse_unfiltered=False)
    out = box.run("SELECT * FROM northwind_balance_sheet ORDER BY fiscal_year")
    assert out.ok and out.columns == ("fiscal_year", "cash") and out.text.splitlines()[1] == "2021 | 300"
    box.close()


def test_keywords_inside_strings_and_quoted_names_are_fine(box: SqlSandbox) -> None:
    out = box.run("SELECT 'DROP TABLE x; SET threads=1' AS \"load\" FROM globex_income_statement WHERE segment = 'SET'")
    assert out.ok and out.text == "load\n(no rows)"
    _refused(box.run("SELECT fiscal_year AS load FROM northwind_balance_sheet LIMIT 1"), 'quote it as "load"')


def test_duckdb_errors_pass_through(box: SqlSandbox) -> None:
    out = box.run("SELECT revenue FROM northwind_income_statement WHERE fiscal_year = 2022")
    assert out.error_kind == "error" and out.error_class == "BinderException" and "revenue" in out.text
    out = box.run("SELEC 1")
    assert out.error_kind == "error" and "syntax error" in out.text


# ---------------------------------------------------------------------------------- defence in depth


@pytest.mark.parametrize(
    "template",
    [
        "SELECT a FROM read_csv('{csv}')",
        "SELECT content FROM read_text('{csv}')",
        "SELECT a FROM '{csv}'",
        "SELECT file FROM glob('{dir}/*')",
        "COPY (SELECT 1) TO '{dir}/written.csv'",
        "ATTACH '{dir}/attached.duckdb'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "CREATE TABLE stash (x INTEGER)",
    ],
)
def test_raw_connection_refuses_by_itself(con: duckdb.DuckDBPyConnection, secret_csv: Path, template: str) -> None:
    query = template.format(csv=secret_csv, dir=secret_csv.parent)
    with pytest.raises(duckdb.Error) as info:
        con.execute(query).fetchall()
    assert SECRET not in str(info.value)
    assert not (secret_csv.parent / "written.csv").exists() and not (secret_csv.parent / "attached.duckdb").exists()
    assert _setting(con, "enable_external_access") is False


def test_connection_blocks_what_the_checks_miss(
    box: SqlSandbox, secret_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_mod, "analyse", lambda *args: QueryCheck())  # pretend the checks missed it
    out = box.run(f"SELECT a FROM read_csv('{secret_csv}')")
    assert not out.ok and out.error_kind == "error" and out.error_class == "PermissionException"
    assert "disabled by configuration" in out.text
    assert SECRET not in out.text
