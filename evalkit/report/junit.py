"""The report as JUnit XML, so CI systems (GitLab, Jenkins, GitHub test reporters) show evalkit tasks as tests.

One ``<testsuite>`` per group (a model in a run), named ``<suite>/<label>``, and one ``<testcase>`` per task:

- a task *fails* when any finished epoch was wrong; the failure's message gives the failure mode and the
  failed criteria, its body the epochs answered right and the sample ids to look at (``evalkit show``);
- a task with only infrastructure errors (no finished epoch) is an *error*: the model was never judged;
- a task not run at all is *skipped*, and so is one whose correctness was not scored (imported traces without
  an expected answer): it is neither passed nor failed.

No time is given: the report has no per-task latency, and a made-up 0 would read as a measurement.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from evalkit.report.model import FAILURE_MODES, ModelReport, Report, TaskRow

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot hold; they are dropped from names and messages."""


def xml_text(text: object) -> str:
    """``text`` without the characters XML 1.0 cannot hold (the one sanitiser of both JUnit writers)."""
    return _NOT_XML.sub("", str(text))


def _outcome(row: TaskRow) -> str:
    """``failure``, ``error``, ``skipped``, ``not_scored`` or ``passed``."""
    if row.correct < row.scored:
        return "failure"
    if row.finished == 0:
        return "error" if row.infra_errors > 0 else "skipped"
    if row.scored == 0:
        return "not_scored"
    return "passed"


def _criteria_names(report: Report, keys: Sequence[str]) -> list[str]:
    """``rubric.criterion`` keys, critical criteria marked ``(critical)``."""
    critical = {f"{c.rubric}.{c.criterion}" for c in report.criteria if c.severity == "critical"}
    return [f"{k} (critical)" if k in critical else k for k in keys]


def _failure(report: Report, row: TaskRow) -> ET.Element:
    label = FAILURE_MODES.get(row.failure_mode, row.failure_mode) if row.failure_mode else "wrong answer"
    names = _criteria_names(report, row.failed_criteria)
    el = ET.Element(
        "failure",
        message=xml_text(f"{label}; failed: {', '.join(row.failed_criteria) or 'no criterion'}"),
        type=xml_text(row.failure_mode or "wrong_answer"),
    )
    lines = [f"correct in {row.correct} of {row.scored} finished epochs"]
    if row.not_scored:
        lines.append(f"correctness not scored in {row.not_scored} epochs (no expected answer)")
    if row.infra_errors:
        lines.append(f"infrastructure errors in {row.infra_errors} epochs (not counted)")
    lines.append(f"failure mode of the first wrong epoch: {label}")
    lines.append("failed criteria:" if names else "failed criteria: none")
    lines += [f"  - {n}" for n in names]
    lines.append(f"samples: {', '.join(row.sample_ids)}")
    el.text = xml_text("\n".join(lines))
    return el


def _error(row: TaskRow) -> ET.Element:
    el = ET.Element(
        "error",
        message=xml_text(f"infrastructure errors in all {row.infra_errors} epochs; the model was never judged"),
        type="infra_error",
    )
    el.text = xml_text(f"samples: {', '.join(row.sample_ids)}")
    return el


def _testcase(report: Report, group: ModelReport, row: TaskRow) -> tuple[ET.Element, str]:
    case = ET.Element("testcase", classname=xml_text(f"{group.suite}.{group.label}"), name=xml_text(row.task_id))
    outcome = _outcome(row)
    if outcome == "failure":
        case.append(_failure(report, row))
    elif outcome == "error":
        case.append(_error(row))
    elif outcome == "skipped":
        ET.SubElement(case, "skipped", message="not run")
    elif outcome == "not_scored":
        ET.SubElement(case, "skipped", message="correctness not scored: no expected answer")
    return case, outcome


def _testsuite(report: Report, group: ModelReport) -> tuple[ET.Element, dict[str, int]]:
    rows = [r for r in report.tasks if r.run_id == group.run_id and r.label == group.label]
    suite = ET.Element("testsuite", name=xml_text(f"{group.suite}/{group.label}"))
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("run_id", group.run_id),
        ("model", group.model),
        ("accuracy", "not scored" if group.accuracy.n == 0 and group.not_scored else group.accuracy.fmt()),
        ("samples", group.samples),
        ("infra_errors", group.infra_errors),
    ):
        ET.SubElement(props, "property", name=name, value=xml_text(value))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for row in rows:
        case, outcome = _testcase(report, group, row)
        suite.append(case)
        counts["tests"] += 1
        key = {"failure": "failures", "error": "errors", "skipped": "skipped", "not_scored": "skipped"}.get(outcome)
        if key:
            counts[key] += 1
    for key, n in counts.items():
        suite.set(key, str(n))
    return suite, counts


def render_junit(report: Report) -> str:
    """The report as a JUnit XML document (with its declaration, indented, ending with a newline)."""
    root = ET.Element("testsuites", name="evalkit")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for group in report.groups:
        suite, counts = _testsuite(report, group)
        root.append(suite)
        for key, n in counts.items():
            totals[key] += n
    for key, n in totals.items():
        root.set(key, str(n))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
