"""A gate decision as JUnit XML, so CI systems (GitHub test reporters, GitLab, Jenkins) list its rules as tests.

One ``<testsuite>`` per candidate model (a rule's ``label``) and one ``<testcase>`` per rule, named after the
rule with the class name ``gate.<label>``: a failed rule is a ``<failure>`` whose message is the rule's
detail, a passed rule an empty test case. The ``errors`` and ``skipped`` counts are always 0 (a rule either
passes or fails) and are written because JUnit readers expect them. No time is given: a rule takes no
measurable time, and a made-up 0 would read as a measurement.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from evalkit.compare.gate_model import GateResult, RuleResult
from evalkit.compare.text_format import p_text, rule_value
from evalkit.report.junit import xml_text

__all__ = ["render_gate_junit"]

_RUN_LABEL = "run"
"""The suite of rules that apply to the run as a whole (a rule without a model label)."""


def _body(rule: RuleResult) -> str:
    lines = [
        f"rule: {rule.rule} ({rule.kind})",
        f"observed: {rule_value(rule, rule.observed)}",
        f"limit: {rule_value(rule, rule.limit, limit=True)}",
    ]
    if rule.p_value is not None:
        lines.append(f"p-value: {p_text(rule.p_value)}")
    lines.append(rule.detail)
    return xml_text("\n".join(lines))


def _testcase(rule: RuleResult, label: str) -> ET.Element:
    case = ET.Element("testcase", classname=xml_text(f"gate.{label}"), name=xml_text(rule.rule))
    if rule.status == "fail":
        failure = ET.SubElement(case, "failure", message=xml_text(rule.detail), type=xml_text(rule.kind))
        failure.text = _body(rule)
    return case


def _testsuite(result: GateResult, label: str, rules: list[RuleResult]) -> ET.Element:
    suite = ET.Element("testsuite", name=xml_text(f"gate/{label}"))
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="candidate", value=xml_text(result.candidate.run_id))
    if result.baseline is not None:
        ET.SubElement(props, "property", name="baseline", value=xml_text(result.baseline.run_id))
    for rule in rules:
        suite.append(_testcase(rule, label))
    _count(suite, rules)
    return suite


def _count(el: ET.Element, rules: list[RuleResult]) -> None:
    el.set("tests", str(len(rules)))
    el.set("failures", str(sum(1 for r in rules if r.status == "fail")))
    el.set("errors", "0")
    el.set("skipped", "0")


def render_gate_junit(result: GateResult) -> str:
    """The gate as a JUnit XML document (with its declaration, indented, ending with a newline)."""
    by_label: dict[str, list[RuleResult]] = {}
    for rule in result.rules:
        by_label.setdefault(rule.label or _RUN_LABEL, []).append(rule)
    root = ET.Element("testsuites", name="evalkit-gate")
    for label, rules in by_label.items():
        root.append(_testsuite(result, label, rules))
    _count(root, list(result.rules))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
