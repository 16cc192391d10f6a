"""The progress display says what a run does before its first sample, labels its error count and time left,
and with several models shows a line per model. Driven through a real run's calls to it (the scheduler's
``start``/``split``/``advance`` and the session's phases), then rendered as the terminal would show it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

import evalkit
from evalkit.cli.run import RichProgress
from tests.trace import make_sample


class Recorded(RichProgress):
    """The real display, with each frame rendered to text (a test has no terminal to watch)."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[str] = []
        self.calls: list[str] = []

    def _frame(self) -> None:
        console = Console(width=160, record=True, color_system=None, force_terminal=False)
        console.print(self._progress.get_renderable())
        self.frames.append(console.export_text())

    def phase(self, text: str) -> None:
        super().phase(text)
        self.calls.append("phase")
        self._frame()

    def start(self, total: int, done: int) -> None:
        super().start(total, done)
        self.calls.append("start")

    def split(self, per_model: dict[str, tuple[int, int]]) -> None:
        super().split(per_model)
        self.calls.append("split")

    def advance(self, *args: Any) -> None:
        super().advance(*args)
        self._frame()


def test_phases_then_samples_with_a_line_per_model(mini_suite: Path, store: Path) -> None:
    bar = Recorded()
    try:
        evalkit.run_suite(mini_suite, ["scripted/disciplined", "scripted/hostile"], store=store, epochs=2, progress=bar)
    finally:
        bar.stop()
    assert bar.calls[:2] == ["phase", "phase"] and bar.calls[2:] == ["start", "split"]
    assert "checking the models" in bar.frames[0] and "preparing the suite mini" in bar.frames[1]
    last = bar.frames[-1]
    assert "running" in last and "16/16" in last and "infra errors 0" in last and "left" in last
    lines = last.splitlines()
    assert any("scripted/disciplined" in x and "8/8" in x for x in lines)
    assert any("scripted/hostile" in x and "8/8" in x for x in lines)
    assert "checking the models" not in last  # the phase line gives way to the samples


def test_one_model_has_no_split_and_infra_errors_are_counted() -> None:
    sample = make_sample("r", model="m", status="infra_error", correct=None)
    bar = Recorded()
    bar.start(3, 1)
    bar.advance(sample, 0.0)
    bar.stop()
    tokens = sample.prompt_tokens + sample.completion_tokens
    assert "2/3" in bar.frames[-1] and "infra errors 1" in bar.frames[-1] and f"tokens {tokens:,}" in bar.frames[-1]
