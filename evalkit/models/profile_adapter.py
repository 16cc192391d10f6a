"""The scripted agents through the rllm-finqa tool profile: their evalkit-profile calls and readings translated.

The scripts (``models.scripts`` and the personas) are written against evalkit's tools: ``get_table_names
{company}``, ``get_table_info {table}``, ``sql_query {query}`` naming tables by their catalog names, and
results as evalkit renders them. When a request offers the rllm-finqa profile's tools (``company_name`` among
``get_table_names``' parameters) each action is sent as the cookbook's call, the way a model trained there
writes it: the company id as ``company_name``, a table by the identifier ``get_table_names`` lists
(``northwind_income_statement`` → ``income_statement``), the query naming its table by that identifier
after ``FROM`` / ``JOIN``. Each reply is read back into evalkit's form before the script sees it: the list
of identifiers as one table name per line, the table metadata JSON as ``- column TYPE [unit]`` lines, the
JSON records as ``a | b`` rows; errors pass through (both profiles begin them with ``Error``). So the same
script makes the same decisions through either profile, which is what comparing their verdicts needs.

The suite's catalog (which company a table belongs to) is registered by the runner (:func:`register_catalog`),
as the tasks are in ``scripts.register_suite``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from evalkit.contracts.rllm_names import identifier, normalize_company, sql_name
from evalkit.contracts.suite import TaskSpec
from evalkit.models import textproto
from evalkit.models.scripts import Action, ToolAction, is_error


@dataclass(frozen=True)
class _Names:
    companies: tuple[str, ...]
    table_company: dict[str, str]  # catalog table name (lower) -> company id


_CATALOGS: dict[str, _Names] = {}
_DTYPES = {"int64": "INTEGER", "float64": "DOUBLE", "bool": "BOOLEAN", "object": "VARCHAR"}
_FROM = re.compile(r"\b(?:FROM|JOIN)\s+[`\"']?([A-Za-z_]\w*)[`\"']?", re.IGNORECASE)


def register_catalog(suite_hash: str, tables: dict[str, str], companies: list[str]) -> None:
    """Make a suite's tables (catalog name → company id) and companies known to the adapter."""
    _CATALOGS[suite_hash] = _Names(tuple(companies), {t.lower(): c for t, c in tables.items()})


def offers_rllm_tools(tools: list[dict[str, Any]] | None, messages: list[dict[str, Any]]) -> bool:
    """Whether the request offers the rllm-finqa profile: natively (``tools``), or in the text protocol's
    system prompt."""
    for spec in tools or ():
        fn = spec.get("function") or {}
        if fn.get("name") == "get_table_names":
            return "company_name" in ((fn.get("parameters") or {}).get("properties") or {})
    if not tools and messages and messages[0].get("role") == "system":
        system = str(messages[0].get("content") or "")
        return "<tools>" in system and '"company_name"' in system
    return False


class ProfileAdapter:
    """Translates one conversation of a scripted agent to and from the rllm-finqa tools."""

    def __init__(self, suite_hash: str, task: TaskSpec) -> None:
        self.names = _CATALOGS.get(suite_hash, _Names((), {}))
        self.task = task

    # ------------------------------------------------------------------------------------------ names

    def company_of(self, table: str) -> str:
        """The company of a catalog table; for a made-up name, the company id it starts with, else the task's."""
        known = self.names.table_company.get(table.lower())
        if known is not None:
            return known
        prefixed = [c for c in self.names.companies if table.lower().startswith(c.lower() + "_")]
        if prefixed:
            return max(prefixed, key=len)
        return self._task_company()

    def _task_company(self) -> str:
        """The task's company, else the company of its first table."""
        first = self.names.table_company.get(self.task.tables[0].lower()) if self.task.tables else None
        return self.task.company or first or "company"

    # ----------------------------------------------------------------------------------------- actions

    def action(self, action: Action) -> Action:
        """The rllm-finqa call for an evalkit-profile action (a final answer unchanged)."""
        if not isinstance(action, ToolAction):
            return action
        args = action.arguments
        if action.name == "get_table_names":
            company = args.get("company") or self._task_company()
            return replace(action, arguments={"company_name": company})
        if action.name == "get_table_info":
            table = str(args.get("table", ""))
            company = self.company_of(table)
            return replace(action, arguments={"company_name": company, "table_name": identifier(company, table)})
        if action.name == "sql_query":
            query = str(args.get("query", ""))
            m = _FROM.search(query)
            table = m.group(1) if m else ""
            company = self.company_of(table) if table else self._task_company()
            ident = identifier(company, table) if table else ""
            if table and ident != table:
                pattern = rf"(\b(?:FROM|JOIN)\s+)([`\"']?){re.escape(table)}\2(?=\s|$|;|,|\))"
                query = re.sub(pattern, lambda m: m.group(1) + ident, query, flags=re.IGNORECASE)
            return replace(action, arguments={"company_name": company, "table_name": ident, "query": query})
        return action

    # ----------------------------------------------------------------------------------------- results

    def results(self, messages: list[dict[str, Any]], native: bool, results: list[str]) -> list[str]:
        """The tool results read back into evalkit's form, each by the call it answers."""
        calls = _calls(messages, native)
        return [self.result(calls[i] if i < len(calls) else ("", {}), r) for i, r in enumerate(results)]

    def result(self, call: tuple[str, dict[str, Any]], text: str) -> str:
        name, args = call
        if is_error(text):
            return text
        company = normalize_company(str(args.get("company_name") or ""))
        try:
            if name == "get_table_names":
                listed = ast.literal_eval(text)
                return "\n".join(self._table_name(company, str(t)) for t in listed)
            if name == "get_table_info":
                return _schema_text(self._table_name(company, str(args.get("table_name", ""))), json.loads(text))
            if name == "sql_query":
                return _rows_text(json.loads(text))
        except (ValueError, SyntaxError, TypeError, AttributeError):
            return text  # a cut or unexpected reply: the script reads it as it is
        return text

    def _table_name(self, company: str, ident: str) -> str:
        for table, owner in self.names.table_company.items():
            if owner.lower() == company and identifier(owner, table).lower() == ident.lower():
                return table
        return sql_name(company, ident)


def _calls(messages: list[dict[str, Any]], native: bool) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for m in messages:
        if m.get("role") != "assistant":
            continue
        if native:
            for tc in m.get("tool_calls") or ():
                fn = tc.get("function") or {}
                try:
                    args = json.loads(fn.get("arguments") or "{}")
                except json.JSONDecodeError:
                    args = {}
                out.append((str(fn.get("name") or ""), args if isinstance(args, dict) else {}))
        else:
            for c in textproto.parse_tool_calls(str(m.get("content") or ""))[1]:
                out.append((c.name, c.arguments or {}))
    return out


def _schema_text(table: str, info: dict[str, Any]) -> str:
    """The metadata as evalkit's ``get_table_info`` lines that the scripts read (``- name TYPE [unit]``)."""
    units = info.get("column_units") or {}
    values = info.get("unique_vals_per_col") or {}
    lines = [f"Table {table}", str(info.get("description") or ""), "Columns:"]
    for col in info.get("column_names") or ():
        kind = _DTYPES.get(str((info.get("column_dtypes") or {}).get(col)), "VARCHAR")
        line = f"- {col} {kind}" + (f" [{units[col]}]" if col in units else "")
        if kind == "VARCHAR" and col in values:
            shown = sorted(str(v) for v in values[col])
            line += " (values: " + ", ".join(repr(v) for v in shown[:8]) + (", …" if len(shown) > 8 else "") + ")"
        lines.append(line)
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def _rows_text(records: list[dict[str, Any]]) -> str:
    """JSON records as evalkit's result text: a header line, then ``a | b`` rows."""
    if not records:
        return "(result)\n(no rows)"
    columns = list(records[0])
    return "\n".join([" | ".join(columns), *(" | ".join(_cell(r.get(c)) for c in columns) for r in records)])
