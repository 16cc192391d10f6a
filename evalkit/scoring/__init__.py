"""Scoring: rubric criteria over stored traces, with evidence.

User checks register with ``@check("name")`` and return a ``Verdict``; see ``evalkit.scoring.registry``.
"""

from evalkit.scoring.registry import CheckContext, Verdict, check

__all__ = ["CheckContext", "Verdict", "check"]
