"""Prices come from litellm's bundled price file without importing litellm, and agree with litellm's own table;
a run over the direct client never imports litellm (its import is most of a run's resident memory)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from evalkit.models import prices
from evalkit.models.gateway import litellm_module

ROOT = Path(__file__).resolve().parents[2]


def test_the_bundled_file_gives_every_model_litellms_prices() -> None:
    table = litellm_module().model_cost
    priced = {
        k: v
        for k, v in table.items()
        if isinstance(v, dict) and "input_cost_per_token" in v and not k.startswith(prices.SCRIPTED_PREFIX)
    }  # evalkit registers its scripted agents with litellm itself
    assert len(priced) > 1000
    differ = []
    for name, info in priced.items():
        mine = prices.bundled_entry(name) or {}
        want = (info.get("input_cost_per_token"), info.get("output_cost_per_token"))
        if (mine.get("input_cost_per_token"), mine.get("output_cost_per_token")) != want:
            differ.append(name)
    assert differ == []
    aliased = [k for k, v in prices._bundled_table().items() if isinstance(v, dict) and "alias_of" in v]
    assert aliased, "the price file has alias entries: the alias resolution is what this test checks"


def test_a_run_over_the_direct_client_never_imports_litellm(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        import evalkit
        from evalkit.contracts.model_config import ModelConfig
        from tests.fakeserver import serve

        reply = {{"content": "FINAL ANSWER: 1350 USD millions"}}
        with serve([reply]) as (base, _):
            model = ModelConfig(name="local", model="openai/qwen3-4b", api_base=base)
            result = evalkit.run_suite({str(ROOT / "tests" / "fixtures" / "mini" / "suite")!r}, [model], tasks="t1",
                                       store={str(tmp_path / "s.duckdb")!r}, use_cache=False, keep_samples=True)
        assert result.samples[0].correct is True, result.samples[0]
        print("litellm" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
