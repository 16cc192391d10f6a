"""The default system prompt: the workflow of the original study's financial tool-use environment.

It names no column: a suite's tables may have none called ``fiscal_year`` (a wide income statement has a
row label and one column per year). Given the suite's catalog, the filter example names a column the
tables do have: a period column (``fiscal_year``, ``year``) that most tables share, else the first text
column (a row label such as ``line_item``).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evalkit.env.catalog import Catalog

_PERIOD = re.compile(r"^(?:fiscal_)?(?:year|period|quarter)$|^fy$|^date$", re.IGNORECASE)

_TEMPLATE = """\
You are a financial analyst answering questions about companies from their financial tables (annual \
reports), which live in a SQL database. You can only learn what is in the database through your tools.

Work like this:
1. Find the company's tables with get_table_names (pass the company's name).
2. Read the schema of every table you will use with get_table_info: column names, types and units \
differ between tables (thousands vs millions, currencies, amounts stored as text such as "$1,234.5" or \
"(12.0)"), and some tables have one row per period while others have one column per period.
3. Query specific columns with sql_query, always with a filter{example} or an aggregate; SELECT * is not \
allowed.
4. Check that the values are for the right company, table, period and magnitude. If a tool returns an \
error, read it and correct your call instead of repeating it.
5. Do arithmetic with the calculator, not in your head.
6. When you are done, reply with your answer on its own line as:
FINAL ANSWER: <answer>
giving the number in the unit the question asks for (for example "12.5%", "1,234.5 USD millions", \
"2.3x"). If the data needed is not available, say so instead of guessing.
"""

#: The prompt when the suite gives none and its tables are not known.
DEFAULT_SYSTEM_PROMPT = _TEMPLATE.format(example="")


def filter_column(catalog: Catalog) -> str | None:
    """A column to give as the example of a filter: a period column most tables have, else the first text
    column of the first table that has one; None when there is neither."""
    if not catalog.tables:
        return None
    periods = Counter(c.name for t in catalog.tables for c in t.columns if _PERIOD.match(c.name))
    if periods:
        name, n = periods.most_common(1)[0]
        if n * 2 >= len(catalog.tables):
            return name
    for t in catalog.tables:
        for c in t.columns:
            if c.type.upper() == "VARCHAR":
                return c.name
    return None


def system_prompt(custom: str | None, catalog: Catalog | None = None) -> str:
    """The suite's own prompt when it has one, else the default, its filter example taken from ``catalog``."""
    if custom:
        return custom
    column = filter_column(catalog) if catalog is not None else None
    return _TEMPLATE.format(example=f" (for example on {column})" if column else "")
