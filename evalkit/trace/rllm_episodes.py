"""rLLM's saved episodes read as evalkit samples: what a checkpoint did in ``rllm eval`` or in training.

Two layouts, one JSON object per episode file, both read by content:

- ``rllm eval ... --save-episodes`` (``rllm.eval.episode_store``): ``<run_dir>/meta.json`` (``model``,
  ``benchmark``, ...) and ``<run_dir>/episodes/episode_<idx>_<task_id>.json``, each an ``Episode`` dumped by
  pydantic: ``id`` (``"<task_id>:<rollout>"``), ``task`` (the dataset row: FinQA's ``question``,
  ``ground_truth``, ``question_type``, ``company``, ``table_name``, ...), ``is_correct``, ``termination_reason``,
  ``trajectories`` (each with ``name``, ``reward``, ``signals`` and ``steps``), ``metrics``, ``metadata``,
  ``artifacts`` and ``eval_idx``;
- training's ``rllm.utils.episode_logger`` (``<log_dir>/episodes/<mode>_step_<n>_epoch_<m>/episode_*.json``):
  ``episode_id`` instead of ``id``, the same ``task``, ``is_correct`` and ``trajectories``; its
  ``batch_summary.json`` is skipped.

The conversation is read from each step's ``chat_completions`` (the OpenAI messages sent to the model, then its
reply): a step that continues the previous one adds the messages past it (the tool results, then its reply);
one that does not starts a new segment. A step's own reply is kept as the gateway recorded it (its
``reasoning`` or ``reasoning_content``, or a Qwen3 ``<think>`` block in its content, goes to the event's
reasoning); a step's ``thought`` counts as reasoning only when it differs from what the step said (the FinQA
flow copies its content there). Several trajectories (a solver and a judge) are read one after the other.

Each episode becomes a line of ``trace.external``'s shape: ``task_id`` (the row's ``question_id`` as
``suite import-rllm-finqa`` names tasks, else the episode id's task part: rLLM numbers rows without an ``id``
by their index), the row's
``ground_truth`` (else ``answer``) as ``expected``, ``metadata`` holding ``is_correct``, ``reward`` (the first
trajectory's, else its last step's), ``signals``, ``metrics``, ``termination_reason``, the episode id and the
row's ``question_type``/``company``/``table_name`` (``kind`` multi_table for a ``multi_table*`` question type).
``is_correct`` is the stored correctness (``STORED``) used when no gold answer is known; ``--correct-from``
can name another (``metadata.reward>=1``). ``termination_reason`` ``max_turns_exceeded``, ``timeout`` and
``max_response_length_exceeded`` become the stop reasons ``max_turns``, ``timeout`` and ``truncated``; an
episode that ended in an error before any step is skipped and counted in the notes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.contracts.rllm_names import task_id as rllm_task_id
from evalkit.errors import ImportFormatError
from evalkit.fileio import problems_error, shown
from evalkit.trace.external import DEFAULT_MODEL, MAX_PROBLEMS, CorrectFrom, ExternalTrace, TraceBuilder
from evalkit.trace.external import parse_correct_from as _parse

if TYPE_CHECKING:
    from evalkit.contracts.suite import SuiteSpec
    from evalkit.trace.types import StopReason

SOURCE = "rllm"
"""``metadata["source"]`` of a sample read from an rLLM episode."""
STORED = "metadata.is_correct==true"
"""The correctness an rLLM episode stores: its evaluator's ``is_correct``."""
SKIPPED_FILES = ("meta.json", "batch_summary.json")
_STOPS: dict[str, StopReason] = {
    "max_turns_exceeded": "max_turns",
    "timeout": "timeout",
    "max_response_length_exceeded": "truncated",
}
_ROW_KEYS = ("question_type", "company", "table_name", "question_id", "data_source")
_MESSAGE_AT = re.compile(r"^messages\[(\d+)\]")


def is_episode(obj: Any) -> bool:
    """Whether a decoded JSON document is an rLLM episode (an object with a ``trajectories`` list)."""
    return isinstance(obj, dict) and isinstance(obj.get("trajectories"), list)


def episode_files(path: Path) -> list[Path]:
    """The episode files under ``path`` (itself, when a file), in name order (the order rLLM wrote them)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.json") if p.is_file() and p.name not in SKIPPED_FILES)


def read_rllm_episodes(
    path: Path,
    *,
    run_id: str,
    suite: SuiteSpec | None = None,
    model_name: str | None = None,
    correct_from: CorrectFrom | None = None,
    notes: list[str] | None = None,
) -> list[ExternalTrace]:
    """Parse the episode file ``path`` or the episodes under the directory ``path`` into samples of ``run_id``.
    Broken files raise ``ImportFormatError`` listing each problem as ``file: key.path: problem``."""
    files = episode_files(Path(path))
    if not files:
        raise ImportFormatError(f"{path}: no rLLM episode files (*.json) here")
    builder = TraceBuilder(run_id, suite, model_name, correct_from, stored=_parse(STORED))
    problems: list[str] = []
    out: list[ExternalTrace] = []
    skipped = 0
    for index, file in enumerate(files, start=1):
        if len(problems) >= MAX_PROBLEMS:
            break
        data = _load(file, problems)
        if data is None:
            continue
        if not data.get("trajectories") and data.get("termination_reason") == "error":
            skipped += 1
            continue
        found: list[str] = []
        obj, where_of, stop = _episode_line(data, _run_model(file), found)
        if obj is not None and not found:
            stamp = datetime.fromtimestamp(file.stat().st_mtime, UTC).isoformat(timespec="seconds")
            origin = {"source": SOURCE, "file": str(file), "episode": data.get("id") or data.get("episode_id")}
            trace = builder.build(obj, index, origin, stamp, found, stop=stop)
            if trace is not None:
                out.append(trace)
        problems.extend(f"{file}: {_located(p, where_of)}" for p in found)
    if problems:
        raise problems_error(problems, MAX_PROBLEMS)
    if skipped and notes is not None:
        notes.append(f"skipped {skipped} rLLM episodes that ended in an error before any step")
    if not out:
        raise ImportFormatError(f"{path}: no rLLM episode with a step to read")
    return out


def _load(file: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        problems.append(f"{file}: not UTF-8 text ({exc.reason})")
        return None
    except json.JSONDecodeError as exc:
        problems.append(f"{file}:{exc.lineno}: invalid JSON: {exc.msg} (column {exc.colno})")
        return None
    if not is_episode(data):
        problems.append(f"{file}: not an rLLM episode (a JSON object with a 'trajectories' list), got {shown(data)}")
        return None
    return data


def _run_model(file: Path) -> str | None:
    """The model named by the eval run's ``meta.json`` (beside ``episodes/``), if there is one."""
    for meta in (file.parent / "meta.json", file.parent.parent / "meta.json"):
        if meta.is_file():
            try:
                model = json.loads(meta.read_text(encoding="utf-8")).get("model")
            except (ValueError, AttributeError):
                return None
            return model if isinstance(model, str) and model else None
    return None


def _located(problem: str, where_of: list[str]) -> str:
    """A problem about ``messages[i]`` (of the conversation put together) named by where message i came from."""
    m = _MESSAGE_AT.match(problem)
    if m is None or int(m.group(1)) >= len(where_of):
        return problem
    return where_of[int(m.group(1))] + problem[m.end() :]


def _episode_line(
    data: dict[str, Any], run_model: str | None, found: list[str]
) -> tuple[dict[str, Any] | None, list[str], StopReason | None]:
    """The episode as a line of ``trace.external``'s shape, where each of its messages came from, and the stop
    reason its termination records (None: the one its messages show)."""
    messages: list[Any] = []
    where_of: list[str] = []
    for t, traj in enumerate(data["trajectories"]):
        steps = traj.get("steps") if isinstance(traj, dict) else None
        if not isinstance(steps, list):
            found.append(f"trajectories[{t}].steps: must be a list of steps, got {shown(steps)}")
            continue
        _conversation(steps, f"trajectories[{t}]", messages, where_of, found)
    if not messages and not found:
        found.append("trajectories: no step with chat_completions (nothing the agent did)")
    if isinstance(data.get("is_correct"), bool) is False and data.get("is_correct") is not None:
        found.append(f"is_correct: must be true or false, got {shown(data.get('is_correct'))}")
    if found:
        return None, where_of, None
    row, row_id = _row(data.get("task"))
    episode_id = str(data.get("id") or data.get("episode_id") or row_id or "")
    obj: dict[str, Any] = {"messages": messages, "metadata": _signals(data, row, episode_id)}
    question_id = row.get("question_id")
    named = rllm_task_id(str(question_id)) if question_id is not None else ""
    task_id = named or (episode_id.split(":")[0] if episode_id else row_id)
    if task_id:
        obj["task_id"] = task_id
    if run_model:
        obj["model"] = run_model
    expected = row.get("ground_truth", row.get("answer"))
    if isinstance(expected, str | int | float) and not isinstance(expected, bool) and str(expected).strip():
        obj["expected"] = expected
    reason = data.get("termination_reason")
    return obj, where_of, _STOPS.get(reason) if isinstance(reason, str) else None


def _conversation(steps: list[Any], where: str, messages: list[Any], where_of: list[str], found: list[str]) -> None:
    """Add one trajectory's conversation to ``messages`` (see the module docstring)."""
    start = len(messages)
    for k, step in enumerate(steps):
        here = f"{where}.steps[{k}]"
        chat = step.get("chat_completions") if isinstance(step, dict) else None
        if not isinstance(chat, list):
            found.append(f"{here}.chat_completions: must be a list of chat messages, got {shown(chat)}")
            continue
        if not chat:
            continue
        seen = messages[start:]
        continues = len(chat) > len(seen) > 0 and _same(chat[0], seen[0])
        first = len(seen) if continues else 0
        if not continues:
            start = len(messages)
        for j in range(first, len(chat)):
            messages.append(chat[j])
            where_of.append(f"{here}.chat_completions[{j}]")
        _thought(step, messages)


def _same(a: Any, b: Any) -> bool:
    return (
        isinstance(a, dict)
        and isinstance(b, dict)
        and a.get("role") == b.get("role")
        and a.get("content") == b.get("content")
    )


def _thought(step: dict[str, Any], messages: list[Any]) -> None:
    """A step's ``thought`` as its reply's reasoning, when the reply holds none and the thought is not what it
    said."""
    reply = messages[-1] if messages else None
    thought = step.get("thought")
    if not (isinstance(reply, dict) and reply.get("role") == "assistant" and isinstance(thought, str)):
        return
    said = reply.get("content")
    if not thought.strip() or thought == said or thought == step.get("model_response"):
        return
    if not reply.get("reasoning_content") and not reply.get("reasoning"):
        messages[-1] = {**reply, "reasoning_content": thought}


def _row(task: Any) -> tuple[dict[str, Any], str | None]:
    """The dataset row of an episode's ``task`` (a row, or a ``Task`` dumped with its row as ``metadata``)."""
    if not isinstance(task, dict):
        return {}, None
    if isinstance(task.get("metadata"), dict) and "instruction" in task:
        return task["metadata"], str(task["id"]) if task.get("id") is not None else None
    row_id = task.get("question_id", task.get("id"))
    return task, str(row_id) if row_id is not None else None


def _signals(data: dict[str, Any], row: dict[str, Any], episode_id: str) -> dict[str, Any]:
    """What the episode recorded of its outcome, as the line's ``metadata``."""
    trajectories = [t for t in data["trajectories"] if isinstance(t, dict)]
    first = trajectories[0] if trajectories else {}
    reward = first.get("reward")
    steps = first.get("steps") or []
    if reward is None and steps and isinstance(steps[-1], dict):
        reward = steps[-1].get("reward")
    out: dict[str, Any] = {"episode_id": episode_id, "is_correct": data.get("is_correct")}
    if isinstance(reward, int | float) and not isinstance(reward, bool):
        out["reward"] = reward
    for key in ("signals",):
        if isinstance(first.get(key), dict) and first[key]:
            out[key] = first[key]
    for key in ("metrics", "termination_reason"):
        if data.get(key):
            out[key] = data[key]
    out.update({k: row[k] for k in _ROW_KEYS if row.get(k) is not None})
    qtype = str(row.get("question_type") or "").lower()
    if qtype:
        out["kind"] = "multi_table" if qtype.startswith("multi_table") else "single_table"
    names = [t.get("name") for t in trajectories if isinstance(t.get("name"), str)]
    if names:
        out["trajectories"] = names
    return out


__all__ = ["DEFAULT_MODEL", "SOURCE", "STORED", "episode_files", "is_episode", "read_rllm_episodes"]
