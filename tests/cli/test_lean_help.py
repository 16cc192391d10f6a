"""``LeanGroup`` leans on typer internals (``typer.core.TyperGroup``, its ``get_help_option`` and
``rich_markup_mode``): these tests fail loudly when a typer release moves them, and check what the group is
for: the root help is plain text, a command's help keeps typer's rich panels."""

from __future__ import annotations

import inspect

import typer
import typer.core
from typer.main import get_command

from evalkit.cli.main import LeanGroup, app
from tests.cli_runner import run_cli

BOX = ("╭", "╰", "│")


def test_the_typer_internals_lean_group_relies_on_exist() -> None:
    assert issubclass(LeanGroup, typer.core.TyperGroup)
    for name in ("get_help_option", "format_help"):
        assert callable(getattr(typer.core.TyperGroup, name, None)), f"typer.core.TyperGroup.{name} is gone"
    assert "rich_markup_mode" in inspect.signature(typer.core.TyperGroup.__init__).parameters
    root = get_command(app)
    assert isinstance(root, LeanGroup)
    assert root.rich_markup_mode == "rich"  # the attribute format_help switches off for the root's help


def test_the_help_option_of_a_lean_group_defaults_to_false() -> None:
    root = get_command(app)
    with root.context_class(root, info_name="evalkit") as ctx:
        option = root.get_help_option(ctx)
    assert option is not None and "--help" in option.opts
    assert option.default is False


def test_root_help_is_plain_text_and_command_help_is_rich() -> None:
    root = run_cli("--help")
    assert root.exit_code == 0, root.stderr
    first = root.stdout.splitlines()[0]
    assert first.startswith("Usage: ") and first.endswith("evalkit [OPTIONS] COMMAND [ARGS]...")
    assert "\nCommands:\n" in root.stdout
    assert not any(c in root.stdout for c in BOX)
    run = run_cli("run", "--help")
    assert run.exit_code == 0, run.stderr
    assert "evalkit run [OPTIONS]" in run.stdout
    assert any(c in run.stdout for c in BOX), "typer's rich help panels"
    assert get_command(app).rich_markup_mode == "rich"  # restored after the root's help


def _command_paths() -> list[tuple[str, ...]]:
    """Every command of the app, as the words a user types (``suite``, ``import``)."""
    root = get_command(app)
    paths: list[tuple[str, ...]] = []
    for name, command in getattr(root, "commands", {}).items():  # typer may bring its own click: duck-typed
        if hasattr(command, "commands"):
            paths += [(name, sub) for sub in command.commands]
        else:
            paths.append((name,))
    return paths


def test_no_option_name_is_cut_at_80_columns() -> None:
    """At 80 columns rich shrinks the options table; a range shown in the type column (typer's ``min``/``max``)
    once left too little room and cut ``--max-critical-failures`` to ``--max-critical-failur…``."""
    paths = _command_paths()
    assert ("gate",) in paths and ("suite", "import") in paths
    for path in paths:
        out = run_cli(*path, "--help", env={"COLUMNS": "80"})
        assert out.exit_code == 0, (path, out.stderr)
        assert max(len(line) for line in out.stdout.splitlines()) <= 80, path
        cut = [line for line in out.stdout.splitlines() if line.startswith("│ -") and "…" in line]
        assert not cut, (path, cut)
