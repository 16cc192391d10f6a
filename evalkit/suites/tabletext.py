"""Read a CSV table as annual reports print them, for ``evalkit suite import``.

Real tables are exported from reports and spreadsheets, not written for a database. This module turns one
such file into named columns of clean values, keeping what it changed so the catalog can say so:

- ``#`` lines before the header are conventions: ``# caption: TEXT`` (the table's description), ``# unit: UNIT``
  (the unit of every amount column that states none) and ``# column NAME: [unit=UNIT;] TEXT`` (a column's
  unit and description; NAME is the header label or the column's SQL name).
- A title line (only the first cell filled) above the header is the caption; a unit in it (``in EUR
  millions``) is the table's unit.
- A header of several rows (``,Fiscal year,`` above ``Line item,2022,2023``) is joined per column, a
  spanning label filled to the right: ``fiscal_year_2022``.
- Footnote marks (``Revenue (1)``, ``Net income*``, ``Restructuring¹``) are stripped from labels and text
  values; footnote lines under the table (``(1) Restated.``) go into the caption.
- A unit in a label (``Total assets (USD m)``, ``Provisions (in EUR thousands)``, ``Shares ('000)``,
  ``Dividend per share (€)``) becomes the column's unit and leaves the name.
- A column is numeric when every filled cell is a number as reports print them (``(1,234)`` and ``−45``
  negative, ``$40.00``, ``12.5%``, ``FY2022`` in a year column) or a nil mark: a dash alone (``—``, ``–``,
  ``-``) is 0, a dash with ``%`` (``- - %``) and ``n/a``, ``n.m.``, ``na`` are empty. Its cells are written as
  plain numbers and the column's description names the raw forms it had. Any other text keeps the column
  text.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.contracts.numbers import parse_amount

#: Files larger than this are not cleaned (reading them cell by cell would be slow; reports' tables are small).
MAX_CLEAN_BYTES = 64 << 20
_SUPERSCRIPTS = "¹²³⁴⁵⁶⁷⁸⁹⁰"
_FOOTNOTE = re.compile(rf"(?:\s*(?:\(\d{{1,2}}\)|\[\d{{1,2}}\]|[*†‡§]+|[{_SUPERSCRIPTS}]+))+$")
_CELL_FOOTNOTE = re.compile(rf"(?:\s*(?:[*†‡§]+|[{_SUPERSCRIPTS}]+))+$")
_FOOTNOTE_LINE = re.compile(rf"^\s*(?:\(\d{{1,2}}\)|\[\d{{1,2}}\]|[*†‡§]+|[{_SUPERSCRIPTS}]+)\s*\S")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DASH_ONLY = re.compile(rf"^[{_DASHES}\s]+$")
_DASH_PCT = re.compile(rf"^[{_DASHES}\s]+%$")
_NOT_AVAILABLE = {"n/a", "n.a.", "na", "n.m.", "nm", "n/m", "none", "null", "nan", "?"}
_PLAIN = re.compile(r"-?\d+(?:\.\d+)?")
_YEAR_LABEL = re.compile(r"^(?:FY|fiscal\s+(?:year\s+)?)\s*(\d{4})$", re.IGNORECASE)
_SPACED_THOUSANDS = re.compile(r"(?<=\d)[\s\u00a0\u202f'](?=\d{3}(?!\d))")
CURRENCIES = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "chf": "CHF", "fr.": "CHF"}
_CODES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "CNY", "SEK", "NOK", "DKK", "INR", "KRW", "BRL")
_CURRENCY = "|".join([*_CODES, r"US\$", r"\$", "€", "£", "¥"])
_SCALE_WORDS = {
    "k": "thousands", "thousand": "thousands", "thousands": "thousands", "'000": "thousands", "000s": "thousands",
    "000": "thousands", "m": "millions", "mn": "millions", "mio": "millions", "million": "millions",
    "millions": "millions", "bn": "billions", "b": "billions", "billion": "billions", "billions": "billions",
}  # fmt: skip
_SCALE = r"'000|000s|000|thousands?|millions?|billions?|mio|mn|bn|k|m|b"
#: A unit in a label or caption: ``(USD m)``, ``(in EUR thousands)``, ``(€)``, ``('000)``, ``(millions)``,
#: ``EUR m`` at the end, ``in GBP millions``, ``(%)``, ``(shares)``.
_UNIT = re.compile(
    rf"(?:[(\[]\s*(?:in\s+)?(?P<p>(?:(?:{_CURRENCY})\s*(?:{_SCALE})?|(?:{_SCALE})(?:\s+(?:of\s+)?(?:{_CURRENCY}))?"
    rf"|%|percent|shares(?:\s+(?:{_SCALE}))?|(?:{_SCALE})\s+shares))\s*[)\]]"
    rf"|(?:,\s*|\s+)in\s+(?P<i>(?:{_CURRENCY})\s*(?:{_SCALE})?|(?:{_SCALE})(?:\s+(?:of\s+)?(?:{_CURRENCY}))?)"
    rf"|\s+(?P<e>(?:{_CURRENCY})\s*(?:{_SCALE})))(?![A-Za-z0-9])|\s*(?P<q>%)\s*$",
    re.IGNORECASE,
)
_UNIT_IN_TITLE = re.compile(
    rf"\(\s*in\s+(?P<u>(?:{_CURRENCY})\s*(?:{_SCALE})?|(?:{_SCALE})(?:\s+of\s+(?:{_CURRENCY}))?)\s*\)"
    rf"|\bin\s+(?P<v>(?:{_CURRENCY})\s+(?:{_SCALE})|(?:{_SCALE})\s+of\s+(?:{_CURRENCY}))\b",
    re.IGNORECASE,
)
_NOT_AN_AMOUNT = re.compile(r"employee|headcount|staff|%|percent|ratio|margin|rate|shares?\b", re.IGNORECASE)


def normalise_unit(text: str) -> str | None:
    """``USD m`` -> ``USD millions``, ``in thousands`` -> ``thousands``, ``€`` -> ``EUR``, ``'000`` ->
    ``thousands``, ``shares m`` -> ``shares millions``, ``%``; None when ``text`` names no unit."""
    words = text.strip().removeprefix("in ").strip()
    low = words.lower()
    if low in ("%", "percent"):
        return "%"
    currency, scale, shares = None, None, False
    for token in re.findall(rf"(?<![A-Za-z])(?:{_CURRENCY}|{_SCALE}|shares)(?![A-Za-z])", words, re.IGNORECASE):
        t = token.lower()
        if t == "shares":
            shares = True
        elif t.upper() in _CODES:
            currency = t.upper()
        elif t in CURRENCIES:
            currency = CURRENCIES[t]
        elif t in _SCALE_WORDS:
            scale = _SCALE_WORDS[t]
    if shares:
        return f"shares {scale}" if scale else "shares"
    parts = [p for p in (currency, scale) if p]
    return " ".join(parts) or None


def split_label(label: str) -> tuple[str, str | None, bool]:
    """(name, unit, had footnote marks) of a header label: ``Total assets (USD m) (2)`` -> (``Total
    assets``, ``USD millions``, True)."""
    text = label.strip()
    stripped = _FOOTNOTE.sub("", text)
    marked = stripped != text
    unit = None
    m = _UNIT.search(stripped)
    if m:
        unit = normalise_unit(m.group("p") or m.group("i") or m.group("e") or m.group("q"))
        if unit:
            stripped = " ".join(f"{stripped[: m.start()]} {stripped[m.end() :]}".split()).rstrip(" ,")
        if unit in ("thousands", "millions", "billions") and re.search(r"\bshares?\b", stripped, re.IGNORECASE):
            unit = f"shares {unit}"
    clean = _FOOTNOTE.sub("", stripped)
    return clean, unit, marked or clean != stripped


def _cell(text: str, year_column: bool) -> tuple[str, float | None] | None:
    """(kind, value) of one cell: ``("number", v)``, ``("zero", 0.0)``, ``("empty", None)``; None for text."""
    t = _CELL_FOOTNOTE.sub("", text.strip()) if not _DASH_ONLY.match(text) else text.strip()
    if not t:
        return "empty", None
    if t.lower() in _NOT_AVAILABLE or _DASH_PCT.match(t):
        return "empty", None
    if _DASH_ONLY.match(t):
        return "zero", 0.0
    if re.match(r"^[+-]?0\d", t):  # a code with leading zeros (``00123``), not an amount
        return None
    if year_column and (m := _YEAR_LABEL.match(t)):
        return "number", float(m.group(1))
    body = _SPACED_THOUSANDS.sub("", t)
    body = re.sub(rf"^(?:{'|'.join(_CODES)})\s*|\s*(?:{'|'.join(_CODES)})$|¥|CHF\s*", "", body, flags=re.IGNORECASE)
    amount = parse_amount(body)
    if amount is None or amount[1] not in (None, "%"):
        return None
    return ("percent" if amount[1] == "%" else "number"), amount[0]


@dataclass
class SourceTable:
    """A user table: its SQL name, source file and columns (new name, name in the file, catalog type)."""

    name: str
    source: Path
    columns: list[tuple[str, str, str]] = field(default_factory=list)
    company: str = "default"
    origin: Path | None = None  # the user's file, when ``source`` is its cleaned copy (a CSV file)
    caption: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # name in ``source`` -> label in the user's file
    meta: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # name in ``source`` -> unit, description
    source_names: dict[str, str] = field(default_factory=dict)  # name in ``source`` -> name another tool set uses


@dataclass
class Column:
    """One column of a cleaned table: its label without unit or footnote marks, the label as the file has
    it, unit, description and the cell values to write (numbers as plain text)."""

    label: str
    raw: str
    unit: str | None = None
    description: str = ""
    values: list[str] = field(default_factory=list)
    numeric: bool = False


@dataclass
class CleanTable:
    caption: str
    columns: list[Column]
    notes: list[str]  # what was changed, for the import's notes


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _header_rows(rows: list[list[str]]) -> int:
    """How many leading rows form the header: a row with blank cells (a spanning label) is continued by the
    next row when that row has a text cell or only year-like numbers (``2022``, ``FY 2023``)."""
    n = 1
    while n < min(len(rows), 4):
        above, row = rows[n - 1], rows[n]
        if all(c.strip() for c in above) or any(_cell(c, True) not in (None, ("empty", None)) for c in above):
            break
        filled = [c.strip() for c in row if c.strip()]
        yearish = all(re.fullmatch(r"(?:FY\s*)?\d{4}", c, re.IGNORECASE) for c in filled if _cell(c, True))
        if not filled or (all(_cell(c, False) is not None for c in filled) and not yearish):
            break
        n += 1
    return n


def _join_header(rows: list[list[str]]) -> list[str]:
    width = max(len(r) for r in rows)
    labels = [""] * width
    for row in rows:
        row = row + [""] * (width - len(row))
        last = ""
        for i, cell in enumerate(row):
            cell = cell.strip()
            if cell:
                last = cell
            elif last and row is not rows[-1]:
                cell = last  # a spanning label covers the blank cells to its right
            labels[i] = f"{labels[i]} {cell}".strip() if cell else labels[i]
    return labels


def _delimiter(sample: list[str]) -> str:
    """The one of ``,`` ``;`` tab ``|`` that splits the first lines into the most columns, the same number in
    most lines (quotes respected)."""

    def score(d: str) -> tuple[int, int]:
        counts = [len(r) for r in csv.reader(sample, delimiter=d) if r]
        if not counts:
            return 0, 0
        mode = max(set(counts), key=counts.count)
        return (counts.count(mode), mode) if mode > 1 else (0, 0)

    return max(",;\t|", key=score)


def stage_csv(path: Path, folder: Path) -> tuple[Path, CleanTable]:
    """Write the cleaned table of a CSV file to ``folder`` (same file name, comma-separated, one header row
    of the cleaned labels); the staged file and what cleaning found."""
    table = read_csv_table(path)
    staged = folder / path.name
    rows = zip(*(c.values for c in table.columns), strict=True) if table.columns else iter(())
    with staged.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        seen: set[str] = set()
        for i, c in enumerate(table.columns):
            label, n = c.label or f"column_{i + 1}", 2
            while label.lower() in seen:
                label, n = f"{c.label} {n}", n + 1
            label = label.lower()  # SQL names in lowercase, as the catalog's other names are
            seen.add(label.lower())
            c.label = label
        writer.writerow([c.label for c in table.columns])
        writer.writerows(rows)
    return staged, table


def read_csv_table(path: Path) -> CleanTable:
    """The cleaned columns of a CSV file (see the module docstring); ``ValueError`` if it has no header."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    lines = text.splitlines()
    caption_parts: list[str] = []
    table_unit: str | None = None
    column_notes: dict[str, str] = {}
    while lines and lines[0].lstrip().startswith("#"):
        key, _, value = lines.pop(0).lstrip("# \t").partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "caption":
            caption_parts.append(value)
        elif key == "unit":
            table_unit = normalise_unit(value) or value
        elif key.startswith("column "):
            column_notes[key.removeprefix("column ").strip()] = value
    rows = [r for r in csv.reader(lines, delimiter=_delimiter(lines[:20])) if any(c.strip() for c in r)]
    if rows and len(rows[0]) > 1 and rows[0][0].strip() and not any(c.strip() for c in rows[0][1:]):
        title = rows.pop(0)[0].strip()  # a title line above the table
        caption_parts.insert(0, title)
        m = _UNIT_IN_TITLE.search(title)
        if m and table_unit is None:
            table_unit = normalise_unit(m.group("u") or m.group("v"))
    footnotes: list[str] = []
    while rows and _FOOTNOTE_LINE.match(rows[-1][0]) and not any(c.strip() for c in rows[-1][1:]):
        footnotes.insert(0, rows.pop()[0].strip())
    if not rows:
        raise ValueError("no header row")
    n = _header_rows(rows)
    labels, body = _join_header(rows[:n]), rows[n:]
    notes = [f"{path.name}: header of {n} rows joined"] if n > 1 else []
    caption = " ".join([*caption_parts, *(["Notes:", *footnotes] if footnotes else [])])
    columns = [_column(i, label, body, table_unit, column_notes, notes, path.name) for i, label in enumerate(labels)]
    cleaned = [n[1:] for n in notes if n.startswith("\0")]
    notes = [n for n in notes if not n.startswith("\0")]
    if cleaned:
        notes.append(f"{path.name}: cleaned into numbers: {'; '.join(cleaned)}")
    return CleanTable(caption, columns, notes)


def _column(
    i: int, label: str, body: list[list[str]], table_unit: str | None, given: dict[str, str], notes: list[str], f: str
) -> Column:
    name, unit, marked = split_label(label)
    if marked:
        notes.append(f"{f}: footnote marks removed from {label!r}")
    cells = [r[i] if i < len(r) else "" for r in body]
    year_column = "year" in name.lower()
    read = [_cell(c, year_column) for c in cells]
    numbers = [r for r in read if r is not None and r[0] in ("number", "percent")]
    column = Column(name or ("line_item" if i == 0 else ""), label, unit)
    described: list[str] = [f"{label!r} in the source file"] if label != name else []
    if numbers and all(r is not None for r in read):
        column.numeric = True
        column.values = ["" if r is None or r[1] is None else _number_text(r[1]) for r in read]
        if column.unit is None and all(r is not None and r[0] in ("percent", "empty", "zero") for r in read):
            column.unit = "%"
        symbols = {s for c in cells for s, code in CURRENCIES.items() if s in c.lower() and len(s) == 1}
        if column.unit is None and len(symbols) == 1:
            column.unit = CURRENCIES[symbols.pop()]
        years = all(r is None or r[1] is None or (r[1].is_integer() and 1900 <= r[1] <= 2100) for r in read)
        if column.unit is None and table_unit and not _NOT_AN_AMOUNT.search(name) and not (year_column and years):
            column.unit = table_unit
        forms = [c.strip() for c in cells if c.strip() and not _PLAIN.fullmatch(c.strip())]
        if forms:
            shown = ", ".join(repr(x) for x in dict.fromkeys(forms) if x)
            kinds = {r[0] for r in read if r is not None}
            nil = "; a dash alone read as 0" if "zero" in kinds else ""
            na = "; n/a and the like read as empty" if "empty" in kinds and any(c.strip() for c in cells) else ""
            described.append(f"stored as text in the source ({_first(shown, 5)}){nil}{na}")
            notes.append(f"\0{name} ({_first(shown, 2)})")  # joined into one note per file below
    else:
        column.values = [_FOOTNOTE.sub("", c.strip()) if not _DASH_ONLY.match(c) else c.strip() for c in cells]
        changed = [c.strip() for c, v in zip(cells, column.values, strict=True) if c.strip() != v]
        if changed:
            described.append(f"footnote marks removed from its values ({_first(', '.join(map(repr, changed)), 3)})")
    note = given.get(label.lower()) or given.get(name.lower()) or given.get(re.sub(r"\W+", "_", name.lower()))
    if note:
        m = re.match(r"\s*unit\s*=\s*([^;]+);?\s*", note)
        if m:
            column.unit = normalise_unit(m.group(1)) or m.group(1).strip()
            note = note[m.end() :]
        described.insert(0, note.strip())
    column.description = "; ".join(d for d in described if d)
    return column


def _first(shown: str, n: int) -> str:
    parts = shown.split(", ")
    return ", ".join(parts[:n]) + (", …" if len(parts) > n else "")


def catalog_column(name: str, raw: str, ctype: str, unit: str | None = None, description: str = "") -> dict[str, str]:
    """A catalog column; its description names the label in the user's file when the name differs."""
    column = {"name": name, "type": ctype}
    if unit:
        column["unit"] = unit
    mention = f"{raw!r} in the source file"
    plain = re.sub(r"[\W_]+", "_", raw.lower()).strip("_")
    renamed = name.lower() != plain and mention not in description  # not for a change of case or spacing only
    text = "; ".join(p for p in (description, mention if renamed else "") if p)
    if text:
        column["description"] = text
    return column


def stage_table(table: SourceTable, stage: Path, notes: list[str]) -> None:
    """Clean a CSV file into ``stage`` (see the module docstring) and read the table from there. A file of
    more than :data:`MAX_CLEAN_BYTES` is a data export rather than a report's table: DuckDB reads it as it is."""
    if table.source.stat().st_size > MAX_CLEAN_BYTES:
        notes.append(f"{table.source.name}: over {MAX_CLEAN_BYTES >> 20} MB, read as it is (no cleaning)")
        return
    folder = stage / table.name
    folder.mkdir()
    table.origin = table.source
    table.source, clean = stage_csv(table.source, folder)
    table.caption = clean.caption
    table.labels = {c.label: c.raw for c in clean.columns}
    table.meta = {c.label: (c.unit, c.description) for c in clean.columns}
    notes.extend(clean.notes)
