"""Imports point one way, as ARCHITECTURE.md draws them.

Every ``import evalkit.x`` / ``from evalkit.x import ...`` in the package, at module level, inside a function
or under ``TYPE_CHECKING``, is checked against the layers below. A module may import its own package and the
packages its package is allowed; anything else fails with the file, the line and the rule it breaks.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "evalkit"

BASE = {"errors", "version", "fileio", "redact"}
"""Leaves every part may import: the exception hierarchy, the version string, the file helpers and the
credential redaction."""

ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "version": set(),
    "fileio": set(),
    "redact": set(),
    "contracts": set(),
    "stats": set(),
    "trace": {"contracts"},
    "env": {"contracts"},
    "models": {"trace", "contracts"},
    "runner": {"models", "env", "trace", "contracts"},
    "scoring": {"models", "env", "trace", "stats", "contracts"},
    "suites": {"env", "contracts"},
    "report": {"scoring", "stats", "trace", "env", "contracts"},
    "compare": {"report", "scoring", "stats", "trace", "contracts"},
    "api": {"compare", "report", "scoring", "suites", "runner", "models", "env", "trace", "stats", "contracts"},
    "cli": {
        "api",
        "report.model",
        "trace.types",
        "report.terminal",
        "compare.render_text",
        "runner.options",
        "report.text_format",
    },
    "<root>": {"api", "contracts", "trace"},
    "__main__": {"cli"},
}
"""What each part of the package may import besides itself and ``BASE``. ``cli`` names modules, not packages:
the CLI calls the public API; besides it, it may name the plain-data types the API returns (``report.model``,
``trace.types``) and hand a report, comparison or gate result to its terminal renderer (``report.terminal``,
``compare.render_text``), which prints to the CLI's rich console (its width and colours are the terminal's).
``runs`` formats its cost column with ``report.text_format.usd``, the one dollar formatter. ``run`` shows the
defaults of ``runner.options.RunOptions`` (a leaf: importing it at start-up costs nothing).
Everything else, files included, goes through the API."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    pieces = module.split(".")
    return "<root>" if len(pieces) == 1 else pieces[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from evalkit import api`` names a module, not an attribute
            if target == "evalkit":
                found += [(node.lineno, f"evalkit.{alias.name}") for alias in node.names]
    return [(line, target) for line, target in found if target == "evalkit" or target.startswith("evalkit.")]


def _allowed(source: str, target: str) -> bool:
    src, dst = _part(source), _part(target)
    if dst == src or dst in BASE:
        return True
    if target == "evalkit":  # the root package: lazy re-exports, never a layer to lean on
        return src in {"<root>", "__main__"}
    rules = ALLOWED[src]
    dotted = target.removeprefix("evalkit.")
    return dst in rules or any(dotted == rule or dotted.startswith(rule + ".") for rule in rules if "." in rule)


def violations() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        part = _part(source)
        assert part in ALLOWED, f"{path}: part {part!r} has no layering rule in tests/test_layering.py"
        for line, target in _imports(path):
            if not _allowed(source, target):
                rel = path.relative_to(PACKAGE.parent)
                out.append(f"{rel}:{line} {source} imports {target} ({part} may import {sorted(ALLOWED[part])})")
    return out


def test_imports_point_one_way() -> None:
    assert violations() == []


def test_the_rule_catches_an_import_against_the_layers(tmp_path: Path) -> None:
    assert not _allowed("evalkit.trace.external", "evalkit.scoring.answers")
    assert not _allowed("evalkit.contracts.config", "evalkit.trace.types")
    assert not _allowed("evalkit.scoring.judge", "evalkit.runner.client")
    assert not _allowed("evalkit.runner.session", "evalkit")
    assert not _allowed("evalkit.cli.suite", "evalkit.env.tools")
    assert _allowed("evalkit.cli.report", "evalkit.report.model")
    assert _allowed("evalkit.runner.loop", "evalkit.contracts.answers")
    assert _allowed("evalkit.models.gateway", "evalkit.errors")


def test_the_cli_rule_names_only_modules_the_cli_imports() -> None:
    """The CLI's list is exact: an entry no CLI module imports any more is one to remove."""
    cli = sorted((PACKAGE / "cli").glob("*.py"))
    used = {target.removeprefix("evalkit.") for path in cli for _, target in _imports(path)}
    unused = {rule for rule in ALLOWED["cli"] if not any(u == rule or u.startswith(rule + ".") for u in used)}
    assert unused == set()


def test_every_module_is_small() -> None:
    big = {
        str(p.relative_to(PACKAGE.parent)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) >= 400
    }
    assert big == {}
