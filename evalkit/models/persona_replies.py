"""How the fault-injection personas write their answers, and what they know about them: the figure with its
unit in one of a few styles (``$2,167.1 million``, ``20.43 percent``), whether the value they meant agrees with
the gold (the task's own tolerance, not the answer matcher), and the final step that writes both into the
trail before the reply is sent (so a replay knows the answer's facts). See ``evalkit.models.persona_kit``."""

from __future__ import annotations

import math
import re
from collections.abc import Generator
from typing import Any

from evalkit.contracts.answers import is_decline
from evalkit.contracts.suite import TaskSpec
from evalkit.models.persona_kit import AnswerFacts, Trail
from evalkit.models.scripts import Action, FinalAction


def digits(value: float, grouped: bool = False) -> str:
    """A figure at 4 decimals, or 4 significant digits below 1 (``0.000958``), with ``,`` groups if asked."""
    magnitude = abs(value)
    places = 4 if magnitude >= 1 or magnitude == 0 else 3 - math.floor(math.log10(magnitude))
    text = f"{magnitude:,.{places}f}" if grouped else f"{magnitude:.{places}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return ("-" if value < 0 and text.strip("0.,") else "") + text


def amount_text(value: float, unit: str | None, style: int = 0) -> str:
    """A figure with its unit, in one of the ways models write one (``style`` 0-3): ``2167.1 USD millions``,
    ``$2,167.1 million``, ``USD 2,167.1 million``, ``2,167.1 USD millions``; ``20.43%`` / ``20.43 percent``,
    ``0.24x`` / ``0.24 times``, ``12 bps`` / ``12 basis points``. Always the unit asked for (see ``digits``)."""
    if style == 0 or unit in (None, "count"):
        plain = digits(value)
        return plain if unit in (None, "count") else f"{plain}{unit}" if unit in ("%", "x") else f"{plain} {unit}"
    sign = "-" if value < 0 else ""
    body = digits(abs(value), grouped=True)
    if unit in ("%", "x", "bps"):
        if style == 2:
            return f"{sign}{body} " + {"%": "percent", "x": "times", "bps": "basis points"}[unit]
        return f"{sign}{body} bps" if unit == "bps" else f"{sign}{body}{unit}"
    if unit == "USD" or unit.startswith("USD "):
        scale = unit.split(" ", 1)[1].removesuffix("s") if " " in unit else ""
        tail = f" {scale}" if scale else ""
        if style == 1:
            return f"{sign}${body}{tail}"
        return f"{sign}USD {body}{tail}" if style == 2 else f"{sign}{body} {unit}"
    return f"{sign}{body} {unit}"


def value_text(value: Any, task: TaskSpec, *, scale: float = 1.0, style: int = 0) -> str:
    """The answer's value as the persona writes it (with the unit asked for; ``scale`` multiplies it)."""
    answer = task.answer
    if isinstance(value, dict):
        filled = {k: digits(v * scale) if isinstance(v, float) else "n/a" for k, v in value.items()}
        return re.sub(r"\{(\w+)\}", lambda m: filled.get(m.group(1), "n/a"), answer.template or "")
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, float | int):
        return amount_text(float(value) * scale, answer.unit, style)
    return str(value)


def agrees(task: TaskSpec, value: Any) -> bool | None:
    """Whether the value the persona meant is the gold answer (the task's own tolerance; names compared
    without case). None when the task has no gold."""
    answer = task.answer
    gold = answer.value
    if answer.kind == "template":
        if not answer.blanks or not isinstance(value, dict):
            return False if answer.blanks else None
        return all(
            isinstance(value.get(b.name), float) and b.tolerance.accepts(b.value, float(value[b.name]))
            for b in answer.blanks
        )
    if gold is None:
        return None
    if answer.kind == "number" and isinstance(gold, int | float):
        return isinstance(value, float | int) and answer.tolerance.accepts(float(gold), float(value))
    if answer.kind == "list" and isinstance(gold, tuple):
        got = [_norm(v) for v in value] if isinstance(value, list) else [_norm(str(value))]
        want = [_norm(v) for v in gold]
        return got == want if answer.ordered else sorted(got) == sorted(want)
    return isinstance(value, str) and _norm(value) == _norm(str(gold))


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def finish(
    trail: Trail,
    task: TaskSpec,
    value: Any,
    text: str,
    *,
    marker: bool = True,
    grounded: bool = True,
    correct: bool | None = None,
) -> Generator[Action, str, None]:
    """Give the final answer ``text`` for ``value`` (noted in the trail first, so a replay knows it)."""
    figure = task.answer.kind in ("number", "template") and value is not None
    trail.answer = AnswerFacts(
        text=text,
        marker=marker,
        claims=True,
        states_figure=figure,
        unit_stated=True,
        grounded=grounded,
        correct=agrees(task, value) if correct is None else correct,
    )
    yield FinalAction(text)


def decline(trail: Trail, task: TaskSpec, text: str, *, marker: bool) -> Generator[Action, str, None]:
    """Decline to answer: no figure, no claim; right only when the gold itself is a decline."""
    gold = task.answer.value
    right = task.answer.kind == "text" and isinstance(gold, str) and is_decline(gold)
    trail.answer = AnswerFacts(
        text=text,
        marker=marker,
        claims=False,
        states_figure=False,
        unit_stated=True,
        grounded=True,
        correct=right if gold is not None or task.answer.blanks else None,
        declined=True,
    )
    yield FinalAction(text)


def answer_plainly(trail: Trail, task: TaskSpec, value: Any) -> Generator[Action, str, None]:
    """The careful answer: the value with its unit after ``FINAL ANSWER:``, or a decline when it has none."""
    if value is None or (isinstance(value, dict) and any(v is None for v in value.values())):
        yield from decline(trail, task, "I could not compute this from the data. FINAL ANSWER: unknown", marker=True)
        return
    yield from finish(trail, task, value, "FINAL ANSWER: " + value_text(value, task, style=trail.style))
