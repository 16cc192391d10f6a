"""The check registry: built-in and user checks are plain functions registered by name.

A user check::

    # mychecks.py, listed under ``plugins:`` in a rubric (or imported before scoring)
    from evalkit.scoring import Verdict, check

    @check("used_calculator")
    def used_calculator(ctx):
        calls = [e for e in ctx.view.tool_events if e.tool == "calculator"]
        if not calls:
            return Verdict.failed("never used the calculator")
        return Verdict.passed("used the calculator", evidence=[calls[0].seq])

and in the rubric: ``- {id: calculator, check: used_calculator, category: grounding}``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from evalkit.contracts.yamlfile import did_you_mean
from evalkit.errors import SpecError

if TYPE_CHECKING:
    from evalkit.contracts.rubric import CriterionSpec
    from evalkit.contracts.suite import TaskSpec
    from evalkit.env.catalog import Catalog
    from evalkit.scoring.trace_view import TraceView
    from evalkit.trace.types import Sample

VerdictKind = Literal["pass", "fail", "value", "na", "skipped", "error"]


@dataclass(frozen=True)
class Verdict:
    """A criterion's verdict on one sample: pass, fail, a value in [0, 1], not applicable, or an error
    (the check or judge could not decide; never counted as a score). ``evidence`` holds event numbers."""

    verdict: VerdictKind
    value: float | None
    reason: str
    evidence: tuple[int, ...] = ()

    @classmethod
    def passed(cls, reason: str, evidence: Iterable[int] = ()) -> Verdict:
        return cls("pass", 1.0, reason, tuple(evidence))

    @classmethod
    def failed(cls, reason: str, evidence: Iterable[int] = ()) -> Verdict:
        return cls("fail", 0.0, reason, tuple(evidence))

    @classmethod
    def score(cls, value: float, reason: str, evidence: Iterable[int] = ()) -> Verdict:
        return cls("value", max(0.0, min(1.0, float(value))), reason, tuple(evidence))

    @classmethod
    def not_applicable(cls, reason: str) -> Verdict:
        return cls("na", None, reason)

    @classmethod
    def error(cls, reason: str) -> Verdict:
        return cls("error", None, reason)


@dataclass(frozen=True)
class CheckContext:
    """What a check sees: the sample, a precomputed view of its trace, the task and the catalog when known,
    and the criterion's ``args`` from the rubric."""

    sample: Sample
    view: TraceView
    task: TaskSpec | None = None
    catalog: Catalog | None = None
    args: Mapping[str, Any] = field(default_factory=dict)


CheckFn = Callable[[CheckContext], Verdict]
CHECKS: dict[str, CheckFn] = {}
CHECK_ARGS: dict[str, frozenset[str]] = {}
"""The ``args`` each check declared it reads; a check that declared none takes any (a plugin's, say)."""


def check(name: str, args: Iterable[str] | None = None) -> Callable[[CheckFn], CheckFn]:
    """Register a check under ``name`` (the name a rubric's ``check:`` uses). ``args``: the names of the
    rubric ``args`` it reads; given, a rubric passing any other is refused (a misspelt one would be ignored)."""

    def register(fn: CheckFn) -> CheckFn:
        CHECKS[name] = fn
        if args is not None:
            CHECK_ARGS[name] = frozenset(args)
        else:
            CHECK_ARGS.pop(name, None)
        return fn

    return register


def get_check(name: str, where: str = "") -> CheckFn:
    """The check registered as ``name``; ``where`` (``file:line key``) prefixes the error for an unknown one."""
    if not CHECKS or name not in CHECKS:
        import evalkit.scoring.checks  # noqa: F401  (registers the built-in checks)
    try:
        return CHECKS[name]
    except KeyError:
        prefix = f"{where}: " if where else ""
        raise SpecError(f"{prefix}unknown check {name!r}{did_you_mean(name, sorted(CHECKS), 'known')}") from None


def criterion_check(criterion: CriterionSpec) -> CheckFn:
    """A criterion's check, its ``args`` checked against those the check declared."""
    assert criterion.check is not None
    fn = get_check(criterion.check, criterion.places.get("check", criterion.source))
    allowed = CHECK_ARGS.get(criterion.check)
    if allowed is None:
        return fn
    for key in criterion.args:
        if key not in allowed:
            where = criterion.places.get(f"args.{key}", criterion.source)
            hint = did_you_mean(key, sorted(allowed)) if allowed else " (it takes no args)"
            raise SpecError(f"{where}: unknown argument {key!r} of check {criterion.check!r}{hint}")
    return fn


def load_plugins(plugins: Iterable[str]) -> None:
    """Import user check modules: ``.py`` files by path, anything else as a module name."""
    for plugin in plugins:
        try:
            if plugin.endswith(".py"):
                path = Path(plugin)
                name = f"evalkit_user_checks_{abs(hash(str(path)))}"
                if name in sys.modules:
                    continue
                spec = importlib.util.spec_from_file_location(name, path)
                if spec is None or spec.loader is None:
                    raise SpecError(f"plugin {plugin}: cannot be loaded")
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            else:
                importlib.import_module(plugin)
        except FileNotFoundError:
            raise SpecError(f"plugin {plugin}: file not found") from None
        except SpecError:
            raise
        except Exception as exc:  # a plugin that raises on import: say where, never an internal error
            sys.modules.pop(f"evalkit_user_checks_{abs(hash(plugin))}", None)
            problem = f"plugin {plugin} failed to load: {type(exc).__name__}: {exc}"
            raise SpecError(f"{_where(exc, plugin)}: {problem}") from None


def _where(exc: BaseException, plugin: str) -> str:
    """``file:line`` of the deepest frame of ``exc`` in the plugin file (or of its syntax error)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == plugin]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else plugin
