"""Alias expansion is bounded by the document's size: a billion-laughs document is refused, a big file
written by ``yaml.safe_dump`` (which makes an alias of every object it meets twice) is not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evalkit.contracts.yamlload import read_yaml
from evalkit.errors import SpecError


def test_a_dumped_document_with_many_shared_objects_loads(tmp_path: Path) -> None:
    shared = {"kind": "number", "steps": [{"sql": f"SELECT {i}", "bind": f"v{i}"} for i in range(11)]}
    items = [{"id": f"t{i}", "question": f"q{i}", "tags": [f"a{i}", f"b{i}"], "answer": shared} for i in range(3000)]
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump({"tasks": items}, sort_keys=False), encoding="utf-8")
    assert "*id001" in path.read_text()  # the dumper wrote aliases
    data, lines = read_yaml(path)
    assert len(data["tasks"]) == 3000 and data["tasks"][2999]["answer"]["steps"][10]["bind"] == "v10"
    assert lines[("tasks", 2999, "id")] > lines[("tasks", 0, "id")]


def test_a_billion_laughs_document_is_refused(tmp_path: Path) -> None:
    rows = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [f"a{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(10))}]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        read_yaml(path)
    assert "alias bomb" in str(info.value) + " ".join(getattr(info.value, "problems", ()))
