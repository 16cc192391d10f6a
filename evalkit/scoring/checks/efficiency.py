"""Efficiency: tool calls, turns and tokens against a budget."""

from __future__ import annotations

from evalkit.scoring.checks._common import arg, fail_with
from evalkit.scoring.registry import CheckContext, Verdict, check


@check("efficiency", args=("max_tool_calls", "max_turns", "max_tokens", "relative_to_reference", "factor"))
def efficiency(ctx: CheckContext) -> Verdict:
    """Tool calls, turns and tokens within the budgets in ``args`` (``max_tool_calls``, ``max_turns``,
    ``max_tokens``), or with ``{relative_to_reference: true}`` tool calls within ``factor`` (default 2) ×
    (reference steps + required tables + 2): one listing, one inspection per table, one query per step, a
    calculator call and an answer. Value: min(1, budget / used) over the budgets; passes when every budget
    holds, and a failure keeps the value. Evidence: the first event past each exceeded budget.

    Only a solution is credited: no tool call at all on a task that needs data (tables or reference steps)
    fails with value 0, whatever the answer; a wrong or missing answer within the budget is not applicable
    (stopping early is not efficiency when nothing was solved, and failing it would restate correctness),
    and over the budget it fails as any other. A sample whose correctness was not scored is judged on the
    budgets alone, unless it gave no answer."""
    s = ctx.sample
    view = ctx.view
    budgets: dict[str, tuple[float, int]] = {}  # what -> (budget, used)
    calls = len(view.tool_events) or s.tool_calls
    task = ctx.task
    if calls == 0 and task is not None and (task.tables or task.reference.steps):
        return fail_with(0.0, "made no tool call on a task that needs data: nothing to credit as efficient")
    unsolved = _unsolved(s.correct, s.final_answer)
    for key, what, used in (
        ("max_tool_calls", "tool calls", calls),
        ("max_turns", "turns", s.turns),
        ("max_tokens", "tokens", s.prompt_tokens + s.completion_tokens),
    ):
        if ctx.args.get(key) is not None:
            budgets[what] = (float(ctx.args[key]), used)
    if arg(ctx.args, "relative_to_reference", False):
        if ctx.task is None:
            return Verdict.not_applicable("needs the task's reference solution")
        factor = float(arg(ctx.args, "factor", 2.0))
        steps = len(ctx.task.reference.steps) + len(ctx.task.tables) + 2
        budgets["tool calls"] = (factor * steps, calls)
    if not budgets:
        return Verdict.error(
            "efficiency needs a budget in args: max_tool_calls, max_turns, max_tokens or relative_to_reference"
        )
    value = min(1.0 if used <= budget else budget / used for budget, used in budgets.values())
    over = {what: bu for what, bu in budgets.items() if bu[1] > bu[0]}
    summary = ", ".join(f"{used} {what} (budget {budget:g})" for what, (budget, used) in budgets.items())
    if not over:
        if unsolved:
            return Verdict.not_applicable(f"{unsolved}: efficiency is judged on solved tasks ({summary})")
        return Verdict.passed(f"within budget: {summary}")
    evidence = []
    if "tool calls" in over and view.tool_events:
        evidence.append(view.tool_events[min(int(over["tool calls"][0]), len(view.tool_events) - 1)].seq)
    if "turns" in over and view.model_events:
        evidence.append(view.model_events[min(int(over["turns"][0]), len(view.model_events) - 1)].seq)
    return fail_with(value, f"over budget: {summary}", evidence)


def _unsolved(correct: bool | None, final_answer: str | None) -> str | None:
    """Why the sample did not solve its task ("no answer", "the answer is wrong"), or None when it did or
    when its correctness is unknown."""
    if not (final_answer and final_answer.strip()):
        return "no answer"
    return "the answer is wrong" if correct is False else None
