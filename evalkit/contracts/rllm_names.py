"""How rLLM's FinQA cookbook names companies and tables, as pure functions (no database).

The cookbook (``cookbooks/finqa/finqa_tools.py`` of rllm-org/rllm, Apache-2.0) keys a company by its folder
name, lower-cased (``_normalize_company``); a table by the identifier ``get_table_names`` lists, matched
case-insensitively with a ``.json`` suffix dropped (``_normalize_table``); and it loads each table into
SQLite as ``{company}_{table}`` with ``-`` and spaces made ``_`` (``_get_sql_name``). ``sql_query`` rewrites
the table identifier after ``FROM`` / ``JOIN`` into that quoted SQL name before running the query.

In an evalkit catalog a company's id plays the folder name, and a table named ``{company}_{rest}`` is listed
as ``rest``, so its cookbook SQL name is the catalog name itself. The environment (``env.rllm_tools``), the
trace view (``scoring.profile_view``) and the scripted agents (``models.profile_adapter``) share these rules,
so that a query reads the same in both profiles.
"""

from __future__ import annotations

import os
import re

PROFILE = "rllm-finqa"
TOOL_NAMES: tuple[str, ...] = ("get_table_names", "get_table_info", "sql_query", "calculator")
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "get_table_names": ("company_name",),
    "get_table_info": ("company_name", "table_name"),
    "sql_query": ("company_name", "table_name", "query"),
    "calculator": ("expression",),
}
"""Each tool's arguments, as the cookbook's function signatures name them."""


_NOT_IN_TASK_ID = re.compile(r"[^A-Za-z0-9_.-]+")


def task_id(question_id: str) -> str:
    """The evalkit task id of a dataset row's ``question_id`` (``suite import-rllm-finqa`` names tasks so, and an
    rLLM episode is matched to its task by it): characters outside ``[A-Za-z0-9_.-]`` made ``-``, leading and
    trailing ``-``/``.`` dropped, a ``q`` put before one that does not start with a letter or digit; empty when
    nothing is left."""
    base = _NOT_IN_TASK_ID.sub("-", question_id).strip("-.")
    return base if not base or base[0].isalnum() else f"q{base}"


def normalize_company(company_name: str) -> str:
    """``_normalize_company``: lower-cased, stripped."""
    return company_name.lower().strip()


def table_key(table_name: str) -> str:
    """The form ``_normalize_table`` looks a table up in: stripped, ``.json`` dropped, lower-cased."""
    name = table_name.strip()
    if name.endswith(".json"):
        name = name[:-5]
    return name.lower()


def sql_name(company: str, table: str) -> str:
    """``_get_sql_name``: the SQLite table a company's table is loaded as."""
    cleaned = os.path.splitext(os.path.basename(table))[0]
    return f"{company}_{cleaned}".replace("-", "_").replace(" ", "_")


def identifier(company: str, catalog_name: str) -> str:
    """The identifier an evalkit table (``{company}_{rest}``) is listed as: ``rest``; a table whose name does
    not start with its company's id keeps its name."""
    prefix = f"{company}_"
    rest = catalog_name[len(prefix) :] if catalog_name.lower().startswith(prefix.lower()) else ""
    return rest or catalog_name


def rewrite_query(query: str, table_name: str, quoted_sql_name: str) -> str:
    """``sql_query``'s rewrite: the identifier after ``FROM`` or ``JOIN`` (optionally quoted) becomes the
    quoted SQL name; every other mention of a table stays as written."""
    pattern = rf"(FROM|JOIN)\s+[`\"']?{re.escape(table_name)}[`\"']?(?=\s|$|;|,|\))"
    return re.sub(pattern, lambda m: f"{m.group(1)} {quoted_sql_name}", query, flags=re.IGNORECASE)


def is_rllm_call(tool: str | None, arguments: object) -> bool:
    """Whether a recorded call is one of the rllm-finqa profile's (its argument names say so)."""
    if tool not in ARGUMENTS or not isinstance(arguments, dict):
        return False
    if tool == "calculator":
        return False  # the same in both profiles
    return any(k in arguments for k in ("company_name", "table_name"))


_COOKBOOK_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Error: table (.+) for company .+ could not be (?:found|loaded)\.$"), "unknown_table"),
    (re.compile(r'^Error: Table "(.+)" not found for company '), "unknown_table"),
    (re.compile(r'^Error: Column "(.+)" not found\.'), "unknown_column"),
    (re.compile(r"^Error : Column not found in table\."), "unknown_column"),
    (re.compile(r'^Error: Company (?:name )?"?(.+?)"? not found'), "unknown_company"),
    (re.compile(r'^Error : (?:"SELECT \*" is not allowed|query must not be empty)'), "refused"),
    (re.compile(r"^Error: (?:Query needs a filter|Missing FROM clause)"), "refused"),
    (re.compile(r"^Error evaluating expression"), "calc_error"),
    (re.compile(r"^Error: Input expression must be a string"), "calc_error"),
    (re.compile(r"^Error: unknown tool"), "unknown_tool"),
    (re.compile(r"^Error: failed to parse tool arguments"), "malformed_call"),
    (re.compile(r"^Error: bad arguments for "), "bad_arguments"),
)
"""The error texts of ``finqa_tools.py`` and ``finqa_flow._exec_tool_call``, and the error type evalkit's
profile gives each (``env.rllm_tools`` answers with the same texts)."""


def cookbook_error(text: str) -> tuple[str, str | None] | None:
    """``(error type, the name it says is missing)`` of a cookbook tool's error text, or None when the text
    is none of them (an SQL engine's own message, say)."""
    for pattern, kind in _COOKBOOK_ERRORS:
        m = pattern.match(text.strip())
        if m:
            return kind, (m.group(1) if m.groups() else None)
    return None
