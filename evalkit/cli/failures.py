"""``evalkit export-failures``: the tasks a behaviour failed on, as training data (JSONL)."""

from __future__ import annotations

from pathlib import Path

import typer

from evalkit.cli.state import StoreOption, console, err_console, store_path


def export_failures_command(
    run: str = typer.Argument(..., help="Run id, unique prefix, name, 'latest', or a file from 'evalkit export'."),
    criterion: str = typer.Option(
        ..., "--criterion", "-c", help="The criterion that failed: an id (inspected_schema) or rubric.criterion."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="The JSONL file to write (replaced if it exists)."),
    rubric: str = typer.Option(None, "--rubric", "-r", help="The rubric of the criterion, when several have it."),
    kind: str = typer.Option(None, "--kind", help="Only tasks of this kind: single_table or multi_table."),
    model: str = typer.Option(None, "--model", "-m", help="Only this model's samples (as the run names it)."),
    fmt: str = typer.Option("openai", "--format", "-f", help="openai (question rows with trajectories) or rllm."),
    store: StoreOption = None,
) -> None:
    """Write the tasks where a behaviour failed as training data.

    One JSON line per task (not per sample) whose samples failed the criterion in the run, saying how many of
    its samples failed, of how many, and per model. --format openai (the default) writes a question row that
    'evalkit suite import' reads (question, answer, tables, company, kind, and sql when one query gives the
    answer) with the reference solution as a demonstration trajectory in OpenAI message form ('messages':
    system prompt, question, get_table_names, get_table_info per needed table, sql_query per reference step,
    calculator for the arithmetic, FINAL ANSWER), every tool result the suite's tools really returned, and the
    tools' schemas ('tools'); a task without reference SQL has 'messages': null and is counted. --format rllm
    writes rLLM FinQA dataset rows (question, ground_truth, data_source, company, question_id, question_type,
    core_question, table_name, columns_used, rows_used, explanation) for the next RL round.

    Re-import the openai lines as a suite with the suite's built database file (the command prints it): 'evalkit
    suite import NAME --tables DB.duckdb --questions FILE', then 'evalkit suite verify NAME'.

    [bold]Examples[/]

      evalkit export-failures latest --criterion inspected_schema -o inspected_schema.jsonl
      evalkit export-failures nightly --criterion inspected_schema --kind single_table -o schema.jsonl
      evalkit export-failures nightly -c valid_identifiers --model my-4b --format rllm -o train.jsonl
    """
    from evalkit.api import export_failures

    summary = export_failures(
        store_path(store),
        run,
        criterion=criterion,
        output=output,
        rubric=rubric,
        kind=kind,
        model=model,
        fmt=fmt,  # type: ignore[arg-type]  # checked by the API
    )
    what = "with a demonstration trajectory" if summary.format == "openai" else "as rLLM FinQA rows"
    console().print(
        f"{summary.tasks} task(s) where {summary.rubric}.{summary.criterion} failed "
        f"({summary.failed_samples} of their {summary.samples} samples) written {what} to {summary.path}",
        soft_wrap=True,
        markup=False,
    )
    if summary.format == "openai":
        console().print(f"{summary.with_trajectory} with a trajectory", markup=False)
        console().print(
            f"re-import: evalkit suite import NAME --tables {summary.database} --questions {summary.path}",
            soft_wrap=True,
            markup=False,
        )
    for task, why in summary.without_trajectory:
        err_console().print(f"{task}: no trajectory ({why})", soft_wrap=True, markup=False)
    if summary.without_reference:
        err_console().print(f"{summary.without_reference} task(s) without reference SQL", markup=False)
    if summary.without_sql:
        err_console().print(
            f"{summary.without_sql} task(s) have no single query giving the answer: they re-import unverifiable",
            markup=False,
        )
    for note in summary.notes:
        err_console().print(f"note: {note}", soft_wrap=True, markup=False)
