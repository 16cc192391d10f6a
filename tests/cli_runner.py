"""Run the ``evalkit`` command in this process, through the real ``evalkit.cli.main.main`` (argument parsing,
exception mapping, exit codes), with its output captured. Starting a fresh interpreter costs seconds (litellm's
import alone); tests whose subject is the process boundary (signals, start-up imports, the installed script)
use a subprocess instead."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def returncode(self) -> int:
        """The name ``subprocess.CompletedProcess`` uses, so a test reads the same either way."""
        return self.exit_code


@contextlib.contextmanager
def _environment(env: Mapping[str, str | None] | None) -> Iterator[None]:
    """Apply ``env`` for the duration of the block, then put the whole environment back as it was: also what
    the command itself set (``os.environ.setdefault`` in a library), so nothing leaks into the next call."""
    saved = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        for key, value in saved.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


@contextlib.contextmanager
def _fresh_consoles() -> Iterator[None]:
    """The CLI's consoles are cached for the life of a process and read COLUMNS, NO_COLOR and whether stdout
    is a terminal when they are made: drop them before the call (so they are made for this call's environment
    and captured streams) and after it (so no later code prints to a closed buffer)."""
    from evalkit.cli.state import console, err_console

    console.cache_clear()
    err_console.cache_clear()
    try:
        yield
    finally:
        console.cache_clear()
        err_console.cache_clear()


@contextlib.contextmanager
def _logging_restored(*buffers: io.StringIO) -> Iterator[None]:
    """The CLI sets up logging on every call (``-v`` adds a stderr handler to the ``evalkit`` logger and sets
    its level): give every logger that existed before the call its level, handlers and propagation back, and
    point handlers made during the call on new loggers (a library's ``StreamHandler()`` on first import) back
    at the real streams, so no record of a later test lands in, or is filtered by, a finished call."""

    def loggers() -> list[logging.Logger]:
        found = logging.Logger.manager.loggerDict.values()
        return [logging.getLogger(), *(lg for lg in found if isinstance(lg, logging.Logger))]

    saved = [(lg, lg.level, list(lg.handlers), lg.propagate) for lg in loggers()]
    try:
        yield
    finally:
        for lg, level, handlers, propagate in saved:
            lg.setLevel(level)
            lg.handlers[:] = handlers
            lg.propagate = propagate
        for lg in loggers():
            for handler in lg.handlers:
                if isinstance(handler, logging.StreamHandler) and any(handler.stream is b for b in buffers):
                    handler.setStream(sys.stderr)


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
) -> CliResult:
    """``evalkit ARGS...`` as a user would type it; ``env`` sets (or, with ``None``, unsets) variables for
    this call only. The environment, working directory, argv, stdin, logging, the ``--debug`` flag and the
    cached consoles are the same after the call as before it, so calls do not see each other's state."""
    from evalkit.cli.main import main
    from evalkit.cli.state import STATE

    out, err = io.StringIO(), io.StringIO()
    argv, stdin, here = sys.argv, sys.stdin, Path.cwd()
    sys.argv = ["evalkit", *map(str, args)]
    sys.stdin = io.StringIO(input or "")
    code = 0
    try:
        with (
            _environment(env),
            _logging_restored(out, err),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            _fresh_consoles(),
        ):
            if cwd is not None:
                os.chdir(cwd)
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if isinstance(exc.code, str):  # what the interpreter prints before exiting with 1
                    print(exc.code, file=sys.stderr)
    finally:
        os.chdir(here)
        sys.argv, sys.stdin = argv, stdin
        STATE.debug = False
    return CliResult(code, out.getvalue(), err.getvalue())
