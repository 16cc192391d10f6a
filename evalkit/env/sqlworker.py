"""The sandbox worker process: runs checked agent SQL under an operating-system memory bound.

Started by ``env.isolation`` as ``python -m evalkit.env.sqlworker MEMORY_MB``. It limits its own address
space (``RLIMIT_AS``) before DuckDB is imported, so a query that outgrows DuckDB's own memory limit fails
inside this process (or kills it) instead of taking the machine's memory; the parent kills it outright when
a query outlives its time limit. Requests and replies are length-prefixed JSON frames on stdin/stdout (the
parent never unpickles anything from here). Connections are opened read-only with the sandbox settings
(``database.open_readonly``) and cached per database file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import struct
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import asdict
from decimal import Decimal
from typing import IO, Any

HEADER = struct.Struct(">I")
MAX_FRAME = 64 << 20
#: Databases a worker keeps open (least recently used closed first). Each DuckDB instance reserves over
#: 500 MB of address space of its own, inside the worker's bound, so a worker keeps one (a run uses one);
#: the parent mirrors this to know which are open.
MAX_OPEN = 1


ACKED = frozenset({"run", "fetch"})
"""Requests the worker acknowledges on reading, before it runs them. A worker that dies before the ack died
idle (killed, or still tearing down after a kill: its pipes stay open until its last thread is gone, so
the request is written without error), and the query is sent to a fresh worker instead of being blamed."""


def write_frame(out: IO[bytes], message: dict[str, Any]) -> None:
    data = json.dumps(message, separators=(",", ":")).encode()
    out.write(HEADER.pack(len(data)) + data)
    out.flush()


def read_frame(inp: IO[bytes]) -> dict[str, Any] | None:
    """The next request, or ``None`` at end of input (the parent closed the pipe)."""
    head = inp.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        return None
    data = inp.read(size)
    if len(data) < size:
        return None
    message: dict[str, Any] = json.loads(data)
    return message


def encode_value(value: Any) -> Any:
    """A DuckDB value as JSON: numbers, text, booleans and NULL as they are; decimals tagged, others as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return {"text": value.isoformat()}
    return {"text": str(value)}


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "decimal" in value:
            return Decimal(value["decimal"])
        return str(value.get("text", ""))
    return value


def limit_memory(memory_mb: int) -> None:
    import resource

    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _exit_with_parent() -> None:
    """Leave when the parent is gone (its pipe may stay open while a query runs)."""
    parent = os.getppid()
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


class Worker:
    """Serves requests on one process: ``run`` (rendered rows) and ``fetch`` (first-column values)."""

    def __init__(self) -> None:
        import duckdb

        # one cursor per open database, reused: this process serves one request at a time
        self._open: OrderedDict[tuple[str, str, int], tuple[duckdb.DuckDBPyConnection, Any]] = OrderedDict()

    def _cursor(self, request: dict[str, Any]) -> Any:
        from pathlib import Path

        from evalkit.env.database import open_readonly

        key = (str(request["path"]), str(request["memory_limit"]), int(request["threads"]))
        if key in self._open:
            self._open.move_to_end(key)
            return self._open[key][1]
        while len(self._open) >= MAX_OPEN:
            _, (con, cur) = self._open.popitem(last=False)
            cur.close()
            con.close()
        con = open_readonly(Path(key[0]), memory_limit=key[1], threads=key[2])
        self._open[key] = (con, con.cursor())
        return self._open[key][1]

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        from evalkit.env import sandbox

        op = request.get("op")
        if op == "ping":
            return {"ok": True}
        cur = self._cursor(request)
        if op == "open":
            return {"ok": True}
        if op == "run":
            outcome = sandbox.execute(
                cur,
                request["sql"],
                tuple(request["tables"]),
                row_cap=int(request["row_cap"]),
                char_cap=int(request["char_cap"]),
                timeout_s=float(request["timeout_s"]),
            )
            return asdict(outcome)
        if op == "fetch":
            got = sandbox.fetch_first_column(
                cur, request["sql"], max_rows=int(request["max_rows"]), timeout_s=float(request["timeout_s"])
            )
            reply = asdict(got)
            reply["values"] = [encode_value(v) for v in got.values]
            return reply
        return {"ok": False, "error_kind": "error", "text": f"unknown request {op!r}"}


def main(argv: list[str]) -> int:
    memory_mb = int(argv[0]) if argv else 2048
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames goes to the parent's pipe
    limit_memory(memory_mb)
    threading.Thread(target=_exit_with_parent, name="evalkit-sqlworker-parent", daemon=True).start()
    worker = Worker()
    import evalkit.env.database
    import evalkit.env.sandbox  # noqa: F401  (imported before the first query's clock starts)

    write_frame(out, {"ready": True, "pid": os.getpid()})
    while (request := read_frame(inp)) is not None:
        if request.get("op") in ACKED:
            write_frame(out, {"ack": True})  # the query was read: a death from here on is the query's doing
        try:
            reply = worker.handle(request)
        except MemoryError:
            reply = {"ok": False, "error_kind": "resource_limit", "text": "out of memory", "error_class": "MemoryError"}
        except Exception as e:  # a broken request must not end the worker
            reply = {"ok": False, "error_kind": "error", "text": str(e), "error_class": type(e).__name__}
        write_frame(out, reply)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
