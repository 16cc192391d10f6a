"""How a command's help is shown: its docstring, with each paragraph of prose reflowed to the terminal.

typer's rich help keeps the line breaks of a docstring, so prose wrapped at 120 columns in the source would
break mid-sentence in an 80-column terminal. A paragraph whose lines all start at the margin is joined into
one line (rich wraps it to the terminal); a paragraph with an indented line (the examples) keeps its lines.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand


def reflow(text: str) -> str:
    """``text`` with the line breaks inside each paragraph of prose removed."""
    paragraphs = text.split("\n\n")
    return "\n\n".join(
        p if any(line[:1].isspace() for line in p.splitlines()) else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs
    )


class HelpCommand(TyperCommand):
    """A command whose help (its docstring) is reflowed when shown."""

    def format_help(self, ctx: Any, formatter: Any) -> None:  # click's types (typer may bring its own click)
        if self.help:
            self.help = reflow(self.help)
        super().format_help(ctx, formatter)
