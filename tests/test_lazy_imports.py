"""Reading the store and the report model costs neither pandas nor scipy: pandas is imported when a batch
is written, scipy when statistics are computed. Each module is imported in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("pandas", "scipy")

PROBE = """
import json, sys
import {module}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _heavy_after_import(module: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize("module", ["evalkit.trace.store", "evalkit.report.model"])
def test_module_imports_neither_pandas_nor_scipy(module: str) -> None:
    assert _heavy_after_import(module) == []


def test_the_probe_sees_a_heavy_import() -> None:
    assert _heavy_after_import("evalkit.stats") == ["scipy"]
