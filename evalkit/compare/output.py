"""A comparison or a gate decision as the text of a file format, and written to a file.

A comparison (:class:`~evalkit.compare.model.CompareReport`) renders as Markdown, HTML or JSON and goes by
default to ``reports/compare__<runs>.<ext>`` (the folder is ``$EVALKIT_REPORTS_DIR`` when set); a gate
decision (:class:`~evalkit.compare.gate_model.GateResult`) renders as Markdown, JSON or JUnit XML and goes
where its caller says. Files are written atomically (see :func:`evalkit.report.write.write_text`), except
that a gate summary may be appended to a CI job summary such as ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.errors import ConfigError

if TYPE_CHECKING:  # the models import the statistics (scipy); callers already hold one
    from evalkit.compare.gate_model import GateResult
    from evalkit.compare.model import CompareReport

COMPARE_FORMATS = {"md": ".md", "html": ".html", "json": ".json"}
"""The file formats of a comparison, with their extensions."""
GATE_FORMATS = ("md", "json", "junit")
"""The formats of a gate decision."""


def render_comparison(result: CompareReport | GateResult, fmt: str) -> str:
    """A comparison as ``md``, ``html`` or ``json`` text, or a gate decision as ``md``, ``json`` or ``junit``."""
    from evalkit.compare.gate_model import GateResult

    if isinstance(result, GateResult):
        if fmt == "md":
            from evalkit.compare.render_text import render_gate_markdown

            return render_gate_markdown(result)
        if fmt == "json":
            from evalkit.compare.render_text import render_gate_json

            return render_gate_json(result)
        if fmt == "junit":
            from evalkit.compare.render_junit import render_gate_junit

            return render_gate_junit(result)
        raise ConfigError(f"unknown format {fmt!r} for a gate result (known: {', '.join(GATE_FORMATS)})")
    if fmt == "md":
        from evalkit.compare.render_text import render_compare_markdown

        return render_compare_markdown(result)
    if fmt == "html":
        from evalkit.compare.render_html import render_compare_html

        return render_compare_html(result)
    if fmt == "json":
        from evalkit.compare.render_text import render_compare_json

        return render_compare_json(result)
    raise ConfigError(f"unknown format {fmt!r} for a comparison (known: {', '.join(COMPARE_FORMATS)})")


def write_comparison(
    result: CompareReport | GateResult, fmt: str, output: str | Path | None = None, *, append: bool = False
) -> Path:
    """Render ``result`` in ``fmt`` (see :func:`render_comparison`) and write it to ``output``; a comparison
    without ``output`` goes to ``reports/compare__<runs>.<ext>``. With ``append`` the text and a newline are
    added to the end of ``output`` instead of replacing it. Returns the path written."""
    from evalkit.compare.gate_model import GateResult
    from evalkit.report.write import reports_dir, runs_stem, write_text

    text = render_comparison(result, fmt)
    if output is None:
        if isinstance(result, GateResult):
            raise ConfigError("a gate result has no default file: give the file to write")
        return write_text(reports_dir() / f"{runs_stem(result.runs, 'compare__')}{COMPARE_FORMATS[fmt]}", text)
    path = Path(output)
    if append:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
        return path
    return write_text(path, text)
