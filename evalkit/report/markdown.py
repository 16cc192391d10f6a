"""The report as GitHub-flavoured Markdown, for a pull-request comment or a GitHub Actions step summary.

It reads top-down like a review: the headline per model, the criteria, the slices, the diagnosis (failure
modes, how behaviours relate to correctness, what to train next, tasks nobody gets right), usage, the failing
tasks and the notes. Long parts (tags, failing tasks) sit in ``<details>`` blocks so a comment stays short.

Only plain text goes in cells (no emoji verdicts): rates read ``75.0% [40.9, 92.9]`` with their 95% Wilson
interval, unknown costs read "unknown" (never $0). Table cells escape ``|``, ``<`` and newlines, so a label or a
task id cannot break a table; no line ends in whitespace.

Figures and Markdown building blocks come from :mod:`evalkit.report.text_format`.
"""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.report.model import (
    CriterionStat,
    Report,
)
from evalkit.report.text_format import (
    CRITICAL_MARK,
    EXPORT_INTRO,
    POOLED_NOTE,
    SUSPECT_RULE,
    TRAIN_NEXT_HEADER,
    TRAIN_NEXT_TOP,
    accuracy_text,
    code,
    correct_text,
    cost_per_correct_text,
    cost_per_sample_text,
    cost_text,
    criterion_name,
    details,
    endpoint_lines,
    export_lines,
    failing,
    groups_with_stats,
    infra_error_lines,
    inline,
    is_critical,
    latency_text,
    mode_label,
    none_finished,
    none_scored,
    pass_k_text,
    pct,
    pct_ci,
    shared_k,
    stat_of,
    table,
    task_correct_text,
    tokens_per_sample_text,
    tokens_text,
    train_next_line,
)

NOT_SCORED_NOTE = (
    "Correctness was not scored for {what}: no expected answer (give `evalkit score --traces` a --suite, "
    'an "expected" per line, or --correct-from), so no answer is counted right or wrong.'
)

# --- sections ----------------------------------------------------------------------------------------------


def _title(report: Report) -> list[str]:
    names = [r.name or r.run_id for r in report.runs]
    title = "evalkit report: " + (", ".join(names) if names else "no runs")
    lines = [f"# {inline(title)}", ""]
    for run in report.runs:
        rubrics = ", ".join(f"{name} {version}" for name, version in run.rubrics) or "none"
        name = f"**{inline(run.name)}** " if run.name else ""
        lines.append(
            f"- {name}{code(run.run_id)}: suite {inline(run.suite)}, {len(run.models)} "
            f"model{'s' if len(run.models) != 1 else ''}, {run.epochs} epoch{'s' if run.epochs != 1 else ''}, "
            f"{inline(run.status)}, created {inline(run.created_at)}; rubrics {inline(rubrics)}"
        )
    lines += ["", f"Generated {inline(report.generated_at)} by evalkit {inline(report.evalkit_version)}."]
    return lines


def _headline(report: Report) -> list[str]:
    k = shared_k(report.groups)
    any_k = any(g.pass_at_k for g in report.groups)
    header = ["group", "accuracy [95% CI]", "correct"]
    if any_k:
        header += [f"pass@{k or 'k'}", f"pass^{k or 'k'}"]
    header += ["rubric score", "cost / correct"]
    rows = []
    for g in report.groups:
        row = [g.label, accuracy_text(g), correct_text(g)]
        if any_k:
            row += [pass_k_text(g.pass_at_k, k, k is None), pass_k_text(g.pass_hat_k, k, k is None)]
        row += [pct(g.rubric_score), cost_per_correct_text(g)]
        rows.append(row)
    note = (
        "Accuracy is correct over finished samples (infrastructure errors are left out); pass@k: at least one "
        "of k epochs right, pass^k: all k right, averaged over tasks."
    )
    what = ", ".join(f"{g.not_scored} samples of {g.label}" for g in report.groups if g.not_scored)
    if what:
        note += " " + NOT_SCORED_NOTE.format(what=inline(what))
    lines = ["## Headline", "", *table(header, rows, "lrrrrrr"[: len(header)]), "", note]
    infra = infra_error_lines(report)
    if infra:
        lines += ["", "**Infrastructure errors** (left out of accuracy):", "", *(f"- {inline(line)}" for line in infra)]
    replicas = endpoint_lines(report)
    if replicas:
        lines += ["", "**Replicas** (requests per endpoint):", "", *(f"- {inline(line)}" for line in replicas)]
    return lines


def _criteria(report: Report) -> list[str]:
    keys = groups_with_stats(report)
    if not keys:
        return ["## Criteria", "", "No rubric scores."]
    header = ["criterion", "rubric", *(g.label for g in report.groups)]
    rows = []
    for rubric, criterion in keys:
        name = f"{CRITICAL_MARK} **{criterion}**" if is_critical(report, rubric, criterion) else criterion
        rows.append([name, rubric, *(_criterion_cell(stat_of(g, rubric, criterion)) for g in report.groups)])
    note = f"Pass rate [95% CI] = pass / (pass + fail), samples it did not apply to left out; {CRITICAL_MARK} critical."
    return ["## Criteria", "", note, "", *table(header, rows, "ll" + "r" * len(report.groups))]


def _criterion_cell(stat: CriterionStat | None) -> str:
    if stat is None:
        return "—"
    text = pct_ci(stat.rate) if stat.rate.n else "n/a"
    return text + (f" ({stat.errors} errors)" if stat.errors else "")


def _slices(report: Report) -> list[str]:
    by_dim: dict[str, list[str]] = {}
    for g in report.groups:
        for s in g.slices:
            values = by_dim.setdefault(s.dimension, [])
            if s.value not in values:
                values.append(s.value)
    if not by_dim:
        return []
    lines = ["## Slices", "", "Accuracy [95% CI] by task kind, difficulty and tag."]
    for dim, values in by_dim.items():
        body = _slice_table(report, dim, values)
        if dim == "tag":
            lines += ["", *details(f"By tag ({len(values)} tags)", body)]
        else:
            lines += ["", f"### By {inline(dim)}", "", *body]
    for dim in ("kind", "difficulty"):
        criteria = _criteria_by_slice(report, dim)
        if criteria and dim == "kind":
            lines += ["", "### Behaviours by task kind", "", "Criterion pass rates per model and task kind.", ""]
            lines += criteria
        elif criteria:
            lines += ["", *details("Behaviours by difficulty", criteria)]
    return lines


def _criteria_by_slice(report: Report, dim: str) -> list[str]:
    columns, rows = report.criteria_by_slice(dim)
    if not rows:
        return []
    cells = [[name, *("—" if r is None else f"{pct(r.rate)} ({r.n})" for r in rates)] for name, rates in rows]
    return table(["criterion", *(f"{label} · {v}" for label, v in columns)], cells, "l" + "r" * len(columns))


def _slice_table(report: Report, dim: str, values: Sequence[str]) -> list[str]:
    rows = []
    for value in values:
        cells = []
        for g in report.groups:
            s = next((s for s in g.slices if s.dimension == dim and s.value == value), None)
            cells.append(pct_ci(s.accuracy) if s is not None else "—")
        rows.append([value, *cells])
    return table([dim, *(g.label for g in report.groups)], rows, "l" + "r" * len(report.groups))


def _failure_modes(report: Report) -> list[str]:
    rows = [
        [g.label, fm.label, fm.count, pct(fm.share, 0), ", ".join(fm.tasks)]
        for g in report.groups
        for fm in g.failure_modes
    ]
    lines = ["### Failure modes of wrong answers", ""]
    if not rows and none_finished(report):
        return [*lines, "No sample finished, so none can be diagnosed (see the infrastructure errors above)."]
    if not rows and none_scored(report):
        return [*lines, "Correctness was not scored: no answer is counted wrong."]
    if not rows:
        return [*lines, "No wrong answers."]
    return [*lines, *table(["group", "failure mode", "wrong answers", "share", "tasks"], rows, "llrrl")]


def _behaviours(report: Report) -> list[str]:
    rows = []
    for g in report.groups:
        for b in g.behaviours:
            if b.when_failed.n == 0:
                continue
            gap = "—" if b.gap is None else f"{100 * b.gap:+.1f} pts"
            rows.append([g.label, b.criterion, pct_ci(b.when_passed), pct_ci(b.when_failed), gap])
    lines = [
        "### Behaviour vs correctness",
        "",
        "Accuracy of the samples where a behaviour's criterion passed and where it failed (an association, not "
        "a proof of cause); criteria that never failed are left out.",
        "",
    ]
    if not rows and none_scored(report):
        return [*lines[:2], "Correctness was not scored: no behaviour can be related to it."]
    if not rows:
        return [*lines[:2], "No behaviour criterion failed."]
    header = ["group", "criterion", "accuracy when passed", "accuracy when failed", "gap"]
    return [*lines, *table(header, rows, "llrrr")]


def _train_next(report: Report) -> list[str]:
    rows = []
    silent = []
    for g in report.groups:
        for b in g.train_next[:TRAIN_NEXT_TOP]:
            cost, explains, split = train_next_line(b)
            rows.append([g.label, b.criterion, cost, explains, split])
        if not g.train_next and g.accuracy.k < g.accuracy.n:
            silent.append(g.label)
    lines = [
        "### What to train next",
        "",
        "The behaviours whose failures cost the most accuracy (points of accuracy lost; top "
        f"{TRAIN_NEXT_TOP} per group).",
        "",
    ]
    if rows:
        lines += table(["group", "criterion", *TRAIN_NEXT_HEADER], rows, "llrlr")
    else:
        lines.append("Nothing to rank.")
    if any(b.pooled for g in report.groups for b in g.train_next[:TRAIN_NEXT_TOP]):
        lines += ["", POOLED_NOTE]
    commands = export_lines(report)
    if commands:
        lines += ["", EXPORT_INTRO, "", "```sh", *commands, "```"]
    if silent:
        lines += ["", f"No behaviour separates right from wrong answers for {inline(', '.join(silent))}."]
    return lines


def _failed_by_all(report: Report) -> list[str]:
    lines = ["### Tasks every model fails", ""]
    if not report.failed_by_all:
        return [*lines, f"None ({SUSPECT_RULE})."]
    return [
        *lines,
        f"No group answered these right in any epoch ({SUSPECT_RULE}): check the task and its expected answer.",
        "",
        *(f"- {code(t)}" for t in report.failed_by_all),
    ]


def _usage(report: Report) -> list[str]:
    header = [
        "group",
        "samples",
        "finished",
        "infra errors",
        "prompt tokens",
        "completion tokens",
        "tokens / sample",
        "latency p50",
        "latency p95",
        "cost",
        "cost / sample",
    ]
    rows = []
    for g in report.groups:
        u = g.usage
        rows.append(
            [
                g.label,
                g.samples,
                g.finished,
                g.infra_errors,
                tokens_text(u, u.prompt_tokens),
                tokens_text(u, u.completion_tokens),
                tokens_per_sample_text(u),
                latency_text(u, u.latency_p50_s),
                latency_text(u, u.latency_p95_s),
                cost_text(u),
                cost_per_sample_text(u),
            ]
        )
    lines = ["## Usage", "", *table(header, rows, "l" + "r" * (len(header) - 1))]
    if any(g.usage.cost_unknown for g in report.groups):
        lines += ["", "Costs marked +? leave out samples whose cost is unknown (no known price, or no reply)."]
    if any(g.usage.tokens_unknown or g.usage.latency_unknown for g in report.groups):
        lines += ["", "Tokens and latency are unknown for samples whose trace did not record them (+?: some)."]
    return lines


def _failing_tasks(report: Report, max_tasks: int) -> list[str]:
    rows = [r for r in report.tasks if failing(r)]
    if not rows and none_finished(report):
        return ["## Failing tasks", "", "No task finished: every sample was an infrastructure error or cancelled."]
    if not rows and none_scored(report):
        return ["## Failing tasks", "", "Correctness was not scored: no task is counted failing."]
    if not rows:
        return ["## Failing tasks", "", "Every finished task was answered right in every epoch."]
    shown = rows[: max(max_tasks, 0)]
    body = table(
        ["group", "task", "kind", "difficulty", "correct", "failure mode", "failed criteria"],
        (
            [
                r.label,
                r.task_id,
                r.kind or "—",
                r.difficulty or "—",
                task_correct_text(r),
                mode_label(r.failure_mode),
                ", ".join(criterion_name(report, c) for c in r.failed_criteria) or "—",
            ]
            for r in shown
        ),
        "llllrll",
    )
    if len(rows) > len(shown):
        body += ["", f"and {len(rows) - len(shown)} more."]
    summary = f"{len(rows)} task{'s' if len(rows) != 1 else ''} with wrong answers (task × group)"
    return ["## Failing tasks", "", *details(summary, body)]


def _notes(report: Report) -> list[str]:
    if not report.notes:
        return []
    return ["## Notes", "", *(f"- {inline(n)}" for n in report.notes)]


def render_markdown(report: Report, *, max_tasks: int = 30) -> str:
    """The whole report as GitHub-flavoured Markdown (ends with a newline); at most ``max_tasks`` failing
    task rows are listed, then "and N more"."""
    diagnosis = ["## Diagnosis", "", *_failure_modes(report), "", *_behaviours(report), ""]
    diagnosis += [*_train_next(report), "", *_failed_by_all(report)]
    sections = [
        _title(report),
        _headline(report),
        _criteria(report),
        _slices(report),
        diagnosis,
        _usage(report),
        _failing_tasks(report, max_tasks),
        _notes(report),
    ]
    lines: list[str] = []
    for line in (line.rstrip() for section in sections if section for line in [*section, ""]):
        if line or (lines and lines[-1]):  # no run of blank lines
            lines.append(line)
    return "\n".join(lines).rstrip("\n") + "\n"
