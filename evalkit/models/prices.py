"""Token prices from litellm's price table, read without importing litellm.

evalkit always runs litellm on its bundled price map (``LITELLM_LOCAL_MODEL_COST_MAP``), the JSON file
``model_prices_and_context_window_backup.json`` inside the litellm package. The direct client never needs the
rest of litellm (seconds to import, and most of a run's resident memory), so the file is read here as litellm
reads it: an entry with ``alias_of`` takes the prices of the entry it names. When litellm is already imported its
own table is used. ``tests/models/test_prices.py`` checks that both give every model the same prices.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from evalkit.trace.types import Usage

SCRIPTED_PREFIX = "scripted/"
PRICE_FILE = "model_prices_and_context_window_backup.json"


@cache
def _bundled_table() -> dict[str, Any]:
    spec = importlib.util.find_spec("litellm")  # finds the package without running its __init__
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in locations:
        path = Path(folder) / PRICE_FILE
        if path.is_file():
            table = json.loads(path.read_text(encoding="utf-8"))
            return table if isinstance(table, dict) else {}
    return {}


def _entry(name: str) -> dict[str, Any] | None:
    litellm = sys.modules.get("litellm")
    table = getattr(litellm, "model_cost", None) if litellm is not None else None
    if isinstance(table, dict) and table:
        found = table.get(name)
        return found if isinstance(found, dict) else None
    return bundled_entry(name)


def bundled_entry(name: str) -> dict[str, Any] | None:
    """The model's entry of the bundled price file, its alias resolved as litellm resolves it."""
    bundled = _bundled_table()
    entry, seen = bundled.get(name), {name}
    merged: dict[str, Any] = {}
    while isinstance(entry, dict):
        merged = {**entry, **merged}
        target = entry.get("alias_of")
        if not isinstance(target, str) or target in seen:
            break
        seen.add(target)
        entry = bundled.get(target)
    return merged or None


@cache
def token_prices(model: str) -> tuple[float, float] | None:
    """(input, output) USD per token from litellm's price table, or None when the model is unknown."""
    if model.startswith(SCRIPTED_PREFIX):
        return (0.0, 0.0)
    for name in (model, model.split("/", 1)[-1]):
        info = _entry(name)
        if info and "input_cost_per_token" in info:
            return (float(info.get("input_cost_per_token") or 0.0), float(info.get("output_cost_per_token") or 0.0))
    return None


def call_cost(model: str, usage: Usage) -> float | None:
    prices = token_prices(model)
    if prices is None:
        return None
    return usage.prompt_tokens * prices[0] + usage.completion_tokens * prices[1]
