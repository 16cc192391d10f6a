"""The ``evalkit`` command: a thin client of the public API.

Exit codes, decided here only: 0 ok; 1 the evaluation ran but failed its gate or verification; 2 evalkit
could not do its job (bad input, missing run, store in use, ...); 130 interrupted by Ctrl-C (finished work
is kept). User errors print one clear message; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys

import typer

from evalkit import __version__
from evalkit.cli import runs as runs_cmd
from evalkit.cli import suite as suite_cmd
from evalkit.cli.run import run_command
from evalkit.cli.state import STATE, err_console

app = typer.Typer(
    name="evalkit",
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
) -> None:
    STATE.debug = debug


app.command("run", help="Run a suite with one or more models and record every step.")(run_command)
app.command("runs", help="List the runs in the store.")(runs_cmd.runs_command)
app.command("show", help="Show a run's traces: every model turn, tool call, result and error.")(runs_cmd.show_command)
app.command("export", help="Write a run (traces and scores) to a portable file.")(runs_cmd.export_command)
app.command("import-run", help="Load a run exported with 'evalkit export' into the store.")(runs_cmd.import_command)
app.add_typer(suite_cmd.app, name="suite", help="Describe, validate, verify, explore and import suites.")


def main() -> None:
    """Entry point: run the app and map evalkit's exceptions to exit codes."""
    from evalkit.errors import EXIT_ERROR, EvalkitError

    try:
        app(standalone_mode=False)
    except EvalkitError as exc:
        if STATE.debug:
            raise
        from rich.markup import escape

        err_console().print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console().print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err_console().print("interrupted")
        sys.exit(130)
    except Exception as exc:  # click usage errors and the unexpected
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(EXIT_ERROR)
        if STATE.debug:
            raise
        err_console().print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc} (run with --debug for details)")
        sys.exit(EXIT_ERROR)
