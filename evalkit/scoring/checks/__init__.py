"""The built-in checks (importing this package registers them) and how to add your own.

Built-in checks, by module: ``discovery`` (discovered_tables, inspected_schema, right_tables),
``identifiers`` (valid_identifiers), ``recovery`` (recovered_after_error, no_repeated_calls), ``answer``
(answer_correct, answer_format, no_unfounded_answer), ``grounding`` (answer_grounded), ``efficiency``
(efficiency) and ``safety`` (safe_sql). Every check returns a ``Verdict`` with a one-line reason and, as
evidence, the numbers (``Event.seq``) of the events that decided it. Conventions: a rule that holds is a
pass (value 1); a rule that is broken is a fail whose value keeps any partial credit (e.g. the share of
numbers grounded); a check asked for a grade (``mode: fraction``, ``right_tables`` without ``min_share``)
returns a value; a check that does not apply to a trace returns not-applicable.

Writing your own check
----------------------

1. Write a Python file next to your rubric (or an importable module) that registers a function with
   ``@check("name")``. It receives a ``CheckContext``: ``sample`` (the ``Sample``), ``view`` (a
   ``TraceView`` with ready-made facts: ``tool_events``, ``model_events``, ``errors``, ``queries`` with their
   parsed ``refs``/``tables``, ``successful_queries``, ``listings``, ``inspections``, ``final_event``,
   ``final_text``, ``result_events``), ``task`` (the ``TaskSpec``, or None), ``catalog`` (or None) and
   ``args`` (the criterion's ``args``). Return ``Verdict.passed/failed/score/not_applicable(reason,
   evidence=[seq, ...])``::

       # rubrics/mychecks.py
       from evalkit.scoring import CheckContext, Verdict, check

       @check("used_calculator")
       def used_calculator(ctx: CheckContext) -> Verdict:
           calls = [e for e in ctx.view.tool_events if e.tool == "calculator" and e.ok]
           if not calls:
               return Verdict.failed("never used the calculator")
           return Verdict.passed("used the calculator", evidence=[calls[0].seq])

2. Name the file under ``plugins:`` in the rubric (paths are relative to the rubric file) and use the check
   in a criterion::

       name: my-rubric
       version: 1
       plugins: [mychecks.py]
       criteria:
         - id: calculator
           check: used_calculator
           category: grounding
           description: Did the arithmetic with the calculator instead of in its head.
           applies_when: {has_query: true}

3. Score as usual; the engine imports the plugins when it loads the rubric. An exception in a check is
   recorded as an ``error`` verdict with the exception's message, never as a score.
"""

from evalkit.scoring.checks import answer, discovery, efficiency, grounding, identifiers, recovery, safety

__all__ = ["answer", "discovery", "efficiency", "grounding", "identifiers", "recovery", "safety"]
