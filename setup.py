"""The one build step pyproject.toml cannot declare: ship the built-in suites and rubrics inside the package.

The top-level ``suites/`` (with the data its suites read, ``suites/data/``) and ``rubrics/`` folders stay their
single source. A wheel copies them to ``evalkit/builtin_data/``, where ``evalkit.contracts.builtin`` finds them
in an installed package; an editable install reads the checkout's folders instead. MANIFEST.in puts the same
folders in an sdist, so a wheel built from it ships them too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUILTIN = ("suites", "rubrics")
TARGET = Path("evalkit") / "builtin_data"
# Bytecode, dotfiles (editor and OS litter) and half-written files are not part of a suite. A ``.duckdb`` file
# can be a suite's database, so it is shipped; built databases live in the cache folder, never in ``suites/``.
SKIP = shutil.ignore_patterns("__pycache__", "*.py[cod]", ".*", "*.tmp", "*.wal")


class BuildPyWithBuiltins(build_py):
    """``build_py``, then a fresh copy of the built-in folders into the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / TARGET
        shutil.rmtree(target, ignore_errors=True)
        for name in BUILTIN:
            shutil.copytree(ROOT / name, target / name, ignore=SKIP)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        target = Path(self.build_lib) / TARGET
        if not self.editable_mode and target.is_dir():
            outputs += sorted(str(p) for p in target.rglob("*") if p.is_file())
        return outputs


setup(cmdclass={"build_py": BuildPyWithBuiltins})
