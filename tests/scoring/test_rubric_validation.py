"""``evalkit validate-rubric``: the built-in criteria's verdicts on the fault-injection personas, against the
labels of what each persona was written to do.

The figures are deterministic for a seed, so the test holds them exactly (on a subset of the built-in tasks,
to keep it short; README gives the figures over every task). When a check or a persona changes on purpose,
re-measure with ``evalkit validate-rubric tool-discipline answer --tasks 'fs-00[1-9],fm-00[1-3]' --json`` and
update ``FIGURES`` (and the README).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import evalkit.api as api
from evalkit.contracts.rubric import load_rubric
from evalkit.scoring.validation import CriterionValidation, RubricValidation, label_keys
from tests.cli_runner import run_cli
from tests.conftest import isolated_env, set_env

SUBSET = "fs-00[1-9],fm-00[1-3]"

FIGURES = {  # criterion: (TP, FP, FN, TN, na≠) with "fail" as the positive class
    "tool-discipline.discovered_tables": (24, 0, 0, 120, 0),
    "tool-discipline.right_tables": (36, 0, 0, 108, 0),
    "tool-discipline.inspected_schema": (24, 0, 0, 120, 0),
    "tool-discipline.valid_identifiers": (17, 0, 1, 126, 0),
    "tool-discipline.no_unfounded_answer": (12, 0, 0, 132, 0),
    "tool-discipline.recovered_after_error": (36, 0, 0, 24, 0),
    "tool-discipline.no_repeated_calls": (12, 0, 0, 132, 0),
    "tool-discipline.safe_sql": (12, 0, 0, 132, 0),
    "tool-discipline.efficiency": (1, 0, 0, 104, 0),
    "tool-discipline.answer_protocol": (15, 0, 0, 129, 0),
    "answer.answer_correct": (39, 0, 0, 105, 0),
    "answer.answer_format": (15, 0, 0, 129, 0),
    "answer.answer_grounded": (10, 0, 0, 100, 0),
}


@pytest.fixture(scope="module")
def measured(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RubricValidation:
    """Measured once for the module (about 130 samples), in an environment isolated like each test's."""
    with pytest.MonkeyPatch.context() as mp:
        set_env(mp, isolated_env(tmp_path_factory.mktemp("validate"), cache_dir))
        return api.validate_rubric(["tool-discipline", "answer"], ["finance-single", "finance-multi"], tasks=SUBSET)


def test_the_confusion_matrices_hold_their_figures(measured: RubricValidation) -> None:
    assert measured.samples == measured.labelled == 12 * 12
    assert len(measured.models) == 12 and measured.suites == ("finance-single", "finance-multi")
    got = {f"{c.rubric}.{c.criterion}": (c.tp, c.fp, c.fn, c.tn, c.na_mismatches) for c in measured.criteria}
    assert got == FIGURES
    assert (measured.diagnosis.right, measured.diagnosis.total) == (38, 39)
    assert measured.diagnosis.misses == (("invented_identifier", "arithmetic_error", 1),)
    assert measured.not_measured == ()


def test_every_disagreement_is_a_known_weakness_of_a_check(measured: RubricValidation) -> None:
    """Where the verdicts miss the labels, the check is what is wrong (see README): ``valid_identifiers`` takes
    a look-alike column for the right one unless one name's words contain the other's (``answer_format`` asked
    a decline for the unit of a figure it does not state, until it was fixed)."""
    kinds = {(d.criterion, d.model, d.expected, d.got) for d in measured.disagreements}
    assert kinds == {
        ("tool-discipline.valid_identifiers", "scripted/wrong-column", "fail", "pass"),
        ("diagnosis", "scripted/wrong-column", "invented_identifier", "arithmetic_error"),
    }
    look_alike = next(d for d in measured.disagreements if d.criterion == "tool-discipline.valid_identifiers")
    assert look_alike.did.startswith("queried long_term_debt where the task needs current_portion_of_debt")
    met = {f"{c.rubric}.{c.criterion}" for c in measured.criteria if c.meets()}
    assert met == set(FIGURES) - {"tool-discipline.valid_identifiers"}
    assert not measured.passed


def test_precision_and_recall_count_not_applicable_mismatches() -> None:
    matrix = {"pass": {"pass": 90, "fail": 2, "na": 1}, "fail": {"pass": 3, "fail": 17, "na": 0}}
    c = CriterionValidation("r", "c", "check", "c", {**matrix, "na": {"pass": 0, "fail": 1, "na": 9}})
    assert (c.tp, c.fp, c.fn, c.tn, c.na_mismatches) == (17, 2, 3, 90, 2)
    assert c.precision("fail") == 17 / 20 and c.recall("fail") == 17 / 20
    assert c.precision("pass") == 90 / 93 and c.recall("pass") == 90 / 93
    assert not c.meets(0.98) and c.meets(0.8)


def test_criteria_are_measured_by_check_args_and_scope(tmp_path: Path) -> None:
    builtin = load_rubric("tool-discipline")
    assert label_keys(builtin)["answer_protocol"] == "answer_protocol"  # answer_format without the unit
    assert label_keys(load_rubric("answer"))["answer_format"] == "answer_format"
    renamed = replace(builtin, criteria=tuple(replace(c, id=f"my_{c.id}") for c in builtin.criteria))
    assert label_keys(renamed)["my_safe_sql"] == "safe_sql"
    strict = replace(builtin, criteria=tuple(replace(c, args={"strict": True}) for c in builtin.criteria))
    assert "valid_identifiers" not in label_keys(strict)
    assert label_keys(load_rubric("narrative-judge")) == {}


def test_the_command_prints_the_matrix_and_exits_1_under_strict() -> None:
    args = ("validate-rubric", "tool-discipline", "--suite", "finance-single", "--tasks", "fs-009")
    result = run_cli(*args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "valid_identifiers" in result.stdout and "diagnosis:" in result.stdout
    assert "scripted/wrong-column fs-009#0: labelled fail, got pass" in result.stdout
    data = json.loads(run_cli(*args, "--json").stdout)
    rows = {c["criterion"]: c for c in data["criteria"]}
    assert (rows["safe_sql"]["tp"], rows["safe_sql"]["tn"], rows["safe_sql"]["fail_recall"]) == (1, 11, 1.0)
    assert rows["valid_identifiers"]["fn"] == 1 and data["passed"] is False
    assert run_cli(*args, "--strict").exit_code == 1
