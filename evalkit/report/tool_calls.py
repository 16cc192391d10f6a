"""How a demonstration words its tool calls and reads their replies, in the suite's tool profile.

evalkit's profile (``env.tools``): ``get_table_names(company)`` with the company's name, ``get_table_info(table)``
and ``sql_query(query)``; a query's reply is a header line and one ``a | b`` line per row. The ``rllm-finqa``
profile (``env.rllm_tools``, the FinQA cookbook's tools): every call names ``company_name`` (the company's id,
the cookbook's folder name) and, but for ``get_table_names``, the ``table_name`` as ``get_table_names`` lists
it (``contracts.rllm_names.identifier``), which the query names too; a query's reply is ``to_json(orient="records")``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from evalkit.contracts.suite import ReferenceStep, TaskSpec
    from evalkit.env.catalog import Catalog
    from evalkit.env.tools import ToolResult


class ToolEnvironment(Protocol):
    """What a demonstration needs of an episode's environment (either profile's)."""

    @property
    def catalog(self) -> Catalog: ...

    def call(self, name: str, arguments: dict[str, Any]) -> ToolResult: ...

    def tool_specs(self) -> list[dict[str, Any]]: ...


class StepFailed(Exception):
    """A step of the reference solution did not give what the demonstration needs."""


class Wording:
    """The arguments of each call and the reading of each reply, for ``env``'s profile."""

    def __init__(self, env: ToolEnvironment) -> None:
        self.catalog = env.catalog
        self.rllm = getattr(env, "profile", "evalkit") == "rllm-finqa"

    def companies(self, task: TaskSpec) -> list[dict[str, Any]]:
        """The ``get_table_names`` calls: one per company (the task's, else its tables' owners); evalkit's
        profile lists every table with no company."""
        ids = [task.company] if task.company else list(dict.fromkeys(self._owner(t) for t in task.tables))
        ids = [i for i in ids if i]
        if self.rllm:
            if not ids:
                raise StepFailed("the task names no company, and the rllm-finqa tools need one")
            return [{"company_name": cid} for cid in ids]
        return [{"company": self._company_name(cid)} for cid in ids] or [{}]

    def table_info(self, table: str) -> dict[str, Any]:
        return self._table_args(table) if self.rllm else {"table": table}

    def query(self, task: TaskSpec, step: ReferenceStep) -> dict[str, Any]:
        if not self.rllm:
            return {"query": step.sql}
        table = step.table or next((t for t in task.tables if t.lower() in step.sql.lower()), None)
        if table is None:
            raise StepFailed(f"step {step.bind} names no table, and the rllm-finqa sql_query needs one")
        args = self._table_args(table)
        return {**args, "query": _named(step.sql, table, args["table_name"])}

    def value(self, content: str) -> str | list[str]:
        """What a query's reply binds: the cell of a 1×1 result, else the first column's values."""
        if self.rllm:
            try:
                records = json.loads(content)
            except json.JSONDecodeError:
                raise StepFailed("the reference query's reply is cut or not JSON records") from None
            cells = [[_text(v) for v in r.values()] for r in records if isinstance(r, dict)]
            return cells[0][0] if len(cells) == 1 and len(cells[0]) == 1 else [c[0] for c in cells if c]
        lines = content.splitlines()
        body = lines[1:]
        if body and body[-1].startswith("… "):
            raise StepFailed("the reference query's result is cut; the agent would not see all of it")
        if body == ["(no rows)"]:
            return []
        width = len(lines[0].split(" | ")) if lines else 0
        if len(body) == 1 and width == 1:
            return body[0]
        return [line.split(" | ")[0] for line in body]

    def number(self, result: ToolResult) -> float:
        """The calculator's result."""
        value = (result.data or {}).get("value")
        return float(value) if isinstance(value, int | float) else float(result.content)

    def _owner(self, table: str) -> str | None:
        try:
            return self.catalog.table(table).company
        except KeyError:
            return None

    def _company_name(self, cid: str) -> str:
        try:
            return self.catalog.company(cid).name
        except KeyError:
            return cid

    def _table_args(self, table: str) -> dict[str, Any]:
        from evalkit.contracts.rllm_names import identifier

        owner = self._owner(table)
        if owner is None:
            raise StepFailed(f"table {table} is not in the catalog")
        return {"company_name": owner, "table_name": identifier(owner, table)}


def _named(sql: str, table: str, listed: str) -> str:
    """The query with its table named after ``FROM`` / ``JOIN`` as ``get_table_names`` lists it, as the
    cookbook's agent writes it (its ``sql_query`` puts the SQL name back); other tables stay as written."""
    pattern = rf"\b(FROM|JOIN)(\s+)[`\"']?{re.escape(table)}[`\"']?(?=\s|$|;|,|\))"
    return re.sub(pattern, lambda m: f"{m.group(1)}{m.group(2)}{listed}", sql, flags=re.IGNORECASE)


def _text(value: Any) -> str:
    """A JSON cell as the evalkit profile would show it (a float as ``1350.0``, null as ``NULL``)."""
    return "NULL" if value is None else str(value)
