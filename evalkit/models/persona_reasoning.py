"""The reasoning persona: a careful agent that thinks before every step, as Qwen3 and other reasoning models do.

Its steps are the careful ones (list the tables, read each schema, query, the calculator, ``FINAL ANSWER:``),
so every criterion should pass and the answer is right. What it adds is a reasoning text on every reply, written
the way a reasoning model drafts: it guesses a figure before it has the data and even drafts a
``FINAL ANSWER:`` line with that guess, which is wrong. Half of its samples send the reasoning in a
``reasoning_content`` field (a server with a reasoning parser), the other half as a ``<think>`` block that opens
the content (a server without one). A harness that read the answer, a figure or an identifier inside the
reasoning would misjudge it; evalkit must not.
"""

from __future__ import annotations

from dataclasses import replace

from evalkit.contracts.suite import TaskSpec
from evalkit.models.persona_kit import Step, Trail, discover, run_steps
from evalkit.models.persona_scripts import careful_rest
from evalkit.models.schema_solver import from_schema
from evalkit.models.scripts import FinalAction, ToolAction, unit_hash


def decoy(task: TaskSpec, seed: int, epoch: int) -> str:
    """The wrong figure the persona guesses in its thinking (never the gold: it is far from any real amount)."""
    return f"{9_000 + int(unit_hash('decoy', seed, task.id, epoch) * 900)}.5"


def in_content(task: TaskSpec, seed: int, epoch: int) -> bool:
    """Whether this sample's reasoning comes as a ``<think>`` block in the content (else a separate field)."""
    return unit_hash("think-in-content", seed, task.id, epoch) < 0.5


def _thought(action: ToolAction | FinalAction, task: TaskSpec, guess: str, turn: int) -> str:
    if isinstance(action, FinalAction):
        return (
            f"My first guess was {guess}, so a draft would be FINAL ANSWER: {guess}. But the tool results are what "
            "count, not my guess; I will state the figure I computed from them."
        )
    if turn == 0:
        return (
            f"The user asks: {task.question.strip()} Without looking I would say about {guess}, but I must not "
            "answer from memory. First I should see which tables there are."
        )
    return f"The last result helps. Next I call {action.name} with {action.arguments}; still not answering {guess}."


def reasoner(task: TaskSpec, seed: int, epoch: int, trail: Trail) -> Step:
    """Careful and right, thinking aloud before every step (a wrong guess and a draft answer in its thinking)."""
    guess = decoy(task, seed, epoch)
    trail.did.append(f"thought before every step (a guess of {guess} in its reasoning), then answered from the data")
    inner = from_schema(trail, task) if not task.reference.steps else _careful(trail, task)
    turn = 0
    try:
        action = next(inner)
    except StopIteration:
        return
    while True:
        result = yield replace(action, reasoning=_thought(action, task, guess, turn))
        turn += 1
        try:
            action = inner.send(result)
        except StopIteration:
            return


def _careful(trail: Trail, task: TaskSpec) -> Step:
    yield from discover(trail, task)
    values = yield from run_steps(trail, task)
    yield from careful_rest(trail, task, values)
