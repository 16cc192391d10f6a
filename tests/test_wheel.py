"""The wheel ships the built-in suites, their data and the built-in rubrics.

An editable install reads them from the checkout, so only an installed wheel shows whether they ship. The test
builds an sdist (checking that MANIFEST.in puts the built-in folders in it) and a wheel, installs the wheel into
a fresh virtual environment and runs evalkit from a folder outside the checkout.

All of it is offline: the build uses this environment's setuptools (no build isolation, so no download), and
the fresh environment gets no pip and no dependencies of its own. A ``.pth`` file appends this environment's
site-packages after the wheel's, for the dependencies: a folder named in a ``.pth`` file is not a site folder,
so the ``.pth`` files in it (the editable install's import hook) are not run, and the ``evalkit`` imported is
the wheel's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from evalkit.contracts import builtin
from evalkit.contracts.builtin import builtin_dir
from evalkit.contracts.loader import load_suite

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "evalkit", "suites", "rubrics")
"""What an sdist is built from (the checkout minus its tests, caches and virtual environment)."""
MIN_SETUPTOOLS = (77, 0, 1)
SUITES = ("finance-single", "finance-multi")
LITTER = ("suites/data/finance/__pycache__/generate.cpython-311.pyc", "suites/finance-single/.DS_Store")
SHIPPED = ("suites/finance-single/suite.yaml", "suites/data/finance/catalog.yaml", "rubrics/answer.yaml")

PROBE = """
import json, sys
import evalkit
from evalkit.api import get_samples, get_scores, list_runs
from evalkit.contracts.loader import load_suite
from evalkit.contracts.rubric import find_rubric

store = sys.argv[1]
run = list_runs(store)[0]
_, samples = get_samples(store, run.run_id, with_events=False)
_, scores = get_scores(store, run.run_id, rubric="tool-discipline")
print(json.dumps({
    "evalkit": evalkit.__file__,
    "modules": sorted({m.__file__ for n, m in sys.modules.items() if n.startswith("evalkit") and m.__file__}),
    "sys_path": sys.path,
    "suites": {n: [str(load_suite(n).path), load_suite(n).content_hash] for n in sys.argv[2:]},
    "rubric": str(find_rubric("tool-discipline")),
    "samples": [s.status for s in samples],
    "scored": sorted({s.sample_id for s in scores}),
}))
"""
"""Run by the installed package after the run: where evalkit and the built-ins came from, what was stored."""


def _build_problem() -> str | None:
    """Why the wheel cannot be built offline here, or None (the dev extra installs a new enough setuptools)."""
    try:
        installed = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return "setuptools is not installed (the dev extra installs it)"
    if tuple(int(x) for x in re.findall(r"\d+", installed)[:3]) < MIN_SETUPTOOLS:
        return f"setuptools {installed} is older than {'.'.join(map(str, MIN_SETUPTOOLS))}"
    return None


def _run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"{' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _outside_env(tmp: Path) -> dict[str, str]:
    """The environment of a user outside the checkout: nothing pointing into it, its own store and caches."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("EVALKIT_", "COV_CORE_", "PYTHON")) and k not in ("VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")
    }
    env.update(
        EVALKIT_CACHE_DIR=str(tmp / "cache"),
        EVALKIT_STORE=str(tmp / "store.duckdb"),
        EVALKIT_REPORTS_DIR=str(tmp / "reports"),
        COLUMNS="200",
    )
    return env


def _build(tmp: Path) -> tuple[Path, Path]:
    """An sdist and a wheel of a copy of the checkout, with stray caches planted in it that must not ship."""
    src, dist = tmp / "src", tmp / "dist"
    src.mkdir()
    for name in SOURCE:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(path, src / name)
    for litter in LITTER:
        (src / litter).parent.mkdir(parents=True, exist_ok=True)
        (src / litter).write_bytes(b"\0")
    env = _outside_env(tmp)
    code = f"from setuptools import build_meta; print(build_meta.build_sdist({str(dist)!r}))"
    sdist = dist / _run([sys.executable, "-c", code], src, env).strip().splitlines()[-1]
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, src], tmp, env)
    (wheel,) = dist.glob("evalkit-*.whl")
    return sdist, wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A virtual environment with the wheel installed and this environment's packages behind it."""
    venv, env = tmp / "venv", _outside_env(tmp)
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp, env)
    python = venv / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env).strip()
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(purelib) / "zz-evalkit-dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel], tmp, env)
    return venv


def test_builtin_dir_prefers_the_package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "builtin_data" / "rubrics").mkdir(parents=True)
    monkeypatch.setattr(builtin, "files", lambda _: tmp_path)
    assert builtin_dir("rubrics") == tmp_path / "builtin_data" / "rubrics"
    assert builtin_dir("suites") == ROOT / "suites"  # no shipped copy of that kind: the checkout's


def test_builtin_dir_in_the_checkout_is_its_top_level_folders() -> None:
    assert builtin_dir("suites") == ROOT / "suites"
    assert builtin_dir("rubrics") == ROOT / "rubrics"


@pytest.mark.wheel
def test_the_installed_wheel_runs_the_builtin_suites_outside_the_checkout(tmp_path: Path) -> None:
    problem = _build_problem()
    if problem is not None:
        pytest.skip(f"cannot build the wheel offline: {problem}")
    sdist, wheel = _build(tmp_path)
    tables = len(list((ROOT / "suites" / "data" / "finance" / "tables").iterdir()))
    with tarfile.open(sdist) as tar:
        in_sdist = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = [
            n.removeprefix("evalkit/builtin_data/") for n in whl.namelist() if n.startswith("evalkit/builtin_data/")
        ]
    for files, where in ((in_sdist, "sdist"), (in_wheel, "wheel")):
        for needed in SHIPPED:
            assert needed in files, f"{needed} not in the {where}"
        assert len([n for n in files if n.startswith("suites/data/finance/tables/")]) == tables, where
        assert not [n for n in files if n in LITTER], f"caches or dotfiles in the {where}"
    assert "setup.py" in in_sdist and "MANIFEST.in" in in_sdist

    venv = _fresh_venv(tmp_path, wheel)
    site = (venv / "lib").resolve()
    env = _outside_env(tmp_path)
    evalkit = venv / "bin" / "evalkit"

    listed = _run([evalkit, "suite", "list"], tmp_path, env)
    for name in SUITES:
        assert re.search(rf"^\s*{name}\s", listed, re.M), f"{name} not listed by the installed package:\n{listed}"

    store = tmp_path / "s.duckdb"
    ran = _run(
        [evalkit, "run", "finance-single", "--model", "scripted/disciplined", "--limit", "5", "--store", store,
         "--no-report", "--no-progress", "--rubric", "tool-discipline"],
        tmp_path,
        env,
    )  # fmt: skip
    assert re.search(r"scripted/disciplined\s*│\s*5\s*│\s*\d+\.\d%", ran), (
        f"no summary of 5 samples with accuracy:\n{ran}"
    )

    facts = json.loads(_run([venv / "bin" / "python", "-c", PROBE, store, *SUITES], tmp_path, env))
    assert Path(facts["evalkit"]).resolve().is_relative_to(site), (
        f"evalkit imported from {facts['evalkit']}, not the wheel"
    )
    assert all(Path(m).resolve().is_relative_to(site) for m in facts["modules"]), facts["modules"]
    assert not [p for p in facts["sys_path"] if p and Path(p).resolve() in (ROOT, ROOT / "evalkit")], facts["sys_path"]
    for name in SUITES:
        path, content_hash = facts["suites"][name]
        assert Path(path).resolve().is_relative_to(site), f"{name} found at {path}, not in the installed package"
        # The shipped copy is the same suite: pip compiled its generator script, which must not change the hash.
        assert content_hash == load_suite(ROOT / "suites" / name).content_hash, name
    assert Path(facts["rubric"]).resolve().is_relative_to(site), facts["rubric"]
    assert facts["samples"] == ["ok"] * 5, facts["samples"]
    assert len(facts["scored"]) == 5, facts["scored"]
