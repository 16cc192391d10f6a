"""The JSON report against its shipped schema, and the JUnit XML rendering of the shared report run."""

from __future__ import annotations

import copy
import dataclasses
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from evalkit.report.jsonfmt import REPORT_SCHEMA_PATH, render_json, report_schema
from evalkit.report.junit import render_junit
from evalkit.report.model import FAILURE_MODES, REPORT_SCHEMA_VERSION, Report, TaskRow, Usage


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = report_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def object_schemas(node: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every sub-schema of the report schema that lists ``properties``, with where it is."""
    if isinstance(node, dict):
        if "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from object_schemas(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from object_schemas(value, f"{path}[{i}]")


def odd_report(report: Report) -> Report:
    """The report with the values the fixture run never has: unknown costs, no latency, an undiagnosed row,
    a row lost to infrastructure errors, a row never run, and a note."""
    usage = Usage(0, 0, None, None, None, None, 0, None, None)
    groups = (dataclasses.replace(report.groups[0], usage=usage, rubric_score=None), *report.groups[1:])
    first = report.tasks[0]
    infra = dataclasses.replace(first, task_id="t9", finished=0, correct=0, infra_errors=2, cost_usd=None)
    unrun = dataclasses.replace(first, task_id="t10", finished=0, correct=0, infra_errors=0, sample_ids=())
    return dataclasses.replace(
        report, groups=groups, tasks=(*report.tasks, infra, unrun), failed_by_all=("t3",), notes=("a note",)
    )


# --- JSON ---------------------------------------------------------------------------------------------------


def test_json_validates_against_schema(report: Report, validator: Draft202012Validator) -> None:
    errors = sorted(validator.iter_errors(json.loads(render_json(report))), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_json_of_unusual_values_validates(report: Report, validator: Draft202012Validator) -> None:
    errors = list(validator.iter_errors(json.loads(render_json(odd_report(report)))))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_json_round_trips(report: Report) -> None:
    text = render_json(report)
    assert text.endswith("}\n")
    assert json.loads(text) == json.loads(json.dumps(report.to_dict()))
    data = json.loads(text)
    assert list(data) == [f.name for f in dataclasses.fields(Report)]  # dataclass order, not sorted
    assert data["runs"][0]["rubrics"][0] == list(report.runs[0].rubrics[0])
    assert set(data["groups"][0]["pass_at_k"]) == {"1", "2"}


def test_json_keeps_non_ascii(report: Report) -> None:
    text = render_json(dataclasses.replace(report, notes=("données → ⚠",)))
    assert "données → ⚠" in text


@pytest.mark.parametrize(
    "where",
    [
        [],
        ["runs", 0],
        ["criteria", 0],
        ["groups", 0],
        ["groups", 0, "accuracy"],
        ["groups", 0, "usage"],
        ["groups", 0, "criteria", 0],
        ["groups", 0, "slices", 0],
        ["groups", 1, "failure_modes", 0],
        ["groups", 1, "train_next", 0],
        ["tasks", 0],
    ],
)
def test_schema_rejects_unknown_fields(report: Report, validator: Draft202012Validator, where: list[Any]) -> None:
    data = copy.deepcopy(report.to_dict())
    node: Any = data
    for key in where:
        node = node[key]
    node["surprise"] = 1
    assert not validator.is_valid(json.loads(json.dumps(data)))


def test_schema_rejects_missing_and_mistyped_fields(report: Report, validator: Draft202012Validator) -> None:
    data = json.loads(render_json(report))
    del data["groups"][0]["usage"]["cost_usd"]
    assert not validator.is_valid(data)
    data = json.loads(render_json(report))
    data["tasks"][0]["failure_mode"] = "bad luck"
    assert not validator.is_valid(data)
    data = json.loads(render_json(report))
    data["groups"][0]["pass_at_k"]["two"] = 0.5
    assert not validator.is_valid(data)


def test_every_schema_property_has_a_description() -> None:
    schema = report_schema()
    missing = [
        f"{path}.{name}"
        for path, node in object_schemas(schema)
        for name, prop in node["properties"].items()
        if not (isinstance(prop, dict) and prop.get("description", "").strip())
    ]
    assert not missing
    assert all(d.get("description") for d in schema["$defs"].values())


def test_every_schema_object_is_closed_and_requires_all_its_fields() -> None:
    for path, node in object_schemas(report_schema()):
        assert node.get("additionalProperties") is False, path
        assert sorted(node.get("required", [])) == sorted(node["properties"]), path


def test_schema_matches_the_model() -> None:
    schema = json.loads(REPORT_SCHEMA_PATH.read_text("utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"]["const"] == REPORT_SCHEMA_VERSION
    assert schema["$defs"]["failure_mode"]["enum"] == list(FAILURE_MODES)
    assert list(schema["properties"]) == [f.name for f in dataclasses.fields(Report)]
    assert list(schema["$defs"]["task"]["properties"]) == [f.name for f in dataclasses.fields(TaskRow)]
    assert list(schema["$defs"]["usage"]["properties"]) == [f.name for f in dataclasses.fields(Usage)]


# --- JUnit --------------------------------------------------------------------------------------------------


def parse(xml: str) -> ET.Element:
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(xml.encode("utf-8"))


def suite_of(root: ET.Element, label: str) -> ET.Element:
    return next(s for s in root.iter("testsuite") if s.get("name") == f"mini/{label}")


def test_junit_has_one_testcase_per_group_and_task(report: Report) -> None:
    root = parse(render_junit(report))
    assert root.tag == "testsuites" and root.get("name") == "evalkit"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"{g.suite}/{g.label}" for g in report.groups]
    cases = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert cases == [(f"mini.{t.label}", t.task_id) for t in report.tasks]
    assert len(cases) == 12
    assert root.get("tests") == "12"
    for s in suites:
        assert s.get("tests") == str(len(s.findall("testcase")))


def test_junit_failures_are_tasks_with_a_wrong_epoch(report: Report) -> None:
    root = parse(render_junit(report))
    wrong = sum(1 for t in report.tasks if t.correct < t.finished)
    assert wrong == 7
    assert len(list(root.iter("failure"))) == wrong
    assert root.get("failures") == str(wrong)
    assert root.get("errors") == "0" and root.get("skipped") == "0"
    assert sum(int(s.get("failures", "-1")) for s in root.findall("testsuite")) == wrong


def test_junit_reckless_tasks_fail_with_their_failure_mode(report: Report) -> None:
    suite = suite_of(parse(render_junit(report)), "scripted/reckless")
    cases = suite.findall("testcase")
    assert len(cases) == 4
    for case in cases:
        failure = case.find("failure")
        assert failure is not None
        message = failure.get("message", "")
        assert message.startswith("invented a table or column; failed: ")
        assert "tool-discipline.valid_identifiers" in message
        assert failure.get("type") == "invented_identifier"
        assert "correct in 0 of 2 finished epochs" in (failure.text or "")
        assert f"{case.get('name')}|scripted/reckless|0" in (failure.text or "")


def test_junit_disciplined_tasks_pass(report: Report) -> None:
    suite = suite_of(parse(render_junit(report)), "scripted/disciplined")
    assert suite.get("failures") == "0"
    for case in suite.findall("testcase"):
        assert list(case) == []


def test_junit_infra_errors_are_errors_and_unrun_tasks_skipped(report: Report) -> None:
    root = parse(render_junit(odd_report(report)))
    suite = suite_of(root, report.groups[0].label)
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    error = cases["t9"].find("error")
    assert error is not None and error.get("type") == "infra_error"
    assert "infrastructure errors" in error.get("message", "")
    assert cases["t9"].find("failure") is None
    assert cases["t10"].find("skipped") is not None
    assert (suite.get("errors"), suite.get("skipped")) == ("1", "1")
    assert (root.get("errors"), root.get("skipped"), root.get("tests")) == ("1", "1", "14")


def test_junit_escapes_odd_text(report: Report) -> None:
    label = 'a <b> & "c"\x00'
    groups = (dataclasses.replace(report.groups[0], label=label), *report.groups[1:])
    tasks = tuple(dataclasses.replace(t, label=label) if t.label == report.groups[0].label else t for t in report.tasks)
    root = parse(render_junit(dataclasses.replace(report, groups=groups, tasks=tasks)))
    assert root.find("testsuite") is not None
    assert root.findall("testsuite")[0].get("name") == 'mini/a <b> & "c"'
