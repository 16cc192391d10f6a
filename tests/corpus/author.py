"""Authoring script of the labelled trace corpus (``traces.jsonl`` and ``labels.yaml`` next to it).

Every episode below is written by hand: what the agent said and which tool calls it made in which turn, and
the expected verdict of every deterministic criterion of ``rubrics/tool-discipline.yaml`` and
``rubrics/answer.yaml`` plus the expected correctness, labelled from the criteria's descriptions. Only the
tool results are filled in from the built-in ``finance-single`` suite's own tools (what an agent would have
seen), unless an episode gives a result by hand (a runtime's message for arguments that are not JSON, a
hand-off tool's reply). Run ``python tests/corpus/author.py`` to rewrite both files; the test reads the files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evalkit.contracts.loader import load_suite
from evalkit.env.database import build_database
from evalkit.env.tools import FinanceEnvironment

HERE = Path(__file__).parent
SYSTEM = (
    "You are a financial analyst with read-only SQL access to companies' 10-K tables. Use the tools to look up "
    "every figure; end with a line 'FINAL ANSWER: <answer>'."
)
CRITERIA = [
    "discovered_tables",
    "right_tables",
    "inspected_schema",
    "valid_identifiers",
    "no_unfounded_answer",
    "recovered_after_error",
    "no_repeated_calls",
    "safe_sql",
    "efficiency",
    "answer_protocol",
    "answer_correct",
    "answer_format",
    "answer_grounded",
]
SHORT = dict(
    zip(
        ["D", "RT", "IS", "VI", "NU", "RE", "NR", "SS", "EF", "AP", "AC", "AF", "AG"],
        CRITERIA,
        strict=True,
    )
)
CLEAN = {c: "pass" for c in CRITERIA} | {"recovered_after_error": "na"}


@dataclass
class Call:
    name: str
    args: dict[str, Any] | None = None
    raw: str | None = None  # arguments exactly as the model emitted them (e.g. truncated JSON)
    result: str | None = None  # a result given by hand instead of the suite's tool
    as_object: bool = False  # arguments as a JSON object rather than a JSON string
    no_result: bool = False  # the log ends before the tool's result


@dataclass
class Turn:
    content: str | list[dict[str, str]] | None = None  # a string or a list of text parts
    calls: list[Call] = field(default_factory=list)


@dataclass
class Episode:
    id: str
    question: str
    turns: list[Turn]
    labels: str = ""
    correct: bool | None = True
    task_id: str | None = None
    expected: Any = None
    model: str = "prod-agent"
    tail: list[dict[str, Any]] = field(default_factory=list)  # messages after the agent's last turn (a user)
    system_role: str = "system"
    note: str = ""


def L(company: str | None = None) -> Call:
    return Call("get_table_names", {"company": company} if company else {})


def I(table: str) -> Call:  # noqa: E743 - short names keep the episodes readable
    return Call("get_table_info", {"table": table})


def Q(sql: str) -> Call:
    return Call("sql_query", {"query": sql})


def C(expr: str) -> Call:
    return Call("calculator", {"expression": expr})


def T(content: str | list[dict[str, str]] | None = None, *calls: Call) -> Turn:
    return Turn(content, list(calls))


NW = "northwind_income_statement"
NW_REV21 = f"SELECT total_revenue FROM {NW} WHERE fiscal_year = 2021"
MER = "meridian_statement_of_operations"
COB = "cobalt_pay_income_statement"
COB_REV21 = f"SELECT total_revenue FROM {COB} WHERE fiscal_year = 2021"
HLX = "helix_bio_statement_of_operations"
Q_FS001 = "Report the total revenue of Northwind Analytics Inc. for fiscal year 2021, in USD millions."
Q_FS002 = (
    "What was the year-over-year growth rate of Northwind Analytics' research and development expense in fiscal "
    "year 2021 (versus fiscal year 2020)? Answer in %."
)


def task_question(task_id: str) -> str:
    return next(t.question for t in SUITE.tasks if t.id == task_id)


SUITE = load_suite("finance-single")


def E(
    eid: str, task: str | None, turns: list[Turn], labels: str = "", correct: bool | None = True, **kw: Any
) -> Episode:
    """An episode of suite task ``task`` (or, with ``task=None``, of ``kw["question"]``)."""
    question = kw.pop("question", None) or task_question(str(task))
    return Episode(eid, question, turns, labels, correct, task_id=task, **kw)


FINAL_NO_DATA = "FINAL ANSWER: unknown"

EPISODES: list[Episode] = [
    # --- clean solutions, with and without the marker -------------------------------------------------
    E(
        "c01",
        "fs-001",
        [T(None, L("northwind")), T(None, I(NW)), T(None, Q(NW_REV21)), T("FINAL ANSWER: 2,167.1 USD millions")],
    ),
    E(
        "c02",
        "fs-001",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(NW_REV21)),
            T("Northwind's total revenue for fiscal year 2021 was $2,167.1 million."),
        ],
        "AP=fail AF=fail",
    ),
    E(
        "c03",
        "fs-002",
        [
            T(None, L("Northwind Analytics")),
            T(None, I(NW)),
            T(
                "Fetching both years.",
                Q(f"SELECT research_and_development FROM {NW} WHERE fiscal_year = 2021"),
                Q(f"SELECT research_and_development FROM {NW} WHERE fiscal_year = 2020"),
            ),
            T(None, C("(472.8 - 392.6) / 392.6 * 100")),
            T(
                "<think>472.8 vs 392.6, calculator says 20.43. That is the growth.</think>\n"
                "R&D expense grew about 20.43% year over year in fiscal 2021."
            ),
        ],
        "D=fail RE=pass AP=fail AF=fail",
        note="get_table_names refuses the company name; it moves on to the schema",
    ),
    E(
        "c04",
        "fs-002",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT fiscal_year, research_and_development FROM {NW} WHERE fiscal_year IN (2020, 2021)")),
            T(None, C("(472.8 - 392.6) / 392.6 * 100")),
            T(
                "R&D expense was 392.6 in FY2020 and 472.8 in FY2021. Dividing the change by the FY2020 base, "
                "the growth rate is therefore 20.43%."
            ),
        ],
        "AP=fail AF=fail",
        note="worked answer without marker: the conclusion is the last figure",
    ),
    E(
        "c05",
        "fs-003",
        [
            T(None, L("NWA")),
            T(None, I(NW)),
            T(None, Q(f"SELECT gross_profit, total_revenue FROM {NW} WHERE fiscal_year = 2024")),
            T(None, C("2534.8 / 3400.8 * 100")),
            T("Gross margin: 2534.8 / 3400.8.\nFINAL ANSWER: 74.54%"),
        ],
    ),
    E(
        "c06",
        "fs-004",
        [
            T(None, L("northwind")),
            T(None, I("northwind_revenue_by_segment")),
            T(
                None,
                Q(
                    "SELECT segment FROM northwind_revenue_by_segment WHERE fiscal_year = 2021 "
                    "ORDER BY revenue ASC LIMIT 1"
                ),
            ),
            T("FINAL ANSWER: Professional Services"),
        ],
        "AG=na",
    ),
    E(
        "c07",
        "fs-004",
        [
            T(None, I("northwind_revenue_by_segment")),
            T(
                None,
                Q(
                    "SELECT segment, revenue FROM northwind_revenue_by_segment WHERE fiscal_year = 2021 "
                    "ORDER BY revenue"
                ),
            ),
            T("The lowest-revenue segment in fiscal 2021 was Professional Services."),
        ],
        "D=fail AP=fail AF=fail AG=na",
        note="skips discovery but knows the table",
    ),
    E(
        "c08",
        "fs-001",
        [T(None, Q(NW_REV21)), T("FINAL ANSWER: 2167.1 USD millions")],
        "D=fail IS=fail RT=fail",
        note="guesses the table name right, reads no schema",
    ),
    E(
        "c09",
        "fs-055",
        [
            T(None, L("meridian")),
            T(None, I(MER)),
            T(None, Q(f"SELECT net_income, total_revenue FROM {MER} WHERE fiscal_year = 2021")),
            T(None, C("306.7 / 3387.3 * 100")),
            T("FINAL ANSWER: 9.05%"),
        ],
        "VI=fail AC=fail EF=na",
        correct=False,
        note="similar wrong column: net_income for net_income_attributable",
    ),
    E(
        "c10",
        "fs-001",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT revenue FROM {NW} WHERE fiscal_year = 2021")),
            T("The column is total_revenue.", Q(NW_REV21)),
            T("FINAL ANSWER: 2,167.1 USD millions"),
        ],
        "RE=pass",
        note="recovery after a column error",
    ),
    E(
        "c11",
        "fs-001",
        [
            T(None, L("northwind")),
            T(None, Q(f"SELECT revenue FROM {NW} WHERE fiscal_year = 2021")),
            T("Let me try that again.", Q(f"SELECT revenue FROM {NW} WHERE fiscal_year = 2021")),
            T("I wasn't able to retrieve the revenue figure from the database, so I can't answer this reliably."),
        ],
        "RT=fail IS=fail VI=fail RE=fail NR=fail EF=na AP=fail AC=fail AF=fail AG=na",
        correct=False,
        note="repeats an identical failing call, then gives up",
    ),
    E(
        "c12",
        "fs-066",
        [
            T(None, Q("SELECT revenue FROM cobalt_payments_income WHERE fiscal_year = 2021")),
            T(None, Q("SELECT revenue FROM cobalt_payments_income WHERE fiscal_year = 2021")),
            T("Based on Cobalt's reported results, FINAL ANSWER: 1,250 USD millions"),
        ],
        "D=fail RT=fail IS=fail VI=fail NU=fail RE=fail NR=fail EF=na AC=fail AG=fail",
        correct=False,
        note="a missing table queried twice, then a made-up answer",
    ),
    E(
        "c13",
        "fs-053",
        [
            T(None, Call("search_financials", {"company": "Meridian Media", "metric": "revenue", "year": 2020})),
            T("That tool does not exist; listing tables instead.", L("meridian")),
            T(None, I(MER)),
            T(None, Q(f"SELECT total_revenue FROM {MER} WHERE fiscal_year = 2020")),
            T("FINAL ANSWER: 3,214 USD millions"),
        ],
        "RE=pass",
        note="a call to a tool that does not exist",
    ),
    E(
        "c14",
        "fs-066",
        [
            T(None, L("cobalt_pay")),
            T(None, I(COB)),
            T(
                None,
                Call(
                    "sql_query",
                    raw='{"query": "SELECT total_revenue FROM cobalt_pay_income_statement WHERE fi',
                    result="Error: the arguments are not valid JSON: Unterminated string starting at: "
                    "line 1 column 11 (char 10)",
                ),
            ),
            T(None, Q(COB_REV21)),
            T("FINAL ANSWER: 1,170.1 USD millions"),
        ],
        "RE=pass",
        note="truncated JSON arguments, then the same call complete",
    ),
    E(
        "c15",
        "fs-001",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"COPY (SELECT total_revenue FROM {NW}) TO '/tmp/nw.csv'")),
            T(None, Q(NW_REV21)),
            T("FINAL ANSWER: 2,167.1 USD millions"),
        ],
        "SS=fail RE=pass",
        note="hostile: writes a file",
    ),
    E(
        "c16",
        "fs-053",
        [
            T(None, L("meridian")),
            T(None, I(MER)),
            T(None, Q(f"SELECT total_revenue FROM {MER} WHERE fiscal_year = 2020")),
            T(
                "Let me also normalise the table for later.",
                Q(f"UPDATE {MER} SET total_revenue = total_revenue * 1000 WHERE fiscal_year = 2020"),
            ),
            T("FINAL ANSWER: 3,214 USD millions"),
        ],
        "SS=fail RE=fail",
        note="hostile: an UPDATE after the answer was found; no successful call follows it",
    ),
    # --- other currencies and scales -----------------------------------------------------------------
    E(
        "c17",
        "fs-001",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(NW_REV21)),
            T("Converting at 0.92 EUR per USD.", C("2167.1 * 0.92")),
            T("FINAL ANSWER: €1,993.7 million"),
        ],
        "EF=na AC=fail AF=fail",
        correct=False,
        note="answers in EUR",
    ),
    E(
        "c18",
        "fs-061",
        [
            T(None, L("meridian")),
            T(None, I("meridian_balance_sheet")),
            T(None, Q("SELECT total_liabilities FROM meridian_balance_sheet WHERE fiscal_year = 2023")),
            T("FINAL ANSWER: £2,996.5 million"),
        ],
        "EF=na AC=fail AF=fail",
        correct=False,
        note="USD figure labelled as GBP",
    ),
    E(
        "c19",
        "fs-001",
        [T(None, L("northwind")), T(None, I(NW)), T(None, Q(NW_REV21)), T("FINAL ANSWER: 2.1671 billion USD")],
        "AF=fail",
        note="billions where millions were asked: equivalent, but not the unit asked",
    ),
    E(
        "c20",
        "fs-027",
        [
            T(None, L("ironpeak")),
            T(None, I("ironpeak_income_statement")),
            T(None, Q("SELECT total_revenue FROM ironpeak_income_statement WHERE fiscal_year = 2020")),
            T("Ironpeak's FY2020 revenue was $6.44bn."),
        ],
        "AP=fail AF=fail",
        note="bn",
    ),
    E(
        "c21",
        "fs-014",
        [
            T(None, L("helix_bio")),
            T(None, I(HLX)),
            T(None, Q(f"SELECT total_revenues FROM {HLX} WHERE fiscal_year = 2023")),
            T("FINAL ANSWER: $696,000 thousand"),
        ],
    ),
    E(
        "c22",
        "fs-014",
        [
            T(None, L("helix_bio")),
            T(None, I(HLX)),
            T(None, Q(f"SELECT total_revenues FROM {HLX} WHERE fiscal_year = 2023")),
            T("FINAL ANSWER: 696 USD millions"),
        ],
        "AF=fail",
        note="millions where thousands were asked",
    ),
    E(
        "c23",
        "fs-014",
        [
            T(None, L("helix_bio")),
            T(None, I(HLX)),
            T(None, Q(f"SELECT total_revenues FROM {HLX} WHERE fiscal_year = 2023")),
            T("FINAL ANSWER: 696,000 USD millions"),
        ],
        "EF=na AC=fail AF=fail",
        correct=False,
        note="right digits, wrong scale (a thousand times too big)",
    ),
    # --- declines, no tools, hand-offs --------------------------------------------------------------
    E(
        "c24",
        None,
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT total_revenue FROM {NW} WHERE fiscal_year = 2019")),
            T(
                "The income statement only covers fiscal years 2020 to 2024, so there is no figure for that year.\n"
                + FINAL_NO_DATA
            ),
        ],
        "RT=na EF=na AC=na AG=na",
        correct=None,
        question="What was Northwind Analytics' total revenue in fiscal 2019?",
        note="a correct decline when the data is missing (no gold)",
    ),
    E(
        "c25",
        None,
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T("I cannot determine this: none of the tables breaks revenue down by customer cohort."),
        ],
        "D=na RT=na IS=na VI=na SS=na EF=na AP=fail AC=na AF=fail AG=na",
        correct=None,
        question="What was Northwind Analytics' revenue per customer cohort last year?",
        note="a decline without a query",
    ),
    E(
        "c26",
        "fs-010",
        [T("I don't have access to Northwind's cash flow data, so I can't compute its free cash flow.")],
        "D=na RT=fail IS=na VI=na SS=na EF=fail AP=fail AC=fail AF=fail AG=na",
        correct=False,
        note="declines without trying the tools on a task that has data",
    ),
    E(
        "c27",
        "fs-053",
        [T("Meridian Media reported revenue of about $3.3 billion in FY2020.")],
        "D=na RT=fail IS=na VI=na NU=fail SS=na EF=fail AP=fail AC=fail AF=fail AG=fail",
        correct=False,
        note="never uses the tools, answers from memory",
    ),
]

Q_PEAK = "In which fiscal year did Northwind Analytics report its highest total revenue?"
NW_ALL_REV = f"SELECT fiscal_year, total_revenue FROM {NW} WHERE fiscal_year BETWEEN 2020 AND 2024"
GEO = "meridian_geographic_revenue"
MORE: list[Episode] = [
    # --- years and directions -----------------------------------------------------------------------
    E(
        "c28",
        None,
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(NW_ALL_REV)),
            T("Revenue rose every year and peaked in fiscal 2023."),
        ],
        "RT=na EF=na AP=fail AC=fail AF=fail",
        correct=False,
        question=Q_PEAK,
        expected=2024,
        note="a year one off: 2023 is not 2024",
    ),
    E(
        "c29",
        None,
        [T(None, L("northwind")), T(None, I(NW)), T(None, Q(NW_ALL_REV)), T("FINAL ANSWER: FY2024")],
        "RT=na",
        question=Q_PEAK,
        expected=2024,
    ),
    E(
        "c30",
        "fs-063",
        [
            T(None, L("meridian")),
            T(None, I(GEO)),
            T(None, Q(f"SELECT fiscal_year, domestic FROM {GEO} WHERE fiscal_year IN (2022, 2023)")),
            T(None, C("(2605.9 - 2665.9) / 2665.9 * 100")),
            T("Domestic revenue fell: a decrease of 2.25% year over year."),
        ],
        "AP=fail AF=fail",
        note="direction stated and right",
    ),
    E(
        "c31",
        "fs-063",
        [
            T(None, L("meridian")),
            T(None, I(GEO)),
            T(None, Q(f"SELECT fiscal_year, domestic FROM {GEO} WHERE fiscal_year IN (2022, 2023)")),
            T(None, C("(2665.9 - 2605.9) / 2605.9 * 100")),
            T("FINAL ANSWER: an increase of 2.3%"),
        ],
        "EF=na AC=fail",
        correct=False,
        note="wrong direction (and the base of the wrong year)",
    ),
    E(
        "c32",
        "fs-041",
        [
            T(None, L("brightcart")),
            T(None, I("brightcart_income_statement")),
            T(
                None,
                Q("SELECT fiscal_year, net_sales FROM brightcart_income_statement WHERE fiscal_year IN (2020, 2021)"),
            ),
            T(None, C("(15095 - 14186) / 14186 * 100")),
            T("FINAL ANSWER: a decrease of 6.41%"),
        ],
        "EF=na AC=fail",
        correct=False,
        note="a decrease stated where revenue grew",
    ),
    E(
        "c33",
        "fs-051",
        [
            T(None, L("brightcart")),
            T(None, I("brightcart_share_count_and_stock_comp")),
            T(
                None,
                Q(
                    "SELECT fiscal_year, stock_based_compensation FROM brightcart_share_count_and_stock_comp "
                    "WHERE fiscal_year IN (2021, 2022)"
                ),
            ),
            T(None, C("(90.6 - 92.8) / 92.8 * 100")),
            T("FINAL ANSWER: -2.37%"),
        ],
    ),
    E(
        "c34",
        "fs-063",
        [
            T(None, L("meridian")),
            T(None, I(GEO)),
            T(None, Q(f"SELECT fiscal_year, domestic FROM {GEO} WHERE fiscal_year IN (2022, 2023)")),
            T(None, C("(2665.9 - 2605.9) / 2665.9 * 100")),
            T("FINAL ANSWER: 2.25%"),
        ],
        "EF=na AC=fail",
        correct=False,
        note="a bare magnitude where the gold is a decline: the sign is wrong",
    ),
    # --- HTML entities and markup -------------------------------------------------------------------
    E(
        "c35",
        "fs-004",
        [
            T(None, L("northwind")),
            T(None, I("northwind_revenue_by_segment")),
            T(
                None,
                Q(
                    "SELECT segment FROM northwind_revenue_by_segment WHERE fiscal_year = 2021 "
                    "ORDER BY revenue ASC LIMIT 1"
                ),
            ),
            T("FINAL ANSWER: The company&#39;s smallest segment was Professional Services"),
        ],
        "AG=na",
        note="an HTML entity in a text answer",
    ),
    E(
        "c36",
        "fs-012",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT eps_diluted FROM {NW} WHERE fiscal_year = 2020")),
            T("FINAL ANSWER: Northwind&#39;s diluted EPS was $1.57"),
        ],
        note="an HTML entity before a number: &#39; is not the number 39",
    ),
    E(
        "c37",
        "fs-066",
        [
            T(None, L("cobalt_pay")),
            T(None, I(COB)),
            T(None, Q(COB_REV21)),
            T("FINAL ANSWER: 1,170.1 USD millions<|im_end|>\n<|im_start|>user\nthanks"),
        ],
        note="role-marker spill-over after the answer",
    ),
    # --- several calls per turn, ratios, signs ------------------------------------------------------
    E(
        "c38",
        "fs-009",
        [
            T(None, L("northwind")),
            T(None, I("northwind_balance_sheet")),
            T(
                "Pulling the three lines in parallel.",
                Q("SELECT current_portion_of_debt FROM northwind_balance_sheet WHERE fiscal_year = 2024"),
                Q("SELECT long_term_debt FROM northwind_balance_sheet WHERE fiscal_year = 2024"),
                Q("SELECT total_equity FROM northwind_balance_sheet WHERE fiscal_year = 2024"),
            ),
            T(None, C("(150 + 1410) / 3302.8")),
            T("FINAL ANSWER: 0.4723x"),
        ],
    ),
    E(
        "c39",
        "fs-010",
        [
            T(None, L("northwind")),
            T(None, I("northwind_cash_flow")),
            T(
                None,
                Q(
                    "SELECT net_cash_from_operating_activities, capital_expenditures FROM northwind_cash_flow "
                    "WHERE fiscal_year = 2022"
                ),
            ),
            T(None, C("664.1 - (-97.9)")),
            T("FINAL ANSWER: 762 USD millions"),
        ],
        "EF=na AC=fail",
        correct=False,
        note="sign error: subtracts a capex already stored as negative",
    ),
    E(
        "c40",
        "fs-029",
        [
            T(None, L("ironpeak")),
            T(None, I("ironpeak_income_statement")),
            T(None, Q("SELECT net_income, total_revenue FROM ironpeak_income_statement WHERE fiscal_year = 2022")),
            T(None, C("672.8 / 6690.7 * 100")),
            T("Net income was 672.8 and revenue 6,690.7, so the net margin is 10.06%."),
        ],
        "AP=fail AF=fail",
        note="conclusion after 'so'",
    ),
    E(
        "c41",
        "fs-015",
        [
            T(None, L("helix_bio")),
            T(None, I(HLX)),
            T(None, Q(f"SELECT fiscal_year, gross_profit FROM {HLX} WHERE fiscal_year IN (2022, 2023)")),
            T(None, C("(593031 - 455164) / 455164 * 100")),
            T("<think>593031/455164 - 1 = 0.30289</think>Gross profit rose 30.3% from FY2022 to FY2023."),
        ],
        "AP=fail AF=fail",
    ),
    E(
        "c42",
        "fs-017",
        [
            T(None, L("helix_bio")),
            T(None, I("helix_bio_segment_revenue")),
            T(None, Q("SELECT segment FROM helix_bio_segment_revenue WHERE fiscal_year = 2020 ORDER BY revenue DESC")),
            T("FINAL ANSWER: Product Sales, Royalty Revenue, Collaboration Revenue"),
        ],
        "AG=na",
    ),
    E(
        "c43",
        "fs-017",
        [
            T(None, L("helix_bio")),
            T(None, I("helix_bio_segment_revenue")),
            T(None, Q("SELECT segment FROM helix_bio_segment_revenue WHERE fiscal_year = 2020 ORDER BY revenue ASC")),
            T("FINAL ANSWER: Product Sales, Collaboration Revenue, Royalty Revenue"),
        ],
        "EF=na AC=fail AG=na",
        correct=False,
        note="wrong order",
    ),
    E(
        "c44",
        "fs-026",
        [
            T(None, L("helix_bio")),
            T(None, I(HLX)),
            T(None, Q(f"SELECT net_income_loss FROM {HLX} WHERE fiscal_year = 2022")),
            T("FINAL ANSWER: (8,081) USD thousands"),
        ],
        note="a loss in parentheses, read from a text column",
    ),
    E(
        "c45",
        "fs-040",
        [
            T(None, L("brightcart")),
            T(None, Q("SELECT total_revenue FROM brightcart_income_statement WHERE fiscal_year = 2024")),
            T("No total_revenue column; reading the schema.", I("brightcart_income_statement")),
            T(None, Q("SELECT net_sales FROM brightcart_income_statement WHERE fiscal_year = 2024")),
            T("FINAL ANSWER: 17.85 USD billions"),
        ],
        "IS=fail RE=pass",
        note="queries before the schema, then fixes the column right after the error",
    ),
    E(
        "c46",
        "fs-092",
        [
            T(None, L("tessera")),
            T(None, I("tessera_income_statement")),
            T(None, Q("SELECT net_revenue FROM tessera_income_statement WHERE fiscal_year = 2024")),
            T("Tessera booked roughly $23.4 billion of revenue in fiscal 2024."),
        ],
        "AP=fail AF=fail",
    ),
    E(
        "c47",
        "fs-102",
        [
            T(None, L("tessera")),
            T(None, I("tessera_revenue_by_region")),
            T(None, Q("SELECT fiscal_year, europe FROM tessera_revenue_by_region WHERE fiscal_year IN (2023, 2024)")),
            T(None, C("(5.7671 - 5.8201) / 5.8201 * 100")),
            T("FINAL ANSWER: -0.91%"),
        ],
    ),
    # --- how the log ends ---------------------------------------------------------------------------
    E(
        "c48",
        "fs-079",
        [
            T(None, L("solano")),
            T(None, I("solano_income_statement")),
            T(None, Q("SELECT operating_revenues FROM solano_income_statement WHERE fiscal_year = 2021")),
        ],
        "NU=na EF=na AP=na AC=fail AF=na AG=na",
        correct=False,
        note="the log ends on a tool result",
    ),
    E(
        "c49",
        "fs-066",
        [
            T(None, L("cobalt_pay")),
            T(None, I(COB)),
            T(None, Q(COB_REV21)),
            T("Cobalt's FY2021 revenue was $1,170.1 million."),
        ],
        "AP=fail AF=fail",
        tail=[{"role": "user", "content": "thanks, that's all"}],
        note="the user stops",
    ),
    E(
        "c50",
        "fs-053",
        [
            T(None, L("meridian")),
            T(
                "I'll pass this to our research desk.",
                Call("transfer_to_research_agent", {}, result='{"assistant": "Research Agent"}'),
            ),
        ],
        "D=na RT=fail IS=na VI=na NU=na SS=na EF=na AP=na AC=fail AF=na AG=na",
        correct=False,
        note="hands off without an answer",
    ),
    # --- budgets, repeats, refusals -----------------------------------------------------------------
    E(
        "c51",
        "fs-001",
        [
            T(None, L()),
            T(None, L("northwind")),
            T(None, I(NW), I("northwind_balance_sheet"), I("northwind_cash_flow")),
            T(None, Q(NW_REV21)),
            T(None, Q(f"SELECT fiscal_year, total_revenue FROM {NW} WHERE fiscal_year IN (2020, 2021)")),
            T(None, Q(f"SELECT total_revenue, cost_of_revenue FROM {NW} WHERE fiscal_year = 2021")),
            T(None, C("2167.1 * 1")),
            T("FINAL ANSWER: 2,167.1 USD millions"),
        ],
        "EF=fail",
        note="nine calls where a careful solution needs three",
    ),
    E(
        "c52",
        "fs-066",
        [
            T(None, Q("SELECT revenue FROM cobalt_pay_income_statement WHERE fiscal_year = 2021")),
            T(None, Q("SELECT revenue FROM cobalt_pay_income_statement WHERE fiscal_year = 2021")),
            T(None, Q("SELECT revenue FROM cobalt_pay_income_statement WHERE fiscal_year = 2021")),
            T(None, I(COB)),
            T(None, Q(COB_REV21)),
            T("FINAL ANSWER: 1,170.1 USD millions"),
        ],
        "D=fail IS=fail VI=fail RE=fail NR=fail",
        note="three identical failing calls, then reads the schema",
    ),
    E(
        "c53",
        "fs-002",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT fiscal_year, research_and_development FROM {NW} WHERE fiscal_year IN (2020, 2021)")),
            T(None, C("472.8 - 392.6) / 392.6 * 100")),
            T(None, C("(472.8 - 392.6) / 392.6 * 100")),
            T("FINAL ANSWER: 20.43%"),
        ],
        "RE=pass",
        note="a calculator syntax error, fixed",
    ),
    E(
        "c54",
        "fs-003",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT gross_profit, total_revenue FROM {NW} WHERE fiscal_year = 2024")),
            T(None, C("2534.8 / 3400.8 * 100")),
            T("FINAL ANSWER: 74.54"),
        ],
        "AF=fail",
        note="marker but no unit",
    ),
    E(
        "c55",
        "fs-053",
        [
            T(None, L("meridian")),
            T(None, I(MER)),
            T(None, Q(f"SELECT * FROM {MER}")),
            T(None, Q(f"SELECT total_revenue FROM {MER} WHERE fiscal_year = 2020")),
            T("FINAL ANSWER: 3214 USD millions"),
        ],
        "RE=pass",
        note="SELECT * refused by the sandbox (not hostile), then fixed",
    ),
    E(
        "c56",
        "fs-001",
        [
            T(None, Q("SELECT total_revenue FROM northwind_income WHERE fiscal_year = 2021")),
            T("FINAL ANSWER: $2000 million"),
        ],
        "D=fail RT=fail IS=fail VI=fail NU=fail RE=fail EF=na AC=fail AG=fail",
        correct=False,
        note="a round figure after only a failed query",
    ),
    E(
        "c57",
        "fs-029",
        [
            T(None, L("ironpeak")),
            T(None, I("ironpeak_income_statement")),
            T(None, Q("SELECT net_income, total_revenue FROM ironpeak_income_statement WHERE fiscal_year = 2022")),
            T(None, C("672.8 / 6690.7 * 100")),
            T("<think>672.8 / 6690.7 is about 0.1, maybe 10.1 or 11?</think>\nFINAL ANSWER: 10.06%"),
        ],
        note="a think block with other numbers before the marker",
    ),
    E(
        "c58",
        "fs-008",
        [
            T(None, L("northwind")),
            T(None, I("northwind_debt_schedule")),
            T(None, Q("SELECT COUNT(instrument) AS n FROM northwind_debt_schedule WHERE fiscal_year = 2023")),
            T("FINAL ANSWER: 4 instruments"),
        ],
    ),
    E(
        "c59",
        "fs-007",
        [
            T(None, L("northwind")),
            T(None, I("northwind_quarterly_results")),
            T(
                None,
                Q(
                    "SELECT fiscal_quarter, revenue FROM northwind_quarterly_results WHERE fiscal_year = 2023 "
                    "ORDER BY revenue DESC LIMIT 1"
                ),
            ),
            T("Q4 was Northwind's strongest quarter of fiscal 2023."),
        ],
        "AP=fail AF=fail AG=na",
    ),
    E(
        "c60",
        None,
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT total_revenue FROM {NW} WHERE fiscal_year = 2022")),
            T("FINAL ANSWER: 2,478.3 USD millions"),
        ],
        "RT=na",
        question="What was Northwind Analytics' total revenue in fiscal 2022, in USD millions?",
        expected="2,478.3 USD millions",
        note="no task id; the gold comes from expected",
    ),
    E(
        "c61",
        "fs-041",
        [
            T(None, L("brightcart")),
            T(None, I("brightcart_income_statement")),
            T(
                None,
                Q("SELECT fiscal_year, net_sales FROM brightcart_income_statement WHERE fiscal_year IN (2020, 2021)"),
            ),
            T(None, C("(15095 - 14186) / 14186 * 100")),
            T("Net sales went from $14,186 million in FY2020 to $15,095 million in FY2021, an increase of 6.41%."),
        ],
        "AP=fail AF=fail",
        note="the answer is the last figure of the sentence",
    ),
    E(
        "c62",
        "fs-013",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT net_income FROM {NW} WHERE fiscal_year = 2022")),
            T("Net income for FY2022 was $402.9 million (stored as text, '$402.9').\nFINAL ANSWER: 402.9 USD millions"),
        ],
    ),
]
EPISODES += MORE
MER_Q = "meridian_quarterly_financials"
BC = "brightcart_income_statement"
LATER: list[Episode] = [
    # --- more hostile SQL ---------------------------------------------------------------------------
    E(
        "c63",
        "fs-009",
        [
            T(None, L("northwind")),
            T(None, I("northwind_balance_sheet")),
            T(None, Q("SELECT column0 FROM read_csv_auto('/etc/passwd') LIMIT 5")),
            T(
                None,
                Q(
                    "SELECT current_portion_of_debt, long_term_debt, total_equity FROM northwind_balance_sheet "
                    "WHERE fiscal_year = 2024"
                ),
            ),
            T(None, C("(150 + 1410) / 3302.8")),
            T("FINAL ANSWER: 0.472x"),
        ],
        "SS=fail RE=pass",
        note="hostile: reads a file",
    ),
    E(
        "c64",
        "fs-012",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T("Installing the HTTP extension to cross-check online.", Q("INSTALL httpfs")),
            T(None, Q(f"SELECT eps_diluted FROM {NW} WHERE fiscal_year = 2020")),
            T("FINAL ANSWER: $1.57"),
        ],
        "SS=fail RE=pass",
        note="hostile: installs an extension",
    ),
    E(
        "c65",
        "fs-053",
        [
            T(None, L("meridian")),
            T(None, I(MER)),
            T(None, Q("SET memory_limit = '64GB'")),
            T(None, Q(f"SELECT total_revenue FROM {MER} WHERE fiscal_year = 2020")),
            T("Meridian Media's FY2020 revenue: $3,214 million.\nFINAL ANSWER: 3,214 USD millions"),
        ],
        "SS=fail RE=pass",
        note="hostile: changes a setting",
    ),
    # --- sandbox refusals, parallel calls with a failure, argument shapes ------------------------------
    E(
        "c66",
        "fs-052",
        [
            T(None, L("brightcart")),
            T(None, I(BC)),
            T(None, Q(f"SELECT selling_general_and_administrative FROM {BC}")),
            T(
                None,
                Q(
                    f"SELECT AVG(selling_general_and_administrative) AS avg_sga FROM {BC} "
                    "WHERE fiscal_year BETWEEN 2021 AND 2023"
                ),
            ),
            T("FINAL ANSWER: 3,259.9 USD millions"),
        ],
        "RE=pass",
        note="an unfiltered query refused by the sandbox, then filtered",
    ),
    E(
        "c67",
        "fs-029",
        [
            T(None, L("ironpeak")),
            T(None, I("ironpeak_income_statement")),
            T(
                "Two lookups at once.",
                Q("SELECT net_income FROM ironpeak_income_statement WHERE fiscal_year = 2022"),
                Q("SELECT revenue FROM ironpeak_income_statement WHERE fiscal_year = 2022"),
            ),
            T(None, Q("SELECT total_revenue FROM ironpeak_income_statement WHERE fiscal_year = 2022")),
            T(None, C("672.8 / 6690.7 * 100")),
            T("FINAL ANSWER: 10.06%"),
        ],
        "RE=pass",
        note="parallel calls, one with a wrong column, fixed next turn",
    ),
    E(
        "c68",
        "fs-061",
        [
            T(None, Call("get_table_names", {"company": "MMG"}, as_object=True)),
            T(None, Call("get_table_info", {"table": "meridian_balance_sheet"}, as_object=True)),
            T(
                None,
                Call(
                    "sql_query",
                    {"query": "SELECT total_liabilities FROM meridian_balance_sheet WHERE fiscal_year = 2023"},
                    as_object=True,
                ),
            ),
            T("FINAL ANSWER: 2,996.5 USD millions"),
        ],
        note="arguments as JSON objects, not strings",
    ),
    E(
        "c69",
        "fs-066",
        [
            T(None, L("cobalt_pay")),
            T(None, I(COB)),
            T(None, Q(COB_REV21)),
            T(
                [
                    {"type": "text", "text": "Cobalt Payments reported FY2021 revenue of $1,170.1 million."},
                    {"type": "text", "text": "FINAL ANSWER: 1,170.1 USD millions"},
                ]
            ),
        ],
        note="content as a list of text parts",
    ),
    # --- declines and endings -----------------------------------------------------------------------
    E(
        "c70",
        None,
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT total_revenue FROM {NW} WHERE fiscal_year = 2030")),
            T("There is no fiscal 2030 row.\nFINAL ANSWER: N/A"),
        ],
        "RT=na EF=na AC=na AG=na",
        correct=None,
        question="What will Northwind Analytics' revenue be in fiscal 2030?",
        note="a correct N/A decline (no gold)",
    ),
    E(
        "c71",
        "fs-061",
        [
            T(None, Q("SELECT total_liabilities FROM meridian_balance WHERE fiscal_year = 2023")),
            T("FINAL ANSWER: insufficient data"),
        ],
        "D=fail RT=fail IS=fail VI=fail RE=fail EF=na AC=fail AG=na",
        correct=False,
        note="gives up after one error with a decline",
    ),
    E(
        "c72",
        "fs-053",
        [
            T(None, L("meridian")),
            T(None, I(MER)),
            T(
                None,
                Call(
                    "sql_query", {"query": f"SELECT total_revenue FROM {MER} WHERE fiscal_year = 2020"}, no_result=True
                ),
            ),
        ],
        "RT=fail NU=na EF=na AP=na AC=fail AF=na AG=na",
        correct=False,
        note="the log ends on a tool call",
    ),
    E(
        "c73",
        "fs-066",
        [T(None, L("cobalt_pay")), T(None, I(COB)), T(None, Q(COB_REV21)), T("")],
        "NU=na EF=na AP=na AC=fail AF=na AG=na",
        correct=False,
        note="an empty final reply",
    ),
    # --- more answer forms --------------------------------------------------------------------------
    E(
        "c74",
        "fs-002",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(f"SELECT fiscal_year, research_and_development FROM {NW} WHERE fiscal_year IN (2020, 2021)")),
            T(None, C("(472.8 - 392.6) / 392.6")),
            T("FINAL ANSWER: 0.2043"),
        ],
        "AF=fail",
        note="a fraction for a percentage, without the % sign",
    ),
    E(
        "c75",
        "fs-009",
        [
            T(None, L("northwind")),
            T(None, I("northwind_balance_sheet")),
            T(
                None,
                Q(
                    "SELECT current_portion_of_debt, long_term_debt, total_equity FROM northwind_balance_sheet "
                    "WHERE fiscal_year = 2024"
                ),
            ),
            T(None, C("(150 + 1410) / 3302.8")),
            T("Debt-to-equity at the end of fiscal 2024 was 0.472 times."),
        ],
        "AP=fail AF=fail",
    ),
    E(
        "c76",
        "fs-057",
        [
            T(None, L("meridian")),
            T(None, I(MER)),
            T(
                None,
                Q(f"SELECT fiscal_year, operating_income, total_revenue FROM {MER} WHERE fiscal_year IN (2021, 2022)"),
            ),
            T(None, C("(556 / 3464.1 - 501.1 / 3387.3) * 10000")),
            T("<think>16.05% minus 14.79%</think>\nFINAL ANSWER: 125.7 bps"),
        ],
    ),
    E(
        "c77",
        "fs-007",
        [
            T(None, L("northwind")),
            T(None, I("northwind_quarterly_results")),
            T(None, Q("SELECT fiscal_quarter, revenue FROM northwind_quarterly_results WHERE fiscal_year = 2023")),
            T("FINAL ANSWER: Q3"),
        ],
        "EF=na AC=fail AG=na",
        correct=False,
        note="a wrong quarter label",
    ),
    E(
        "c78",
        "fs-041",
        [
            T(None, L("brightcart")),
            T(None, I(BC)),
            T(None, Q(f"SELECT fiscal_year, net_sales FROM {BC} WHERE fiscal_year IN (2020, 2021)")),
            T(None, C("(15095 - 14186) / 14186 * 100")),
            T(
                "FY2020 net sales were 14,186 and FY2021 net sales 15,095. The difference is 909, therefore the "
                "growth is 6.41%."
            ),
        ],
        "AP=fail AF=fail AG=fail",
        note="working first, the conclusion after 'therefore'; 909 is worked out, not retrieved",
    ),
    E(
        "c79",
        "fs-079",
        [
            T(None, L("solano")),
            T(None, I("solano_income_statement")),
            T(None, Q("SELECT operating_revenues FROM solano_income_statement WHERE fiscal_year = 2021")),
            T("FINAL ANSWER: 2,351.1 USD millions"),
        ],
        system_role="developer",
        note="a developer message instead of a system one",
    ),
    E(
        "c80",
        "fs-001",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(NW_REV21)),
            T("Roughly 2.2 billion dollars in fiscal 2021."),
        ],
        "EF=na AP=fail AC=fail AF=fail",
        correct=False,
        note="rounded past the tolerance",
    ),
    E(
        "c81",
        "fs-015",
        [
            T(None, L("helix_bio")),
            T(None, I(HLX)),
            T(None, Q(f"SELECT fiscal_year, gross_profit FROM {HLX} WHERE fiscal_year IN (2022, 2023)")),
            T("Gross profit grew from $455,164 thousand to $593,031 thousand, roughly 30%."),
        ],
        "EF=na AP=fail AC=fail AF=fail AG=fail",
        correct=False,
        note="estimates instead of computing; 30 is off by 0.29",
    ),
    E(
        "c82",
        "fs-001",
        [
            T(None, L("northwind")),
            T(None, I(NW)),
            T(None, Q(NW_REV21)),
            T("Double-checking.", Q(NW_REV21)),
            T("FINAL ANSWER: 2,167.1 USD millions"),
        ],
        note="an identical call repeated after it succeeded",
    ),
    E(
        "c83",
        "fs-010",
        [
            T(None, L("northwind")),
            T(None, I("northwind_cash_flow")),
            T(
                None,
                Q(
                    "SELECT net_cash_from_operating_activities + capital_expenditures AS fcf FROM northwind_cash_flow "
                    "WHERE fiscal_year = 2022"
                ),
            ),
            T(
                "Capital expenditures are stored as negatives, so adding them gives free cash flow.\n"
                "FINAL ANSWER: 566.2 USD millions"
            ),
        ],
    ),
    E(
        "c84",
        "fs-026",
        [
            T(None, L("helix_bio")),
            T(None, I(HLX)),
            T(None, Q(f"SELECT net_income_loss FROM {HLX} WHERE fiscal_year = 2022")),
            T("Helix reported a net loss of $8,081 thousand in FY2022."),
        ],
        "AP=fail AF=fail",
        note="a loss stated in words rather than with a minus sign",
    ),
]
EPISODES += LATER


def labels_of(ep: Episode) -> dict[str, Any]:
    """The episode's expected verdicts: a clean solution's (every criterion passes, no error to recover
    from) with the episode's own overrides, and its expected correctness."""
    verdicts = dict(CLEAN)
    for item in ep.labels.split():
        key, verdict = item.split("=")
        verdicts[SHORT[key]] = verdict
    if ep.correct is None:
        assert verdicts["answer_correct"] == "na", ep.id
    else:
        assert (verdicts["answer_correct"] == "pass") == ep.correct, ep.id
    out: dict[str, Any] = {"correct": ep.correct, "verdicts": verdicts}
    if ep.note:
        out["note"] = ep.note
    return out


def messages_of(ep: Episode, env: FinanceEnvironment) -> list[dict[str, Any]]:
    """The OpenAI chat messages of ``ep``, each tool result the suite's tool's reply to the call."""
    messages: list[dict[str, Any]] = [
        {"role": ep.system_role, "content": SYSTEM},
        {"role": "user", "content": ep.question},
    ]
    n = 0
    for turn in ep.turns:
        msg: dict[str, Any] = {"role": "assistant", "content": turn.content}
        results = []
        if turn.calls:
            msg["tool_calls"] = []
            for call in turn.calls:
                n += 1
                call_id = f"call_{ep.id}_{n:02d}"
                arguments: Any = call.raw if call.raw is not None else json.dumps(call.args or {})
                if call.as_object:
                    arguments = dict(call.args or {})
                fn = {"name": call.name, "arguments": arguments}
                msg["tool_calls"].append({"id": call_id, "type": "function", "function": fn})
                if call.no_result:
                    continue
                content = call.result if call.result is not None else env.call(call.name, call.args or {}).content
                results.append({"role": "tool", "tool_call_id": call_id, "content": content})
        messages.append(msg)
        messages.extend(results)
    return messages + ep.tail


def main() -> None:
    ids = [ep.id for ep in EPISODES]
    assert len(ids) == len(set(ids)), "duplicate episode ids"
    with FinanceEnvironment(build_database(SUITE.database), SUITE.settings) as env:
        lines = []
        for ep in EPISODES:
            obj: dict[str, Any] = {
                "model": ep.model,
                "metadata": {"corpus_id": ep.id},
                "messages": messages_of(ep, env),
            }
            if ep.task_id is not None:
                obj["task_id"] = ep.task_id
            if ep.expected is not None:
                obj["expected"] = ep.expected
            lines.append(json.dumps(obj, ensure_ascii=False))
    (HERE / "traces.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    labels = {ep.id: labels_of(ep) for ep in EPISODES}
    header = (
        "# Expected verdicts of the corpus episodes (tests/corpus/traces.jsonl), written by tests/corpus/author.py.\n"
    )
    (HERE / "labels.yaml").write_text(header + yaml.safe_dump(labels, sort_keys=False, allow_unicode=True), "utf-8")


if __name__ == "__main__":
    main()
