"""The scripted offline agents' behaviour, as pure functions of (task, seed, epoch, conversation so far).

A script is a generator: it yields an action (a tool call or a final answer) and receives the text of
that tool call's result. To answer a model call, ``next_action`` replays the script over the tool results
already in the conversation and returns the first action not yet taken, so a script keeps no state
between calls and the same conversation always gives the same reply.

- ``disciplined`` follows the task's reference solution the careful way: list the company's tables, read
  the schema of every table it will query, query specific columns (on some tasks it first uses a wrong
  column name, reads the error and corrects the query), compute with the calculator, answer with the unit
  asked for after ``FINAL ANSWER:``.
- ``reckless`` guesses table and column names without looking, repeats the failing call, and then states a
  made-up number with confidence: the failure mode of the large model in the study.
- ``noisy`` picks one of the two per task and epoch with a seeded probability (``p_disciplined``, 0.7 by
  default), so runs with different seeds differ. Like a real model it finds some tasks harder than others:
  most of its choices (``NOISY_SHARED``, 80%) come from a per-task draw that every seed and epoch shares, the
  rest from a draw of its own. So two runs with different seeds agree on many tasks (paired statistics
  have something to pair), and ``noisy@0.6`` fails every task ``noisy@0.7`` fails on the shared draws:
  a checkpoint that got worse, not a different model.

The fault-injection personas (``PERSONAS``: ``skips-discovery``, ``hostile``, ``big-model``, ...), each with one
known fault and the labels of what it did, live in ``evalkit.models.personas``; ``next_action`` runs them too.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.contracts.answers import parse_amount
from evalkit.contracts.config import SCRIPTED_AGENTS
from evalkit.contracts.suite import SuiteSpec, TaskSpec

_AGENTS = ("disciplined", "reckless", "noisy")
PERSONAS = tuple(n for n in (a.removeprefix("scripted/") for a in SCRIPTED_AGENTS) if n not in _AGENTS)
"""The fault-injection personas (``evalkit.models.personas.REGISTRY``): the scripted names that are not one of
the three agents above. ``contracts.config.SCRIPTED_AGENTS`` is where a name is added (the config layer
resolves ``--model scripted/NAME`` and cannot import this one); ``tests/models/test_personas.py`` checks that
the names and the registry agree."""
POLICIES = (*_AGENTS, *PERSONAS)
_TASKS: dict[str, dict[str, TaskSpec]] = {}
_POLICY_FILES = (
    "scripts.py", "scripted.py", "textproto.py", "personas.py", "persona_kit.py", "persona_replies.py",
    "persona_scripts.py", "persona_answers.py", "persona_reasoning.py", "schema_solver.py", "profile_adapter.py",
)  # fmt: skip
"""The modules whose code decides a scripted reply: the policies, their provider, the text tool protocol."""
logger = logging.getLogger(__name__)


@functools.cache
def policy_code_hash() -> str:
    """A hash of the scripted agents' code, part of their cache keys: an edited policy never replays old
    replies."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in _POLICY_FILES:
        h.update(name.encode())
        h.update((here / name).read_bytes())
    return h.hexdigest()[:16]


def register_suite(suite: SuiteSpec, models: Sequence[str] = ()) -> list[str]:
    """Make a suite's tasks known to the scripted agents (keyed by the suite's content hash). For each of
    ``models`` (litellm model strings) that follows reference solutions, warn up front when some tasks have
    none, and say what it does there; the warnings are also returned."""
    from evalkit.models.personas import REGISTRY

    _TASKS[suite.content_hash] = {t.id: t for t in suite.tasks}
    bare = [t.id for t in suite.tasks if not t.reference.steps]
    warnings = []
    for model in dict.fromkeys(models):
        policy = model.removeprefix("scripted/") if model.startswith("scripted/") else ""
        persona = REGISTRY.get(policy)
        if not bare or not (policy in ("disciplined", "noisy") or (persona is not None and persona.needs_reference)):
            continue
        what = (
            "it looks at the tables and declines them"
            if policy in ("disciplined", "noisy")
            else "it solves single-figure lookups from the schema and declines the rest"
        )
        warnings.append(
            f"{model} needs reference solutions: {len(bare)} of {len(suite.tasks)} task(s) of suite {suite.name} "
            f"have no reference SQL ({', '.join(bare[:3])}{', ...' if len(bare) > 3 else ''}); {what}"
        )
    for line in warnings:
        logger.warning(line)
    return warnings


def lookup_task(suite_hash: str, task_id: str) -> TaskSpec:
    try:
        return _TASKS[suite_hash][task_id]
    except KeyError:
        raise ValueError(f"scripted agent: task {task_id!r} of suite {suite_hash} is not registered") from None


@dataclass(frozen=True)
class ToolAction:
    name: str
    arguments: dict[str, Any]
    reasoning: str | None = None
    """What a reasoning persona thought before the call (sent apart from the content, or as a ``<think>`` block)."""


@dataclass(frozen=True)
class FinalAction:
    text: str
    reasoning: str | None = None


Action = ToolAction | FinalAction
Script = Generator[Action, str, None]


def unit_hash(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


NOISY_SHARED = 0.8
"""The share of the noisy agent's choices that come from the per-task draw shared by every seed."""


def noisy_policy(task_id: str, seed: int, epoch: int, p_disciplined: float) -> str:
    """Which script the noisy agent follows on this task, seed and epoch (disciplined with probability p)."""
    if unit_hash("noisy-shared", seed, task_id, epoch) < NOISY_SHARED:
        draw = unit_hash("noisy-task", task_id)
    else:
        draw = unit_hash("noisy", seed, task_id, epoch)
    return "disciplined" if draw < p_disciplined else "reckless"


def next_action(
    policy: str, task: TaskSpec, results: list[str], *, seed: int, epoch: int, params: dict[str, Any]
) -> Action:
    """The action to take after the given tool results (in order of the calls made so far)."""
    if policy in PERSONAS:
        from evalkit.models.personas import persona_script

        script = persona_script(policy, task, seed, epoch)
    else:
        if policy == "noisy":
            policy = noisy_policy(task.id, seed, epoch, float(params.get("p_disciplined", 0.7)))
        script = disciplined(task, seed, epoch) if policy == "disciplined" else reckless(task, seed, epoch)
    action = next(script)
    for result in results:
        if isinstance(action, FinalAction):
            break
        action = script.send(result)
    return action


def is_error(result: str) -> bool:
    return result.lstrip().lower().startswith("error")


def parse_rows(result: str) -> list[list[str]]:
    """Rows of a ``sql_query`` result: a header line, then one line per row with cells separated by `` | ``.
    Notes (``(no rows)``, ``… N more rows``) and separator lines are skipped."""
    lines = [ln for ln in result.strip().splitlines() if ln.strip()]
    rows = []
    for ln in lines[1:]:
        if ln.startswith(("(no rows", "…", "...")) or set(ln.strip()) <= set("-+| "):
            continue
        rows.append([c.strip() for c in ln.split(" | ")])
    return rows


def parse_number(text: str) -> float | None:
    """The number a result cell or a calculator result is (``1,234.5``, ``$12``, ``(3.5)`` for -3.5), read by
    ``parse_amount``; None when the text is anything else, a number with a unit included."""
    amount = parse_amount(text)
    return amount[0] if amount is not None and amount[1] is None else None


def bind_value(result: str) -> float | str | list[str]:
    rows = parse_rows(result)
    if len(rows) == 1 and len(rows[0]) == 1:
        cell = rows[0][0]
        number = parse_number(cell)
        return number if number is not None else cell
    return [r[0] for r in rows]


def format_number(value: float, unit: str | None) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    if unit in (None, "count"):
        return text
    if unit == "%":
        return f"{text}%"
    if unit == "x":
        return f"{text}x"
    return f"{text} {unit}"


def _substitute(expression: str, values: dict[str, Any]) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(0)
        value = values.get(name)
        if isinstance(value, float | int):
            return repr(float(value))
        return name

    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", repl, expression)


_SQL_WORDS = {
    "select",
    "distinct",
    "cast",
    "replace",
    "as",
    "double",
    "from",
    "where",
    "and",
    "or",
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "round",
    "order",
    "by",
    "group",
    "limit",
    "desc",
    "asc",
    "in",
    "not",
    "null",
    "is",
    "case",
    "when",
    "then",
    "else",
    "end",
    "on",
    "join",
    "abs",
    "coalesce",
    "integer",
    "varchar",
}


def _fumbled(sql: str, schema_text: str) -> str | None:
    """The query with one real column swapped for a plausible wrong name, or None if none fits."""
    for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", sql):
        word = m.group(0)
        if word.lower() in _SQL_WORDS or not re.search(rf"\b{re.escape(word)}\b", schema_text):
            continue
        parts = word.split("_")
        wrong = "_".join(parts[1:]) if len(parts) > 1 else word + "_total"
        if wrong and not re.search(rf"\b{re.escape(wrong)}\b", schema_text):
            return sql[: m.start()] + wrong + sql[m.end() :]
    return None


def disciplined(task: TaskSpec, seed: int, epoch: int) -> Script:
    listing = yield ToolAction("get_table_names", {"company": task.company} if task.company else {})
    del listing
    tables = list(dict.fromkeys([s.table for s in task.reference.steps if s.table] or list(task.tables)))
    schemas: dict[str, str] = {}
    for table in tables:
        schemas[table] = yield ToolAction("get_table_info", {"table": table})
    if not task.reference.steps:  # an imported task without a reference solution: nothing to follow
        yield FinalAction("I cannot derive this answer without a reference solution to follow. FINAL ANSWER: unknown")
        return
    values: dict[str, Any] = {}
    fumble = unit_hash("fumble", seed, task.id, epoch) < 0.3
    for step in task.reference.steps:
        if fumble:
            fumble = False
            wrong = _fumbled(step.sql, schemas.get(step.table or "", "") or "\n".join(schemas.values()))
            if wrong is not None:
                yield ToolAction("sql_query", {"query": wrong})  # fails; the error lists the real columns
        result = yield ToolAction("sql_query", {"query": step.sql})
        values[step.bind] = bind_value(result)
    answer = task.answer
    compute = task.reference.compute
    if answer.kind == "template" and isinstance(compute, dict):
        filled: dict[str, str] = {}
        for blank in answer.blanks:
            out = yield ToolAction("calculator", {"expression": _substitute(compute[blank.name], values)})
            number = parse_number(out)
            filled[blank.name] = format_number(number, None) if number is not None else out
        text = re.sub(r"\{(\w+)\}", lambda m: filled.get(m.group(1), "n/a"), answer.template or "")
        yield FinalAction(f"FINAL ANSWER: {text}")
        return
    if isinstance(compute, str):
        last = task.reference.steps[-1].bind
        if compute.strip() == last and not isinstance(values.get(last), float):
            result_value: Any = values.get(last)
        else:
            out = yield ToolAction("calculator", {"expression": _substitute(compute, values)})
            result_value = parse_number(out)
    else:
        result_value = values.get(task.reference.steps[-1].bind)
    yield FinalAction("FINAL ANSWER: " + render_answer(result_value, task))


def render_answer(value: Any, task: TaskSpec) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, float | int):
        return format_number(float(value), task.answer.unit)
    return str(value)


def reckless(task: TaskSpec, seed: int, epoch: int) -> Script:
    company = task.company or "company"
    year_match = re.search(r"(20\d\d)", task.question)
    year = year_match.group(1) if year_match else "2023"
    words = re.findall(r"[a-z]+", task.question.lower())
    metric = next(
        (
            w
            for w in words
            if w
            in ("revenue", "income", "debt", "cash", "assets", "headcount", "employees", "margin", "equity", "shares")
        ),
        "revenue",
    )
    query = f"SELECT {metric} FROM {company}_financials WHERE year = {year}"
    yield ToolAction("sql_query", {"query": query})
    yield ToolAction("sql_query", {"query": query})
    yield ToolAction("sql_query", {"query": f"SELECT {metric}_total FROM financial_data WHERE company = '{company}'"})
    yield FinalAction(
        "Based on the company's filings, the figure is clear. FINAL ANSWER: " + made_up_answer(task, seed, epoch)
    )


def made_up_answer(task: TaskSpec, seed: int, epoch: int) -> str:
    """A confident, wrong answer of the right shape."""
    answer = task.answer
    h = unit_hash("madeup", seed, task.id, epoch)
    if answer.kind == "number" and isinstance(answer.value, float):
        factor = (1.2 + h) if h < 0.5 else (0.8 - h / 2)
        value = answer.value * factor if answer.value else 1.0 + h * 100
        return format_number(round(value, 2), answer.unit)
    if answer.kind == "list" and isinstance(answer.value, tuple):
        return ", ".join(reversed(answer.value)) if len(answer.value) > 1 else "Other"
    if answer.kind == "template":
        return re.sub(r"\{(\w+)\}", lambda m: f"{100 + int(h * 900)}", answer.template or "")
    return "Unknown Segment"
