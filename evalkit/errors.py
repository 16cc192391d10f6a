"""The one exception hierarchy of evalkit, and the exit code each maps to.

::

    EvalkitError                      exit 2: evalkit could not do its job
    ├── SpecError                     a suite, rubric or config file is invalid (file:line key.path: problem)
    ├── ConfigError                   bad options or environment (unknown model alias, missing key, ...)
    ├── DatabaseError                 a suite's database could not be built or opened
    ├── StoreError                    the trace store could not be used
    │   ├── StoreLockedError          another process is writing to the store
    │   └── RunNotFoundError          no run matches the given reference
    ├── ImportFormatError             an exported run or trace file is malformed (file:line: problem)
    ├── RunIncomplete                 a run ended with samples lost to infrastructure errors, rejected by
    │                                 the provider, or not run (the summary and reports are written first)
    │   └── ProviderAuthError         the provider refused the credentials (HTTP 401/403): the run stopped
    ├── CannotEvaluate                a gate could not judge (too few samples, mismatched suites, a metric
    │                                 the policy needs was not measured)
    └── GateFailed                    exit 1: the evaluation ran but failed its gate or verification

The CLI maps these to exit codes in one place (``evalkit.cli.main``); no traceback is shown for them
unless ``--debug`` is given.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2


class EvalkitError(Exception):
    """Base class: evalkit could not do what was asked (exit code 2)."""

    exit_code = EXIT_ERROR


class SpecError(EvalkitError):
    """A user file (suite, rubric, config) failed validation.

    ``problems`` holds one line per problem, each ``file:line key.path: message``.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or []
        full = message if not self.problems else message + "\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(full)


class ConfigError(EvalkitError):
    """Bad options, configuration or environment."""


class DatabaseError(EvalkitError):
    """A suite database could not be built or opened."""


class StoreError(EvalkitError):
    """The trace store could not be used."""


class StoreLockedError(StoreError):
    """Another process holds the store for writing."""


class RunNotFoundError(StoreError):
    """No run (or more than one) matches a run reference."""


class ImportFormatError(EvalkitError):
    """An exported run file or an external trace file is malformed."""


class RunIncomplete(EvalkitError):
    """A run ended, but some samples have no result: infrastructure errors (resume re-runs them), requests the
    provider rejected, or samples a stopped model never started (exit code 2: the evaluation is incomplete)."""


class ProviderAuthError(RunIncomplete):
    """The provider refused the credentials (HTTP 401/403): the run stopped at once, the samples not run stay
    pending, and none is counted as wrong."""


class CannotEvaluate(EvalkitError):
    """A gate could not judge the candidate: too few samples, mismatched suites, or a metric the policy
    needs that the runs do not have (exit code 2, never a pass)."""


class GateFailed(EvalkitError):
    """The evaluation ran, but failed its thresholds or verification (exit code 1)."""

    exit_code = EXIT_FAILED
