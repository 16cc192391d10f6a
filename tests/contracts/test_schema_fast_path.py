"""The compiled validator that recognises valid files must agree with jsonschema, which writes the messages:
on every YAML file of the project and on mutated ones (the bad-input corpus checks the messages)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from evalkit.contracts.yamlfile import _fast_validator, load_schema
from evalkit.contracts.yamlload import read_yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_OF = {"suite.yaml": "suite", "tasks.yaml": "tasks", "catalog.yaml": "catalog", "gate.yaml": "gate"}


def _files() -> list[tuple[Path, str]]:
    folders = ("suites", "examples", "tests/fixtures")
    found = [(p, SCHEMA_OF[p.name]) for d in folders for p in ROOT.glob(f"{d}/**/*.yaml") if p.name in SCHEMA_OF]
    found += [(p, "rubric") for p in (ROOT / "rubrics").glob("*.yaml")]
    return found


def test_there_are_files_of_every_kind() -> None:
    assert {schema for _, schema in _files()} == {"suite", "tasks", "catalog", "gate", "rubric"}


@pytest.mark.parametrize(("path", "schema"), _files(), ids=lambda x: str(x).removeprefix(str(ROOT)))
def test_both_validators_agree_on_the_projects_files(path: Path, schema: str) -> None:
    data, _ = read_yaml(path)
    slow = jsonschema.Draft202012Validator(load_schema(schema)).is_valid(data)
    assert _fast_validator(schema).is_valid(data) is slow


@pytest.mark.parametrize(
    ("schema", "data"),
    [
        ("tasks", {"tasks": [{"id": 5}]}),
        ("tasks", {"tasks": [], "extra": 1}),
        ("suite", {"name": "x"}),
        ("rubric", {"name": "r", "version": "1", "criteria": [{"id": "a", "check": "c", "weight": "heavy"}]}),
        ("gate", {"thresholds": {"accuracy": "high"}}),
        ("catalog", {"tables": "none"}),
    ],
)
def test_both_validators_refuse_broken_documents(schema: str, data: object) -> None:
    assert not jsonschema.Draft202012Validator(load_schema(schema)).is_valid(data)
    assert not _fast_validator(schema).is_valid(data)
