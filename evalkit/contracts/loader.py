"""Find, validate and load suites: ``suite.yaml`` + ``tasks.yaml`` → ``SuiteSpec``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from evalkit.contracts.builtin import builtin_dir
from evalkit.contracts.suite import (
    Blank,
    ExpectedAnswer,
    ReferenceSolution,
    ReferenceStep,
    SuiteSettings,
    SuiteSpec,
    TaskSpec,
    Tolerance,
)
from evalkit.contracts.yamlfile import LineMap, load_yaml, validate
from evalkit.errors import SpecError

SUITE_FILE = "suite.yaml"


def suite_search_path() -> list[Path]:
    """Folders searched for a suite given by name: ``$EVALKIT_SUITES_PATH`` (colon-separated), ``./suites``,
    then the built-in suites (shipped in the installed package, or the checkout's ``suites/``)."""
    paths = [Path(p) for p in os.environ.get("EVALKIT_SUITES_PATH", "").split(os.pathsep) if p]
    paths.append(Path.cwd() / "suites")
    paths.append(builtin_dir("suites"))
    return paths


def find_suite(ref: str | Path) -> Path:
    """The folder of a suite given as a path (folder or suite.yaml) or a name on the search path.

    A bare name (text without a path separator) that is also a folder in the working directory but not a
    suite (a folder of reports, say) is looked up on the search path rather than refused."""
    p = Path(ref)
    if p.is_file() and p.name == SUITE_FILE:
        return p.parent
    if (p / SUITE_FILE).is_file():
        return p
    bare = isinstance(ref, str) and not any(sep in ref for sep in ("/", os.sep)) and ref not in (".", "..")
    if p.exists() and not bare:
        raise SpecError(f"{p}: not a suite (no {SUITE_FILE} in it)")
    for base in suite_search_path():
        if (base / str(ref) / SUITE_FILE).is_file():
            return base / str(ref)
    names = sorted({n for n, _ in list_suites()})
    hint = f"; known suites: {', '.join(names)}" if names else ""
    if p.exists():
        raise SpecError(f"{p}: not a suite (no {SUITE_FILE} in it), and no suite named {str(ref)!r} on the search "
                        f"path{hint}")  # fmt: skip
    raise SpecError(f"suite {str(ref)!r} not found (a folder with {SUITE_FILE}, or a suite name){hint}")


def list_suites() -> list[tuple[str, Path]]:
    """(name, folder) of every suite on the search path, first occurrence of a name wins."""
    seen: dict[str, Path] = {}
    for base in suite_search_path():
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if (child / SUITE_FILE).is_file() and child.name not in seen:
                seen[child.name] = child
    return sorted(seen.items())


def load_suite(ref: str | Path) -> SuiteSpec:
    """Load and validate a suite; every problem is reported as ``file:line key.path: message``."""
    return load_suite_with_lines(ref)[0]


def load_suite_with_lines(ref: str | Path) -> tuple[SuiteSpec, LineMap]:
    """:func:`load_suite`, and where each value of its task file is (for checks that need the catalog)."""
    folder = find_suite(ref)
    suite_file = folder / SUITE_FILE
    data, lines = load_yaml(suite_file)
    validate(data, "suite", lines, "suite")
    tasks_file = folder / data.get("tasks", "tasks.yaml")
    if not tasks_file.is_file():
        raise SpecError(f"{lines.where(('tasks',))}: {tasks_file} does not exist")
    tasks_data, task_lines = load_yaml(tasks_file)
    validate(tasks_data, "tasks", task_lines, "task list")
    tasks = _build_tasks(tasks_data["tasks"], task_lines)
    database = (folder / data["database"]).resolve()
    if not database.exists():
        raise SpecError(f"{lines.where(('database',))}: {database} does not exist")
    raw_settings = dict(data.get("settings") or {})
    if "tools" in raw_settings:
        raw_settings["tools"] = tuple(raw_settings["tools"])
    raw_settings.update(_tool_profile(data, folder, lines))
    settings = SuiteSettings(**raw_settings)
    spec = SuiteSpec(
        name=data["name"],
        version=str(data["version"]),
        description=data.get("description", ""),
        path=folder.resolve(),
        database=database,
        settings=settings,
        tasks=tasks,
        content_hash=_content_hash(suite_file, tasks_file, database, _prompt_file(data, folder)),
    )
    return spec, task_lines


def _tool_profile(data: dict[str, Any], folder: Path, lines: LineMap) -> dict[str, Any]:
    """The settings ``tools: {profile, system_prompt}`` gives: the profile, and the prompt file's text."""
    tools = data.get("tools") or {}
    out: dict[str, Any] = {"profile": tools.get("profile", "evalkit")}
    if "system_prompt" in tools:
        where = lines.where(("tools", "system_prompt"))
        if (data.get("settings") or {}).get("system_prompt"):
            raise SpecError(f"{where}: give the system prompt once (settings.system_prompt is set too)")
        prompt_file = folder / tools["system_prompt"]
        if not prompt_file.is_file():
            raise SpecError(f"{where}: the system prompt file {prompt_file} does not exist")
        try:
            text = prompt_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise SpecError(f"{where}: cannot read the system prompt file {prompt_file}: {e}") from e
        if not text:
            raise SpecError(f"{where}: the system prompt file {prompt_file} is empty")
        out["system_prompt"] = text
    return out


def _build_tasks(items: list[dict[str, Any]], lines: LineMap) -> tuple[TaskSpec, ...]:
    problems: list[str] = []
    seen: dict[str, int] = {}
    tasks = []
    for i, t in enumerate(items):
        path: tuple[str | int, ...] = ("tasks", i)
        if t["id"] in seen:
            problems.append(
                f"{lines.where((*path, 'id'))}: duplicate task id {t['id']!r} (first at task {seen[t['id']]})"
            )
        seen[t["id"]] = i
        reference = t.get("reference")  # absent: an imported question without a reference solution
        binds = [s["bind"] for s in (reference or {}).get("steps", [])]
        compute = (reference or {}).get("compute")
        answer = t["answer"]
        if answer["kind"] == "template" and reference is not None:
            blanks = set(answer.get("blanks") or {})
            if not isinstance(compute, dict) or set(compute) != blanks:
                problems.append(
                    f"{lines.where((*path, 'reference', 'compute'))}: a template answer needs one compute "
                    f"expression per blank ({', '.join(sorted(blanks))})"
                )
        elif isinstance(compute, dict):
            problems.append(f"{lines.where((*path, 'reference', 'compute'))}: a mapping is only for template answers")
        if len(set(binds)) != len(binds):
            problems.append(f"{lines.where((*path, 'reference', 'steps'))}: bind names repeat")
        tasks.append(_task(t, lines.line(path)))
    if problems:
        raise SpecError(f"{lines.file}: task list is not valid ({len(problems)} problem(s))", problems)
    return tuple(tasks)


def _tolerance(d: dict[str, float] | None) -> Tolerance:
    d = d or {}
    return Tolerance(abs=d.get("abs"), rel=d.get("rel"))


def _task(t: dict[str, Any], line: int) -> TaskSpec:
    a = t["answer"]
    value = a.get("value")
    if isinstance(value, list):
        value = tuple(str(v) for v in value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value)
    answer = ExpectedAnswer(
        kind=a["kind"],
        value=value,
        unit=a.get("unit"),
        tolerance=_tolerance(a.get("tolerance")),
        ordered=a.get("ordered", True),
        exact=a.get("exact", False),
        template=a.get("template"),
        blanks=tuple(
            Blank(name, float(b["value"]), b.get("unit"), _tolerance(b.get("tolerance")))
            for name, b in (a.get("blanks") or {}).items()
        ),
    )
    ref = t.get("reference") or {"steps": []}
    return TaskSpec(
        id=t["id"],
        question=t["question"],
        kind=t["kind"],
        difficulty=t.get("difficulty", "medium"),
        tags=tuple(t.get("tags") or ()),
        tables=tuple(t["tables"]),
        answer=answer,
        reference=ReferenceSolution(
            steps=tuple(ReferenceStep(s["bind"], s["sql"], s.get("table")) for s in ref["steps"]),
            compute=ref.get("compute"),
        ),
        company=t.get("company"),
        max_turns=t.get("max_turns"),
        source_line=line,
    )


def _prompt_file(data: dict[str, Any], folder: Path) -> Path | None:
    name = (data.get("tools") or {}).get("system_prompt")
    return folder / name if name else None


def _content_hash(suite_file: Path, tasks_file: Path, database: Path, prompt_file: Path | None = None) -> str:
    h = hashlib.sha256()
    files = [suite_file, tasks_file, *([prompt_file] if prompt_file is not None else [])]
    if database.is_dir():
        # Python's bytecode caches are not data: an installed copy of a suite compiles its generator script,
        # and must hash as the checkout does.
        files += sorted(
            p
            for p in database.rglob("*")
            if p.is_file() and not p.name.startswith(".") and "__pycache__" not in p.relative_to(database).parts
        )
    else:
        files.append(database)
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]
