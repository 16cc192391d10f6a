"""Rubric files: YAML criteria validated against ``schemas/rubric.schema.json``.

A rubric names criteria; each has an id, a description, a weight, a category, a severity (``critical``
criteria are hard failures for gates), ``applies_when`` conditions, and either a deterministic ``check``
(built-in or user-registered) with ``args`` or a ``judge`` block. ``include`` pulls in the criteria of other
rubrics. The rubric's *version* used to key stored scores is a content hash of the resolved rubric, so
editing a rubric never overwrites scores made with the old one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from evalkit.contracts.builtin import builtin_dir
from evalkit.contracts.yamlfile import LineMap, load_yaml, validate
from evalkit.errors import SpecError

Category = Literal["discovery", "schema", "grounding", "recovery", "correctness", "efficiency", "format", "safety"]


@dataclass(frozen=True)
class JudgeSpec:
    prompt: str
    scale_min: float = 0.0
    scale_max: float = 100.0
    anchors: tuple[tuple[str, str], ...] = ()
    pass_threshold: float | None = None
    samples: int = 1
    model: str | None = None


@dataclass(frozen=True)
class AppliesWhen:
    kind: str | None = None
    tool_error: bool | None = None
    has_query: bool | None = None
    answered: bool | None = None
    answer_kind: str | None = None
    difficulty: str | None = None
    tags_any: tuple[str, ...] = ()
    needs_task: bool = False
    needs_catalog: bool = False


@dataclass(frozen=True)
class CriterionSpec:
    id: str
    description: str
    weight: float
    category: Category
    severity: Literal["normal", "critical"]
    applies_when: AppliesWhen
    check: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    judge: JudgeSpec | None = None
    source: str = ""
    places: dict[str, str] = field(default_factory=dict)
    """Where its ``check`` and each of its ``args`` are written (``file:line key.path``), for messages."""


@dataclass(frozen=True)
class RubricSpec:
    name: str
    version: str
    description: str
    path: Path | None
    criteria: tuple[CriterionSpec, ...]
    plugins: tuple[str, ...]
    content_hash: str

    @property
    def key(self) -> str:
        """What stored scores are keyed by: the declared version and the content hash."""
        return f"{self.version}+{self.content_hash}"

    def criterion(self, criterion_id: str) -> CriterionSpec:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)


def rubric_search_path() -> list[Path]:
    """Folders searched for a rubric given by name: ``$EVALKIT_RUBRICS_PATH`` (colon-separated), ``./rubrics``,
    then the built-in rubrics (shipped in the installed package, or the checkout's ``rubrics/``)."""
    paths = [Path(p) for p in os.environ.get("EVALKIT_RUBRICS_PATH", "").split(os.pathsep) if p]
    paths += [Path.cwd() / "rubrics", builtin_dir("rubrics")]
    return paths


def find_rubric(ref: str | Path, base: Path | None = None) -> Path:
    """A rubric given as a path (relative to ``base`` for includes) or a name on the search path."""
    candidates = [Path(ref)]
    if base is not None:
        candidates.insert(0, base / str(ref))
    for c in candidates:
        if c.is_file():
            return c
    name = str(ref).removesuffix(".yaml")
    for folder in rubric_search_path():
        for c in (folder / f"{name}.yaml", folder / f"{name}.yml"):
            if c.is_file():
                return c
    known = sorted({p.stem for d in rubric_search_path() if d.is_dir() for p in d.glob("*.yaml")})
    raise SpecError(f"rubric {str(ref)!r} not found (a YAML file or a rubric name; known: {', '.join(known)})")


def load_rubric(ref: str | Path) -> RubricSpec:
    """Load a rubric with its includes; every problem is reported as ``file:line key.path: message``."""
    path = find_rubric(ref).resolve()
    criteria, plugins, raw = _load(path, stack=())
    data, _ = load_yaml(path)
    seen: dict[str, str] = {}
    problems = []
    for c in criteria:
        if c.id in seen:
            problems.append(f"{c.source}: criterion {c.id!r} is defined twice (also at {seen[c.id]})")
        seen[c.id] = c.source
    if problems:
        raise SpecError(f"{path}: rubric is not valid", problems)
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return RubricSpec(
        name=data["name"],
        version=str(data["version"]),
        description=data.get("description", ""),
        path=path,
        criteria=tuple(criteria),
        plugins=tuple(plugins),
        content_hash=digest,
    )


def _load(path: Path, stack: tuple[Path, ...]) -> tuple[list[CriterionSpec], list[str], list[Any]]:
    if path in stack:
        chain = " -> ".join(str(p) for p in (*stack, path))
        raise SpecError(f"{path}: rubric includes itself ({chain})")
    data, lines = load_yaml(path)
    validate(data, "rubric", lines, "rubric")
    criteria: list[CriterionSpec] = []
    plugins: list[str] = []
    raw: list[Any] = []
    for i, inc in enumerate(data.get("include") or []):
        try:
            found = find_rubric(inc, base=path.parent).resolve()
        except SpecError as e:
            raise SpecError(f"{lines.where(('include', i))}: {e}") from None
        sub_criteria, sub_plugins, sub_raw = _load(found, (*stack, path))
        criteria += sub_criteria
        plugins += sub_plugins
        raw += sub_raw
    for i, p in enumerate(data.get("plugins") or []):
        if p.endswith(".py") and not (path.parent / p).is_file():
            raise SpecError(f"{lines.where(('plugins', i))}: plugin file {path.parent / p} not found")
        plugins.append(str((path.parent / p).resolve()) if p.endswith(".py") else p)
    for i, c in enumerate(data.get("criteria") or []):
        criteria.append(_criterion(c, lines, i))
        raw.append(c)
    return criteria, plugins, raw


def _criterion(c: dict[str, Any], lines: LineMap, i: int) -> CriterionSpec:
    aw = c.get("applies_when") or {}
    judge = c.get("judge")
    return CriterionSpec(
        id=c["id"],
        description=c.get("description", ""),
        weight=float(c.get("weight", 1.0)),
        category=c.get("category", "correctness"),
        severity=c.get("severity", "normal"),
        applies_when=AppliesWhen(
            kind=aw.get("kind"),
            tool_error=aw.get("tool_error"),
            has_query=aw.get("has_query"),
            answered=aw.get("answered"),
            answer_kind=aw.get("answer_kind"),
            difficulty=aw.get("difficulty"),
            tags_any=tuple(aw.get("tags_any") or ()),
            needs_task=bool(aw.get("needs_task", False)),
            needs_catalog=bool(aw.get("needs_catalog", False)),
        ),
        check=c.get("check"),
        args=dict(c.get("args") or {}),
        judge=None
        if judge is None
        else JudgeSpec(
            prompt=judge["prompt"],
            scale_min=float((judge.get("scale") or {}).get("min", 0)),
            scale_max=float((judge.get("scale") or {}).get("max", 100)),
            anchors=tuple((str(k), str(v)) for k, v in (judge.get("anchors") or {}).items()),
            pass_threshold=judge.get("pass_threshold"),
            samples=int(judge.get("samples", 1)),
            model=judge.get("model"),
        ),
        source=lines.where(("criteria", i)),
        places={
            "check": lines.where(("criteria", i, "check")),
            **{f"args.{k}": lines.where(("criteria", i, "args", k)) for k in c.get("args") or {}},
        },
    )
