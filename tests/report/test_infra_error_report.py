"""A run whose every sample was an infrastructure error: the report says so (how many samples, the first error
message) instead of "every finished task was answered right" or "no wrong answers".

The run is real: the model's server is a loopback port nobody listens on, so every call fails with a
connection error, as when a local server is down.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from rich.console import Console

import evalkit
from evalkit.contracts.model_config import ModelConfig
from evalkit.report.build import build_report
from evalkit.report.markdown import render_markdown
from evalkit.report.model import Report
from evalkit.report.terminal import render_terminal
from evalkit.trace.store import TraceStore


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def down_report(mini_suite: Path, store: Path, monkeypatch: pytest.MonkeyPatch) -> Report:
    monkeypatch.setenv("FAKE_PROVIDER_KEY", "k")
    model = ModelConfig(
        name="local-down",
        model="openai/local-model",
        api_base=f"http://127.0.0.1:{_closed_port()}/v1",
        api_key_env="FAKE_PROVIDER_KEY",
    )
    result = evalkit.run_suite(  # no preflight: as if the server went down once the run had started
        mini_suite, [model], store=store, use_cache=False, max_attempts=1, name="down", keep_samples=True,
        preflight=False,
    )  # fmt: skip
    assert all(s.status == "infra_error" for s in result.samples) and len(result.samples) == 4
    with TraceStore.open(store, write=False) as st:
        return build_report(st, [result.run.run_id])


def test_the_markdown_report_shows_the_infrastructure_error(down_report: Report) -> None:
    (group,) = down_report.groups
    assert (group.samples, group.finished, group.infra_errors) == (4, 0, 4)
    assert group.first_error is not None and "Connection error" in group.first_error
    md = render_markdown(down_report)
    assert "Every finished task was answered right" not in md
    assert "No wrong answers" not in md
    line = next(line for line in md.splitlines() if "infrastructure error" in line and "local-down" in line)
    assert "4 of 4 samples" in line and "Connection error" in line


def test_the_terminal_report_shows_the_infrastructure_error(down_report: Report) -> None:
    console = Console(width=200, record=True, color_system=None)
    render_terminal(down_report, console)
    text = console.export_text()
    assert "no wrong answers" not in text
    line = next(line for line in text.splitlines() if "infrastructure error" in line and "local-down" in line)
    assert "4 of 4 samples" in line and "Connection error" in line


def test_the_cost_of_calls_that_never_got_a_reply_is_unknown(down_report: Report) -> None:
    (group,) = down_report.groups
    assert group.usage.cost_usd is None and group.usage.cost_unknown == 4  # not $0: the calls were made
    usage = next(line for line in render_markdown(down_report).splitlines() if line.startswith("| local-down | 4 |"))
    assert usage.endswith("| unknown | unknown |")


def test_the_html_report_shows_the_infrastructure_error(down_report: Report) -> None:
    from evalkit.report.html import render_html

    html = render_html(down_report, [])
    assert "No wrong answers to diagnose" not in html
    assert "4 of 4 samples were infrastructure errors" in html and "Connection error" in html
    assert "No sample finished, so none can be diagnosed" in html
