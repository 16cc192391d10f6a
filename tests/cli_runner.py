"""Run the ``evalkit`` command in this process, through the real ``evalkit.cli.main.main`` (argument parsing,
exception mapping, exit codes), with its output captured. Starting a fresh interpreter costs seconds (litellm's
import alone); tests whose subject is the process boundary (signals, start-up imports, the installed script)
use a subprocess instead."""

from __future__ import annotations

import contextlib
import io
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
    saved = {k: os.environ.get(k) for k in env or {}}
    for key, value in (env or {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str | None] | None = None,
    input: str | None = None,
) -> CliResult:
    """``evalkit ARGS...`` as a user would type it; ``env`` sets (or, with ``None``, unsets) variables for
    this call only."""
    from evalkit.cli.main import main
    from evalkit.cli.state import STATE

    out, err = io.StringIO(), io.StringIO()
    argv, stdin, here = sys.argv, sys.stdin, Path.cwd()
    sys.argv = ["evalkit", *map(str, args)]
    sys.stdin = io.StringIO(input or "")
    code = 0
    try:
        with _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if cwd is not None:
                os.chdir(cwd)
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(here)
        sys.argv, sys.stdin = argv, stdin
        STATE.debug = False
    return CliResult(code, out.getvalue(), err.getvalue())
