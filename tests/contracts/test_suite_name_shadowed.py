"""A suite given by name resolves to the suite even when a folder of that name (a report or an export
folder, say) sits in the working directory; a name that is neither says which path it looked at."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.contracts.loader import find_suite, load_suite
from evalkit.errors import SpecError


def test_a_folder_in_the_working_directory_does_not_hide_a_suite_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "finance-single").mkdir()  # e.g. where the user keeps the reports of that suite
    (tmp_path / "finance-single" / "report.html").write_text("<html></html>")
    assert find_suite("finance-single").name == "finance-single"
    assert find_suite("finance-single").resolve() != (tmp_path / "finance-single").resolve()
    assert load_suite("finance-single").name == "finance-single"


def test_a_folder_that_is_no_suite_and_no_suite_name_says_what_was_looked_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports").mkdir()
    with pytest.raises(SpecError) as err:
        find_suite("exports")
    message = str(err.value)
    assert "exports: not a suite (no suite.yaml in it)" in message
    assert "no suite named 'exports' on the search path" in message and "finance-single" in message


def test_an_explicit_path_is_still_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "finance-single").mkdir()
    with pytest.raises(SpecError, match="not a suite"):
        find_suite("./finance-single")
    with pytest.raises(SpecError, match="not a suite"):
        find_suite(tmp_path / "finance-single")
