"""Formatting shared by the report's renderings: rates, costs, pass@k, criterion names, Markdown blocks.

The terminal and Markdown reports (and the compare and gate renderings) print the same figures the same
way: rates as ``75.0% [40.9, 92.9]`` with their 95% Wilson interval, unknown costs, tokens and latencies as
"unknown" (never $0 or 0 s), and the accuracy of samples without an expected answer as "not scored" (never 0 %).
The Markdown building blocks escape ``|``, ``<`` and newlines in cells, so a label or a task id cannot break
a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evalkit.report.model import (
    COMPETENT_ACCURACY,
    FAILURE_MODES,
    BehaviourEffect,
    CriterionStat,
    ModelReport,
    Report,
    Slice,
    TaskRow,
    Usage,
)
from evalkit.stats.proportions import Rate

CRITICAL_MARK = "⚠"
"""Marks a critical criterion (Markdown); the terminal uses ``!``."""

TRAIN_NEXT_TOP = 5
"""Behaviours listed per group under "what to train next"."""

SUSPECT_RULE = (
    f"a task is listed when a model right on {COMPETENT_ACCURACY:.0%} or more of the other tasks fails it too"
)
"""What makes a task that every model fails suspect (``Report.failed_by_all``), in words."""


# --- formatting shared with the terminal rendering -------------------------------------------------------


def pct(value: float | None, digits: int = 1) -> str:
    """``0.625`` → ``"62.5%"``; ``"—"`` for None."""
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def pct_ci(rate: Rate, digits: int = 1) -> str:
    """``"75.0% [40.9, 92.9]"``: the rate and its 95% interval, or ``"—"`` with no trials."""
    if rate.n == 0 or rate.rate is None or rate.low is None or rate.high is None:
        return "—"
    return f"{100 * rate.rate:.{digits}f}% [{100 * rate.low:.{digits}f}, {100 * rate.high:.{digits}f}]"


def usd(value: float) -> str:
    """A dollar amount with the precision its size needs: ``$12.34``, ``$0.0123``, ``$0.000027``; ``$0`` only
    for nothing (a known cost below a millionth of a dollar is ``<$0.000001``, never ``$0``)."""
    if value == 0:
        return "$0"
    if value >= 100:
        return f"${value:,.0f}"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.0001:
        return f"${value:.4f}"
    return f"${value:.6f}" if value >= 0.000001 else "<$0.000001"


def cost_text(usage: Usage) -> str:
    """The total cost: "unknown" when no sample's price is known, ``+?`` when some are unknown."""
    if usage.cost_usd is None:
        return "unknown"
    return usd(usage.cost_usd) + ("+?" if usage.cost_unknown else "")


def cost_per_sample_text(usage: Usage) -> str:
    if usage.cost_per_sample_usd is None:
        return "unknown"
    return usd(usage.cost_per_sample_usd) + ("+?" if usage.cost_unknown else "")


def cost_per_correct_text(group: ModelReport) -> str:
    """Cost per correct answer: "unknown" without prices, ``—`` with no correct answer."""
    usage = group.usage
    if usage.cost_usd is None:
        return "unknown"
    if usage.cost_per_correct_usd is None:
        return "—"
    return usd(usage.cost_per_correct_usd) + ("+?" if usage.cost_unknown else "")


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}s" if value < 10 else f"{value:,.1f}s"


def count(value: int) -> str:
    return f"{value:,}"


NOT_SCORED = "not scored"
"""The accuracy, and the correct count, of samples whose correctness was not scored (no expected answer)."""


def unscored(group: ModelReport) -> bool:
    """True when the group finished samples but none had its correctness scored (no expected answer)."""
    return group.accuracy.n == 0 and group.not_scored > 0


def none_scored(report: Report) -> bool:
    """True when the report has groups and no group's correctness was scored."""
    return bool(report.groups) and all(unscored(g) for g in report.groups)


def none_finished(report: Report) -> bool:
    """True when the report has groups and none finished a sample (every one an infrastructure error or
    cancelled): nothing was judged, so "no wrong answers" would be a misreading."""
    return bool(report.groups) and all(g.finished == 0 for g in report.groups)


FIRST_ERROR_CHARS = 300
"""How much of the first infrastructure error's message the text renderings show."""


def infra_error_lines(report: Report) -> list[str]:
    """One line per group with infrastructure errors: how many samples, and the first error's message."""
    out = []
    for g in report.groups:
        if not g.infra_errors:
            continue
        line = f"{g.label}: {g.infra_errors} of {g.samples} samples were infrastructure errors, never judged"
        if g.first_error:
            message = g.first_error
            if len(message) > FIRST_ERROR_CHARS:
                message = message[: FIRST_ERROR_CHARS - 1] + "…"
            line += f"; the first: {message}"
        out.append(line)
    return out


def endpoint_lines(report: Report) -> list[str]:
    """One line per replica of a model that had several: its requests, failures and mean latency."""
    out = []
    for g in report.groups:
        for e in g.endpoints:
            latency = f"{e.mean_latency_s:.3f} s mean" if e.mean_latency_s is not None else "no answer"
            failed = f", {e.failures} failed" if e.failures else ""
            out.append(f"{g.label} at {e.url}: {e.calls} requests{failed}, {latency}")
    return out


def accuracy_text(group: ModelReport) -> str:
    """The accuracy with its interval, or "not scored" when no finished sample had its correctness scored."""
    return NOT_SCORED if unscored(group) else pct_ci(group.accuracy)


def correct_text(group: ModelReport) -> str:
    """``"3/4"`` (correct over scored samples), or "not scored"."""
    return NOT_SCORED if unscored(group) else f"{group.accuracy.k}/{group.accuracy.n}"


def task_correct_text(row: TaskRow) -> str:
    """A task row's correct epochs over its scored ones (``"1/2"``), "not scored" when none was scored."""
    if row.finished and not row.scored:
        return NOT_SCORED
    return f"{row.correct}/{row.scored}" + (f" ({row.not_scored} not scored)" if row.not_scored else "")


def tokens_text(usage: Usage, total: int | None = None) -> str:
    """Total tokens (``total``, else prompt plus completion): "unknown" when no sample recorded them, ``+?``
    when some did not."""
    if usage.tokens_unknown and usage.tokens_per_sample is None:
        return "unknown"
    value = usage.prompt_tokens + usage.completion_tokens if total is None else total
    return count(value) + ("+?" if usage.tokens_unknown else "")


def tokens_per_sample_text(usage: Usage) -> str:
    """Mean tokens per sample that recorded them; "unknown" when none did, ``—`` without samples."""
    if usage.tokens_per_sample is None:
        return "unknown" if usage.tokens_unknown else "—"
    return f"{usage.tokens_per_sample:,.0f}"


def latency_text(usage: Usage, value: float | None) -> str:
    """A latency figure: "unknown" when no sample recorded its latency."""
    return "unknown" if value is None and usage.latency_unknown else seconds(value)


def top_k(group: ModelReport) -> str | None:
    """The largest k of the group's pass@k (as text), or None without several epochs."""
    return max(group.pass_at_k, key=int) if group.pass_at_k else None


def shared_k(groups: Sequence[ModelReport]) -> str | None:
    """The k every group's pass@k goes up to, when they agree; None when they differ or have none."""
    ks = {top_k(g) for g in groups if g.pass_at_k}
    return ks.pop() if len(ks) == 1 else None


def pass_k_text(values: dict[str, float], k: str | None, show_k: bool) -> str:
    """pass@k (or pass^k) at ``k`` (the group's largest when None), e.g. ``"75.0%"`` or ``"75.0% (k=2)"``."""
    key = k if k is not None else (max(values, key=int) if values else None)
    if key is None or key not in values:
        return "—"
    return pct(values[key]) + (f" (k={key})" if show_k else "")


def criterion_name(report: Report, key: str) -> str:
    """``rubric.criterion`` → the criterion id alone when no other rubric has that id."""
    matches = [c for c in report.criteria if f"{c.rubric}.{c.criterion}" == key]
    if len(matches) != 1:
        return key
    name = matches[0].criterion
    return name if sum(1 for c in report.criteria if c.criterion == name) == 1 else key


def is_critical(report: Report, rubric: str, criterion: str) -> bool:
    info = report.criterion_info(rubric, criterion)
    return info is not None and info.severity == "critical"


def mode_label(mode: str | None) -> str:
    if mode is None:
        return "wrong answer, not diagnosed"
    return FAILURE_MODES.get(mode, mode)


def failing(row: TaskRow) -> bool:
    """A task row with at least one wrong finished epoch (among those whose correctness was scored)."""
    return row.correct < row.scored


def groups_with_stats(report: Report) -> list[tuple[str, str]]:
    """The (rubric, criterion) pairs of the report's criteria that some group has figures for, in order."""
    seen = {(c.rubric, c.criterion) for g in report.groups for c in g.criteria}
    return [(c.rubric, c.criterion) for c in report.criteria if (c.rubric, c.criterion) in seen]


def stat_of(group: ModelReport | Slice, rubric: str, criterion: str) -> CriterionStat | None:
    return next((c for c in group.criteria if c.rubric == rubric and c.criterion == criterion), None)


def train_next_line(b: BehaviourEffect) -> tuple[str, str, str]:
    """(accuracy lost, wrong answers it explains, accuracy when passed → when failed) of one "what to train
    next" entry."""
    return (
        f"−{100 * b.cost:.1f} pts",
        f"explains {b.explains} wrong answer{'s' if b.explains != 1 else ''}",
        f"{pct(b.when_passed.rate)}{'*' if b.pooled else ''} → {pct(b.when_failed.rate)}",
    )


TRAIN_NEXT_HEADER = ("accuracy lost", "wrong answers", "accuracy passed → failed")
"""Column names of the three texts of :func:`train_next_line`."""
POOLED_NOTE = "* no sample of this model passed it: accuracy when passed is over every model that did"
EXPORT_INTRO = "Export the tasks each behaviour failed on as training data (reference solutions as demonstrations):"


def export_lines(report: Report) -> list[str]:
    """The ``evalkit export-failures`` command of each listed "what to train next" entry, once each."""
    commands = (c.command for g in report.groups for c in g.export_commands[:TRAIN_NEXT_TOP])
    return list(dict.fromkeys(commands))


# --- Markdown building blocks ----------------------------------------------------------------------------


def cell(text: object) -> str:
    """Text safe inside a table cell: ``|`` escaped, ``<`` as an entity, newlines as ``<br>``."""
    s = str(text).replace("|", "\\|").replace("<", "&lt;")
    s = s.replace("\r\n", "\n").replace("\r", "\n").strip()
    return "<br>".join(part.strip() for part in s.split("\n")) or " "


def inline(text: object) -> str:
    """Text for a paragraph or list item: one line, ``<`` as an entity."""
    return " ".join(str(text).replace("<", "&lt;").split())


def code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str = "") -> list[str]:
    """A GFM table; ``align`` has one letter per column (``l`` or ``r``, left by default)."""
    aligns = [("---:" if align[i : i + 1] == "r" else "---") for i in range(len(header))]
    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(aligns) + " |"]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"table row has {len(row)} cells, header has {len(header)}")
        lines.append("| " + " | ".join(cell(c) for c in row) + " |")
    return lines


def details(summary: str, body: list[str]) -> list[str]:
    return ["<details>", f"<summary>{inline(summary)}</summary>", "", *body, "", "</details>"]
