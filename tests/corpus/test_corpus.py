"""The labelled corpus: hand-written traces of how real agents fail and succeed, scored by evalkit and
compared with labels written from the criteria's descriptions (``labels.yaml``, see ``author.py``).

Each episode carries ``metadata.corpus_id``; its label gives the expected verdict (pass / fail / na) of every
deterministic criterion of the tool-discipline and answer rubrics and the expected correctness (None: not
scored). ``KNOWN_DISAGREEMENTS`` lists where evalkit's reading differs from the label, one reason each: the
test fails when a listed disagreement goes away (the misreading was fixed: drop it from the list) and when a
new one appears. ``agreement`` gives the figures per criterion and overall.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from evalkit import api
from evalkit.trace.store import TraceStore

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
RUBRICS = [ROOT / "rubrics" / "tool-discipline.yaml", ROOT / "rubrics" / "answer.yaml"]
CORRECT = "correct"

_SAME_TOOL = "recovery is read as a later successful call of the failing tool, not a changed approach that succeeded"
_UNANSWERED = "a query whose result the log lacks (it ends on the call) is not read as a query: N/A"
#: (episode, criterion or "correct") -> why evalkit's reading differs from the label.
KNOWN_DISAGREEMENTS: dict[tuple[str, str], str] = {
    ("c03", "recovered_after_error"): _SAME_TOOL + " (get_table_names refused the name; it read the schema)",
    ("c13", "recovered_after_error"): _SAME_TOOL + " (the failing tool does not exist, so it can never succeed)",
    ("c26", "no_repeated_calls"): "N/A with no tool call, though the criterion has no applies_when (nothing repeated)",
    ("c27", "no_repeated_calls"): "N/A with no tool call, though the criterion has no applies_when (nothing repeated)",
    ("c72", "discovered_tables"): _UNANSWERED,
    ("c72", "inspected_schema"): _UNANSWERED,
    ("c72", "valid_identifiers"): _UNANSWERED,
    ("c72", "safe_sql"): _UNANSWERED,
    ("c52", "valid_identifiers"): "a wrong column re-sent twice before the fix is tolerated as corrected right after",
}


def verdict_class(verdict: str, value: float | None) -> str | None:
    """pass / fail / na of a stored verdict; a graded value passes only at 1 (None for skipped or error)."""
    if verdict in ("pass", "fail", "na"):
        return verdict
    if verdict == "value" and value is not None:
        return "pass" if value >= 1 - 1e-9 else "fail"
    return None


def load_labels() -> dict[str, dict[str, Any]]:
    labels = yaml.safe_load((HERE / "labels.yaml").read_text(encoding="utf-8"))
    assert isinstance(labels, dict)
    return labels


@pytest.fixture(scope="module")
def readings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """corpus id -> {criterion: pass/fail/na, "correct": True/False/None} as evalkit reads the corpus."""
    store = tmp_path_factory.mktemp("corpus") / "store.duckdb"
    result = api.score_traces(HERE / "traces.jsonl", RUBRICS, suite="finance-single", store_path=store)
    st = TraceStore.open(store, write=False)
    try:
        samples = st.samples(result.run.run_id)
    finally:
        st.close()
    by_sample = {s.sample_id: s.metadata["external"]["corpus_id"] for s in samples}
    out: dict[str, dict[str, Any]] = {cid: {} for cid in by_sample.values()}
    for s in samples:
        out[by_sample[s.sample_id]][CORRECT] = s.correct
    for score in result.scores:
        out[by_sample[score.sample_id]][score.criterion] = verdict_class(score.verdict, score.value)
    return out


def comparisons(readings: dict[str, dict[str, Any]]) -> list[tuple[str, str, Any, Any]]:
    """(episode, criterion, label, reading) for every labelled verdict and correctness."""
    out = []
    for cid, label in load_labels().items():
        for criterion, expected in label["verdicts"].items():
            out.append((cid, criterion, expected, readings[cid].get(criterion)))
        out.append((cid, CORRECT, label["correct"], readings[cid][CORRECT]))
    return out


def agreement(rows: list[tuple[str, str, Any, Any]]) -> tuple[dict[str, tuple[int, int]], tuple[int, int]]:
    """(agreeing, compared) per criterion and overall."""
    agree: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for _cid, criterion, expected, got in rows:
        total[criterion] += 1
        agree[criterion] += expected == got
    return {c: (agree[c], total[c]) for c in total}, (sum(agree.values()), sum(total.values()))


def test_every_episode_is_labelled(readings: dict[str, dict[str, Any]]) -> None:
    labels = load_labels()
    assert set(labels) == set(readings)
    assert len(labels) >= 60
    criteria = {k for r in readings.values() for k in r} - {CORRECT}
    for cid, label in labels.items():
        assert set(label["verdicts"]) == criteria, cid
        assert set(label["verdicts"].values()) <= {"pass", "fail", "na"}, cid


def test_readings_agree_with_labels_except_known_disagreements(readings: dict[str, dict[str, Any]]) -> None:
    rows = comparisons(readings)
    per_criterion, (agreed, compared) = agreement(rows)
    for criterion, (a, n) in sorted(per_criterion.items()):
        print(f"{criterion:24} {a:3}/{n:3} = {a / n:.3f}")
    print(f"{'overall':24} {agreed:3}/{compared:3} = {agreed / compared:.3f}")
    found = {(cid, c): f"label {e!r}, evalkit {g!r}" for cid, c, e, g in rows if e != g}
    new = {k: v for k, v in found.items() if k not in KNOWN_DISAGREEMENTS}
    fixed = sorted(k for k in KNOWN_DISAGREEMENTS if k not in found)
    assert not new, f"new disagreements with the labels: {new}"
    assert not fixed, f"listed disagreements that evalkit now reads as labelled (drop them from the list): {fixed}"
