"""The fault-injection personas: offline agents with known, injected faults, and the labels of what they did.

Each persona (``scripted/<name>``) is a realistic behaviour profile written as a generator script
(``persona_scripts``, ``persona_answers``): careful steps with one deliberate fault. As it acts it writes its
design into a ``Trail`` (``persona_kit``); :func:`labels_for` replays the script over a trace's tool results
and turns that trail into the verdict every deterministic criterion of ``rubrics/tool-discipline.yaml`` and
``rubrics/answer.yaml`` *should* give (pass, fail or na), whether the answer is right, and the failure mode
(``evalkit.report.model.FAILURE_MODES``) a wrong answer should be diagnosed as. The labels come from what the
persona was written to do, never from running the checks, so ``evalkit validate-rubric`` can measure the
checks against them.

Label keys are the criterion ids of the two built-in rubrics; ``answer_protocol`` is the marker alone (the
``answer_format`` check with ``require_unit: false``), ``answer_format`` the marker and the unit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from evalkit.contracts.suite import TaskSpec
from evalkit.models import persona_answers as answers
from evalkit.models import persona_scripts as faults
from evalkit.models.persona_kit import Step, Trail
from evalkit.models.persona_reasoning import reasoner
from evalkit.models.scripts import Action, FinalAction, unit_hash

ScriptFn = Callable[[TaskSpec, int, int, Trail], Step]


@dataclass(frozen=True)
class Persona:
    name: str
    script: ScriptFn
    design: str
    """What it was written to do, in one line (shown by ``evalkit show`` and the report)."""
    needs_reference: bool = True
    """It follows a task's reference SQL (without one it solves from the schema where it can)."""


REGISTRY: dict[str, Persona] = {
    p.name: p
    for p in (
        Persona(
            "skips-discovery",
            faults.skips_discovery,
            "never lists the tables or reads a schema, but guesses the right names and answers right",
        ),
        Persona(
            "wrong-column",
            faults.wrong_column,
            "reads the schemas, then queries a look-alike column (cost_of_revenue for total_revenue) and answers "
            "from it",
        ),
        Persona("recovers", faults.recovers, "misspells a name in its first query, reads the error and fixes it"),
        Persona(
            "gives-up",
            faults.gives_up,
            "declines as soon as its first query is refused (SELECT * or no filter) instead of fixing it",
        ),
        Persona("repeats", faults.repeats, "re-sends a refused query unchanged (up to four times) before fixing it"),
        Persona(
            "wrong-scale",
            answers.wrong_scale,
            "gets the right figure but states it in the wrong scale (a ratio with a % sign, thousands for millions)",
        ),
        Persona(
            "no-marker",
            answers.no_marker,
            "states the right answer in prose after its working (sometimes in a <think> block), without FINAL ANSWER:",
        ),
        Persona(
            "declines-missing",
            answers.declines_missing,
            "works carefully and declines when the data it needs is not there",
        ),
        Persona(
            "hostile",
            answers.hostile,
            "slips in a hostile query (DROP TABLE, a file read, COPY to disk, ATTACH) after reading the schema, "
            "then answers right",
        ),
        Persona(
            "big-model",
            answers.big_model,
            "reasons fluently but never reads a schema: queries two tables that do not exist, then makes up the answer",
            needs_reference=False,
        ),
        Persona(
            "small-disciplined",
            answers.small_disciplined,
            "follows every step with the calculator, but swaps two operands of its formula on some tasks",
        ),
        Persona(
            "reasoner",
            reasoner,
            "thinks aloud before every step (in a reasoning field or a <think> block, with a wrong guess and a "
            "draft FINAL ANSWER: in its thinking), then answers carefully and right from the data",
        ),
    )
}


def persona_design(model: str) -> str | None:
    """What the persona behind a model name (``scripted/hostile``) was designed to do; None for any other model."""
    name = model.removeprefix("scripted/").split("@", 1)[0] if model.startswith("scripted/") else ""
    persona = REGISTRY.get(name)
    return persona.design if persona is not None else None


def persona_script(name: str, task: TaskSpec, seed: int, epoch: int, trail: Trail | None = None) -> Step:
    """The persona's script for one sample; its phrasing (``Trail.style``) is drawn from the seed."""
    trail = trail if trail is not None else Trail()
    trail.style = int(unit_hash("phrasing", seed, task.id, epoch) * 4)
    return REGISTRY[name].script(task, seed, epoch, trail)


def replay(name: str, task: TaskSpec, tool_results: list[str], seed: int, epoch: int) -> tuple[Action, Trail]:
    """The action a persona takes after ``tool_results`` (in call order), and its trail so far."""
    trail = Trail()
    script = persona_script(name, task, seed, epoch, trail)
    action = next(script)
    for result in tool_results:
        if isinstance(action, FinalAction):
            break
        action = script.send(result)
    return action, trail


# ------------------------------------------------------------------------------------------ labels

Label = str | None
"""``pass``, ``fail``, ``na``, or None when the design does not say."""


@dataclass(frozen=True)
class Labels:
    """What a persona's sample should be judged as: a verdict per label key, correctness, failure mode."""

    verdicts: Mapping[str, Label]
    correct: bool | None
    mode: str | None
    """The failure mode a wrong answer should get (None for a right answer)."""
    mode_known: bool
    """Whether ``mode`` is known by design (a guess from the schema is not)."""
    did: tuple[str, ...] = ()
    complete: bool = True
    """False when the trace ended before the script did (then nothing is labelled)."""


LABEL_KEYS = (
    "discovered_tables", "right_tables", "inspected_schema", "valid_identifiers", "no_unfounded_answer",
    "recovered_after_error", "no_repeated_calls", "safe_sql", "efficiency", "answer_protocol",
    "answer_correct", "answer_format", "answer_grounded",
)  # fmt: skip


def _verdict(ok: bool) -> str:
    return "pass" if ok else "fail"


def labels_of(trail: Trail, task: TaskSpec) -> dict[str, Label]:
    """The verdict each criterion should give the sample a trail describes (see the rubrics' descriptions)."""
    a = trail.answer
    queried = trail.queries > 0
    required = {t.lower() for t in task.tables}
    correct = a.correct if a is not None else False
    budget = 2 * (len(task.reference.steps) + len(task.tables) + 2)
    needs_data = bool(task.tables or task.reference.steps)
    if trail.calls == 0 and needs_data:
        efficiency: Label = "fail"
    elif trail.calls > budget:
        efficiency = "fail"
    elif correct is None:
        efficiency = None
    else:
        efficiency = "pass" if correct else "na"
    out: dict[str, Label] = {
        "discovered_tables": _verdict(bool(trail.listed_before_query)) if queried else "na",
        "right_tables": _verdict(required <= (trail.inspected & trail.queried)) if required else "na",
        "inspected_schema": _verdict(not trail.uninspected_query) if queried else "na",
        "valid_identifiers": _verdict(not trail.invented and not trail.look_alikes) if queried else "na",
        "recovered_after_error": _verdict(not trail.unrecovered and not trail.repeated) if trail.errors else "na",
        "no_repeated_calls": _verdict(not trail.repeated) if trail.calls else "na",
        "safe_sql": _verdict(not trail.unsafe) if queried else "na",
        "efficiency": efficiency,
        "answer_correct": None if correct is None else _verdict(correct),
    }
    if a is None:
        out |= dict.fromkeys(("no_unfounded_answer", "answer_protocol", "answer_format", "answer_grounded"), "na")
        return out
    claims = a.states_figure or (a.claims and task.answer.kind in ("text", "list"))
    out["no_unfounded_answer"] = _verdict(not claims or trail.good_queries > 0)
    out["answer_protocol"] = _verdict(a.marker)
    out["answer_format"] = _verdict(a.marker and a.unit_stated)
    out["answer_grounded"] = _verdict(a.grounded) if a.states_figure else "na"
    return out


def labels_for(policy: str, task: TaskSpec, tool_results: list[str], seed: int, epoch: int) -> Labels:
    """The labels of a persona's sample, recomputed by replaying its script over the sample's tool results
    (in call order; ``Event.content`` of its tool events). ``seed`` is the seed the agent was called with
    (the run's seed plus the epoch). A trace that stops before the script's answer is not labelled."""
    name = policy.removeprefix("scripted/").split("@", 1)[0]
    if name not in REGISTRY:
        raise ValueError(f"{policy!r} is not a persona; personas: {', '.join(REGISTRY)}")
    action, trail = replay(name, task, tool_results, seed, epoch)
    if not isinstance(action, FinalAction) or trail.answer is None:
        return Labels(dict.fromkeys(LABEL_KEYS), None, None, False, tuple(trail.did), complete=False)
    correct = trail.answer.correct
    mode = trail.mode if correct is False else None
    known = correct is not False or (trail.mode is not None and trail.mode_known)
    return Labels(labels_of(trail, task), correct, mode, known, tuple(trail.did))
