"""README.md and the commands' help agree, and every command's help shows how it is used.

Every ``evalkit ...`` line of README.md's shell code blocks (with the usage synopsis, whose options continue on
indented lines) and every inline code span starting with ``evalkit `` must name a command that exists and use
only options that command declares and shows in its ``--help``. Every command and group must have an example in
its help (a line starting with ``evalkit`` and its own name), and each example passes the same check. Help texts
are rich markup: a bracketed phrase that rich would read as an unknown style (and drop) is reported.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from evalkit.cli.main import app
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HELP_ENV = {"COLUMNS": "300", "NO_COLOR": "1", "TERM": "dumb"}
"""Wide enough that no example or option is wrapped onto a second line."""
SHELL_BLOCKS = ("", "bash", "sh", "shell", "console")
OPTION = re.compile(r"^(--?[A-Za-z][\w-]*)(=.*)?$")


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def _tree() -> dict[tuple[str, ...], Any]:
    """Every command and group (typer's own click classes) by its path; ``()`` is ``evalkit`` itself."""
    found: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found[path] = command
        if _is_group(command):
            for name, sub in command.commands.items():
                walk(sub, (*path, name))

    walk(get_command(app), ())
    return found


COMMANDS = _tree()


@cache
def help_text(path: tuple[str, ...]) -> str:
    result = run_cli(*path, "--help", env=HELP_ENV)
    assert result.exit_code == 0, f"evalkit {' '.join(path)} --help: {result.stderr}"
    return result.stdout


def declared_options(command: Any) -> set[str]:
    return {opt for p in command.params for opt in (*p.opts, *p.secondary_opts) if opt.startswith("-")}


def problems(line: str) -> list[str]:
    """What is wrong with a command line: a command that does not exist, or an option its command does not
    declare or its ``--help`` does not show."""
    words = shlex.split(line, comments=True)
    if words[:1] != ["evalkit"]:
        return [f"not an evalkit command: {line}"]
    path: tuple[str, ...] = ()
    found: list[str] = []
    for word in words[1:]:
        command = COMMANDS[path]
        option = OPTION.match(word.strip("[]").removesuffix("..."))
        if option is not None:
            name = option.group(1)
            shown = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", help_text(path))
            if name not in declared_options(command) or shown is None:
                found.append(f"evalkit {' '.join(path)} has no option {name}")
        elif _is_group(command):
            if word not in command.commands:
                found.append(f"evalkit {' '.join(path)} has no command {word!r}".replace("  ", " "))
                break
            path = (*path, word)
    if path == ():
        found.append(f"no command: {line}")
    return found


def readme_lines(text: str) -> list[str]:
    """The ``evalkit ...`` lines of the shell code blocks (a synopsis's indented lines joined to it) and the
    inline code spans that start with ``evalkit ``."""
    lines: list[str] = []
    blocks = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
    for lang, block in blocks.findall(text):
        if lang not in SHELL_BLOCKS:
            continue
        continues = False
        for raw in block.splitlines():
            line = raw.removeprefix("$ ")
            if line.startswith("evalkit "):
                lines.append(line)
                continues = True
            elif continues and raw[:1].isspace() and raw.strip():
                lines[-1] += " " + raw.strip()
            else:
                continues = False
    lines += re.findall(r"`(evalkit [^`\n]+)`", blocks.sub("", text))
    return lines


def examples(help_output: str) -> list[str]:
    """The lines of a help's description (outside its option panels) that start with ``evalkit ``."""
    return [line.strip() for line in help_output.splitlines() if line.strip().startswith("evalkit ")]


README_LINES = readme_lines(README.read_text(encoding="utf-8"))
PATHS = [p for p in COMMANDS if p]


def test_the_readme_shows_commands() -> None:
    assert len(README_LINES) >= 30
    assert any(line.startswith("evalkit run SUITE --model M [--model M2 ...]") for line in README_LINES)


@pytest.mark.parametrize("line", README_LINES, ids=[line[:60] for line in README_LINES])
def test_readme_commands_and_options_exist(line: str) -> None:
    assert problems(line) == []


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) for p in PATHS])
def test_every_command_has_a_working_example(path: tuple[str, ...]) -> None:
    shown = examples(help_text(path))
    own = [line for line in shown if line.split()[1 : 1 + len(path)] == list(path)]
    assert own, f"evalkit {' '.join(path)} --help shows no example"
    for line in shown:
        assert problems(line) == [], line


def test_the_checks_catch_a_misspelt_option_an_unknown_command_and_a_missing_example() -> None:
    assert problems("evalkit run finance-single --model m --epoch 3") == ["evalkit run has no option --epoch"]
    assert problems("evalkit suite lists") == ["evalkit suite has no command 'lists'"]
    assert problems("evalkit report latest -x") == ["evalkit report has no option -x"]
    assert problems("evalkit gate a --baseline b --min-criterion x=1 [--junit FILE]") == []
    synopsis = "```\nevalkit run SUITE [--epochs K]\n            [--seeds S]\n```\nthen `evalkit runs --jsn`\n"
    lines = readme_lines(synopsis)
    assert lines == ["evalkit run SUITE [--epochs K] [--seeds S]", "evalkit runs --jsn"]
    assert [p for line in lines for p in problems(line)] == [
        "evalkit run has no option --seeds",
        "evalkit runs has no option --jsn",
    ]
    assert examples(" Show a run.\n\n │ --full  Do not shorten; see evalkit show.\n") == []


def _markup_problems(text: str) -> list[str]:
    from rich.errors import MarkupError, StyleSyntaxError
    from rich.style import Style
    from rich.text import Text

    try:
        spans = Text.from_markup(text).spans
    except MarkupError as e:
        return [str(e)]
    bad = []
    for span in spans:
        try:
            Style.parse(str(span.style))
        except StyleSyntaxError:
            bad.append(f"[{span.style}] is not a style: escape it as \\[")
    return bad


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) for p in PATHS])
def test_help_texts_are_valid_markup(path: tuple[str, ...]) -> None:
    command = COMMANDS[path]
    texts = [command.help or "", *(getattr(p, "help", None) or "" for p in command.params)]
    assert [problem for text in texts for problem in _markup_problems(text)] == []


def test_the_markup_check_catches_a_bracketed_phrase() -> None:
    assert _markup_problems("for criteria [default: judge: in evalkit.yaml]") != []
    assert _markup_problems("[bold]Examples[/] and \\[default: suites/NAME]") == []


def test_help_says_what_the_commands_decide() -> None:
    gate = " ".join(help_text(("gate",)).split())
    for fact in ("Exit codes: 0 every rule passed", "1 a rule failed", "2 the gate could not evaluate", "Holm"):
        assert fact in gate
    report = " ".join(help_text(("report",)).split())
    for fact in ("95% interval", "pass@k", "failure mode", "what to train next", "junit", "--trace-limit"):
        assert fact in report
    verify = " ".join(help_text(("suite", "verify")).split())
    assert "Exit code 1 when any task disagrees" in verify
