"""The sandbox worker pool: OS memory bound, hard kill past the time limit, dead workers replaced."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from evalkit.contracts.suite import SuiteSettings
from evalkit.env.database import BuiltDatabase
from evalkit.env.isolation import IsolatedRunner, WorkerPool
from evalkit.env.sandbox import SqlSandbox
from evalkit.env.sqlworker import decode_value, encode_value
from evalkit.env.tools import FinanceEnvironment

Q = "SELECT fiscal_year, total_revenue FROM northwind_income_statement WHERE fiscal_year = 2022"


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    p = WorkerPool(max_workers=1, memory_mb=1024, slack_s=0.5)
    yield p
    p.close()


def run(runner: IsolatedRunner, sql: str, timeout_s: float = 5.0) -> str:
    out = runner.run(sql, (), row_cap=10, char_cap=1000, timeout_s=timeout_s)
    return out.text if out.ok else f"{out.error_kind}: {out.text}"


def _wait_dead(pid: int) -> None:
    """Until the killed process has exited (a zombie, not yet reaped by the pool, or gone)."""
    stat = Path(f"/proc/{pid}/stat")
    for _ in range(500):
        try:
            if stat.read_text().split(")")[-1].split()[0] in ("Z", "X"):
                return
        except OSError:
            return
        time.sleep(0.01)


def test_a_query_crosses_to_the_worker_and_back(pool: WorkerPool, built: BuiltDatabase) -> None:
    runner = IsolatedRunner(pool, built.path)
    assert run(runner, Q) == "fiscal_year | total_revenue\n2022 | 1200"
    assert run(runner, "SELECT nope FROM northwind_income_statement").startswith("error: Binder Error")
    assert pool.started == 1  # the same worker serves every query


def test_a_dead_worker_is_replaced_and_the_next_query_works(pool: WorkerPool, built: BuiltDatabase) -> None:
    runner = IsolatedRunner(pool, built.path)
    assert run(runner, Q).endswith("2022 | 1200")
    (pid,) = pool.pids()
    os.kill(pid, signal.SIGKILL)
    _wait_dead(pid)
    assert run(runner, Q).endswith("2022 | 1200")
    assert pool.started == 2 and pool.pids() != [pid]


def test_a_worker_dying_mid_query_is_a_resource_limit(pool: WorkerPool, built: BuiltDatabase) -> None:
    runner = IsolatedRunner(pool, built.path)
    run(runner, "SELECT 1 AS x")
    (pid,) = pool.pids()
    threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()
    out = runner.run("SELECT count(*) AS n FROM range(100000000000)", (), row_cap=5, char_cap=500, timeout_s=30.0)
    assert out.error_kind == "resource_limit" and "died" in out.text
    assert run(runner, "SELECT 2 AS x") == "x\n2"


def test_a_query_that_ignores_the_interrupt_is_killed_at_the_deadline(built: BuiltDatabase) -> None:
    pool = WorkerPool(max_workers=1, memory_mb=4096, slack_s=0.5)  # room: the query runs for seconds
    try:
        runner = IsolatedRunner(pool, built.path)
        out = runner.run("SELECT len(range(100000000)) AS n", (), row_cap=5, char_cap=500, timeout_s=0.3)
        assert out.error_kind == "timeout" and out.text.startswith("timeout:")
        assert run(runner, "SELECT 3 AS x") == "x\n3"
        assert pool.started == 2
    finally:
        pool.close()


def test_memory_past_the_address_space_bound_is_a_resource_limit(pool: WorkerPool, built: BuiltDatabase) -> None:
    runner = IsolatedRunner(pool, built.path)
    out = runner.run("SELECT len(range(300000000)) AS n", (), row_cap=5, char_cap=500, timeout_s=20.0)
    assert out.error_kind == "resource_limit" and out.text.startswith("resource_limit:")
    limits = Path(f"/proc/{pool.pids()[0]}/limits") if pool.pids() else None
    assert run(runner, "SELECT 4 AS x") == "x\n4"
    if limits is not None and limits.exists():
        line = next(x for x in limits.read_text().splitlines() if x.startswith("Max address space"))
        assert line.split()[3] == str(1024 << 20)


def test_fetch_returns_first_column_values_with_their_types(pool: WorkerPool, built: BuiltDatabase) -> None:
    con_sandbox = FinanceEnvironment(built, SuiteSettings(), isolated=False)
    try:
        sandbox = SqlSandbox(con_sandbox._con, runner=IsolatedRunner(pool, built.path))  # type: ignore[arg-type]
        got = sandbox.fetch("SELECT 12.50::DECIMAL(6, 2) AS d, 2 AS w", 5)
        assert got.ok and got.width == 2 and got.values == (Decimal("12.50"),)
        got = sandbox.fetch("SELECT fiscal_year FROM northwind_income_statement ORDER BY 1", 5)
        assert got.values == (2021, 2022, 2023)
    finally:
        con_sandbox.close()


def test_values_survive_the_json_crossing() -> None:
    import datetime as dt

    for value, back in [
        (None, None),
        (1.5, 1.5),
        ("x", "x"),
        (Decimal("1.10"), Decimal("1.10")),
        (dt.date(2024, 1, 2), "2024-01-02"),
    ]:
        assert decode_value(encode_value(value)) == back


def test_environments_use_the_shared_pool_by_default(env: FinanceEnvironment) -> None:
    assert env._sandbox.runner is not None
    out = env.call("sql_query", {"query": Q})
    assert out.ok and out.content.endswith("2022 | 1200")
