"""Tool calls of the rllm-finqa profile read as the facts of evalkit's own calls, so every check judges both.

A check asks which tables were listed for a company, which table's schema was inspected, what SQL ran and
which tables and columns it named. In the rllm-finqa profile (``env.rllm_tools``) those are spread over
``company_name`` / ``table_name`` / ``query``, and the query names its table by the identifier that
``get_table_names`` lists, which the tool rewrites into the cookbook's SQL name (``{company}_{table}``, the
evalkit catalog's table name). :func:`as_evalkit_events` gives each such call the arguments the evalkit tool
would have had: ``{"company": ...}``, ``{"table": <SQL name>}``, ``{"query": <the query as it ran>}``, and
an unknown table's name in the same SQL-name form; content and outcome stay as recorded, and so do error
types, but for an imported trace's: a result whose type was only inferred from its text (``tool_error``)
gets the type of the cookbook message it is (``contracts.rllm_names.cookbook_error``: a table that could not
be found is ``unknown_table``, a refused ``SELECT *`` is ``refused``, ...).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from evalkit.contracts.rllm_names import cookbook_error, is_rllm_call, normalize_company, rewrite_query, sql_name
from evalkit.trace.types import Event


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _table(company: str, table_name: str) -> str:
    return sql_name(company, table_name.strip().removesuffix(".json"))


def as_evalkit_event(event: Event) -> Event:
    """The event with evalkit-profile arguments when it is an rllm-finqa call; else the event itself."""
    if event.kind != "tool" or not is_rllm_call(event.tool, event.arguments):
        return event
    args = event.arguments or {}
    data = dict(event.data or {})
    error_type = event.error_type
    if error_type == "tool_error" and data.get("inferred"):  # an imported trace: typed by the cookbook's texts
        known = cookbook_error(event.content or "")
        if known is not None:
            error_type = known[0]
            data.pop("missing", None)
            if known[1] is not None:
                data["missing"] = known[1]
    company = normalize_company(_text(args.get("company_name")))
    table_name = _text(args.get("table_name"))
    if event.tool == "get_table_names":
        new_args: dict[str, Any] = {"company": args.get("company_name")}
    elif event.tool == "get_table_info":
        new_args = {"table": data.get("table") or _table(company, table_name)}
    else:  # sql_query
        query = _text(args.get("query"))
        executed = data.get("checked") or data.get("executed")  # over the catalog's table, not its cookbook view
        if not isinstance(executed, str):
            executed = rewrite_query(query, table_name, f'"{_table(company, table_name)}"') if table_name else query
        new_args = {"query": executed}
        missing = data.get("missing")
        if error_type == "unknown_table" and isinstance(missing, str) and missing == table_name:
            data["missing"] = _table(company, missing)  # the cookbook refused the identifier before running
    return dataclasses.replace(event, arguments=new_args, data=data or None, error_type=error_type)


def as_evalkit_events(events: tuple[Event, ...]) -> tuple[Event, ...]:
    """:func:`as_evalkit_event` of each event (the same tuple when none is an rllm-finqa call)."""
    if not any(e.kind == "tool" and is_rllm_call(e.tool, e.arguments) for e in events):
        return events
    return tuple(as_evalkit_event(e) for e in events)
