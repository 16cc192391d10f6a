"""Where the built-in suites and rubrics are.

The checkout's top-level ``suites/`` and ``rubrics/`` folders are their single source. A wheel carries a copy
inside the package, ``evalkit/builtin_data/``, made by ``setup.py`` when the wheel is built, because an installed
package has no checkout beside it. An editable install or a source tree has no such copy and reads the
checkout's folders.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

PACKAGE_DATA = "builtin_data"
"""The folder inside the installed ``evalkit`` package that holds the shipped copy."""

BuiltinKind = Literal["suites", "rubrics"]


def builtin_dir(kind: BuiltinKind) -> Path:
    """The folder of the built-in ``kind``: the installed package's copy when there is one, else the checkout's
    top-level folder (which may not exist, for a package installed without its data: then nothing is built in)."""
    package = files("evalkit")
    if isinstance(package, Path):
        shipped = package / PACKAGE_DATA / kind
        if shipped.is_dir():
            return shipped
    return Path(__file__).resolve().parents[2] / kind
