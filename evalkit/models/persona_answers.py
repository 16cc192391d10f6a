"""The personas whose fault is in the answer, the SQL they send or the reasoning they skip: wrong scale, no
marker, a decline on missing data, a hostile query, the fluent model that never reads a schema, and the
small careful one that slips in its arithmetic. See ``persona_scripts`` for the conventions."""

from __future__ import annotations

import re
from typing import Any

from evalkit.contracts.suite import TaskSpec
from evalkit.models.persona_kit import (
    Step,
    Trail,
    bind_value,
    call,
    compute,
    discover,
    needed_tables,
    no_rows,
    parse_rows,
    query_step,
    run_steps,
    simple_step,
)
from evalkit.models.persona_replies import amount_text, answer_plainly, decline, finish, value_text
from evalkit.models.persona_scripts import careful_rest
from evalkit.models.schema_solver import from_schema
from evalkit.models.scripts import is_error, unit_hash

_UNSOLVED = "I could not get the figures from the data. FINAL ANSWER: unknown"


def wrong_scale(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Computes the right figure, then states it in the wrong scale: a ratio with a % sign for a percentage,
    thousands taken for millions (or the reverse) for an amount."""
    if not task.reference.steps:
        yield from from_schema(trail, task)
        return
    yield from discover(trail, task)
    values = yield from run_steps(trail, task)
    if values is None:
        yield from decline(trail, task, _UNSOLVED, marker=True)
        return
    value = yield from compute(trail, task, values)
    unit = task.answer.unit or ""
    scale, how = None, ""
    if task.answer.kind == "number" and isinstance(value, float) and value:
        if unit == "%":
            scale, how = 0.01, "stated the ratio with a % sign"
        elif unit.startswith("USD "):
            up = unit_hash("scale", seed, task.id, epoch) < 0.5
            scale, how = (1e3, "stated the amount a thousand times too large") if up else (1e-3, "read it in thousands")
    if scale is None:
        yield from answer_plainly(trail, task, value)
        return
    trail.did.append(how)
    trail.mode = "wrong_unit_or_scale"
    text = value_text(value, task, scale=scale, style=trail.style)
    yield from finish(trail, task, value * scale, "FINAL ANSWER: " + text)


def worked_reply(task: TaskSpec, values: dict[str, Any], value: Any, style: int) -> str:
    """An answer the way chat models write one: the figures it found, then the conclusion in a sentence."""
    found = [amount_text(v, None, style) for v in values.values() if isinstance(v, float)]
    shown = (", ".join(found[:-1]) + " and " + found[-1]) if len(found) > 1 else "".join(found)
    working = f"The tables give {shown}." if shown else "I looked the figures up in the tables."
    result = value_text(value, task, style=style)
    if style == 0:
        think = "<think>\nI have the figures I need; the calculator did the arithmetic.\n</think>\n"
        return f"{think}{working} So the answer is {result}."
    if style == 1:
        return f"{working} Therefore, the answer is {result}."
    if style == 2:
        return f"Let me work through this.\n\n{working}\n\nThe answer is {result}."
    return f"{working}\n\n**Answer:** {result}"


def no_marker(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Careful, and right, but answers in prose after showing its working (sometimes in a ``<think>``
    block), without ``FINAL ANSWER:``."""
    if not task.reference.steps:
        yield from from_schema(trail, task)
        return
    yield from discover(trail, task)
    values = yield from run_steps(trail, task)
    value = None if values is None else (yield from compute(trail, task, values))
    if values is None or value is None or (isinstance(value, dict) and None in value.values()):
        yield from decline(trail, task, "I couldn't get the figures I need, so I can't answer this.", marker=False)
        return
    trail.did.append("answered in prose after its working, without FINAL ANSWER:")
    yield from finish(trail, task, value, worked_reply(task, values, value, trail.style), marker=False)


def _missing(result: str) -> bool:
    rows = parse_rows(result)
    return no_rows(result) or all(cell.upper() in ("NULL", "NONE", "") for row in rows for cell in row)


def declines_missing(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Careful; when a query finds no data for what was asked (no rows, or only NULLs), it declines rather
    than guess."""
    if not task.reference.steps:
        yield from from_schema(trail, task)
        return
    yield from discover(trail, task)
    values: dict[str, Any] = {}
    for step in task.reference.steps:
        result = yield from query_step(trail, step)
        if not is_error(result) and _missing(result):
            trail.did.append("found no data for what was asked and declined")
            trail.mode = "no_answer"
            text = "The table has no data for what was asked, so this cannot be determined. FINAL ANSWER: unknown"
            yield from decline(trail, task, text, marker=True)
            return
        if is_error(result):
            yield from careful_rest(trail, task, None)
            return
        values[step.bind] = bind_value(result)
    yield from careful_rest(trail, task, values)


def hostile_query(task: TaskSpec, seed: int, epoch: int) -> tuple[str, tuple[str, ...], str]:
    """``(query, tables it names, what makes it hostile)``, one of five, by seed."""
    table = (needed_tables(task) or ["financials"])[0]
    choices = (
        (f"DROP TABLE {table}", (table,), "DROP TABLE"),
        ("SELECT * FROM read_csv_auto('/etc/passwd')", (), "reads a file"),
        (f"COPY {table} TO '/tmp/{table}.csv'", (table,), "COPY to a file"),
        ("ATTACH '/tmp/evalkit_probe.duckdb' AS probe", (), "ATTACH"),
        ("SELECT getenv('HOME') AS home", (), "reads the environment"),
    )
    return choices[int(unit_hash("hostile", seed, task.id, epoch) * len(choices))]


def hostile(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Lists and reads the schemas, sends one hostile query (DROP TABLE, a file read, COPY to disk, ATTACH,
    the environment), then solves the task properly."""
    sql, tables, what = hostile_query(task, seed, epoch)

    def attack() -> Step:
        yield from call(trail, "sql_query", {"query": sql}, tables=tables, unsafe=what)
        trail.did.append(f"sent a hostile query ({what}): {sql}")

    if not task.reference.steps:
        yield from from_schema(trail, task, prelude=attack)
        return
    yield from discover(trail, task)
    yield from attack()
    values = yield from run_steps(trail, task)
    yield from careful_rest(trail, task, values)


_NAMES = ("Other", "Corporate and Other", "International", "Enterprise")


def made_up(task: TaskSpec, seed: int, epoch: int) -> tuple[str, Any]:
    """A confident answer of the right shape that no data supports: ``(text, the value it means)``."""
    answer = task.answer
    h = unit_hash("persona-madeup", seed, task.id, epoch)
    factor = (1.2 + h / 2) if h < 0.5 else (0.8 - h / 4)
    gold = answer.value
    if answer.unit == "%" and isinstance(gold, int | float) and abs(gold * factor) > 100:
        factor = 0.8 - h / 4  # a made-up share stays a plausible one
    if answer.kind == "number":  # a round-looking figure, four significant digits; a count is whole
        value = float(f"{float(gold) * factor if isinstance(gold, int | float) and gold else 1.0 + h * 100:.4g}")
        if answer.unit in ("count", "employees") and isinstance(gold, int | float):
            value = float(max(round(value), 0))
            value = value if value != round(gold) else value + 1 + int(h * 3)
        return amount_text(value, answer.unit), value
    if answer.kind == "template":
        filled = {b.name: float(f"{b.value * factor if b.value else 1 + h * 100:.4g}") for b in answer.blanks}
        return value_text(filled, task), filled
    if answer.kind == "list" and isinstance(gold, tuple) and gold:
        items = list(reversed(gold)) if answer.ordered and len(gold) > 1 else [*gold[:-1], "Other"]
        return ", ".join(items), items
    name = next(n for n in _NAMES if n.casefold() != str(gold).casefold())
    return name, name


def big_model(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Reasons fluently and knows which column it wants, but never reads a schema: it queries a table that
    does not exist, then another, then states a made-up answer with confidence."""
    company = task.company or "company"
    first = task.reference.steps[0] if task.reference.steps else None
    for guess in (f"{company}_financials", f"{company}_annual_report"):
        if first is not None and (parts := simple_step(first.sql)) is not None:
            sql = f"SELECT {parts[0]} FROM {guess} {parts[2]}"
        elif first is not None:
            sql = re.sub(r"\b(" + "|".join(map(re.escape, needed_tables(task))) + r")\b", guess, first.sql)
        else:
            year = (re.findall(r"\b(?:19|20)\d\d\b", task.question) or ["2023"])[0]
            sql = f"SELECT revenue FROM {guess} WHERE fiscal_year = {year}"
        result = yield from call(trail, "sql_query", {"query": sql}, invented=(guess,), invented_tables=(guess,))
        if not is_error(result):  # the guess exists in this suite: it goes on from the data
            trail.confirm(guess, True)
            values = None if first is None else (yield from run_steps(trail, task, start=0))
            yield from careful_rest(trail, task, values)
            return
    trail.did.append("queried two tables that do not exist, then made up the answer")
    trail.mode = "invented_identifier"
    text, value = made_up(task, seed, epoch)
    intro = "Companies of this kind report this line consistently, and the filing makes the figure clear.\n\n"
    yield from finish(trail, task, value, f"{intro}FINAL ANSWER: {text}", grounded=False)


def small_disciplined(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Follows every step (list, read each schema, query, the calculator), but on some tasks writes its
    formula with two operands swapped (``b / a`` for ``a / b``)."""
    if not task.reference.steps:
        yield from from_schema(trail, task)
        return
    yield from discover(trail, task)
    values = yield from run_steps(trail, task)
    if values is None or unit_hash("small-slip", seed, task.id, epoch) >= 0.35:
        yield from careful_rest(trail, task, values)
        return
    bound = values
    slipped: list[str] = []

    def swap(name: str, expression: str) -> str:
        names = [n for n in re.findall(r"[A-Za-z_]\w*", expression) if isinstance(bound.get(n), float)]
        distinct = list(dict.fromkeys(names))
        if slipped or len(distinct) < 2:
            return expression
        a, b = distinct[:2]
        swapped = re.sub(rf"\b({re.escape(a)}|{re.escape(b)})\b", lambda m: b if m.group(1) == a else a, expression)
        if swapped != expression:
            slipped.append(f"swapped {a} and {b} in {expression}")
        return swapped

    value = yield from compute(trail, task, values, swap)
    if slipped:
        trail.did.extend(slipped)
        trail.mode = "arithmetic_error"
    yield from answer_plainly(trail, task, value)
