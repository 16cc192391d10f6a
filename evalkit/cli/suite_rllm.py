"""``evalkit suite import-rllm-finqa DIR`` (also ``evalkit suite import --format rllm-finqa DIR``): rLLM's FinQA
dataset as one evalkit suite per split, and the import summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from evalkit.cli.state import console, err_console

if TYPE_CHECKING:
    from evalkit.api.rllm_data import RllmImportSummary

SPLIT_HELP = "The split to import: train, val, test or all."
SHOWN_SKIPS = 50
"""Skipped rows listed one by one; the rest are counted."""


def import_rllm_command(
    source: Path = typer.Argument(
        ..., help="The dataset folder: company_tables/ and train/val/test_finqa.csv.", show_default=False
    ),
    out: Path = typer.Option(..., "--out", "-o", metavar="OUT", help="Folder to write (OUT/<split>/, OUT/data/)."),
    split: str = typer.Option("all", "--split", help=SPLIT_HELP),
    name: str = typer.Option("rllm-finqa", "--name", help="Suite name prefix (suites are NAME-<split>)."),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it holds an earlier import."),
    evalkit_tools: bool = typer.Option(
        False, "--evalkit-tools", help="Leave 'tools: {profile: rllm-finqa}' out: the agent gets evalkit's tools."
    ),
) -> None:
    """Turn rLLM's FinQA dataset (as cookbooks/finqa/prepare_finqa_data.py lays it out) into evalkit suites.

    DIR holds company_tables/<company>/tables_cleaned_all_companies.json and train_finqa.csv, val_finqa.csv,
    test_finqa.csv (or <split>.jsonl with the preprocessed rows, as 'evalkit export-failures --format rllm'
    writes them). Each split becomes OUT/<split>/ (suite.yaml with the rllm-finqa tool profile, tasks.yaml);
    the tables, cleaned as 'suite import' cleans report tables, go to OUT/data/. question_type gives the kind
    (multi_table... is multi-table), table_name the needed tables, columns_used x rows_used the cells the
    reference solution queries; the arithmetic over them that reproduces the answer is verified before
    anything is written. An answer that is no figure (a sentence) is kept as a text answer tagged
    judge_graded. Rows that cannot be imported are listed with file:line and why.

    [bold]Examples[/]

      evalkit suite import-rllm-finqa cookbooks/finqa/data -o suites/finqa
      evalkit suite import-rllm-finqa data/ -o finqa --split test --force
    """
    run_import(source, out, split=split, name=name, force=force, tools_profile=not evalkit_tools)


def run_import(source: Path, out: Path, *, split: str, name: str, force: bool, tools_profile: bool) -> None:
    """Import and print the summary (also what ``suite import --format rllm-finqa`` runs)."""
    from evalkit.api import suite_import_rllm_finqa

    summary = suite_import_rllm_finqa(source, out, split=split, name=name, force=force, tools_profile=tools_profile)
    print_summary(summary)


def print_summary(summary: RllmImportSummary) -> None:
    """Tasks per split and kind, judge-graded and verified counts, tables, and the skipped rows with why."""
    say = console().print
    data = summary.path / "data"
    say(f"wrote {len(summary.splits)} suite(s) to {summary.path}: {summary.tasks} task(s), "
        f"{summary.tables} table(s) of {summary.companies} company(ies) in {data}", markup=False)  # fmt: skip
    for s in summary.splits:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(s.kinds.items()))
        say(f"  {s.split}: {s.tasks} task(s) ({kinds}); {s.judge_graded} judge-graded; {s.verified} verified "
            f"against the tables, {s.without_reference} without a reference  -> {s.path}", markup=False)  # fmt: skip
    say(f"judge-graded (answer is no figure): {summary.judge_graded}", markup=False)
    if summary.skipped:
        err_console().print(f"skipped {len(summary.skipped)}:", markup=False)
        for where, why in summary.skipped[:SHOWN_SKIPS]:
            err_console().print(f"  {where}: {why}", markup=False, soft_wrap=True)
        if len(summary.skipped) > SHOWN_SKIPS:
            err_console().print(f"  ... and {len(summary.skipped) - SHOWN_SKIPS} more", markup=False)
    for note in summary.notes:
        if "no question" in note:  # the other notes say how cells were cleaned ('suite info' shows it per column)
            err_console().print(f"note: {note}", markup=False, soft_wrap=True)
    if summary.splits:
        say(f"try it: evalkit run {summary.splits[-1].path} --model scripted/disciplined", markup=False)
