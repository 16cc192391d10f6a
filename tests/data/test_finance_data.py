"""Tests of the built-in finance data and task suites (``suites/data/finance/generate.py``).

The generator computes every gold answer from its in-memory model; these tests recompute each one from the
committed CSVs through DuckDB (the task's reference SQL plus its ``compute`` expression) and compare.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import math
import operator
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "suites"
DATA = SUITES / "data" / "finance"
GENERATOR = DATA / "generate.py"
SUITE_NAMES = ("finance-single", "finance-multi")
UNIT_THOUSANDS = {"USD thousands": Decimal(1), "USD millions": Decimal(1000), "USD billions": Decimal(1_000_000)}
YEARS = range(2020, 2025)


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("finance_generate", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return yaml.safe_load((DATA / "catalog.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def suites() -> dict[str, dict[str, Any]]:
    out = {}
    for name in SUITE_NAMES:
        suite = yaml.safe_load((SUITES / name / "suite.yaml").read_text(encoding="utf-8"))
        tasks = yaml.safe_load((SUITES / name / suite["tasks"]).read_text(encoding="utf-8"))["tasks"]
        out[name] = {"suite": suite, "tasks": tasks}
    return out


@pytest.fixture(scope="module")
def db(catalog: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for t in catalog["tables"]:
        cols = ", ".join(f'"{c["name"]}" {c["type"]}' for c in t["columns"])
        con.execute(f'CREATE TABLE "{t["name"]}" ({cols})')
        types = ", ".join(f"'{c['name']}': '{c['type']}'" for c in t["columns"])
        path = (DATA / t["file"]).as_posix()
        con.execute(
            f"INSERT INTO \"{t['name']}\" SELECT * FROM read_csv('{path}', header = true, columns = {{{types}}})"
        )
    return con


# ----------------------------------------------------------------------------------------- helpers


def amount(text: str) -> Decimal | None:
    """A stored amount ("1234.5", "$1,234.5", "(12.0)", "") as a Decimal; None when empty."""
    s = text.strip()
    if not s:
        return None
    neg = s.startswith("(") and s.endswith(")")
    s = s.strip("()").replace("$", "").replace(",", "")
    d = Decimal(s)
    return -d if neg else d


def read_rows(catalog: dict[str, Any], table: str) -> list[dict[str, str]]:
    entry = next(t for t in catalog["tables"] if t["name"] == table)
    with (DATA / entry["file"]).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Company:
    """Reads one company's tables through the generator's layout (table and column names)."""

    def __init__(self, cfg: dict[str, Any], catalog: dict[str, Any]) -> None:
        self.co = gen.Co(cfg)
        self.cfg = cfg
        self.catalog = catalog
        self._cache: dict[str, list[dict[str, str]]] = {}

    def rows(self, kind: str) -> list[dict[str, str]]:
        if kind not in self._cache:
            self._cache[kind] = read_rows(self.catalog, self.co.t(kind))
        return self._cache[kind]

    def k(self, kind: str, key: str, row: dict[str, str]) -> Decimal:
        """A money value in USD thousands (or a plain number for other columns)."""
        c = self.co.col(kind, key)
        v = amount(row[c.name])
        assert v is not None, (self.co.t(kind), c.name, row)
        return v * UNIT_THOUSANDS.get(c.unit, Decimal(1))

    def year(self, kind: str, y: int) -> dict[str, str]:
        (row,) = [r for r in self.rows(kind) if int(r["fiscal_year"]) == y]
        return row


@pytest.fixture(scope="module")
def companies(catalog: dict[str, Any]) -> list[Company]:
    return [Company(cfg, catalog) for cfg in gen.COMPANIES]


_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_FUNCS = {"abs": abs, "round": round, "min": min, "max": max, "sqrt": math.sqrt, "log": math.log}


def safe_eval(expr: str, names: dict[str, Any]) -> float:
    """Evaluate a calculator expression: numbers, bound names, + - * / **, and a few functions."""

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise ValueError(f"unknown name {node.id!r} in {expr!r}")
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCS
            and not node.keywords
        ):
            return _FUNCS[node.func.id](*[ev(a) for a in node.args])
        raise ValueError(f"disallowed syntax {ast.dump(node)} in {expr!r}")

    return float(ev(ast.parse(expr, mode="eval")))


def run_reference(con: duckdb.DuckDBPyConnection, task: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, Any] = {}
    for step in task["reference"]["steps"]:
        sql = step["sql"]
        low = sql.lower()
        assert low.startswith("select ") and "select *" not in low, sql
        assert " where " in low or " group by " in low, sql
        result = con.execute(sql).fetchall()
        if len(result) == 1 and len(result[0]) == 1:
            names[step["bind"]] = result[0][0]
        else:
            names[step["bind"]] = [r[0] for r in result]
    return names


def within(expected: float, got: float, tol: dict[str, float]) -> bool:
    diff = abs(expected - got)
    return ("abs" in tol and diff <= tol["abs"]) or ("rel" in tol and diff <= tol["rel"] * abs(expected))


# ----------------------------------------------------------------------------------------- generator


def test_generator_is_deterministic(tmp_path: Path) -> None:
    gen.generate(tmp_path, gen.DEFAULT_SEED)
    pairs = [(tmp_path / "data" / "finance" / "catalog.yaml", DATA / "catalog.yaml")]
    fresh_tables = sorted((tmp_path / "data" / "finance" / "tables").glob("*.csv"))
    committed_tables = sorted((DATA / "tables").glob("*.csv"))
    assert [p.name for p in fresh_tables] == [p.name for p in committed_tables]
    pairs += [(p, DATA / "tables" / p.name) for p in fresh_tables]
    for name in SUITE_NAMES:
        for f in ("suite.yaml", "tasks.yaml"):
            pairs.append((tmp_path / name / f, SUITES / name / f))
    for fresh, committed in pairs:
        assert fresh.read_bytes() == committed.read_bytes(), f"{committed} differs from a fresh generation"


def test_other_seed_also_builds(tmp_path: Path) -> None:
    summary = gen.generate(tmp_path, 7)
    assert len(summary["finance-single"]) >= 85 and len(summary["finance-multi"]) >= 45


# ----------------------------------------------------------------------------------------- catalog


def test_catalog_shape(catalog: dict[str, Any]) -> None:
    assert catalog["name"] == "finance"
    assert set(catalog) == {"name", "description", "companies", "tables"}
    ids = [c["id"] for c in catalog["companies"]]
    assert len(ids) >= 8 and len(set(ids)) == len(ids)
    for c in catalog["companies"]:
        assert set(c) == {"id", "name", "ticker", "sector", "fiscal_year_end"}
    assert len({c["fiscal_year_end"] for c in catalog["companies"]}) >= 3
    per_company = Counter(t["company"] for t in catalog["tables"])
    assert set(per_company) == set(ids)
    assert min(per_company.values()) >= 8
    for t in catalog["tables"]:
        assert set(t) == {"name", "company", "file", "description", "columns"}
        assert t["name"].startswith(t["company"] + "_")
        for c in t["columns"]:
            assert set(c) <= {"name", "type", "unit", "description"}
            assert c["type"] in ("INTEGER", "BIGINT", "DOUBLE", "VARCHAR", "DATE", "BOOLEAN")
            if "$1,234.5" in c.get("description", ""):
                assert c["type"] == "VARCHAR"


def test_every_table_has_its_csv_with_the_catalog_columns(catalog: dict[str, Any]) -> None:
    files = {(DATA / t["file"]).resolve() for t in catalog["tables"]}
    assert files == {p.resolve() for p in (DATA / "tables").glob("*.csv")}
    for t in catalog["tables"]:
        with (DATA / t["file"]).open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            rows = list(reader)
        assert header == [c["name"] for c in t["columns"]], t["name"]
        assert rows and all(len(r) == len(header) for r in rows), t["name"]
        assert {int(r[0]) for r in rows} == set(YEARS), t["name"]


def test_mess_is_present(catalog: dict[str, Any]) -> None:
    text_cols = [c for t in catalog["tables"] for c in t["columns"] if "$1,234.5" in c.get("description", "")]
    assert len(text_cols) >= 5
    units = {c.get("unit") for t in catalog["tables"] for c in t["columns"]}
    assert {"USD thousands", "USD millions", "USD billions", "shares millions", "persons"} <= units
    names = {
        t["name"].split("_", 1)[1]
        if not t["name"].startswith(("helix_bio", "cobalt_pay"))
        else t["name"].split("_", 2)[2]
        for t in catalog["tables"]
    }
    assert {"revenue_by_segment", "segment_revenue"} <= names
    cols = {c["name"] for t in catalog["tables"] for c in t["columns"]}
    assert {
        "net_income",
        "net_income_attributable",
        "operating_income",
        "operating_expenses",
        "total_debt",
        "long_term_debt",
    } <= cols


# ----------------------------------------------------------------------------------------- identities


def test_income_statement_identities(companies: list[Company]) -> None:
    for c in companies:
        for r in c.rows("is"):
            k = lambda key, c=c, r=r: c.k("is", key, r)  # noqa: E731
            assert k("gross_profit") == k("revenue") - k("cost_of_revenue")
            assert k("total_opex") == sum(k(o[0]) for o in c.cfg["opex"])
            assert k("operating_income") == k("gross_profit") - k("total_opex")
            assert k("pretax_income") == k("operating_income") - k("interest_expense") + k("other_income")
            assert k("net_income") == k("pretax_income") - k("income_tax")
            if c.co.nci:
                assert k("net_income_attr") == k("net_income") - k("nci")
            gm = k("gross_profit") / k("revenue")
            om = k("operating_income") / k("revenue")
            assert Decimal("0.1") < gm < Decimal("0.95") and Decimal("-0.3") < om < gm
            assert k("interest_expense") > 0


def test_balance_sheet_identities(companies: list[Company]) -> None:
    for c in companies:
        for r in c.rows("bs"):
            y = int(r["fiscal_year"])
            k = lambda key, c=c, r=r: c.k("bs", key, r)  # noqa: E731
            assert k("tca") == k("cash") + k("sti") + k("ar") + k("inv") + k("oca")
            assert k("ta") == k("tca") + k("ppe") + k("gw") + k("onca")
            assert k("tcl") == k("ap") + k("accrued") + k("deferred") + k("cur_debt")
            assert k("tl") == k("tcl") + k("ltd") + k("oncl")
            assert k("ta") == k("tl") + k("total_equity")
            assert k("tle") == k("ta")
            assert k("total_equity") > 0
            if c.co.has("bs", "total_debt"):
                assert k("total_debt") == k("cur_debt") + k("ltd")
            debt_rows = [d for d in c.rows("debt") if int(d["fiscal_year"]) == y]
            assert sum(c.k("debt", "principal", d) for d in debt_rows) == k("cur_debt") + k("ltd")
            assert sum(c.k("debt", "current", d) for d in debt_rows) == k("cur_debt")


def test_cash_flow_identities(companies: list[Company]) -> None:
    for c in companies:
        sign = -1 if c.cfg["capex_positive"] else 1
        for r in c.rows("cf"):
            y = int(r["fiscal_year"])
            k = lambda key, c=c, r=r: c.k("cf", key, r)  # noqa: E731
            assert k("cfo") == k("net_income") + k("da") + k("sbc") + k("wc") + k("other_op")
            assert k("cfi") == sign * k("capex") + k("acq") + k("other_inv")
            assert k("cff") == k("debt_in") + k("debt_out") + k("buyback") + k("dividends") + k("other_fin")
            assert k("net_change") == k("cfo") + k("cfi") + k("cff")
            assert k("net_income") == c.k("is", "net_income", c.year("is", y))
            assert k("sbc") == c.k("sh", "sbc", c.year("sh", y))
            if y > 2020:
                cash = c.k("bs", "cash", c.year("bs", y)) - c.k("bs", "cash", c.year("bs", y - 1))
                assert k("net_change") == cash


def test_breakdowns_sum_to_totals(companies: list[Company]) -> None:
    for c in companies:
        for y in YEARS:
            rev = c.k("is", "revenue", c.year("is", y))
            segs = [s for s in c.rows("seg") if int(s["fiscal_year"]) == y]
            assert len(segs) >= 3
            assert sum(c.k("seg", "revenue", s) for s in segs) == rev
            reg = c.year("reg", y)
            assert sum(c.k("reg", key, reg) for key, *_ in c.cfg["regions"]) == rev
            hc = c.year("hc", y)
            assert sum(c.k("hc", key, hc) for key, _ in c.cfg["depts"]) == c.k("hc", "total", hc)
            quarters = [q for q in c.rows("q") if int(q["fiscal_year"]) == y]
            assert len(quarters) == 4
            for key in ("revenue", "gross_profit", "operating_income", "net_income"):
                cells = [q[c.co.col("q", key).name] for q in quarters]
                if any(not v for v in cells):
                    assert y == 2020  # the only NULLs are in a year no task queries
                    continue
                assert sum(c.k("q", key, q) for q in quarters) == c.k("is", key, c.year("is", y))


# ----------------------------------------------------------------------------------------- suites


def test_suite_files(suites: dict[str, dict[str, Any]]) -> None:
    for name, turns in (("finance-single", 20), ("finance-multi", 30)):
        s = suites[name]["suite"]
        assert s["name"] == name and s["version"] == "1.0" and s["database"] == "../data/finance"
        assert s["settings"] == {
            "max_turns": turns,
            "row_cap": 50,
            "refuse_select_star": True,
            "refuse_unfiltered": True,
        }
        assert "system_prompt" not in s["settings"]


def test_task_counts_and_kinds(suites: dict[str, dict[str, Any]], catalog: dict[str, Any]) -> None:
    single, multi = suites["finance-single"]["tasks"], suites["finance-multi"]["tasks"]
    assert len(single) >= 85 and len(multi) >= 45
    assert [t["id"] for t in single] == [f"fs-{i:03d}" for i in range(1, len(single) + 1)]
    assert [t["id"] for t in multi] == [f"fm-{i:03d}" for i in range(1, len(multi) + 1)]
    tables = {t["name"] for t in catalog["tables"]}
    company_ids = {c["id"] for c in catalog["companies"]}
    for t in single:
        assert t["kind"] == "single_table" and len(t["tables"]) == 1
    for t in multi:
        assert t["kind"] == "multi_table" and len(t["tables"]) >= 2
    for t in single + multi:
        assert set(t["tables"]) <= tables
        assert t["difficulty"] in ("easy", "medium", "hard")
        if "company" in t:
            assert t["company"] in company_ids
            assert all(x.startswith(t["company"] + "_") for x in t["tables"])
    for tasks in (single, multi):
        assert {t["difficulty"] for t in tasks} == {"easy", "medium", "hard"}
        assert {t["company"] for t in tasks if "company" in t} == company_ids
    assert {t["answer"]["kind"] for t in single} >= {"number", "text", "list"}
    assert {t["answer"]["kind"] for t in multi} == {"number", "text", "list", "template"}
    assert sum(t["answer"]["kind"] == "template" for t in multi) >= 6
    units = {t["answer"].get("unit") for t in single + multi}
    assert {"USD thousands", "USD millions", "USD billions", "%", "x", "count"} <= units
    assert any("company" not in t for t in multi)


def test_reference_solutions_match_answers(db: duckdb.DuckDBPyConnection, suites: dict[str, dict[str, Any]]) -> None:
    failures = []
    for name in SUITE_NAMES:
        for t in suites[name]["tasks"]:
            names = run_reference(db, t)
            a, compute = t["answer"], t["reference"].get("compute")
            last = names[t["reference"]["steps"][-1]["bind"]]
            if a["kind"] == "number":
                got = safe_eval(compute, names) if compute else float(last)
                if not within(a["value"], got, a["tolerance"]):
                    failures.append(f"{t['id']}: expected {a['value']} got {got}")
            elif a["kind"] == "text":
                assert compute is None
                if str(last) != a["value"]:
                    failures.append(f"{t['id']}: expected {a['value']!r} got {last!r}")
            elif a["kind"] == "list":
                assert compute is None
                got_list = [str(v) for v in (last if isinstance(last, list) else [last])]
                if got_list != list(a["value"]):
                    failures.append(f"{t['id']}: expected {a['value']} got {got_list}")
            else:
                assert set(compute) == set(a["blanks"])
                for blank in a["template"].split("{")[1:]:
                    assert blank.split("}")[0] in a["blanks"]
                for bname, spec in a["blanks"].items():
                    got = safe_eval(compute[bname], names)
                    if not within(spec["value"], got, spec["tolerance"]):
                        failures.append(f"{t['id']}.{bname}: expected {spec['value']} got {got}")
    assert not failures, "\n".join(failures)
