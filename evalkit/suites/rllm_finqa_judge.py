"""The rLLM FinQA cookbook's single-table verdict, as it is, beside evalkit's deterministic matcher.

``cookbooks/finqa/finqa_eval.py`` (rllm-org/rllm, Apache-2.0) asks gpt-5-nano to answer
``{True/False, 'Reason/explanation for matching or not'}`` and reads the reply with a string test
(``_call_judge``)::

    text = out.lower()
    return (("true" in text) and ("false" not in text)), {}

and without ``OPENAI_API_KEY`` (``_JUDGE_CLIENT is None``) returns ``False`` for every answer, silently
(``return (0.0 if multi_table else False), {}``). So a verdict is read as wrong whenever the judge's
explanation contains the word "false" (``"...; not false"``, a ``<think>`` block weighing both) or never
says "true" (``Correct.``), and every answer is wrong without a key. evalkit grades the same answer with
:func:`evalkit.contracts.answers.check_answer` (units, scale words, percent vs ratio, tolerance), the same
every time. :func:`compare` puts the two side by side for one answer and one judge reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalkit.contracts.answers import check_answer
from evalkit.contracts.suite import TaskSpec


def cookbook_verdict(reply: str | None, *, has_key: bool = True) -> bool:
    """``finqa_eval._call_judge``'s single-table verdict of a judge reply (False without a key)."""
    if not has_key or reply is None:
        return False
    text = reply.lower()
    return ("true" in text) and ("false" not in text)


@dataclass(frozen=True)
class Comparison:
    """One answer graded both ways: the judge's reply read by the cookbook's heuristic, evalkit's matcher."""

    task_id: str
    response: str
    judge_reply: str
    cookbook: bool
    evalkit: bool
    reason: str  # evalkit's reason

    @property
    def disagree(self) -> bool:
        return self.cookbook != self.evalkit

    def row(self) -> str:
        """A Markdown table row: task | response | judge reply | cookbook | evalkit."""
        cells = (self.task_id, self.response, self.judge_reply, _mark(self.cookbook), _mark(self.evalkit))
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _mark(ok: bool) -> str:
    return "correct" if ok else "wrong"


def compare(task: TaskSpec, response: str, judge_reply: str, *, has_key: bool = True) -> Comparison:
    """Grade ``response`` to ``task`` as the cookbook would (the judge said ``judge_reply``) and as evalkit does."""
    result = check_answer(task.answer, response, question=task.question)
    verdict = cookbook_verdict(judge_reply, has_key=has_key)
    return Comparison(task.id, response, judge_reply, verdict, result.correct, result.reason)


TABLE_HEADER = "| task | response | judge reply | cookbook | evalkit |\n|---|---|---|---|---|"


def table(rows: list[Comparison]) -> str:
    """The comparisons as a Markdown table."""
    return "\n".join([TABLE_HEADER, *(r.row() for r in rows)])
