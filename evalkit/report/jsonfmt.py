"""The report as JSON, for scripts and dashboards: exactly ``Report.to_dict()``, pretty-printed.

Its fields are documented by the JSON Schema shipped at :data:`REPORT_SCHEMA_PATH`
(``evalkit/contracts/schemas/report.schema.json``; ``docs/report-json.md`` describes it for people). Keys keep the
dataclasses' order rather than being sorted, so a report reads top-down: runs, criteria, groups, tasks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.report.model import Report

REPORT_SCHEMA_PATH = Path(__file__).resolve().parent.parent / "contracts" / "schemas" / "report.schema.json"
"""The JSON Schema (draft 2020-12) of :func:`render_json`'s output."""


def render_json(report: Report) -> str:
    """``report.to_dict()`` as indented JSON (non-ASCII kept as is), ending with a newline."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def report_schema() -> dict[str, Any]:
    """The report's JSON Schema as a dict."""
    schema: dict[str, Any] = json.loads(REPORT_SCHEMA_PATH.read_text("utf-8"))
    return schema
