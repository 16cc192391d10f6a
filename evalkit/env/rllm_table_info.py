"""``get_table_info``'s reply in the rllm-finqa profile: the JSON the cookbook's ``_compute_table_info`` makes.

The cookbook reads each table file with pandas and sends ``json.dumps(payload, indent=0)`` with the newlines
removed, where ``payload`` is the table file's own metadata (without the table) plus ``column_names``,
``column_dtypes`` (pandas dtypes), ``unique_vals_per_col`` (the distinct values of every column but those
whose values after the first row are all digits once punctuation is removed; the first column is always
kept) and, when the first column is not numeric, ``index`` (its name and values). Here the table comes from
the suite's database and its metadata from the catalog: the table's ``description`` and, when the catalog
gives units, ``column_units``. dtypes follow what pandas infers from the column's type and values (an integer
column with a missing value reads as ``float64``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

from evalkit.env.catalog import TableInfo


def _dtype(sql_type: str, values: list[Any]) -> str:
    kind = sql_type.upper()
    has_null = any(v is None for v in values)
    if kind in ("INTEGER", "BIGINT"):
        return "float64" if has_null else "int64"
    if kind == "DOUBLE":
        return "float64"
    if kind == "BOOLEAN":
        return "object" if has_null else "bool"
    return "object"


def _value(v: Any, dtype: str) -> Any:
    """A cell as pandas hands it to ``json.dumps``: numbers of a float column as floats, dates as text."""
    if isinstance(v, bool):
        return v
    if isinstance(v, Decimal):
        v = float(v)
    if dtype == "float64" and isinstance(v, int | float):
        return float(v)
    if isinstance(v, dt.date | dt.datetime | dt.time):
        return v.isoformat()
    return v


def _text(v: Any) -> str:
    """``str(v)`` of the pandas value (a missing number is ``nan``, a missing text ``None``)."""
    if v is None:
        return "nan"
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return str(v)


def table_info_json(info: TableInfo, rows: list[tuple[Any, ...]]) -> str:
    """The cookbook's ``get_table_info`` text for a table with these rows (in table order)."""
    payload: dict[str, Any] = {"description": info.description}
    units = {c.name: c.unit for c in info.columns if c.unit}
    if units:
        payload["column_units"] = units
    names = list(info.column_names)
    if not rows or not names:
        payload["column_names"] = []
        payload["column_dtypes"] = {}
        payload["unique_vals_per_col"] = {}
        return json.dumps(payload, indent=0).replace("\n", "")
    columns = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    dtypes = {c.name: _dtype(c.type, columns[c.name]) for c in info.columns}
    values = {n: [_value(v, dtypes[n]) for v in columns[n]] for n in names}
    payload["column_names"] = names
    payload["column_dtypes"] = dtypes
    first = names[0]
    index_values = None
    if dtypes[first] in ("object",):
        index_values = [str(v) for v in values[first] if v is not None]
    dropped = set()
    for name in names[1:]:
        cleaned = ["".join(ch for ch in _text(v) if ch.isalnum()).strip() for v in values[name][1:]]
        if all(c.isnumeric() or len(c) == 0 for c in cleaned):
            dropped.add(name)
    payload["unique_vals_per_col"] = {
        n: list(dict.fromkeys(v for v in values[n] if v is not None and not _is_nan(v)))
        for n in names
        if n not in dropped
    }
    if index_values:
        payload["index"] = {"name": first, "values": payload["unique_vals_per_col"].get(first, index_values)}
    return json.dumps(payload, indent=0).replace("\n", "")


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def records_json(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """A result as the cookbook sends it, ``DataFrame.to_json(orient="records")``: compact, ASCII, ``/``
    escaped, floats to 10 decimal places."""

    def cell(v: Any) -> Any:
        if isinstance(v, float):
            return None if math.isnan(v) or math.isinf(v) else round(v, 10)
        return v

    out = [{c: cell(r.get(c)) for c in columns} for r in rows]
    return json.dumps(out, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")
