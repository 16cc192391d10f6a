"""A task's reference solution as a demonstration trajectory, in OpenAI chat-message form.

The trajectory is what a disciplined agent would do: list the company's tables (``get_table_names``), read
the schema of every table the task needs (``get_table_info``), run the reference SQL (``sql_query``, one call
per step), do the arithmetic of ``compute`` with the ``calculator`` (the bound values substituted as the
query results showed them), then answer ``FINAL ANSWER: ...``, the calls worded for the suite's tool profile
(``evalkit.report.tool_calls``). Every tool result is the real reply of the suite's tool environment
(``evalkit.env.tools.FinanceEnvironment``, or the ``rllm-finqa`` profile's) to that call, never written; the
final answer is checked with the scorer's matcher (``contracts.answers.check_answer``) against the task's
expected answer, and a trajectory whose result disagrees is not given (its reason is).

For re-importing the task (``evalkit suite import``), ``single_query`` folds a reference of several steps
and arithmetic into one query when the arithmetic is plain (numbers, names, + - * / ** ^, abs, round,
sqrt), and keeps it only when the sandbox runs it and it reproduces the answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from evalkit.contracts.answers import answer_text, check_answer
from evalkit.env.calculator import format_number
from evalkit.report.tool_calls import StepFailed, ToolEnvironment, Wording

if TYPE_CHECKING:
    from evalkit.contracts.suite import ExpectedAnswer, TaskSpec
    from evalkit.env.tools import FinanceEnvironment, ToolResult

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLAIN = re.compile(r"^[\sA-Za-z0-9_.+\-*/^()]*$")
_SQL_FUNCTIONS = frozenset({"abs", "round", "sqrt"})
"""Functions the calculator and DuckDB read alike (``log`` is natural in one and base 10 in the other)."""


@dataclass(frozen=True)
class Demonstration:
    """The trajectory (None when there is none, with the reason), and the final answer it ends with."""

    messages: list[dict[str, Any]] | None
    answer: str | None = None
    reason: str | None = None


class _Trajectory:
    """Messages so far; each tool call is run through the environment and its reply appended."""

    def __init__(self, env: ToolEnvironment, system: str, question: str) -> None:
        self.env = env
        self.words = Wording(env)
        self.messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": question},
        ]
        self.calls = 0

    def call(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        self.calls += 1
        call_id = f"call_{self.calls}"
        function = {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}
        self.messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": call_id, "type": "function", "function": function}],
            }
        )
        result = self.env.call(name, arguments)
        self.messages.append({"role": "tool", "tool_call_id": call_id, "content": result.content})
        if not result.ok:
            raise StepFailed(f"{name}({function['arguments']}) failed: {result.content}")
        return result


def demonstrate(task: TaskSpec, env: ToolEnvironment, system: str) -> Demonstration:
    """The reference solution of ``task`` run call by call through ``env`` (either tool profile's)."""
    if not task.reference.steps:
        return Demonstration(None, reason="no reference SQL")
    t = _Trajectory(env, system, task.question)
    words = t.words
    try:
        for arguments in words.companies(task):
            t.call("get_table_names", arguments)
        for table in task.tables:
            t.call("get_table_info", words.table_info(table))
        bound = {
            step.bind: words.value(t.call("sql_query", words.query(task, step)).content)
            for step in task.reference.steps
        }
        text = _final_text(task, t, bound)
    except StepFailed as e:
        return Demonstration(None, reason=str(e))
    verdict = check_answer(task.answer, f"FINAL ANSWER: {text}", question=task.question)
    if not verdict.correct:
        return Demonstration(None, reason=f"the reference solution gives {text!r}: {verdict.reason}")
    t.messages.append({"role": "assistant", "content": f"FINAL ANSWER: {text}"})
    return Demonstration(t.messages, answer=text)


def _scalar(name: str, value: str | list[str]) -> str:
    if isinstance(value, list):
        raise StepFailed(f"{name} is a list of {len(value)} values, not a number")
    return value


def _substitute(expression: str, bound: dict[str, str | list[str]]) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(0)
        if name not in bound:
            return name
        text = _scalar(name, bound[name])
        return f"({text})" if text.startswith("-") else text

    return _NAME.sub(one, expression)


def _number(t: _Trajectory, expression: str, bound: dict[str, str | list[str]]) -> float:
    """The value of ``expression``: a bound value as the query showed it, else the calculator's result."""
    expression = expression.strip()
    if expression in bound:
        text = _scalar(expression, bound[expression])
        try:
            return float(text)
        except ValueError:
            raise StepFailed(f"{expression} is {text!r}, not a number") from None
    return t.words.number(t.call("calculator", {"expression": _substitute(expression, bound)}))


def _final_text(task: TaskSpec, t: _Trajectory, bound: dict[str, str | list[str]]) -> str:
    answer, compute = task.answer, task.reference.compute
    last = task.reference.steps[-1].bind
    if answer.kind == "template":
        if not isinstance(compute, dict):
            raise StepFailed("a template answer needs one compute expression per blank")
        values = {b.name: _number(t, compute.get(b.name, b.name), bound) for b in answer.blanks}
        return filled_template(answer, values)
    if isinstance(compute, dict):
        raise StepFailed("a compute mapping is only for template answers")
    if answer.kind == "number":
        return _number_text(answer, _number(t, compute or last, bound))
    name = compute.strip() if compute else last
    value: str | list[str] = bound[name] if name in bound else format_number(_number(t, name, bound))
    if answer.kind == "list":
        return ", ".join(value) if isinstance(value, list) else value
    if isinstance(value, list):
        if len(value) != 1:
            raise StepFailed(f"a text answer needs a single value; the reference returned {len(value)} rows")
        value = value[0]
    return value


def _number_text(answer: ExpectedAnswer, value: float) -> str:
    """``value`` in the answer's unit, rounded to the precision the expected answer shows (two decimals at
    least) when that still matches, else as computed."""
    shown = answer_text(answer).split(" ")[0].rstrip("%x")
    decimals = max(2, len(shown.split(".")[1]) if "." in shown else 0)
    for candidate in (round(value, decimals), value):
        text = answer_text(replace(answer, value=candidate))
        if check_answer(answer, f"FINAL ANSWER: {text}").correct:
            return text
    return answer_text(replace(answer, value=value))


def filled_template(answer: ExpectedAnswer, values: dict[str, float]) -> str:
    """A template answer's wording with each blank filled (``Revenue grew 11.1% to 1500 USD millions``)."""
    text = answer.template or ""
    for b in answer.blanks:
        text = text.replace("{" + b.name + "}", f"{round(values[b.name], 4):.12g}")
    return text


def single_query(task: TaskSpec, env: FinanceEnvironment) -> str | None:
    """One query whose result is the task's answer (for ``evalkit suite import``), or None when the
    reference cannot be folded into one or the folded query does not reproduce the answer."""
    steps, compute, answer = task.reference.steps, task.reference.compute, task.answer
    if not steps or answer.kind == "template" or isinstance(compute, dict):
        return None
    sql: str | None = None
    if compute is None or compute.strip() == steps[-1].bind:  # the answer is what the last query returns
        sql = steps[-1].sql
    elif answer.kind == "number" and _PLAIN.match(compute):
        sql = _folded(compute, {s.bind: s.sql for s in steps})
    if sql is None:
        return None
    result = env.call("sql_query", {"query": sql})
    if not result.ok:
        return None
    try:
        value = Wording(env).value(result.content)
    except StepFailed:
        return None
    text = ", ".join(value) if isinstance(value, list) else value
    return sql if check_answer(answer, f"FINAL ANSWER: {text}", question=task.question).correct else None


def _folded(compute: str, sql_of: dict[str, str]) -> str | None:
    """``SELECT <compute> AS answer`` with each bound name replaced by its query as a scalar subquery."""
    names = set(_NAME.findall(compute))
    if any(n not in sql_of and n.lower() not in _SQL_FUNCTIONS for n in names):
        return None

    def one(m: re.Match[str]) -> str:
        name = m.group(0)
        return f"CAST(({sql_of[name].strip().rstrip(';')}) AS DOUBLE)" if name in sql_of else name

    return f"SELECT {_NAME.sub(one, compute)} AS answer"
