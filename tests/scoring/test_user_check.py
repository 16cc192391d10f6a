"""A user check in a plugin file, named in a rubric, is used by the engine (the how-to in
``evalkit.scoring.checks``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from evalkit.contracts.rubric import load_rubric
from evalkit.errors import SpecError
from evalkit.scoring.engine import RubricEngine
from tests.scoring import TraceBuilder

PLUGIN = """
from evalkit.scoring import CheckContext, Verdict, check


@check("used_calculator_{tag}")
def used_calculator(ctx: CheckContext) -> Verdict:
    calls = [e for e in ctx.view.tool_events if e.tool == "calculator" and e.ok]
    if not calls:
        return Verdict.failed("never used the calculator")
    return Verdict.passed(f"used the calculator ({{ctx.args.get('note', '')}})", evidence=[calls[0].seq])


@check("broken_{tag}")
def broken(ctx: CheckContext) -> Verdict:
    raise RuntimeError("boom")
"""


def _rubric(tmp_path: Path, tag: str) -> Path:
    (tmp_path / "mychecks.py").write_text(PLUGIN.format(tag=tag))
    path = tmp_path / "mine.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            name: mine
            version: 1
            plugins: [mychecks.py]
            criteria:
              - id: calculator
                check: used_calculator_{tag}
                category: grounding
                args: {{note: arithmetic}}
                description: Did the arithmetic with the calculator.
              - id: repeats
                check: no_repeated_calls
                category: recovery
              - id: broken
                check: broken_{tag}
                applies_when: {{has_query: true}}
            """
        )
    )
    return path


def test_user_check_from_a_plugin_file_is_scored(tmp_path: Path) -> None:
    rubric = load_rubric(_rubric(tmp_path, "a"))
    engine = RubricEngine(rubric)

    b = TraceBuilder()
    b.sql("SELECT total_revenue FROM acme_income_statement WHERE fiscal_year = 2024", "total_revenue\n1500")
    calc = b.calc("1500 / 3", 500.0)
    b.final("FINAL ANSWER: 500")
    scores = {s.criterion: s for s in engine.score_sample(b.sample())}
    assert scores["calculator"].verdict == "pass"
    assert scores["calculator"].evidence == (calc,)
    assert scores["calculator"].reason == "used the calculator (arithmetic)"
    assert scores["repeats"].verdict == "pass"  # built-ins mix with user checks
    assert scores["broken"].verdict == "error" and "RuntimeError: boom" in scores["broken"].reason

    no_calc = TraceBuilder()
    no_calc.final("FINAL ANSWER: 500")
    scores = {s.criterion: s for s in engine.score_sample(no_calc.sample())}
    assert scores["calculator"].verdict == "fail"
    assert scores["broken"].verdict == "na"  # applies_when is honoured for user checks too


def test_unknown_check_and_missing_plugin_are_spec_errors(tmp_path: Path) -> None:
    path = _rubric(tmp_path, "b")
    path.write_text(path.read_text().replace("used_calculator_b", "no_such_check"))
    with pytest.raises(SpecError, match="unknown check 'no_such_check'"):
        RubricEngine(load_rubric(path))
    other = tmp_path / "other"
    other.mkdir()
    missing = _rubric(other, "c")
    (other / "mychecks.py").unlink()
    with pytest.raises(SpecError, match=r"mine.yaml:3 plugins\[0\]: plugin file .*mychecks.py not found"):
        RubricEngine(load_rubric(missing))
