"""What one tool call costs the harness, and what the calculator spends on expressions built to be expensive
(a benchmark, not a test: the tests check behaviour, this prints the figures).

    python bench/bench_tools.py [--calls 2000]

On the mini fixture catalog (``tests/fixtures/mini/data``, built into a temporary cache), one environment:
``get_table_names``, ``get_table_info`` (described once, then reused) and ``calculator``, each called
``--calls`` times; then the calculator on huge powers it must refuse before computing them. Prints
microseconds per call, then one JSON line with every number.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from evalkit.contracts.suite import SuiteSettings
from evalkit.env.calculator import CalculatorError, calculate
from evalkit.env.database import build_database
from evalkit.env.tools import FinanceEnvironment

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "tests" / "fixtures" / "mini" / "data"
TOOL_CALLS: dict[str, tuple[str, dict[str, str]]] = {
    "get_table_names": ("get_table_names", {"company": "acme"}),
    "get_table_info": ("get_table_info", {"table": "acme_income_statement"}),
    "calculator": ("calculator", {"expression": "(1,234.5 - 1000) / 1000"}),
}
HUGE_POWERS = (
    "9**9**9**9",
    "2**2**2**2**2**2**2",
    "((((10**10)**10)**10)**10)**10",
    "(-1.0000001)**(10**15)",
    "1.0000000001**(10**12)",
    "exp(exp(exp(10)))",
    "max(" + ",".join(["9**9**9"] * 20) + ")",
)


def per_call_us(call: Callable[[], object], calls: int) -> float:
    """Mean wall time of ``call`` in microseconds, after one warm-up call."""
    call()
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls * 1e6


def _calculate(text: str) -> None:
    with contextlib.suppress(CalculatorError):
        calculate(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per tool and per expression")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as cache:
        built = build_database(CATALOG, Path(cache))
        with FinanceEnvironment(built, SuiteSettings()) as env:
            for label, (name, arguments) in TOOL_CALLS.items():
                figures[f"tool {label}"] = per_call_us(lambda n=name, a=arguments: env.call(n, a), args.calls)
    for text in HUGE_POWERS:
        figures[f"calculate {text[:40]}"] = per_call_us(lambda t=text: _calculate(t), args.calls)
    width = max(len(k) for k in figures)
    for label, us in figures.items():
        print(f"{label:<{width}}  {us:9.1f} µs/call")
    print(json.dumps({"calls": args.calls, "us_per_call": {k: round(v, 2) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
