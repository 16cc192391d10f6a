"""The ``evalkit`` command: a thin client of the public API.

Exit codes, decided here only: 0 ok; 1 the evaluation ran but failed its gate or verification; 2 evalkit
could not do its job (bad input, missing run, store in use, a run whose samples hit infrastructure errors,
were rejected by the provider or were not run, a key the provider refused, ...); 130 interrupted by Ctrl-C
(finished work is kept). User errors print one clear message; ``--debug`` shows the traceback.

Start-up is part of the interface (``evalkit --help`` under 0.15 s, see ``bench/bench_engine.py``): the
commands import their heavy modules (litellm, pandas, DuckDB, the store) inside their bodies, rich is
imported when something is printed with it (see ``LeanGroup`` for help), and ``tests/test_startup.py``
checks that no command's ``--help`` imports litellm, pandas or DuckDB.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from evalkit.cli import cache as cache_cmd
from evalkit.cli import judge as judge_cmd
from evalkit.cli import runs as runs_cmd
from evalkit.cli import suite as suite_cmd
from evalkit.cli.compare import compare_command, gate_command
from evalkit.cli.failures import export_failures_command
from evalkit.cli.help import HelpCommand, reflow
from evalkit.cli.report import report_command
from evalkit.cli.run import run_command
from evalkit.cli.score import score_command
from evalkit.cli.state import STATE, err_console
from evalkit.cli.sweep import sweep_command
from evalkit.cli.validate import validate_command
from evalkit.version import __version__


class LeanGroup(TyperGroup):
    """A command group that keeps help cheap.

    - ``evalkit --help`` (the root's help) is plain text: typer's rich help panels import markdown-it,
      pygments and most of rich (about 60 ms, more than the rest of the start-up). The commands' own help
      keeps the rich panels (and the markup their texts use).
    - The ``--help`` flag defaults to False instead of None: typer checks a flag's value with a pydantic
      validator unless it already is a bool, so on the way to a subcommand (``evalkit run --help``) each
      group's unset ``--help`` made typer import pydantic (about 50 ms) just to read "not given".
    - A subgroup's help (``evalkit suite --help``) is reflowed like a command's (see ``evalkit.cli.help``).
    """

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option

    def format_help(self, ctx: Any, formatter: Any) -> None:
        if ctx.parent is not None:
            if self.help:
                self.help = reflow(self.help)
            return super().format_help(ctx, formatter)
        markup, self.rich_markup_mode = self.rich_markup_mode, None
        try:
            return super().format_help(ctx, formatter)
        finally:
            self.rich_markup_mode = markup


app = typer.Typer(
    name="evalkit",
    cls=LeanGroup,
    help="Evaluate how LLM agents use tools: run models through SQL task suites, record every step, "
    "score behaviours, report why they fail.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"evalkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors.", envvar="EVALKIT_DEBUG"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: int = typer.Option(
        0,
        "--verbose",
        "-v",
        count=True,
        help="Log to stderr why things happen: -v model-call retries and failures, -vv also cache hits, "
        "store migrations and batches.",
    ),
) -> None:
    STATE.debug = debug
    _log_to_stderr(verbose)


def _log_to_stderr(verbose: int) -> None:
    """Send evalkit's own log records (``logging.getLogger("evalkit...")``) to stderr at the level asked for;
    without ``-v`` only warnings. Set anew on every invocation (tests run many in one process)."""
    import logging

    root = logging.getLogger("evalkit")
    for handler in [h for h in root.handlers if getattr(h, "evalkit_cli", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    from evalkit.redact import RedactingFilter

    handler.addFilter(RedactingFilter())  # no credential reaches the log, whoever logged it
    handler.evalkit_cli = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG)


# Each command's help is its function's docstring; its first line is the summary the command list shows.
app.command("run", cls=HelpCommand)(run_command)
app.command("runs", cls=HelpCommand)(runs_cmd.runs_command)
app.command("show", cls=HelpCommand)(runs_cmd.show_command)
app.command("export", cls=HelpCommand)(runs_cmd.export_command)
app.command("export-failures", cls=HelpCommand)(export_failures_command)
app.command("score", cls=HelpCommand)(score_command)
app.command("report", cls=HelpCommand)(report_command)
app.command("compare", cls=HelpCommand)(compare_command)
app.command("gate", cls=HelpCommand)(gate_command)
app.command("import-run", cls=HelpCommand)(runs_cmd.import_command)
app.command("merge", cls=HelpCommand)(runs_cmd.merge_command)
app.command("sweep", cls=HelpCommand)(sweep_command)
app.command("validate-rubric", cls=HelpCommand)(validate_command)
app.add_typer(suite_cmd.app, name="suite", cls=LeanGroup)
app.add_typer(cache_cmd.app, name="cache", cls=LeanGroup)
app.add_typer(judge_cmd.app, name="judge", cls=LeanGroup)


def main() -> None:
    """Entry point: run the app and map evalkit's exceptions to exit codes."""
    from evalkit.errors import EXIT_ERROR, EvalkitError
    from evalkit.redact import redact

    try:
        app(standalone_mode=False)
    except EvalkitError as exc:
        if STATE.debug:
            raise
        from rich.markup import escape

        err_console().print(f"[bold red]error:[/] {escape(redact(str(exc)))}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console().print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console().print("interrupted")
        sys.exit(130)
    except Exception as exc:  # usage errors and the unexpected
        # typer raises its own copy of click's exceptions (typer.TyperException), not click's
        show = getattr(exc, "show", None)
        if isinstance(exc, typer.TyperException) and callable(show):
            show()
            sys.exit(EXIT_ERROR)
        if STATE.debug:
            raise
        err_console().print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {redact(str(exc))} (run with --debug for details)"
        )
        sys.exit(EXIT_ERROR)
