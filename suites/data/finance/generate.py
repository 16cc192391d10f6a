#!/usr/bin/env python3
"""Generate the built-in finance database and the ``finance-single`` / ``finance-multi`` task suites.

Everything here is fictional: eight companies, nine 10-K style tables each, fiscal years 2020-2024.
The generator keeps an exact in-memory model of every company (money as integer USD thousands), writes
the tables from it, and computes every task's gold answer from the same model. The reference SQL of a
task is written independently and must agree with the model (``tests/data/test_finance_data.py``).

Usage::

    python suites/data/finance/generate.py                 # regenerate the committed files
    python suites/data/finance/generate.py --out /tmp/x    # write <out>/data/finance, <out>/finance-*

Only the standard library and PyYAML are used; the output is byte-identical for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import io
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SEED = 20261126
YEARS = (2020, 2021, 2022, 2023, 2024)
FIRST, LAST = YEARS[0], YEARS[-1]
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")

# Thousands of base units per stored unit, and decimals kept when stored.
UNIT_FACTOR = {"USD thousands": 1, "USD millions": 1_000, "USD billions": 1_000_000, "shares millions": 1_000}
UNIT_DP = {"USD thousands": 0, "USD millions": 1, "USD billions": 4, "shares millions": 1}
TEXT_NOTE = "stored as text such as $1,234.5; negatives in parentheses such as (12.0)"

DEFAULT_TABLE = {
    "is": "income_statement", "bs": "balance_sheet", "cf": "cash_flow", "seg": "revenue_by_segment",
    "reg": "revenue_by_region", "q": "quarterly_results", "debt": "debt_schedule",
    "sh": "share_count_and_stock_comp", "hc": "headcount",
}
KINDS = tuple(DEFAULT_TABLE)

# --------------------------------------------------------------------------------------------- companies
# Percentages are fractions of revenue. Segments: (name, FY2020 weight, yearly drift, operating margin).
# Regions: (column, label, FY2020 weight, yearly drift). Debt: (instrument, kind, rate %, first fiscal
# year outstanding, maturity fiscal year, principal USD millions, yearly amortisation USD millions).

COMPANIES: list[dict[str, Any]] = [
    {
        "id": "northwind", "name": "Northwind Analytics Inc.", "short": "Northwind Analytics", "ticker": "NWA",
        "sector": "Software", "fye": (6, 30), "fin_unit": "USD millions",
        "rev0": 1842.6, "growth": (0.13, 0.21), "gm": (0.745, 0.785), "tax": 0.18, "nci": 0.0,
        "opex": [("research_and_development", "Research and development", 0.22, -0.01),
                 ("sales_and_marketing", "Sales and marketing", 0.27, -0.015),
                 ("general_and_administrative", "General and administrative", 0.09, -0.02)],
        "da": 0.035, "capex": 0.045, "sbc": 0.085, "payout": 0.0, "buybacks": True, "cash_plug": "inv",
        "bs": {"cash": 0.42, "sti": 0.33, "ar": 0.16, "inv": 0.0, "oca": 0.04, "ppe": 0.21, "gw": 0.55,
               "onca": 0.07, "ap": 0.05, "accrued": 0.09, "deferred": 0.28, "oncl": 0.06, "eq_min": 0.5},
        "segments": [("Subscriptions", 0.58, 0.03, 0.34), ("Cloud Platform", 0.27, 0.10, 0.21),
                     ("Professional Services", 0.15, -0.07, 0.07)],
        "seg_unit": "USD thousands",
        "regions": [("americas", "the Americas", 0.56, 0.0), ("emea", "Europe, the Middle East and Africa", 0.29, 0.01),
                    ("apac", "Asia-Pacific", 0.15, 0.05)],
        "reg_unit": "USD millions",
        "seasonality": (0.236, 0.244, 0.249, 0.271),
        "debt": [("2.875% Senior Notes due 2027", "notes", "2.875", 2018, 2027, 600.0, 0.0),
                 ("Term Loan A", "term", "5.100", 2019, 2025, 400.0, 50.0),
                 ("4.250% Senior Notes due 2032", "notes", "4.250", 2022, 2032, 750.0, 0.0),
                 ("Revolving Credit Facility", "revolver", "6.000", 2019, 2027, 150.0, 0.0)],
        "shares0": 151.2, "issue": (0.010, 0.018), "buyback": (0.008, 0.02), "dil": (0.028, 0.045),
        "rpe": 0.34, "rpe_growth": 0.03,
        "depts": [("research_and_development", 0.38), ("sales_and_marketing", 0.31), ("customer_success", 0.14),
                  ("general_and_administrative", 0.17)],
        "names": {}, "cols": {}, "text": ["is.net_income"], "quarter_style": "Q", "capex_positive": False,
        "bs_total_debt": False, "hc_average": False, "null_quarter": True,
    },
    {
        "id": "helix_bio", "name": "Helix Biotherapeutics Corp.", "short": "Helix Biotherapeutics",
        "ticker": "HLXB", "sector": "Biotechnology", "fye": (12, 31), "fin_unit": "USD thousands",
        "rev0": 312.4, "growth": (0.26, 0.38), "gm": (0.83, 0.87), "tax": 0.16, "nci": 0.0,
        "opex": [("research_and_development", "Research and development", 0.62, -0.09),
                 ("selling_general_and_administrative", "Selling, general and administrative", 0.36, -0.06)],
        "da": 0.03, "capex": 0.06, "sbc": 0.11, "payout": 0.0, "buybacks": False, "cash_plug": "inv",
        "bs": {"cash": 0.9, "sti": 1.1, "ar": 0.14, "inv": 0.12, "oca": 0.05, "ppe": 0.35, "gw": 0.2,
               "onca": 0.08, "ap": 0.07, "accrued": 0.15, "deferred": 0.05, "oncl": 0.08, "eq_min": 0.8},
        "segments": [("Product Sales", 0.55, 0.08, 0.18), ("Royalty Revenue", 0.25, 0.0, 0.72),
                     ("Collaboration Revenue", 0.20, -0.12, 0.30)],
        "seg_unit": "USD thousands",
        "regions": [("united_states", "the United States", 0.68, -0.01), ("europe", "Europe", 0.22, 0.02),
                    ("rest_of_world", "the rest of the world", 0.10, 0.04)],
        "reg_unit": "USD thousands",
        "seasonality": (0.235, 0.245, 0.25, 0.27),
        "debt": [("1.500% Convertible Senior Notes due 2026", "notes", "1.500", 2019, 2026, 287.5, 0.0),
                 ("0.750% Convertible Senior Notes due 2029", "notes", "0.750", 2023, 2029, 350.0, 0.0)],
        "shares0": 58.3, "issue": (0.02, 0.045), "buyback": (0.0, 0.0), "dil": (0.03, 0.06),
        "rpe": 0.42, "rpe_growth": 0.12,
        "depts": [("research_and_development", 0.46), ("manufacturing", 0.22), ("commercial", 0.19),
                  ("general_and_administrative", 0.13)],
        "names": {"is": "statement_of_operations", "seg": "segment_revenue", "reg": "revenue_by_geography",
                  "q": "quarterly_financials", "sh": "shares_and_sbc", "hc": "employees"},
        "cols": {"is.revenue": "total_revenues", "is.net_income": "net_income_loss",
                 "is.operating_income": "income_loss_from_operations", "q.net_income": "net_income_loss",
                 "q.operating_income": "income_loss_from_operations", "hc.total": "employees_year_end",
                 "sh.sbc": "share_based_compensation", "cf.sbc": "share_based_compensation",
                 "cf.net_income": "net_income_loss"},
        "text": ["is.net_income"], "quarter_style": "int", "capex_positive": False,
        "bs_total_debt": False, "hc_average": False, "null_quarter": False,
    },
    {
        "id": "ironpeak", "name": "Ironpeak Industrial Corp.", "short": "Ironpeak Industrial", "ticker": "IPK",
        "sector": "Industrial Machinery", "fye": (9, 30), "fin_unit": "USD millions",
        "rev0": 6438.0, "growth": (0.015, 0.085), "gm": (0.305, 0.335), "tax": 0.22, "nci": 0.0,
        "opex": [("selling_general_and_administrative", "Selling, general and administrative", 0.135, -0.005),
                 ("research_and_development", "Research and development", 0.042, 0.01)],
        "da": 0.038, "capex": 0.041, "sbc": 0.012, "payout": 0.35, "buybacks": True, "cash_plug": "inv",
        "bs": {"cash": 0.12, "sti": 0.03, "ar": 0.19, "inv": 0.21, "oca": 0.03, "ppe": 0.36, "gw": 0.42,
               "onca": 0.08, "ap": 0.13, "accrued": 0.08, "deferred": 0.03, "oncl": 0.12, "eq_min": 0.3},
        "segments": [("Heavy Equipment", 0.52, -0.01, 0.13), ("Aftermarket Parts", 0.24, 0.02, 0.24),
                     ("Field Services", 0.17, 0.02, 0.15), ("Digital Solutions", 0.07, 0.12, 0.09)],
        "seg_unit": "USD millions",
        "regions": [("north_america", "North America", 0.47, 0.0), ("latin_america", "Latin America", 0.09, 0.0),
                    ("europe", "Europe", 0.24, -0.01), ("asia_pacific", "Asia Pacific", 0.15, 0.03),
                    ("middle_east_africa", "the Middle East and Africa", 0.05, 0.02)],
        "reg_unit": "USD millions",
        "seasonality": (0.232, 0.246, 0.254, 0.268),
        "debt": [("3.100% Senior Notes due 2022", "notes", "3.100", 2016, 2022, 500.0, 0.0),
                 ("4.000% Senior Notes due 2029", "notes", "4.000", 2019, 2029, 800.0, 0.0),
                 ("5.375% Senior Notes due 2033", "notes", "5.375", 2022, 2033, 600.0, 0.0),
                 ("Commercial Paper", "revolver", "4.650", 2019, 2030, 400.0, 0.0)],
        "shares0": 212.6, "issue": (0.004, 0.008), "buyback": (0.008, 0.018), "dil": (0.008, 0.014),
        "rpe": 0.255, "rpe_growth": 0.02,
        "depts": [("manufacturing", 0.48), ("engineering", 0.16), ("sales_and_service", 0.24),
                  ("general_and_administrative", 0.12)],
        "names": {"seg": "segment_results", "debt": "borrowings", "hc": "workforce"},
        "cols": {"is.total_opex": "operating_expenses", "cf.capex": "purchases_of_property_and_equipment",
                 "hc.total": "employees_end_of_year", "seg.revenue": "net_sales",
                 "seg.operating_income": "segment_operating_profit"},
        "text": ["bs.total_equity"], "quarter_style": "int", "capex_positive": True,
        "bs_total_debt": True, "hc_average": True, "null_quarter": False,
    },
    {
        "id": "brightcart", "name": "BrightCart Stores Inc.", "short": "BrightCart", "ticker": "BCRT",
        "sector": "Retail", "fye": (1, 31), "fin_unit": "USD millions",
        "rev0": 14186.0, "growth": (0.03, 0.075), "gm": (0.262, 0.281), "tax": 0.24, "nci": 0.0,
        "opex": [("selling_general_and_administrative", "Selling, general and administrative", 0.206, -0.003),
                 ("technology_and_content", "Technology and content", 0.024, 0.04)],
        "da": 0.025, "capex": 0.032, "sbc": 0.006, "payout": 0.4, "buybacks": True, "cash_plug": "inv",
        "bs": {"cash": 0.07, "sti": 0.01, "ar": 0.02, "inv": 0.14, "oca": 0.015, "ppe": 0.31, "gw": 0.05,
               "onca": 0.09, "ap": 0.11, "accrued": 0.05, "deferred": 0.01, "oncl": 0.12, "eq_min": 0.12},
        "segments": [("Grocery", 0.41, 0.01, 0.03), ("General Merchandise", 0.33, -0.02, 0.05),
                     ("Home Goods", 0.22, -0.01, 0.04), ("Retail Media", 0.04, 0.16, 0.31)],
        "seg_unit": "USD millions",
        "regions": [("united_states", "the United States", 0.86, -0.002), ("canada", "Canada", 0.09, 0.01),
                    ("mexico", "Mexico", 0.05, 0.04)],
        "reg_unit": "USD millions",
        "seasonality": (0.225, 0.235, 0.232, 0.308),
        "debt": [("2.400% Senior Notes due 2025", "notes", "2.400", 2015, 2025, 750.0, 0.0),
                 ("3.625% Senior Notes due 2030", "notes", "3.625", 2020, 2030, 1000.0, 0.0),
                 ("Asset-Backed Term Loan", "term", "5.850", 2021, 2028, 600.0, 75.0),
                 ("Revolving Credit Facility", "revolver", "6.150", 2018, 2027, 500.0, 0.0)],
        "shares0": 98.4, "issue": (0.003, 0.006), "buyback": (0.01, 0.025), "dil": (0.006, 0.012),
        "rpe": 0.182, "rpe_growth": 0.015,
        "depts": [("store_operations", 0.71), ("distribution_centers", 0.17), ("technology", 0.05),
                  ("corporate", 0.07)],
        "names": {"reg": "regional_sales"},
        "cols": {"is.revenue": "net_sales", "q.revenue": "net_sales", "seg.revenue": "net_sales"},
        "text": ["seg.revenue"], "quarter_style": "Q", "capex_positive": False,
        "bs_total_debt": False, "hc_average": True, "null_quarter": False,
    },
    {
        "id": "meridian", "name": "Meridian Media Group", "short": "Meridian Media", "ticker": "MMG",
        "sector": "Media & Entertainment", "fye": (12, 31), "fin_unit": "USD millions",
        "rev0": 3214.0, "growth": (-0.02, 0.09), "gm": (0.45, 0.49), "tax": 0.21, "nci": 0.07,
        "opex": [("sales_and_marketing", "Sales and marketing", 0.14, 0.0),
                 ("technology_and_development", "Technology and development", 0.08, 0.02),
                 ("general_and_administrative", "General and administrative", 0.095, -0.01)],
        "da": 0.06, "capex": 0.035, "sbc": 0.03, "payout": 0.3, "buybacks": False, "cash_plug": "inv",
        "bs": {"cash": 0.18, "sti": 0.04, "ar": 0.21, "inv": 0.0, "oca": 0.05, "ppe": 0.22, "gw": 0.95,
               "onca": 0.25, "ap": 0.09, "accrued": 0.11, "deferred": 0.07, "oncl": 0.14, "eq_min": 0.45},
        "segments": [("Advertising", 0.46, -0.03, 0.24), ("Subscriptions", 0.31, 0.05, 0.19),
                     ("Content Licensing", 0.15, 0.01, 0.33), ("Live Events", 0.08, 0.06, 0.06)],
        "seg_unit": "USD thousands",
        "regions": [("domestic", "the domestic market (United States)", 0.78, -0.005), ("international", "international markets", 0.22, 0.02)],
        "reg_unit": "USD millions",
        "seasonality": (0.228, 0.247, 0.236, 0.289),
        "debt": [("4.750% Senior Notes due 2026", "notes", "4.750", 2016, 2026, 900.0, 0.0),
                 ("Term Loan B", "term", "6.400", 2020, 2027, 700.0, 7.0),
                 ("3.875% Senior Notes due 2023", "notes", "3.875", 2018, 2023, 400.0, 0.0)],
        "shares0": 187.5, "issue": (0.004, 0.01), "buyback": (0.0, 0.0), "dil": (0.01, 0.02),
        "rpe": 0.41, "rpe_growth": 0.02,
        "depts": [("content_and_production", 0.41), ("sales_and_marketing", 0.27), ("technology", 0.18),
                  ("general_and_administrative", 0.14)],
        "names": {"is": "statement_of_operations", "seg": "segment_revenue", "reg": "geographic_revenue",
                  "q": "quarterly_financials", "sh": "equity_compensation"},
        "cols": {"cf.cfo": "cash_from_operations", "sh.shares_out": "common_shares_outstanding"},
        "text": ["cf.cfo", "cf.capex"], "quarter_style": "Q", "capex_positive": False,
        "bs_total_debt": False, "hc_average": False, "null_quarter": True,
    },
    {
        "id": "cobalt_pay", "name": "Cobalt Payments Inc.", "short": "Cobalt Payments", "ticker": "CBLT",
        "sector": "Financial Technology", "fye": (12, 31), "fin_unit": "USD millions",
        "rev0": 948.2, "growth": (0.22, 0.34), "gm": (0.52, 0.56), "tax": 0.2, "nci": 0.0,
        "opex": [("technology_and_development", "Technology and development", 0.18, -0.02),
                 ("sales_and_marketing", "Sales and marketing", 0.16, -0.03),
                 ("general_and_administrative", "General and administrative", 0.085, -0.03),
                 ("provision_for_credit_losses", "Provision for credit losses", 0.03, 0.0)],
        "da": 0.04, "capex": 0.03, "sbc": 0.09, "payout": 0.0, "buybacks": True, "cash_plug": "inv",
        "bs": {"cash": 0.85, "sti": 0.4, "ar": 0.12, "inv": 0.01, "oca": 0.3, "ppe": 0.12, "gw": 0.5,
               "onca": 0.1, "ap": 0.06, "accrued": 0.32, "deferred": 0.02, "oncl": 0.07, "eq_min": 0.7},
        "segments": [("Transaction Fees", 0.66, -0.02, 0.17), ("Subscription Services", 0.19, 0.06, 0.28),
                     ("Interest on Customer Funds", 0.06, 0.15, 0.8), ("Hardware", 0.09, -0.05, -0.04)],
        "seg_unit": "USD thousands",
        "regions": [("americas", "the Americas", 0.71, -0.01), ("europe", "Europe", 0.21, 0.02),
                    ("asia_pacific", "Asia Pacific", 0.08, 0.05)],
        "reg_unit": "USD millions",
        "seasonality": (0.232, 0.245, 0.251, 0.272),
        "debt": [("0.125% Convertible Notes due 2025", "notes", "0.125", 2020, 2025, 575.0, 0.0),
                 ("Warehouse Credit Facility", "revolver", "6.900", 2019, 2028, 300.0, 0.0),
                 ("3.500% Senior Notes due 2031", "notes", "3.500", 2021, 2031, 500.0, 0.0)],
        "shares0": 104.8, "issue": (0.015, 0.03), "buyback": (0.004, 0.012), "dil": (0.04, 0.07),
        "rpe": 0.52, "rpe_growth": 0.06,
        "depts": [("engineering", 0.44), ("sales_and_marketing", 0.22), ("risk_and_operations", 0.2),
                  ("general_and_administrative", 0.14)],
        "names": {},
        "cols": {"is.total_opex": "operating_expenses"},
        "text": ["debt.principal", "debt.current"], "quarter_style": "Q", "capex_positive": False,
        "bs_total_debt": False, "hc_average": False, "null_quarter": True,
    },
    {
        "id": "solano", "name": "Solano Renewable Power Corp.", "short": "Solano Renewable Power",
        "ticker": "SRP", "sector": "Renewable Utilities", "fye": (12, 31), "fin_unit": "USD millions",
        "rev0": 2106.0, "growth": (0.06, 0.14), "gm": (0.38, 0.42), "tax": 0.17, "nci": 0.12,
        "opex": [("operations_and_maintenance", "Operations and maintenance", 0.08, 0.0),
                 ("general_and_administrative", "General and administrative", 0.065, -0.02)],
        "da": 0.16, "capex": 0.42, "sbc": 0.012, "payout": 0.6, "buybacks": False, "cash_plug": "fin",
        "bs": {"cash": 0.16, "sti": 0.0, "ar": 0.13, "inv": 0.04, "oca": 0.04, "ppe": 3.3, "gw": 0.25,
               "onca": 0.3, "ap": 0.08, "accrued": 0.06, "deferred": 0.0, "oncl": 0.35, "eq_min": 1.1},
        "segments": [("Utility-Scale Generation", 0.63, -0.01, 0.31), ("Residential Solar", 0.17, 0.03, 0.08),
                     ("Energy Storage", 0.12, 0.13, 0.16), ("Grid Services", 0.08, 0.0, 0.22)],
        "seg_unit": "USD millions",
        "regions": [("united_states", "the United States", 0.74, -0.01), ("europe", "Europe", 0.18, 0.02),
                    ("australia", "Australia", 0.08, 0.04)],
        "reg_unit": "USD millions",
        "seasonality": (0.21, 0.26, 0.305, 0.225),
        "debt": [("3.750% Senior Notes due 2022", "notes", "3.750", 2017, 2022, 800.0, 0.0),
                 ("5.250% Senior Notes due 2028", "notes", "5.250", 2018, 2028, 1500.0, 0.0),
                 ("4.500% Green Bonds due 2030", "notes", "4.500", 2020, 2030, 2000.0, 0.0),
                 ("Project Finance Loans", "term", "5.600", 2019, 2035, 2500.0, 125.0),
                 ("6.100% Green Bonds due 2033", "notes", "6.100", 2023, 2033, 1200.0, 0.0),
                 ("Revolving Credit Facility", "revolver", "6.350", 2019, 2028, 600.0, 0.0)],
        "shares0": 176.9, "issue": (0.01, 0.025), "buyback": (0.0, 0.0), "dil": (0.005, 0.011),
        "rpe": 0.78, "rpe_growth": 0.04,
        "depts": [("field_operations", 0.52), ("engineering_and_construction", 0.24), ("commercial", 0.1),
                  ("corporate", 0.14)],
        "names": {"bs": "financial_position", "cf": "cash_flow_statement", "seg": "segment_revenue"},
        "cols": {"is.revenue": "operating_revenues", "hc.total": "total_employees"},
        "text": ["is.net_income_attr"], "quarter_style": "Q", "capex_positive": False,
        "bs_total_debt": True, "hc_average": False, "null_quarter": False,
    },
    {
        "id": "tessera", "name": "Tessera Devices Ltd.", "short": "Tessera Devices", "ticker": "TSRD",
        "sector": "Consumer Electronics", "fye": (9, 30), "fin_unit": "USD millions",
        "rev0": 21487.0, "growth": (-0.03, 0.09), "gm": (0.395, 0.432), "tax": 0.15, "nci": 0.0,
        "opex": [("research_and_development", "Research and development", 0.07, 0.01),
                 ("selling_general_and_administrative", "Selling, general and administrative", 0.075, 0.0)],
        "da": 0.03, "capex": 0.035, "sbc": 0.03, "payout": 0.15, "buybacks": True, "cash_plug": "inv",
        "bs": {"cash": 0.16, "sti": 0.22, "ar": 0.11, "inv": 0.06, "oca": 0.08, "ppe": 0.19, "gw": 0.06,
               "onca": 0.35, "ap": 0.19, "accrued": 0.1, "deferred": 0.04, "oncl": 0.13, "eq_min": 0.25},
        "segments": [("Hardware", 0.71, -0.02, 0.27), ("Services", 0.17, 0.06, 0.55),
                     ("Accessories", 0.09, 0.0, 0.22), ("Cloud", 0.03, 0.2, 0.12)],
        "seg_unit": "USD millions",
        "regions": [("americas", "the Americas", 0.42, 0.0), ("europe", "Europe", 0.25, 0.0),
                    ("greater_china", "Greater China", 0.19, -0.02), ("rest_of_asia_pacific", "the rest of Asia Pacific", 0.14, 0.02)],
        "reg_unit": "USD billions",
        "seasonality": (0.305, 0.235, 0.215, 0.245),
        "debt": [("1.650% Notes due 2025", "notes", "1.650", 2018, 2025, 1500.0, 0.0),
                 ("2.200% Notes due 2030", "notes", "2.200", 2020, 2030, 2000.0, 0.0),
                 ("0.950% Notes due 2023", "notes", "0.950", 2019, 2023, 1000.0, 0.0),
                 ("4.400% Notes due 2034", "notes", "4.400", 2024, 2034, 1250.0, 0.0)],
        "shares0": 1624.0, "issue": (0.004, 0.008), "buyback": (0.015, 0.03), "dil": (0.006, 0.01),
        "rpe": 0.96, "rpe_growth": 0.02,
        "depts": [("engineering", 0.36), ("retail_and_sales", 0.33), ("operations", 0.2),
                  ("general_and_administrative", 0.11)],
        "names": {"cf": "cash_flows"},
        "cols": {"is.revenue": "net_revenue", "q.revenue": "net_revenue"},
        "text": ["seg.operating_income"], "quarter_style": "Q", "capex_positive": False,
        "bs_total_debt": True, "hc_average": False, "null_quarter": False,
    },
]


# --------------------------------------------------------------------------------------------- helpers


def rto(x: float, grain: int) -> int:
    """``x`` rounded to a multiple of ``grain`` (an integer)."""
    return round(x / grain) * grain


def split(total: int, weights: list[float], grain: int) -> list[int]:
    """Integers that are multiples of ``grain``, proportional to ``weights`` and summing to ``total``."""
    assert total % grain == 0, (total, grain)
    units = total // grain
    s = sum(weights)
    raw = [units * w / s for w in weights]
    base = [math.floor(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[: units - sum(base)]:
        base[i] += 1
    return [b * grain for b in base]


def grain_of(unit: str) -> int:
    return UNIT_FACTOR[unit] // 10 ** UNIT_DP[unit]


def amount_str(v: int, unit: str, text: bool = False) -> str:
    """The stored form of ``v`` (integer thousands) in ``unit``; ``text`` gives ``$1,234.5`` / ``(12.0)``."""
    step = grain_of(unit)
    assert v % step == 0, (v, unit)
    q = abs(v) // step
    d = UNIT_DP[unit]
    ip, fp = divmod(q, 10**d)
    s = (f"{ip:,}" if text else str(ip)) + (f".{fp:0{d}d}" if d else "")
    if text:
        return f"({s})" if v < 0 else f"${s}"
    return f"-{s}" if v < 0 else s


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def quarter_end(fye: tuple[int, int], fy: int, q: int) -> dt.date:
    month = fye[0] - 3 * (4 - q)
    year = fy
    while month <= 0:
        month += 12
        year -= 1
    return month_end(year, month)


def fye_text(fye: tuple[int, int]) -> str:
    return f"{MONTHS[fye[0] - 1]} {fye[1]}"


@dataclass
class Col:
    key: str
    name: str
    type: str
    cat: str  # year | money | shares | count | eps | rate | int | str | date
    unit: str | None
    desc: str
    text: bool = False


# --------------------------------------------------------------------------------------------- company


class Co:
    """A company: its configuration, table layouts and (after :meth:`build`) its in-memory model."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.id: str = cfg["id"]
        self.name: str = cfg["name"]
        self.short: str = cfg["short"]
        self.fin_unit: str = cfg["fin_unit"]
        self.nci = cfg["nci"] > 0
        self.m: dict[str, Any] = {}
        self.layout: dict[str, list[Col]] = {k: self._columns(k) for k in KINDS}

    # ---- names
    def t(self, kind: str) -> str:
        return f"{self.id}_{self.cfg['names'].get(kind, DEFAULT_TABLE[kind])}"

    def col(self, kind: str, key: str) -> Col:
        for c in self.layout[kind]:
            if c.key == key:
                return c
        raise KeyError((self.id, kind, key))

    def has(self, kind: str, key: str) -> bool:
        return any(c.key == key for c in self.layout[kind])

    def x(self, kind: str, key: str, alias: str | None = None) -> str:
        """SQL expression for a column's numeric value (text amounts converted)."""
        c = self.col(kind, key)
        ref = f"{alias}.{c.name}" if alias else c.name
        if c.text:
            return (f"CAST(REPLACE(REPLACE(REPLACE(REPLACE({ref}, '$', ''), ',', ''), '(', '-'), ')', '') "
                    f"AS DOUBLE)")
        return ref

    def sel(self, kind: str, key: str) -> str:
        """A select-list item for a column (aliased when it is a text amount)."""
        c = self.col(kind, key)
        return f"{self.x(kind, key)} AS {c.name}" if c.text else c.name

    def unit(self, kind: str, key: str) -> str:
        u = self.col(kind, key).unit
        assert u is not None
        return u

    def poss(self, name: str | None = None) -> str:
        n = name or self.short
        return n + ("'" if n.endswith("s") else "'s")

    # ---- layouts
    def _columns(self, kind: str) -> list[Col]:
        cfg = self.cfg
        fye = fye_text(cfg["fye"])
        fy = Col("fiscal_year", "fiscal_year", "INTEGER", "year", None, f"Fiscal year (ends {fye} of that year)")
        specs: list[tuple[str, str, str, str]]  # key, default name, category, description
        if kind == "is":
            specs = [("revenue", "total_revenue", "money", "Total net revenue"),
                     ("cost_of_revenue", "cost_of_revenue", "money", "Cost of revenue"),
                     ("gross_profit", "gross_profit", "money", "Gross profit (revenue less cost of revenue)")]
            specs += [(k, k, "money", f"{label} expense") for k, label, _, _ in cfg["opex"]]
            specs += [("total_opex", "total_operating_expenses", "money",
                       "Total operating expenses (sum of the operating expense lines; excludes cost of revenue)"),
                      ("operating_income", "operating_income", "money",
                       "Operating income (gross profit less total operating expenses)"),
                      ("interest_expense", "interest_expense", "money", "Interest expense (a positive number)"),
                      ("other_income", "other_income_expense_net", "money", "Other income (expense), net"),
                      ("pretax_income", "income_before_income_taxes", "money", "Income before income taxes"),
                      ("income_tax", "provision_for_income_taxes", "money", "Provision for income taxes"),
                      ("net_income", "net_income", "money",
                       "Net income (consolidated, including noncontrolling interests)" if self.nci else "Net income")]
            if self.nci:
                specs += [("nci", "net_income_noncontrolling_interests", "money",
                           "Net income attributable to noncontrolling interests"),
                          ("net_income_attr", "net_income_attributable", "money",
                           f"Net income attributable to {self.name} common shareholders")]
            specs += [("eps_basic", "eps_basic", "eps", "Basic earnings per share"),
                      ("eps_diluted", "eps_diluted", "eps", "Diluted earnings per share")]
        elif kind == "bs":
            specs = [("cash", "cash_and_equivalents", "money", "Cash and cash equivalents at fiscal year end"),
                     ("sti", "short_term_investments", "money", "Short-term investments"),
                     ("ar", "accounts_receivable", "money", "Accounts receivable, net"),
                     ("inv", "inventories", "money", "Inventories"),
                     ("oca", "other_current_assets", "money", "Prepaid expenses and other current assets"),
                     ("tca", "total_current_assets", "money", "Total current assets"),
                     ("ppe", "property_plant_equipment_net", "money", "Property, plant and equipment, net"),
                     ("gw", "goodwill_and_intangibles", "money", "Goodwill and intangible assets, net"),
                     ("onca", "other_noncurrent_assets", "money", "Other non-current assets"),
                     ("ta", "total_assets", "money", "Total assets"),
                     ("ap", "accounts_payable", "money", "Accounts payable"),
                     ("accrued", "accrued_liabilities", "money", "Accrued and other current liabilities"),
                     ("deferred", "deferred_revenue", "money", "Deferred revenue (current)"),
                     ("cur_debt", "current_portion_of_debt", "money", "Current portion of long-term debt"),
                     ("tcl", "total_current_liabilities", "money", "Total current liabilities"),
                     ("ltd", "long_term_debt", "money", "Long-term debt, net of current portion"),
                     ("oncl", "other_noncurrent_liabilities", "money", "Other non-current liabilities"),
                     ("tl", "total_liabilities", "money", "Total liabilities"),
                     ("total_equity", "total_equity", "money",
                      "Total equity (including noncontrolling interests)" if self.nci else "Total stockholders' equity"),
                     ("tle", "total_liabilities_and_equity", "money", "Total liabilities and equity")]
            if cfg["bs_total_debt"]:
                specs.insert(16, ("total_debt", "total_debt", "money",
                                  "Total debt (current portion plus long-term debt)"))
        elif kind == "cf":
            capex_desc = ("Purchases of property and equipment (cash outflow shown as a POSITIVE number)"
                          if cfg["capex_positive"] else "Capital expenditures (cash outflow, negative)")
            specs = [("net_income", "net_income", "money", "Net income (consolidated)"),
                     ("da", "depreciation_and_amortization", "money", "Depreciation and amortization"),
                     ("sbc", "stock_based_compensation", "money", "Stock-based compensation expense"),
                     ("wc", "changes_in_working_capital", "money", "Changes in operating assets and liabilities"),
                     ("other_op", "other_operating_activities", "money", "Other operating activities, net"),
                     ("cfo", "net_cash_from_operating_activities", "money", "Net cash provided by operating activities"),
                     ("capex", "capital_expenditures", "money", capex_desc),
                     ("acq", "acquisitions_net_of_cash", "money", "Acquisitions, net of cash acquired (negative)"),
                     ("other_inv", "other_investing_activities", "money",
                      "Purchases and maturities of investments and other investing activities, net"),
                     ("cfi", "net_cash_from_investing_activities", "money", "Net cash used in investing activities"),
                     ("debt_in", "proceeds_from_borrowings", "money", "Proceeds from issuance of debt"),
                     ("debt_out", "repayments_of_borrowings", "money", "Repayments of debt (negative)"),
                     ("buyback", "repurchases_of_common_stock", "money", "Repurchases of common stock (negative)"),
                     ("dividends", "dividends_paid", "money", "Dividends paid (negative)"),
                     ("other_fin", "other_financing_activities", "money", "Other financing activities, net"),
                     ("cff", "net_cash_from_financing_activities", "money", "Net cash from financing activities"),
                     ("net_change", "net_change_in_cash", "money", "Net increase (decrease) in cash and equivalents")]
        elif kind == "seg":
            specs = [("segment", "segment", "str", "Reportable segment name"),
                     ("revenue", "revenue", "money", "Segment revenue"),
                     ("operating_income", "operating_income", "money",
                      "Segment operating income (before unallocated corporate costs)")]
        elif kind == "reg":
            specs = [(k, k, "money", f"Revenue from customers in {label}") for k, label, _, _ in cfg["regions"]]
        elif kind == "q":
            specs = [("fiscal_quarter", "fiscal_quarter", "str" if cfg["quarter_style"] == "Q" else "int",
                      "Fiscal quarter, 'Q1' to 'Q4'" if cfg["quarter_style"] == "Q" else "Fiscal quarter, 1 to 4"),
                     ("quarter_end", "quarter_end_date", "date", "Last day of the fiscal quarter"),
                     ("revenue", "revenue", "money", "Revenue for the quarter"),
                     ("gross_profit", "gross_profit", "money", "Gross profit for the quarter"),
                     ("operating_income", "operating_income", "money", "Operating income for the quarter"),
                     ("net_income", "net_income", "money", "Net income for the quarter (consolidated)")]
        elif kind == "debt":
            specs = [("instrument", "instrument", "str", "Debt instrument"),
                     ("rate", "interest_rate_pct", "rate", "Stated annual interest rate"),
                     ("maturity", "maturity_year", "int", "Calendar year in which the instrument matures"),
                     ("principal", "principal_outstanding", "money", "Principal outstanding at fiscal year end"),
                     ("current", "current_portion", "money", "Portion due within twelve months")]
        elif kind == "sh":
            specs = [("shares_out", "shares_outstanding", "shares", "Common shares outstanding at fiscal year end"),
                     ("basic", "weighted_avg_basic_shares", "shares", "Weighted-average basic shares"),
                     ("diluted", "weighted_avg_diluted_shares", "shares",
                      "Weighted-average diluted shares (equal to basic in loss years)"),
                     ("repurchased", "shares_repurchased", "shares", "Shares repurchased during the year"),
                     ("sbc", "stock_based_compensation", "money", "Stock-based compensation expense")]
        elif kind == "hc":
            specs = [("total", "total_employees", "count", "Total employees at fiscal year end")]
            specs += [(k, k, "count", f"Employees in {k.replace('_', ' ')} at fiscal year end")
                      for k, _ in cfg["depts"]]
            if cfg["hc_average"]:
                specs.append(("average", "average_employees", "count", "Average number of employees during the year"))
        else:
            raise ValueError(kind)
        cols = [fy]
        unit_of = {"is": self.fin_unit, "bs": self.fin_unit, "cf": self.fin_unit, "q": self.fin_unit,
                   "seg": cfg["seg_unit"], "reg": cfg["reg_unit"], "debt": "USD millions",
                   "sh": "USD thousands" if self.fin_unit == "USD thousands" else "USD millions"}
        for key, name, cat, desc in specs:
            name = cfg["cols"].get(f"{kind}.{key}", name)
            text = f"{kind}.{key}" in cfg["text"]
            if cat == "money":
                unit = unit_of[kind]
                ctype = "VARCHAR" if text else ("BIGINT" if UNIT_DP[unit] == 0 else "DOUBLE")
                if text:
                    desc = f"{desc}, {TEXT_NOTE}"
            elif cat == "shares":
                unit, ctype = "shares millions", "DOUBLE"
            elif cat == "count":
                unit, ctype = "persons", "INTEGER"
            elif cat == "eps":
                unit, ctype = "USD per share", "DOUBLE"
            elif cat == "rate":
                unit, ctype = "%", "DOUBLE"
            elif cat == "int":
                unit, ctype = None, "INTEGER"
            elif cat == "date":
                unit, ctype = None, "DATE"
            else:
                unit, ctype = None, "VARCHAR"
            cols.append(Col(key, name, ctype, cat, unit, desc, text))
        return cols

    # ---- model
    def build(self, rng: random.Random) -> None:
        cfg = self.cfg
        g = grain_of(self.fin_unit)
        u = rng.uniform
        # revenue
        rev: dict[int, int] = {}
        r = cfg["rev0"] * 1000
        for y in YEARS:
            if y > FIRST:
                r *= 1 + u(*cfg["growth"])
            rev[y] = rto(r, 100)
        # debt (fiscal year 2019 kept for flows and interest)
        all_years = (FIRST - 1, *YEARS)
        debt: dict[int, list[dict[str, Any]]] = {y: [] for y in all_years}
        for name, kind, rate, start, maturity, principal_m, amort_m in cfg["debt"]:
            p = rto(principal_m * 1000, 100)
            a = rto(amort_m * 1000, 100)
            for y in all_years:
                if not start <= y < maturity:
                    continue
                if kind == "notes":
                    out, cur = p, (p if maturity == y + 1 else 0)
                elif kind == "term":
                    out = max(p - a * (y - start), 0)
                    cur = out if maturity == y + 1 else min(a, out)
                else:
                    out, cur = rto(u(0.15, 0.95) * p, 5000), 0
                if out > 0:
                    debt[y].append({"instrument": name, "rate": float(rate), "rate_s": rate,
                                    "maturity": maturity, "principal": out, "current": cur})
        for y in YEARS:
            assert debt[y], (self.id, y)
        principal = {y: {d["instrument"]: d["principal"] for d in debt[y]} for y in all_years}
        total_debt = {y: sum(principal[y].values()) for y in all_years}
        # income statement (EPS filled in after the share model)
        inc: dict[int, dict[str, Any]] = {}
        for i, y in enumerate(YEARS):
            R = rev[y]
            row: dict[str, Any] = {"revenue": R}
            row["cost_of_revenue"] = rto(R * (1 - u(*cfg["gm"])), g)
            row["gross_profit"] = R - row["cost_of_revenue"]
            tot = 0
            for key, _, pct, trend in cfg["opex"]:
                row[key] = rto(R * pct * (1 + trend) ** i * (1 + u(-0.05, 0.05)), g)
                tot += row[key]
            row["total_opex"] = tot
            row["operating_income"] = row["gross_profit"] - tot
            interest = 0.0
            for d in debt[y]:
                prev = principal[y - 1].get(d["instrument"], 0)
                interest += (prev + d["principal"]) / 2 * d["rate"] / 100
            row["interest_expense"] = max(rto(interest * (1 + u(0.02, 0.08)), g), g)
            row["other_income"] = rto(R * u(-0.006, 0.012), g)
            row["pretax_income"] = row["operating_income"] - row["interest_expense"] + row["other_income"]
            pt = row["pretax_income"]
            row["income_tax"] = rto(pt * cfg["tax"] * u(0.9, 1.1), g) if pt > 0 else rto(R * 0.002, g)
            row["net_income"] = pt - row["income_tax"]
            if self.nci:
                row["nci"] = rto(row["net_income"] * cfg["nci"] * u(0.9, 1.1), g)
                row["net_income_attr"] = row["net_income"] - row["nci"]
            inc[y] = row
        # stock-based compensation (a multiple of 0.1 million so every table can hold it)
        sbc = {y: rto(rev[y] * cfg["sbc"] * u(0.92, 1.08), 100) for y in YEARS}
        # cash flow and cash
        bsp = cfg["bs"]
        cash_prev = rto(rev[FIRST] * bsp["cash"] * 0.9, g)
        cash0 = cash_prev
        cfs: dict[int, dict[str, int]] = {}
        cash: dict[int, int] = {}
        for y in YEARS:
            R = rev[y]
            c: dict[str, int] = {"net_income": inc[y]["net_income"]}
            c["da"] = rto(R * cfg["da"] * u(0.9, 1.1), g)
            c["sbc"] = sbc[y]
            c["wc"] = rto(R * u(-0.02, 0.015), g)
            c["other_op"] = rto(R * u(-0.004, 0.008), g)
            c["cfo"] = c["net_income"] + c["da"] + c["sbc"] + c["wc"] + c["other_op"]
            capex = rto(R * cfg["capex"] * u(0.85, 1.15), g)
            c["acq"] = -rto(R * u(0.02, 0.08), g) if rng.random() < 0.3 else 0
            c["other_inv"] = rto(R * u(-0.02, 0.01), g)
            inflow = outflow = 0
            for name, p in principal[y].items():
                delta = p - principal[y - 1].get(name, 0)
                inflow += max(delta, 0)
                outflow += min(delta, 0)
            for name, p in principal[y - 1].items():
                if name not in principal[y]:
                    outflow -= p
            c["debt_in"], c["debt_out"] = inflow, outflow
            ni_attr = inc[y].get("net_income_attr", inc[y]["net_income"])
            c["dividends"] = -rto(ni_attr * cfg["payout"], g) if cfg["payout"] and ni_attr > 0 else 0
            c["other_fin"] = rto(R * u(-0.004, 0.002), g)
            pre = (cash_prev + c["cfo"] - capex + c["acq"] + c["other_inv"] + inflow + outflow
                   + c["dividends"] + c["other_fin"])
            target = R * bsp["cash"]
            c["buyback"] = -rto((pre - target) * u(0.45, 0.7), g) if cfg["buybacks"] and pre > target * 1.05 else 0
            floor = R * bsp["cash"] * 0.8
            end = pre + c["buyback"]
            if end < floor:
                add = rto(floor - end + R * u(0.0, 0.03), g)
                c["other_inv" if cfg["cash_plug"] == "inv" else "other_fin"] += add
                end += add
            c["capex"] = capex if cfg["capex_positive"] else -capex
            c["cfi"] = -capex + c["acq"] + c["other_inv"]
            c["cff"] = c["debt_in"] + c["debt_out"] + c["buyback"] + c["dividends"] + c["other_fin"]
            c["net_change"] = c["cfo"] + c["cfi"] + c["cff"]
            assert c["net_change"] == end - cash_prev
            cash[y] = end
            cash_prev = end
            cfs[y] = c
        # shares
        sh: dict[int, dict[str, int]] = {}
        prev_sh = rto(cfg["shares0"] * 1000, 100)
        for y in YEARS:
            issued = rto(prev_sh * u(*cfg["issue"]), 100)
            rep = rto(prev_sh * u(*cfg["buyback"]), 100) if cfs[y]["buyback"] < 0 else 0
            cur = prev_sh + issued - rep
            basic = rto((prev_sh + cur) / 2, 100)
            ni_attr = inc[y].get("net_income_attr", inc[y]["net_income"])
            diluted = basic if ni_attr < 0 else basic + max(rto(basic * u(*cfg["dil"]), 100), 100)
            sh[y] = {"shares_out": cur, "basic": basic, "diluted": diluted, "repurchased": rep, "sbc": sbc[y]}
            inc[y]["eps_basic"] = float(f"{ni_attr / basic:.2f}")
            inc[y]["eps_diluted"] = float(f"{ni_attr / diluted:.2f}")
            prev_sh = cur
        # balance sheet
        bs: dict[int, dict[str, int]] = {}
        for y in YEARS:
            R = rev[y]
            b: dict[str, int] = {"cash": cash[y]}
            for k in ("sti", "ar", "inv", "oca", "ppe", "gw", "onca", "ap", "accrued", "deferred", "oncl"):
                b[k] = rto(R * bsp[k] * u(0.9, 1.1), g)
            b["cur_debt"] = sum(d["current"] for d in debt[y])
            b["ltd"] = total_debt[y] - b["cur_debt"]
            b["total_debt"] = total_debt[y]
            b["tcl"] = b["ap"] + b["accrued"] + b["deferred"] + b["cur_debt"]
            b["tl"] = b["tcl"] + b["ltd"] + b["oncl"]
            b["tca"] = b["cash"] + b["sti"] + b["ar"] + b["inv"] + b["oca"]
            ta = b["tca"] + b["ppe"] + b["gw"] + b["onca"]
            need = rto(R * bsp["eq_min"] * u(0.95, 1.15), g) - (ta - b["tl"])
            if need > 0:
                b["onca"] += need
            b["ta"] = b["tca"] + b["ppe"] + b["gw"] + b["onca"]
            b["total_equity"] = b["ta"] - b["tl"]
            b["tle"] = b["tl"] + b["total_equity"]
            bs[y] = b
        # segments
        seg: dict[int, list[dict[str, Any]]] = {}
        sg = grain_of(cfg["seg_unit"])
        for i, y in enumerate(YEARS):
            w = [w0 * (1 + drift) ** i * u(0.97, 1.03) for _, w0, drift, _ in cfg["segments"]]
            parts = split(rev[y], w, sg)
            seg[y] = [{"segment": name, "revenue": p, "operating_income": rto(p * (m + u(-0.025, 0.025)), sg)}
                      for (name, _, _, m), p in zip(cfg["segments"], parts, strict=True)]
        # regions
        reg: dict[int, dict[str, int]] = {}
        rg = grain_of(cfg["reg_unit"])
        for i, y in enumerate(YEARS):
            w = [w0 * (1 + drift) ** i * u(0.98, 1.02) for _, _, w0, drift in cfg["regions"]]
            reg[y] = dict(zip([k for k, *_ in cfg["regions"]], split(rev[y], w, rg), strict=True))
        # quarters
        qs: dict[int, dict[int, dict[str, Any]]] = {}
        for y in YEARS:
            w = [s * u(0.97, 1.03) for s in cfg["seasonality"]]
            cols = {}
            for key in ("revenue", "gross_profit", "operating_income", "net_income"):
                ww = w if key == "revenue" else [x * u(0.96, 1.04) for x in w]
                cols[key] = split(inc[y][key], ww, g)
            qs[y] = {q: {k: cols[k][q - 1] for k in cols} for q in (1, 2, 3, 4)}
            for q in (1, 2, 3, 4):
                qs[y][q]["quarter_end"] = quarter_end(cfg["fye"], y, q)
        if cfg["null_quarter"]:
            qs[FIRST][2]["gross_profit"] = None
        # headcount
        hc: dict[int, dict[str, Any]] = {}
        prev_total = None
        for i, y in enumerate(YEARS):
            total = round(rev[y] / 1000 / (cfg["rpe"] * (1 + cfg["rpe_growth"]) ** i) * u(0.98, 1.02))
            w = [w0 * u(0.95, 1.05) for _, w0 in cfg["depts"]]
            h: dict[str, Any] = {"total": total}
            h.update(zip([k for k, _ in cfg["depts"]], split(total, w, 1), strict=True))
            if cfg["hc_average"]:
                h["average"] = None if prev_total is None else round((prev_total + total) / 2 * u(0.99, 1.01))
            hc[y] = h
            prev_total = total
        self.m = {"is": inc, "bs": bs, "cf": cfs, "seg": seg, "reg": reg, "q": qs, "debt": debt, "sh": sh,
                  "hc": hc, "cash0": cash0}

    # ---- model access (values in the column's stored unit)
    def stored(self, col: Col, raw: Any) -> Any:
        if raw is None:
            return None
        if col.cat == "money":
            return raw / UNIT_FACTOR[col.unit or ""]
        if col.cat == "shares":
            return raw / 1000
        return raw

    def v(self, kind: str, key: str, year: int) -> float:
        """A yearly value of a wide table, in the column's stored unit."""
        return self.stored(self.col(kind, key), self.m[kind][year][key])

    def raw(self, kind: str, key: str, year: int) -> int:
        return self.m[kind][year][key]

    def in_unit(self, raw: int, unit: str) -> float:
        return raw / UNIT_FACTOR[unit]

    # ---- rows
    def rows(self, kind: str) -> list[list[str]]:
        cols = self.layout[kind]
        out = []
        for y in YEARS:
            if kind in ("is", "bs", "cf", "reg", "sh", "hc"):
                recs = [self.m[kind][y]]
            elif kind == "seg":
                recs = self.m["seg"][y]
            elif kind == "q":
                recs = []
                for q in (1, 2, 3, 4):
                    rec = dict(self.m["q"][y][q])
                    rec["fiscal_quarter"] = f"Q{q}" if self.cfg["quarter_style"] == "Q" else q
                    recs.append(rec)
            else:
                recs = self.m["debt"][y]
            for rec in recs:
                out.append([self._cell(c, y if c.key == "fiscal_year" else rec[c.key]) for c in cols])
        return out

    def _cell(self, c: Col, raw: Any) -> str:
        if raw is None:
            return ""
        if c.cat == "money":
            return amount_str(raw, c.unit or "", c.text)
        if c.cat == "shares":
            return amount_str(raw, "shares millions")
        if c.cat == "eps":
            return f"{raw:.2f}"
        if c.cat == "rate":
            return f"{raw:.3f}"
        if c.cat == "date":
            return raw.isoformat()
        return str(raw)

    def table_description(self, kind: str) -> str:
        fye = fye_text(self.cfg["fye"])
        span = f"fiscal years {FIRST}-{LAST} (fiscal year ends {fye})"
        u = self.layout[kind]
        money_units = sorted({c.unit for c in u if c.cat == "money" and c.unit})
        amounts = f" Amounts in {money_units[0]}" if money_units else ""
        d = {
            "is": f"Consolidated statement of operations, {span}.{amounts} except per-share data.",
            "bs": f"Consolidated balance sheet at each fiscal year end, {span}.{amounts}.",
            "cf": f"Consolidated statement of cash flows, {span}.{amounts}; outflows are negative unless noted.",
            "seg": f"Revenue and operating income by reportable segment (one row per segment and year), {span}.{amounts}.",
            "reg": f"Revenue by geographic region (one column per region), {span}.{amounts}.",
            "q": f"Unaudited quarterly results (one row per fiscal quarter), {span}.{amounts}.",
            "debt": f"Debt instruments outstanding at each fiscal year end (one row per instrument and year), {span}.{amounts}.",
            "sh": f"Share count and stock-based compensation, {span}. Shares in millions; stock-based compensation in "
                  f"{self.unit('sh', 'sbc')}.",
            "hc": f"Employees by function at fiscal year end, {span}. Counts of persons.",
        }
        return d[kind]


# --------------------------------------------------------------------------------------------- YAML


class Flow(list):  # type: ignore[type-arg]
    pass


class FlowMap(dict):  # type: ignore[type-arg]
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True))
_Dumper.add_representer(FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", list(v.items()),
                                                                  flow_style=True))


def dump_yaml(data: Any, header: str) -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100_000,
                     default_flow_style=False)
    return header + body


# --------------------------------------------------------------------------------------------- answers

MONEY = ("USD thousands", "USD millions", "USD billions")


def r_money(x: float) -> float:
    a = abs(x)
    return round(x, 1 if a >= 1000 else 2 if a >= 10 else 3)


def r_sig(x: float, n: int = 4) -> float:
    return float(f"{x:.{n}g}")


def tol_for(unit: str) -> FlowMap:
    if unit == "%":
        return FlowMap(abs=0.05)
    if unit == "bps":
        return FlowMap(abs=1.0)
    if unit in ("count", "employees"):
        return FlowMap(abs=0.5)
    if unit == "USD":
        return FlowMap(abs=0.01)
    return FlowMap(rel=0.005)


def rounded(x: float, unit: str) -> float | int:
    if unit == "%":
        return round(x, 2)
    if unit == "bps":
        return round(x, 1)
    if unit == "x":
        return r_sig(x, 4)
    if unit in ("count", "employees"):
        return round(x)
    if unit == "USD":
        return round(x, 2)
    return r_money(x)


def a_num(x: float, unit: str) -> dict[str, Any]:
    return {"kind": "number", "value": rounded(x, unit), "unit": unit, "tolerance": tol_for(unit)}


def a_text(s: str) -> dict[str, Any]:
    return {"kind": "text", "value": s}


def a_list(items: list[str]) -> dict[str, Any]:
    return {"kind": "list", "value": Flow(items), "ordered": True}


def a_tmpl(template: str, blanks: list[tuple[str, float, str]]) -> dict[str, Any]:
    return {"kind": "template", "template": template,
            "blanks": {n: FlowMap(value=rounded(x, u), unit=u, tolerance=tol_for(u)) for n, x, u in blanks}}


def conv(unit_from: str, unit_to: str) -> str:
    """Suffix converting a value in ``unit_from`` into ``unit_to`` (``''``, ``' * 1000'``, ``' / 1000'``)."""
    a, b = UNIT_FACTOR[unit_from], UNIT_FACTOR[unit_to]
    if a == b:
        return ""
    return f" * {a // b}" if a > b else f" / {b // a}"


class Gen:
    """Builds tasks with a seeded RNG."""

    def __init__(self, rng: random.Random, cos: list[Co]) -> None:
        self.r = rng
        self.cos = cos

    def pick(self, options: list[str], **kw: Any) -> str:
        template = self.r.choice(options)
        co = kw.pop("co", None)
        if co is not None:
            name = self.cname(co)
            kw["c"], kw["cs"] = name, co.poss(name)
        text = template.format(**kw)
        style = self.r.choice(["fiscal year {}", "FY{}", "fiscal {}"])
        parts = text.split("\x00")
        return "".join(style.format(p) if i % 2 else p for i, p in enumerate(parts))

    def fy(self, y: int) -> str:
        """A fiscal-year mention; :meth:`pick` renders all of a question's mentions in one style."""
        return f"\x00{y}\x00"

    def cname(self, co: Co) -> str:
        return self.r.choice([co.name, co.short, co.short])


def task(kind: str, diff: str, tags: list[str], co: Co | None, tables: list[str], question: str,
         answer: dict[str, Any], steps: list[tuple[str, str | None, str]], compute: Any = None) -> dict[str, Any]:
    question = question.replace("..", ".")
    assert "\x00" not in question, question
    d: dict[str, Any] = {"id": "", "question": question, "kind": kind, "difficulty": diff, "tags": Flow(tags)}
    if co is not None:
        d["company"] = co.id
    seen: list[str] = []
    for t in tables:
        if t not in seen:
            seen.append(t)
    d["tables"] = Flow(seen)
    d["answer"] = answer
    ref: dict[str, Any] = {"steps": []}
    for bind, table, sql in steps:
        step = {"bind": bind}
        if table:
            step["table"] = table
        step["sql"] = sql
        ref["steps"].append(step)
    if compute is not None:
        ref["compute"] = compute
    d["reference"] = ref
    return d


def q_year(co: Co, kind: str, key: str, year: int) -> str:
    return f"SELECT {co.sel(kind, key)} FROM {co.t(kind)} WHERE fiscal_year = {year}"


def qv(q: int, co: Co) -> str:
    return f"'Q{q}'" if co.cfg["quarter_style"] == "Q" else str(q)


# --------------------------------------------------------------------------------------------- single-table


def s_rev_lookup(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t, key = co.t("is"), "revenue"
    unit, diff, tags = co.fin_unit, "easy", ["lookup"]
    if G.r.random() < 0.35:
        unit = "USD millions" if co.fin_unit == "USD thousands" else "USD billions"
        diff, tags = "medium", ["lookup", "unit_conversion"]
    q = G.pick(["What was {cs} total revenue in {fy}? Answer in {u}.",
                "How much revenue did {c} report for {fy}? Give the figure in {u}.",
                "Report the total revenue of {c} for {fy}, in {u}.",
                "What top-line revenue did {c} book in {fy}? Answer in {u}."],
               co=co, fy=G.fy(y), u=unit)
    return task("single_table", diff, tags, co, [t], q, a_num(co.in_unit(co.raw("is", key, y), unit), unit),
                [("rev", t, q_year(co, "is", key, y))], "rev" + conv(co.fin_unit, unit))


def s_text_lookup(G: Gen, co: Co) -> dict[str, Any] | None:
    keys = [k for k in co.cfg["text"] if k.split(".")[0] in ("is", "bs", "cf")]
    if not keys:
        return None
    kind, key = G.r.choice(keys).split(".")
    c = co.col(kind, key)
    y = G.r.choice(YEARS)
    label = {"net_income": "net income" if not co.nci else "consolidated net income",
             "net_income_attr": f"net income attributable to {co.short} shareholders",
             "total_equity": "total equity", "cfo": "net cash provided by operating activities",
             "capex": "capital expenditures (as a positive amount)"}[key]
    unit = c.unit or ""
    val = co.in_unit(co.raw(kind, key, y), unit)
    compute = "v"
    if key == "capex":
        val, compute = abs(val), "abs(v)"
    q = G.pick(["What was {cs} {l} in {fy}? Answer in {u}.",
                "Look up {cs} {l} for {fy} and give it in {u}.",
                "For {fy}, what {l} did {c} report? Answer in {u}; a loss is a negative number."],
               co=co, l=label, fy=G.fy(y), u=unit)
    return task("single_table", "easy", ["lookup", "text_amounts"], co, [co.t(kind)], q, a_num(val, unit),
                [("v", co.t(kind), q_year(co, kind, key, y))], compute)


def s_yoy(G: Gen, co: Co) -> dict[str, Any] | None:
    opts = [("revenue", "total revenue"), ("gross_profit", "gross profit"), ("total_opex", "total operating expenses"),
            (co.cfg["opex"][0][0], co.cfg["opex"][0][1].lower() + " expense")]
    key, label = G.r.choice(opts)
    y = G.r.choice(YEARS[1:])
    a, b = co.raw("is", key, y), co.raw("is", key, y - 1)
    if b <= 0:
        return None
    t = co.t("is")
    q = G.pick(["By what percentage did {cs} {l} change from {fy0} to {fy1}? Answer in %.",
                "What was the year-over-year growth rate of {cs} {l} in {fy1} (versus {fy0})? Answer in %.",
                "Compute {cs} {l} growth between {fy0} and {fy1}, as a percentage.",
                "How fast did {l} grow at {c} in {fy1} compared with {fy0}? Give the growth in %."],
               co=co, l=label, fy0=G.fy(y - 1), fy1=G.fy(y))
    return task("single_table", "medium", ["yoy_growth"], co, [t], q, a_num((a / b - 1) * 100, "%"),
                [(f"v_{y}", t, q_year(co, "is", key, y)), (f"v_{y - 1}", t, q_year(co, "is", key, y - 1))],
                f"(v_{y} - v_{y - 1}) / v_{y - 1} * 100")


def _ni_key(co: Co) -> tuple[str, str]:
    if co.nci:
        return "net_income_attr", f"net income attributable to {co.short} shareholders"
    return "net_income", "net income"


def s_margin(G: Gen, co: Co) -> dict[str, Any] | None:
    ni_key, ni_label = _ni_key(co)
    which = G.r.choice(["gross", "operating", "net"])
    key, label = {"gross": ("gross_profit", "gross profit"), "operating": ("operating_income", "operating income"),
                  "net": (ni_key, ni_label)}[which]
    y = G.r.choice(YEARS)
    t = co.t("is")
    val = co.raw("is", key, y) / co.raw("is", "revenue", y) * 100
    q = G.pick(["What was {cs} {w} margin in {fy}? Answer in %.",
                "Calculate the {w} margin ({l} as a percentage of total revenue) of {c} for {fy}. Answer in %.",
                "In {fy}, what percentage of {cs} revenue was {l}? Answer in %."],
               co=co, w=which, l=label, fy=G.fy(y))
    tags = ["margin"] + (["text_amounts"] if co.col("is", key).text else [])
    return task("single_table", "medium", tags, co, [t], q, a_num(val, "%"),
                [("num", t, q_year(co, "is", key, y)), ("rev", t, q_year(co, "is", "revenue", y))],
                "num / rev * 100")


def s_margin_bps(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS[1:])
    t = co.t("is")
    m1 = co.raw("is", "operating_income", y) / co.raw("is", "revenue", y)
    m0 = co.raw("is", "operating_income", y - 1) / co.raw("is", "revenue", y - 1)
    q = G.pick(["By how many basis points did {cs} operating margin change from {fy0} to {fy1}? "
                "Answer in bps (negative if it contracted).",
                "{cs} operating margin moved between {fy0} and {fy1}. What was the change in basis points? "
                "Answer in bps."],
               co=co, fy0=G.fy(y - 1), fy1=G.fy(y))
    steps = [(f"op_{y}", t, q_year(co, "is", "operating_income", y)), (f"rev_{y}", t, q_year(co, "is", "revenue", y)),
             (f"op_{y - 1}", t, q_year(co, "is", "operating_income", y - 1)),
             (f"rev_{y - 1}", t, q_year(co, "is", "revenue", y - 1))]
    return task("single_table", "hard", ["margin", "comparison"], co, [t], q, a_num((m1 - m0) * 10000, "bps"),
                steps, f"(op_{y} / rev_{y} - op_{y - 1} / rev_{y - 1}) * 10000")


def s_cagr(G: Gen, co: Co) -> dict[str, Any] | None:
    y0 = G.r.choice([2020, 2020, 2021])
    y1 = LAST
    n = y1 - y0
    which = G.r.choice(["revenue", "revenue", "employees"])
    if which == "revenue":
        kind, key, label = "is", "revenue", "total revenue"
    else:
        kind, key, label = "hc", "total", "year-end headcount"
    t = co.t(kind)
    a, b = co.raw(kind, key, y1), co.raw(kind, key, y0)
    val = ((a / b) ** (1 / n) - 1) * 100
    q = G.pick(["What was the compound annual growth rate (CAGR) of {cs} {l} from {fy0} to {fy1}? Answer in %.",
                "Compute the {n}-year CAGR of {cs} {l} between {fy0} and {fy1}. Answer in %.",
                "At what compound annual rate did {cs} {l} grow from {fy0} through {fy1}? Answer in %."],
               co=co, l=label, fy0=G.fy(y0), fy1=G.fy(y1), n=n)
    return task("single_table", "hard", ["cagr"], co, [t], q, a_num(val, "%"),
                [(f"v_{y1}", t, q_year(co, kind, key, y1)), (f"v_{y0}", t, q_year(co, kind, key, y0))],
                f"((v_{y1} / v_{y0}) ** (1 / {n}) - 1) * 100")


def _seg_pick(G: Gen, co: Co, y: int) -> dict[str, Any]:
    return G.r.choice(co.m["seg"][y])


def s_seg_share(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    s = _seg_pick(G, co, y)
    t = co.t("seg")
    tot = sum(x["revenue"] for x in co.m["seg"][y])
    rc = co.x("seg", "revenue")
    q = G.pick(["What share of {cs} {fy} revenue came from the {s} segment? Use the segment table and answer in %.",
                "In {fy}, what percentage of {cs} total segment revenue did {s} account for? Answer in %.",
                "Compute the {s} segment's share of {cs} revenue in {fy} (segment revenue over the sum of all segments). Answer in %."],
               co=co, fy=G.fy(y), s=s["segment"])
    tags = ["share_of_total"] + (["text_amounts"] if co.col("seg", "revenue").text else [])
    segc = co.col("seg", "segment").name
    return task("single_table", "medium", tags, co, [t], q, a_num(s["revenue"] / tot * 100, "%"),
                [("seg", t, f"SELECT {rc} AS revenue FROM {t} WHERE fiscal_year = {y} AND {segc} = '{s['segment']}'"
                  if co.col("seg", "revenue").text else
                  f"SELECT {rc} FROM {t} WHERE fiscal_year = {y} AND {segc} = '{s['segment']}'"),
                 ("total", t, f"SELECT SUM({rc}) AS total FROM {t} WHERE fiscal_year = {y}")],
                "seg / total * 100")


def _ranked(rows: list[dict[str, Any]], key: str) -> list[str]:
    vals = [r[key] for r in rows]
    assert len(set(vals)) == len(vals)
    return [r["segment"] for r in sorted(rows, key=lambda r: -r[key])]


def s_top_seg(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    which = G.r.choice(["revenue", "operating_income"])
    t = co.t("seg")
    order = _ranked(co.m["seg"][y], which)
    label = "revenue" if which == "revenue" else "segment operating income"
    lowest = G.r.random() < 0.3
    ans = order[-1] if lowest else order[0]
    q = G.pick(["Which of {cs} segments had the {hl} {l} in {fy}? Answer with the segment name.",
                "In {fy}, which reportable segment of {c} generated the {hl} {l}? Give the segment name."],
               co=co, l=label, fy=G.fy(y), hl="lowest" if lowest else "highest")
    tags = ["ranking", "lookup"] + (["text_amounts"] if co.col("seg", which).text else [])
    sql = (f"SELECT {co.col('seg', 'segment').name} FROM {t} WHERE fiscal_year = {y} "
           f"ORDER BY {co.x('seg', which)} {'ASC' if lowest else 'DESC'} LIMIT 1")
    return task("single_table", "easy" if not lowest and which == "revenue" else "medium", tags, co, [t], q,
                a_text(ans), [("segment", t, sql)])


def s_rank_seg(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    which = G.r.choice(["revenue", "revenue", "operating_income"])
    t = co.t("seg")
    order = _ranked(co.m["seg"][y], which)
    label = "revenue" if which == "revenue" else "segment operating income"
    q = G.pick(["Rank {cs} segments by {l} in {fy}, highest first. Answer with the segment names in order.",
                "List {cs} reportable segments from largest to smallest {l} for {fy}.",
                "Order the segments of {c} by {fy} {l}, from highest to lowest, and give their names."],
               co=co, l=label, fy=G.fy(y))
    tags = ["ranking"] + (["text_amounts"] if co.col("seg", which).text else [])
    sql = (f"SELECT {co.col('seg', 'segment').name} FROM {t} WHERE fiscal_year = {y} "
           f"ORDER BY {co.x('seg', which)} DESC")
    return task("single_table", "medium", tags, co, [t], q, a_list(order), [("segments", t, sql)])


def s_seg_convert(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    s = _seg_pick(G, co, y)
    t = co.t("seg")
    su = co.cfg["seg_unit"]
    unit = "USD millions" if su == "USD thousands" else "USD billions"
    c = co.col("seg", "revenue")
    segc = co.col("seg", "segment").name
    q = G.pick(["How much revenue did {cs} {s} segment generate in {fy}? Answer in {u}.",
                "What was the revenue of the {s} segment at {c} in {fy}, expressed in {u}?",
                "Give {cs} {fy} {s} segment revenue in {u}."],
               co=co, s=s["segment"], fy=G.fy(y), u=unit)
    tags = ["lookup", "unit_conversion"] + (["text_amounts"] if c.text else [])
    return task("single_table", "medium", tags, co, [t], q, a_num(co.in_unit(s["revenue"], unit), unit),
                [("seg", t, f"SELECT {co.sel('seg', 'revenue')} FROM {t} WHERE fiscal_year = {y} AND {segc} = '{s['segment']}'")],
                "seg" + conv(su, unit))


def s_seg_margin(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    s = _seg_pick(G, co, y)
    t = co.t("seg")
    segc = co.col("seg", "segment").name
    where = f"WHERE fiscal_year = {y} AND {segc} = '{s['segment']}'"
    q = G.pick(["What was the operating margin of {cs} {s} segment in {fy} (segment operating income divided by segment revenue)? Answer in %.",
                "Compute the {fy} segment operating margin of {s} at {c}. Answer in %."],
               co=co, s=s["segment"], fy=G.fy(y))
    tags = ["margin"] + (["text_amounts"] if co.col("seg", "revenue").text or co.col("seg", "operating_income").text else [])
    return task("single_table", "medium", tags, co, [t], q, a_num(s["operating_income"] / s["revenue"] * 100, "%"),
                [("oi", t, f"SELECT {co.sel('seg', 'operating_income')} FROM {t} {where}"),
                 ("rev", t, f"SELECT {co.sel('seg', 'revenue')} FROM {t} {where}")], "oi / rev * 100")


def s_avg(G: Gen, co: Co) -> dict[str, Any] | None:
    key, label, _, _ = G.r.choice(co.cfg["opex"])
    y0 = G.r.choice([2020, 2021, 2022])
    y1 = y0 + 2
    t = co.t("is")
    vals = [co.raw("is", key, y) for y in range(y0, y1 + 1)]
    unit = co.fin_unit
    q = G.pick(["What was {cs} average annual {l} expense over {fy0} to {fy1} (inclusive)? Answer in {u}.",
                "Average {cs} {l} expense across fiscal years {y0}, {y0b} and {y1}. Answer in {u}.",
                "Over the three fiscal years {y0}-{y1}, what did {c} spend on {l} per year on average? Answer in {u}."],
               co=co, l=label.lower(), fy0=G.fy(y0), fy1=G.fy(y1), y0=y0, y0b=y0 + 1, y1=y1, u=unit
               )
    return task("single_table", "medium", ["average"], co, [t], q, a_num(co.in_unit(sum(vals) / 3, unit), unit),
                [("avg", t, f"SELECT AVG({co.x('is', key)}) AS avg_value FROM {t} WHERE fiscal_year BETWEEN {y0} AND {y1}")],
                "avg")


def s_half(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS[1:])
    t = co.t("q")
    half = G.r.choice(["first", "second"])
    qs = (1, 2) if half == "first" else (3, 4)
    key = G.r.choice(["revenue", "revenue", "operating_income"])
    label = "revenue" if key == "revenue" else "operating income"
    val = sum(co.m["q"][y][q][key] for q in qs)
    unit = co.fin_unit
    qc = co.col("q", "fiscal_quarter").name
    q = G.pick(["What was {cs} {l} in the {h} half of {fy} (fiscal quarters {q0} and {q1} combined)? Answer in {u}.",
                "Add up {cs} {l} for fiscal quarters Q{q0} and Q{q1} of {fy}. Answer in {u}.",
                "How much {l} did {c} record in the {h} half of {fy}? Use the quarterly results; answer in {u}."],
               co=co, l=label, h=half, fy=G.fy(y), q0=qs[0], q1=qs[1], u=unit)
    sql = (f"SELECT SUM({co.x('q', key)}) AS total FROM {t} WHERE fiscal_year = {y} "
           f"AND {qc} IN ({qv(qs[0], co)}, {qv(qs[1], co)})")
    return task("single_table", "medium", ["quarterly", "sum"], co, [t], q, a_num(co.in_unit(val, unit), unit),
                [("total", t, sql)], "total")


def s_quarter(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS[1:])
    t = co.t("q")
    qc = co.col("q", "fiscal_quarter").name
    if co.cfg["quarter_style"] == "Q":
        revs = {q: co.m["q"][y][q]["revenue"] for q in (1, 2, 3, 4)}
        best = max(revs, key=lambda q: revs[q])
        assert list(revs.values()).count(revs[best]) == 1
        q = G.pick(["In which fiscal quarter of {fy} did {c} record its highest revenue? Answer like Q1.",
                    "Which quarter of {fy} was {cs} strongest by revenue? Answer with the quarter label (Q1-Q4)."],
                   co=co, fy=G.fy(y))
        return task("single_table", "easy", ["quarterly", "ranking"], co, [t], q, a_text(f"Q{best}"),
                    [("quarter", t, f"SELECT {qc} FROM {t} WHERE fiscal_year = {y} ORDER BY {co.x('q', 'revenue')} DESC LIMIT 1")])
    qn = G.r.choice([1, 4])
    val = co.m["q"][y][qn]["revenue"] / sum(co.m["q"][y][i]["revenue"] for i in (1, 2, 3, 4)) * 100
    q = G.pick(["What percentage of {cs} {fy} revenue was earned in fiscal Q{n}? Use the quarterly results and answer in %.",
                "Fiscal quarter {n} accounted for what share of {cs} full-year {fy} revenue? Answer in %."],
               co=co, fy=G.fy(y), n=qn)
    rc = co.x("q", "revenue")
    return task("single_table", "medium", ["quarterly", "share_of_total"], co, [t], q, a_num(val, "%"),
                [("qrev", t, f"SELECT {rc} FROM {t} WHERE fiscal_year = {y} AND {qc} = {qn}"),
                 ("year", t, f"SELECT SUM({rc}) AS total FROM {t} WHERE fiscal_year = {y}")], "qrev / year * 100")


def s_headcount(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("hc")
    tc = co.col("hc", "total").name
    if G.r.random() < 0.5:
        q = G.pick(["How many employees did {c} have at the end of {fy}? Answer as a count of employees.",
                    "What was {cs} total year-end headcount in {fy}? Answer in employees."],
                   co=co, fy=G.fy(y))
        return task("single_table", "easy", ["lookup"], co, [t], q, a_num(co.raw("hc", "total", y), "employees"),
                    [("n", t, f"SELECT {tc} FROM {t} WHERE fiscal_year = {y}")], "n")
    dept, _ = G.r.choice(co.cfg["depts"])
    val = co.raw("hc", dept, y) / co.raw("hc", "total", y) * 100
    q = G.pick(["What percentage of {cs} year-end {fy} workforce worked in {d}? Answer in %.",
                "Share of employees in {d} at {c} at the end of {fy}: what was it, in %?"],
               co=co, d=dept.replace("_", " "), fy=G.fy(y))
    return task("single_table", "medium", ["share_of_total"], co, [t], q, a_num(val, "%"),
                [("dept", t, f"SELECT {dept} FROM {t} WHERE fiscal_year = {y}"),
                 ("total", t, f"SELECT {tc} FROM {t} WHERE fiscal_year = {y}")], "dept / total * 100")


def s_debt_total(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("debt")
    val = sum(d["principal"] for d in co.m["debt"][y])
    pc = co.x("debt", "principal")
    q = G.pick(["What was the total principal of debt {c} had outstanding at the end of {fy}? Answer in USD millions.",
                "Sum the principal outstanding across all of {cs} debt instruments at {fy} year end. Answer in USD millions.",
                "How much debt principal did {c} carry at the close of {fy}? Answer in USD millions."],
               co=co, fy=G.fy(y))
    tags = ["sum", "debt"] + (["text_amounts"] if co.col("debt", "principal").text else [])
    return task("single_table", "medium", tags, co, [t], q, a_num(val / 1000, "USD millions"),
                [("debt", t, f"SELECT SUM({pc}) AS total_principal FROM {t} WHERE fiscal_year = {y}")], "debt")


def s_debt_rate(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("debt")
    rows = co.m["debt"][y]
    if len(rows) < 2:
        return None
    val = sum(d["principal"] * d["rate"] for d in rows) / sum(d["principal"] for d in rows)
    pc, rc = co.x("debt", "principal"), co.col("debt", "rate").name
    q = G.pick(["What was the principal-weighted average interest rate of {cs} debt outstanding at the end of {fy}? Answer in %.",
                "Weighting each instrument by its principal outstanding, what was {cs} average stated interest rate at {fy} year end? Answer in %."],
               co=co, fy=G.fy(y))
    return task("single_table", "hard", ["average", "debt"], co, [t], q, a_num(val, "%"),
                [("rate", t, f"SELECT SUM({pc} * {rc}) / SUM({pc}) AS weighted_rate FROM {t} WHERE fiscal_year = {y}")],
                "rate")


def s_debt_count(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("debt")
    ic = co.col("debt", "instrument").name
    q = G.pick(["How many separate debt instruments did {c} have outstanding at the end of {fy}? Answer as a count.",
                "Count the debt instruments listed for {c} at {fy} year end."], co=co, fy=G.fy(y))
    return task("single_table", "easy", ["count", "debt"], co, [t], q, a_num(len(co.m["debt"][y]), "count"),
                [("n", t, f"SELECT COUNT({ic}) AS n FROM {t} WHERE fiscal_year = {y}")], "n")


def s_debt_top_rate(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    rows = co.m["debt"][y]
    rates = [d["rate"] for d in rows]
    if len(rows) < 2 or len(set(rates)) != len(rates):
        return None
    best = max(rows, key=lambda d: d["rate"])["instrument"]
    t = co.t("debt")
    ic, rc = co.col("debt", "instrument").name, co.col("debt", "rate").name
    q = G.pick(["Which of {cs} debt instruments outstanding at the end of {fy} carried the highest interest rate? Answer with the instrument name.",
                "Name the highest-coupon debt instrument {c} had outstanding at {fy} year end."],
               co=co, fy=G.fy(y))
    return task("single_table", "medium", ["ranking", "debt"], co, [t], q, a_text(best),
                [("instrument", t, f"SELECT {ic} FROM {t} WHERE fiscal_year = {y} ORDER BY {rc} DESC LIMIT 1")])


def s_shares(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("sh")
    mode = G.r.choice(["diluted", "dilution"])
    if mode == "diluted":
        q = G.pick(["What was {cs} weighted-average diluted share count in {fy}? Answer in shares millions (millions of shares).",
                    "How many weighted-average diluted shares did {c} report for {fy}? Answer in millions of shares."],
                   co=co, fy=G.fy(y))
        return task("single_table", "easy", ["lookup"], co, [t], q, a_num(co.v("sh", "diluted", y), "shares millions"),
                    [("d", t, q_year(co, "sh", "diluted", y))], "d")
    d, b = co.raw("sh", "diluted", y), co.raw("sh", "basic", y)
    q = G.pick(["By what percentage did {cs} weighted-average diluted shares exceed basic shares in {fy}? Answer in %.",
                "In {fy}, how much larger was {cs} diluted weighted-average share count than its basic count? Answer in %."],
               co=co, fy=G.fy(y))
    return task("single_table", "medium", ["ratio", "dilution"], co, [t], q, a_num((d / b - 1) * 100, "%"),
                [("diluted", t, q_year(co, "sh", "diluted", y)), ("basic", t, q_year(co, "sh", "basic", y))],
                "(diluted / basic - 1) * 100")


def s_sbc_growth(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS[1:])
    t = co.t("sh")
    a, b = co.raw("sh", "sbc", y), co.raw("sh", "sbc", y - 1)
    q = G.pick(["How much did {cs} stock-based compensation expense grow from {fy0} to {fy1}? Answer in %.",
                "What was the year-over-year change in {cs} stock-based compensation in {fy1}? Answer in %."],
               co=co, fy0=G.fy(y - 1), fy1=G.fy(y))
    return task("single_table", "medium", ["yoy_growth"], co, [t], q, a_num((a / b - 1) * 100, "%"),
                [(f"sbc_{y}", t, q_year(co, "sh", "sbc", y)), (f"sbc_{y - 1}", t, q_year(co, "sh", "sbc", y - 1))],
                f"(sbc_{y} - sbc_{y - 1}) / sbc_{y - 1} * 100")


def s_current_ratio(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("bs")
    val = co.raw("bs", "tca", y) / co.raw("bs", "tcl", y)
    q = G.pick(["What was {cs} current ratio (total current assets divided by total current liabilities) at the end of {fy}? Answer as a multiple (x).",
                "Compute {cs} {fy} year-end current ratio. Answer in x."],
               co=co, fy=G.fy(y))
    return task("single_table", "medium", ["ratio"], co, [t], q, a_num(val, "x"),
                [("ca", t, q_year(co, "bs", "tca", y)), ("cl", t, q_year(co, "bs", "tcl", y))], "ca / cl")


def s_bs_de(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("bs")
    val = co.raw("bs", "total_debt", y) / co.raw("bs", "total_equity", y)
    q = G.pick(["Using the balance sheet, what was {cs} debt-to-equity ratio at the end of {fy} (current plus long-term debt, divided by total equity)? Answer in x.",
                "What was {cs} total debt (including the current portion) relative to total equity at {fy} year end? Answer as a multiple (x)."],
               co=co, fy=G.fy(y))
    tags = ["ratio"] + (["text_amounts"] if co.col("bs", "total_equity").text else [])
    eq_step = ("equity", t, q_year(co, "bs", "total_equity", y))
    if co.has("bs", "total_debt"):
        steps = [("debt", t, q_year(co, "bs", "total_debt", y)), eq_step]
        return task("single_table", "medium", tags, co, [t], q, a_num(val, "x"), steps, "debt / equity")
    steps = [("cur", t, q_year(co, "bs", "cur_debt", y)), ("lt", t, q_year(co, "bs", "ltd", y)), eq_step]
    return task("single_table", "hard", tags, co, [t], q, a_num(val, "x"), steps, "(cur + lt) / equity")


def s_bs_lookup(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("bs")
    key, label = G.r.choice([("ta", "total assets"), ("tl", "total liabilities"), ("cash", "cash and cash equivalents")])
    unit = co.fin_unit
    q = G.pick(["What were {cs} {l} at the end of {fy}? Answer in {u}.",
                "Report {cs} {l} on its {fy} year-end balance sheet, in {u}."],
               co=co, l=label, fy=G.fy(y), u=unit)
    return task("single_table", "easy", ["lookup"], co, [t], q, a_num(co.v("bs", key, y), unit),
                [("v", t, q_year(co, "bs", key, y))], "v")


def s_working_capital(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("bs")
    unit = "USD millions"
    val = (co.raw("bs", "tca", y) - co.raw("bs", "tcl", y)) / 1000
    q = G.pick(["What was {cs} working capital (total current assets minus total current liabilities) at the end of {fy}? Answer in USD millions.",
                "Compute {cs} net working capital at {fy} year end in USD millions."],
               co=co, fy=G.fy(y))
    tags = ["difference"] + (["unit_conversion"] if co.fin_unit != unit else [])
    return task("single_table", "medium", tags, co, [t], q, a_num(val, unit),
                [("ca", t, q_year(co, "bs", "tca", y)), ("cl", t, q_year(co, "bs", "tcl", y))],
                "(ca - cl)" + conv(co.fin_unit, unit))


def s_fcf(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("cf")
    unit = "USD millions"
    capex = co.raw("cf", "capex", y)
    val = (co.raw("cf", "cfo", y) - abs(capex)) / 1000
    q = G.pick(["What was {cs} free cash flow (operating cash flow minus capital expenditures) in {fy}? Answer in USD millions.",
                "Compute {cs} {fy} free cash flow, defined as net cash from operating activities less capital spending. Answer in USD millions.",
                "How much free cash flow did {c} generate in {fy} (cash from operations minus capex)? Answer in USD millions."],
               co=co, fy=G.fy(y))
    tags = ["cash_flow", "difference"]
    if co.col("cf", "cfo").text or co.col("cf", "capex").text:
        tags.append("text_amounts")
    if co.fin_unit != unit:
        tags.append("unit_conversion")
    compute = ("(cfo - capex)" if co.cfg["capex_positive"] else "(cfo + capex)") + conv(co.fin_unit, unit)
    return task("single_table", "hard" if co.cfg["capex_positive"] else "medium", tags, co, [t], q, a_num(val, unit),
                [("cfo", t, q_year(co, "cf", "cfo", y)), ("capex", t, q_year(co, "cf", "capex", y))], compute)


def s_cash_conv(G: Gen, co: Co) -> dict[str, Any] | None:
    ys = [y for y in YEARS if co.raw("cf", "net_income", y) > 0]
    if not ys:
        return None
    y = G.r.choice(ys)
    t = co.t("cf")
    val = co.raw("cf", "cfo", y) / co.raw("cf", "net_income", y)
    q = G.pick(["What was {cs} cash conversion ratio in {fy}, i.e. net cash from operating activities divided by net income as reported in the cash flow statement? Answer in x.",
                "How many times net income was {cs} operating cash flow in {fy}? Use the cash flow statement; answer in x."],
               co=co, fy=G.fy(y))
    tags = ["ratio", "cash_flow"] + (["text_amounts"] if co.col("cf", "cfo").text else [])
    return task("single_table", "medium", tags, co, [t], q, a_num(val, "x"),
                [("cfo", t, q_year(co, "cf", "cfo", y)), ("ni", t, q_year(co, "cf", "net_income", y))], "cfo / ni")


def s_returns(G: Gen, co: Co) -> dict[str, Any] | None:
    y0, y1 = 2022, 2024
    t = co.t("cf")
    tot = -sum(co.raw("cf", "buyback", y) + co.raw("cf", "dividends", y) for y in range(y0, y1 + 1))
    if tot <= 0:
        return None
    q = G.pick(["How much cash did {c} return to shareholders through share repurchases and dividends combined over {fy0} to {fy1}? Answer in USD millions as a positive number.",
                "Total {cs} buybacks plus dividends paid across fiscal years {y0}-{y1}. Answer in USD millions (positive)."],
               co=co, fy0=G.fy(y0), fy1=G.fy(y1), y0=y0, y1=y1)
    bb, dv = co.col("cf", "buyback").name, co.col("cf", "dividends").name
    return task("single_table", "hard", ["sum", "cash_flow"], co, [t], q, a_num(tot / 1000, "USD millions"),
                [("paid", t, f"SELECT SUM({bb} + {dv}) AS returned FROM {t} WHERE fiscal_year BETWEEN {y0} AND {y1}")],
                "-paid" + conv(co.fin_unit, "USD millions"))


def _regions(co: Co) -> list[tuple[str, str]]:
    return [(k, label) for k, label, _, _ in co.cfg["regions"]]


def s_region_share(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("reg")
    key, label = G.r.choice(_regions(co))
    val = co.m["reg"][y][key] / sum(co.m["reg"][y].values()) * 100
    q = G.pick(["What share of {cs} {fy} revenue came from {l}? Answer in %.",
                "In {fy}, what percentage of {cs} revenue was generated in {l}? Answer in %."],
               co=co, fy=G.fy(y), l=label)
    allc = " + ".join(k for k, _ in _regions(co))
    return task("single_table", "medium", ["share_of_total"], co, [t], q, a_num(val, "%"),
                [("region", t, f"SELECT {key} FROM {t} WHERE fiscal_year = {y}"),
                 ("total", t, f"SELECT {allc} AS total FROM {t} WHERE fiscal_year = {y}")], "region / total * 100")


def s_region_growth(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS[1:])
    t = co.t("reg")
    key, label = G.r.choice(_regions(co))
    a, b = co.m["reg"][y][key], co.m["reg"][y - 1][key]
    q = G.pick(["By how much did {cs} revenue from {l} grow between {fy0} and {fy1}? Answer in %.",
                "What was the year-over-year revenue growth in {l} for {c} in {fy1}? Answer in %."],
               co=co, l=label, fy0=G.fy(y - 1), fy1=G.fy(y))
    return task("single_table", "medium", ["yoy_growth"], co, [t], q, a_num((a / b - 1) * 100, "%"),
                [(f"r_{y}", t, f"SELECT {key} FROM {t} WHERE fiscal_year = {y}"),
                 (f"r_{y - 1}", t, f"SELECT {key} FROM {t} WHERE fiscal_year = {y - 1}")],
                f"(r_{y} - r_{y - 1}) / r_{y - 1} * 100")


def s_region_convert(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("reg")
    key, label = G.r.choice(_regions(co))
    ru = co.cfg["reg_unit"]
    unit = {"USD billions": "USD millions", "USD millions": "USD billions", "USD thousands": "USD millions"}[ru]
    q = G.pick(["How much revenue did {c} generate in {l} in {fy}? Answer in {u}.",
                "What was {cs} {fy} revenue from {l}, expressed in {u}?"],
               co=co, l=label, fy=G.fy(y), u=unit)
    return task("single_table", "medium", ["lookup", "unit_conversion"], co, [t], q,
                a_num(co.in_unit(co.m["reg"][y][key], unit), unit),
                [("region", t, f"SELECT {key} FROM {t} WHERE fiscal_year = {y}")], "region" + conv(ru, unit))


def s_eps(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    t = co.t("is")
    key = G.r.choice(["eps_diluted", "eps_basic"])
    label = "diluted" if key == "eps_diluted" else "basic"
    q = G.pick(["What was {cs} {l} earnings per share in {fy}? Answer in USD.",
                "Report {cs} {fy} {l} EPS, in USD per share."],
               co=co, l=label, fy=G.fy(y))
    return task("single_table", "easy", ["lookup"], co, [t], q, a_num(co.raw("is", key, y), "USD"),
                [("eps", t, q_year(co, "is", key, y))], "eps")


SINGLE_MANDATORY = [s_rev_lookup, s_yoy, s_margin]
# One task from each group per company (the first group that applies of the last entry).
SINGLE_GROUPS = [
    [s_cagr, s_cagr, s_margin_bps],
    [s_seg_share, s_seg_convert, s_seg_margin],
    [s_half, s_quarter],
    [s_debt_total, s_debt_rate, s_debt_count, s_debt_top_rate],
    [s_current_ratio, s_bs_de, s_bs_lookup, s_working_capital],
    [s_fcf, s_cash_conv, s_returns],
    [s_region_share, s_region_growth, s_region_convert],
    [s_headcount, s_shares, s_sbc_growth, s_eps, s_avg],
]


# --------------------------------------------------------------------------------------------- multi-table


def _rev_step(co: Co, y: int, bind: str | None = None) -> tuple[str, str, str]:
    return (bind or f"rev_{y}", co.t("is"), q_year(co, "is", "revenue", y))


def m_rpe(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    val = co.raw("is", "revenue", y) / co.raw("hc", "total", y)  # USD thousands per employee
    q = G.pick(["What was {cs} revenue per employee in {fy}, using year-end headcount? Answer in USD thousands.",
                "Divide {cs} {fy} total revenue by its year-end employee count. Answer in USD thousands per employee.",
                "How much revenue did {c} generate per year-end employee in {fy}? Answer in USD thousands."],
               co=co, fy=G.fy(y))
    hc = co.t("hc")
    return task("multi_table", "medium", ["per_employee", "unit_conversion"], co, [co.t("is"), hc], q,
                a_num(val, "USD thousands"),
                [_rev_step(co, y, "rev"), ("emp", hc, f"SELECT {co.col('hc', 'total').name} FROM {hc} WHERE fiscal_year = {y}")],
                "rev" + conv(co.fin_unit, "USD thousands") + " / emp")


def _ebitda_years(co: Co) -> list[int]:
    return [y for y in YEARS if co.raw("is", "operating_income", y) + co.raw("cf", "da", y) > 0]


def m_ebitda_cov(G: Gen, co: Co) -> dict[str, Any] | None:
    ys = _ebitda_years(co)
    if not ys:
        return None
    y = G.r.choice(ys)
    ebitda = co.raw("is", "operating_income", y) + co.raw("cf", "da", y)
    val = ebitda / co.raw("is", "interest_expense", y)
    q = G.pick(["What was {cs} EBITDA interest coverage in {fy}? Define EBITDA as operating income plus depreciation and amortization (from the cash flow statement) and divide by interest expense. Answer in x.",
                "Compute (operating income + depreciation and amortization) / interest expense for {c} in {fy}. Answer as a multiple (x)."],
               co=co, fy=G.fy(y))
    t, cf = co.t("is"), co.t("cf")
    return task("multi_table", "hard", ["coverage", "ratio"], co, [t, cf], q, a_num(val, "x"),
                [("op", t, q_year(co, "is", "operating_income", y)), ("da", cf, q_year(co, "cf", "da", y)),
                 ("interest", t, q_year(co, "is", "interest_expense", y))], "(op + da) / interest")


def m_fcf_margin(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    fcf = co.raw("cf", "cfo", y) - abs(co.raw("cf", "capex", y))
    val = fcf / co.raw("is", "revenue", y) * 100
    q = G.pick(["What was {cs} free-cash-flow margin in {fy} (operating cash flow minus capital expenditures, as a percentage of total revenue)? Answer in %.",
                "Free cash flow (cash from operations less capex) as a share of revenue: what was it for {c} in {fy}? Answer in %."],
               co=co, fy=G.fy(y))
    t, cf = co.t("is"), co.t("cf")
    tags = ["margin", "cash_flow"] + (["text_amounts"] if co.col("cf", "cfo").text else [])
    compute = ("(cfo - capex)" if co.cfg["capex_positive"] else "(cfo + capex)") + " / rev * 100"
    return task("multi_table", "hard" if co.cfg["capex_positive"] else "medium", tags, co, [cf, t], q,
                a_num(val, "%"),
                [("cfo", cf, q_year(co, "cf", "cfo", y)), ("capex", cf, q_year(co, "cf", "capex", y)),
                 _rev_step(co, y, "rev")], compute)


def m_seg_share_is(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    s = _seg_pick(G, co, y)
    val = s["revenue"] / co.raw("is", "revenue", y) * 100
    t, sg = co.t("is"), co.t("seg")
    segc = co.col("seg", "segment").name
    q = G.pick(["What percentage of {cs} total revenue (as reported in the income statement) came from the {s} segment in {fy}? Answer in %.",
                "Divide {cs} {fy} {s} segment revenue by its income-statement total revenue. Answer in %."],
               co=co, s=s["segment"], fy=G.fy(y))
    su = co.cfg["seg_unit"]
    tags = ["share_of_total"] + (["unit_conversion"] if su != co.fin_unit else []) + \
        (["text_amounts"] if co.col("seg", "revenue").text else [])
    return task("multi_table", "medium", tags, co, [sg, t], q, a_num(val, "%"),
                [("seg", sg, f"SELECT {co.sel('seg', 'revenue')} FROM {sg} WHERE fiscal_year = {y} AND {segc} = '{s['segment']}'"),
                 _rev_step(co, y, "rev")],
                "seg" + conv(su, co.fin_unit) + " / rev * 100")


def m_de(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    debt = sum(d["principal"] for d in co.m["debt"][y])
    val = debt / co.raw("bs", "total_equity", y)
    dt_, bs = co.t("debt"), co.t("bs")
    q = G.pick(["Using the debt schedule for total debt principal and the balance sheet for equity, what was {cs} debt-to-equity ratio at the end of {fy}? Answer in x.",
                "What was {cs} total debt principal outstanding divided by total equity at {fy} year end (debt from the debt schedule)? Answer as a multiple (x)."],
               co=co, fy=G.fy(y))
    tags = ["ratio", "debt"] + (["text_amounts"] if co.col("debt", "principal").text or co.col("bs", "total_equity").text else [])
    if co.fin_unit != "USD millions":
        tags.append("unit_conversion")
    return task("multi_table", "hard", tags, co, [dt_, bs], q, a_num(val, "x"),
                [("debt", dt_, f"SELECT SUM({co.x('debt', 'principal')}) AS total_principal FROM {dt_} WHERE fiscal_year = {y}"),
                 ("equity", bs, q_year(co, "bs", "total_equity", y))],
                "debt" + conv("USD millions", co.fin_unit) + " / equity")


def m_sbc_pct(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    val = co.raw("sh", "sbc", y) / co.raw("is", "revenue", y) * 100
    t, sh = co.t("is"), co.t("sh")
    q = G.pick(["What was {cs} stock-based compensation as a percentage of total revenue in {fy}? Answer in %.",
                "Stock-based compensation expense relative to revenue: what was it for {c} in {fy}? Answer in %."],
               co=co, fy=G.fy(y))
    su = co.unit("sh", "sbc")
    diff = "easy" if su == co.fin_unit else "medium"
    tags = ["ratio", "share_of_total"] + (["unit_conversion"] if su != co.fin_unit else [])
    return task("multi_table", diff, tags, co, [sh, t], q, a_num(val, "%"),
                [("sbc", sh, q_year(co, "sh", "sbc", y)), _rev_step(co, y, "rev")],
                "sbc" + conv(su, co.fin_unit) + " / rev * 100")


def m_net_debt(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    debt = sum(d["principal"] for d in co.m["debt"][y])
    val = (debt - co.raw("bs", "cash", y) - co.raw("bs", "sti", y)) / 1000
    if abs(val) < 20:
        return None
    dt_, bs = co.t("debt"), co.t("bs")
    q = G.pick(["What was {cs} net debt at the end of {fy}: total debt principal from the debt schedule minus cash and cash equivalents and short-term investments? Answer in USD millions (negative means net cash).",
                "Compute {cs} {fy} year-end net debt (debt principal outstanding less cash, equivalents and short-term investments). Answer in USD millions; a net cash position is negative."],
               co=co, fy=G.fy(y))
    tags = ["debt", "difference"] + (["unit_conversion"] if co.fin_unit != "USD millions" else []) + \
        (["text_amounts"] if co.col("debt", "principal").text else [])
    return task("multi_table", "hard", tags, co, [dt_, bs], q, a_num(val, "USD millions"),
                [("debt", dt_, f"SELECT SUM({co.x('debt', 'principal')}) AS total_principal FROM {dt_} WHERE fiscal_year = {y}"),
                 ("cash", bs, q_year(co, "bs", "cash", y)), ("sti", bs, q_year(co, "bs", "sti", y))],
                "debt - (cash + sti)" + conv(co.fin_unit, "USD millions"))


def m_q4_share(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS[1:])
    val = co.m["q"][y][4]["revenue"] / co.raw("is", "revenue", y) * 100
    t, qt = co.t("is"), co.t("q")
    qc = co.col("q", "fiscal_quarter").name
    q = G.pick(["What percentage of {cs} annual {fy} revenue (income statement) was earned in the fourth fiscal quarter? Answer in %.",
                "Fourth-quarter revenue as a share of full-year revenue: what was it for {c} in {fy}? Answer in %."],
               co=co, fy=G.fy(y))
    return task("multi_table", "medium", ["quarterly", "share_of_total"], co, [qt, t], q, a_num(val, "%"),
                [("q4", qt, f"SELECT {co.x('q', 'revenue')} FROM {qt} WHERE fiscal_year = {y} AND {qc} = {qv(4, co)}"),
                 _rev_step(co, y, "rev")], "q4 / rev * 100")


def m_roe(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    key, label = _ni_key(co)
    val = co.raw("is", key, y) / co.raw("bs", "total_equity", y) * 100
    t, bs = co.t("is"), co.t("bs")
    q = G.pick(["What was {cs} return on equity in {fy}, computed as {l} divided by year-end total equity? Answer in %.",
                "Divide {cs} {fy} {l} by its total equity at year end. Answer in %."],
               co=co, l=label, fy=G.fy(y))
    tags = ["ratio"] + (["text_amounts"] if co.col("is", key).text or co.col("bs", "total_equity").text else [])
    return task("multi_table", "medium", tags, co, [t, bs], q, a_num(val, "%"),
                [("ni", t, q_year(co, "is", key, y)), ("equity", bs, q_year(co, "bs", "total_equity", y))],
                "ni / equity * 100")


def m_implied_rate(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS[1:])
    d1 = sum(d["principal"] for d in co.m["debt"][y])
    d0 = sum(d["principal"] for d in co.m["debt"][y - 1])
    val = co.raw("is", "interest_expense", y) / ((d0 + d1) / 2) * 100
    t, dt_ = co.t("is"), co.t("debt")
    q = G.pick(["What effective interest rate did {c} pay in {fy}: interest expense divided by the average of total debt principal at the end of {fy0} and {fy}? Answer in %.",
                "Estimate {cs} {fy} effective cost of debt as interest expense over average debt principal outstanding (mean of the {y0} and {y1} year-end totals from the debt schedule). Answer in %."],
               co=co, fy=G.fy(y), fy0=G.fy(y - 1), y0=y - 1, y1=y)
    pc = co.x("debt", "principal")
    tags = ["ratio", "debt", "average"] + (["unit_conversion"] if co.fin_unit != "USD millions" else [])
    return task("multi_table", "hard", tags, co, [t, dt_], q, a_num(val, "%"),
                [("interest", t, q_year(co, "is", "interest_expense", y)),
                 (f"debt_{y}", dt_, f"SELECT SUM({pc}) AS total_principal FROM {dt_} WHERE fiscal_year = {y}"),
                 (f"debt_{y - 1}", dt_, f"SELECT SUM({pc}) AS total_principal FROM {dt_} WHERE fiscal_year = {y - 1}")],
                f"interest{conv(co.fin_unit, 'USD millions')} / ((debt_{y - 1} + debt_{y}) / 2) * 100")


def m_asset_turnover(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    val = co.raw("is", "revenue", y) / co.raw("bs", "ta", y)
    t, bs = co.t("is"), co.t("bs")
    q = G.pick(["What was {cs} asset turnover in {fy} (total revenue divided by year-end total assets)? Answer in x.",
                "How many dollars of revenue did {c} generate per dollar of year-end total assets in {fy}? Answer as a multiple (x)."],
               co=co, fy=G.fy(y))
    return task("multi_table", "easy", ["ratio"], co, [t, bs], q, a_num(val, "x"),
                [_rev_step(co, y, "rev"), ("assets", bs, q_year(co, "bs", "ta", y))], "rev / assets")


def m_opinc_per_emp(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    val = co.raw("is", "operating_income", y) / co.raw("hc", "total", y)
    t, hc = co.t("is"), co.t("hc")
    q = G.pick(["What was {cs} operating income per year-end employee in {fy}? Answer in USD thousands.",
                "Divide {cs} {fy} operating income by its year-end headcount. Answer in USD thousands per employee."],
               co=co, fy=G.fy(y))
    return task("multi_table", "medium", ["per_employee", "unit_conversion"], co, [t, hc], q,
                a_num(val, "USD thousands"),
                [("op", t, q_year(co, "is", "operating_income", y)),
                 ("emp", hc, f"SELECT {co.col('hc', 'total').name} FROM {hc} WHERE fiscal_year = {y}")],
                "op" + conv(co.fin_unit, "USD thousands") + " / emp")


# ---- templates


def t_rpe(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS[1:])
    p = y - 1
    r1 = co.raw("is", "revenue", y) / co.raw("hc", "total", y)
    r0 = co.raw("is", "revenue", p) / co.raw("hc", "total", p)
    b1, b0, bc = f"rpe_{y}", f"rpe_{p}", "rpe_change"
    tmpl = (f"{co.poss()} revenue per employee was {{{b1}}} USD thousands in FY{y} versus {{{b0}}} USD thousands "
            f"in FY{p}, a change of {{{bc}}} %.")
    q = (f"Write a short analysis of {co.poss()} workforce productivity (revenue divided by year-end headcount) "
         f"in fiscal year {y} compared with fiscal year {p}. Fill in this template, then add one sentence of "
         f"conclusion: \"{tmpl}\"")
    t, hc = co.t("is"), co.t("hc")
    tc = co.col("hc", "total").name
    f = conv(co.fin_unit, "USD thousands")
    return task("multi_table", "hard", ["per_employee", "yoy_growth", "analysis"], co, [t, hc], q,
                a_tmpl(tmpl, [(b1, r1, "USD thousands"), (b0, r0, "USD thousands"), (bc, (r1 / r0 - 1) * 100, "%")]),
                [_rev_step(co, y), _rev_step(co, p),
                 (f"emp_{y}", hc, f"SELECT {tc} FROM {hc} WHERE fiscal_year = {y}"),
                 (f"emp_{p}", hc, f"SELECT {tc} FROM {hc} WHERE fiscal_year = {p}")],
                {b1: f"rev_{y}{f} / emp_{y}", b0: f"rev_{p}{f} / emp_{p}",
                 bc: f"((rev_{y} / emp_{y}) / (rev_{p} / emp_{p}) - 1) * 100"})


def t_fcf(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS)
    capex = abs(co.raw("cf", "capex", y))
    fcf = co.raw("cf", "cfo", y) - capex
    rev = co.raw("is", "revenue", y)
    tmpl = (f"In FY{y} {co.short} generated free cash flow of {{fcf}} USD millions, a free-cash-flow margin of "
            f"{{fcf_margin}} % of revenue, while capital expenditures consumed {{capex_intensity}} % of revenue.")
    q = (f"Analyse {co.poss()} cash generation in fiscal year {y} (free cash flow = net cash from operating "
         f"activities minus capital expenditures). Fill in this template, then add one sentence of conclusion: "
         f"\"{tmpl}\"")
    t, cf = co.t("is"), co.t("cf")
    cap = "capex" if co.cfg["capex_positive"] else "(-capex)"
    f = conv(co.fin_unit, "USD millions")
    tags = ["cash_flow", "margin", "analysis"] + (["text_amounts"] if co.col("cf", "cfo").text else [])
    return task("multi_table", "hard", tags, co, [cf, t], q,
                a_tmpl(tmpl, [("fcf", fcf / 1000, "USD millions"), ("fcf_margin", fcf / rev * 100, "%"),
                              ("capex_intensity", capex / rev * 100, "%")]),
                [("cfo", cf, q_year(co, "cf", "cfo", y)), ("capex", cf, q_year(co, "cf", "capex", y)),
                 _rev_step(co, y, "rev")],
                {"fcf": f"(cfo - {cap}){f}", "fcf_margin": f"(cfo - {cap}) / rev * 100",
                 "capex_intensity": f"{cap} / rev * 100"})


def t_leverage(G: Gen, co: Co) -> dict[str, Any] | None:
    ys = _ebitda_years(co)
    if not ys:
        return None
    y = G.r.choice(ys)
    debt = sum(d["principal"] for d in co.m["debt"][y])
    eq = co.raw("bs", "total_equity", y)
    ebitda = co.raw("is", "operating_income", y) + co.raw("cf", "da", y)
    tmpl = (f"At the end of FY{y} {co.short} had {{debt}} USD millions of debt principal outstanding, a "
            f"debt-to-equity ratio of {{de}} x, and EBITDA covered interest expense {{coverage}} x.")
    q = (f"Assess {co.poss()} leverage in fiscal year {y}: take total debt principal from the debt schedule, "
         f"total equity from the balance sheet, and EBITDA as operating income plus depreciation and amortization "
         f"(cash flow statement). Fill in this template, then add one sentence of conclusion: \"{tmpl}\"")
    dt_, bs, t, cf = co.t("debt"), co.t("bs"), co.t("is"), co.t("cf")
    tags = ["ratio", "coverage", "debt", "analysis"] + \
        (["text_amounts"] if co.col("debt", "principal").text or co.col("bs", "total_equity").text else [])
    return task("multi_table", "hard", tags, co, [dt_, bs, t, cf], q,
                a_tmpl(tmpl, [("debt", debt / 1000, "USD millions"), ("de", debt / eq, "x"),
                              ("coverage", ebitda / co.raw("is", "interest_expense", y), "x")]),
                [("debt", dt_, f"SELECT SUM({co.x('debt', 'principal')}) AS total_principal FROM {dt_} WHERE fiscal_year = {y}"),
                 ("equity", bs, q_year(co, "bs", "total_equity", y)),
                 ("op", t, q_year(co, "is", "operating_income", y)), ("da", cf, q_year(co, "cf", "da", y)),
                 ("interest", t, q_year(co, "is", "interest_expense", y))],
                {"debt": "debt", "de": f"debt{conv('USD millions', co.fin_unit)} / equity",
                 "coverage": "(op + da) / interest"})


def t_segmix(G: Gen, co: Co) -> dict[str, Any] | None:
    y0, y1 = FIRST, LAST
    s = G.r.choice([x["segment"] for x in co.m["seg"][y1]])
    s0 = next(x["revenue"] for x in co.m["seg"][y0] if x["segment"] == s)
    s1 = next(x["revenue"] for x in co.m["seg"][y1] if x["segment"] == s)
    sh0 = s0 / co.raw("is", "revenue", y0) * 100
    sh1 = s1 / co.raw("is", "revenue", y1) * 100
    tmpl = (f"The {s} segment contributed {{share_{y0}}} % of {co.poss()} total revenue in FY{y0} and "
            f"{{share_{y1}}} % in FY{y1}, a shift of {{shift_pp}} percentage points.")
    q = (f"Describe how the weight of {co.poss()} {s} segment in total revenue (income-statement revenue) changed "
         f"between fiscal years {y0} and {y1}. Fill in this template, then add one sentence of conclusion: "
         f"\"{tmpl}\"")
    sg, t = co.t("seg"), co.t("is")
    segc = co.col("seg", "segment").name
    f = conv(co.cfg["seg_unit"], co.fin_unit)
    tags = ["share_of_total", "comparison", "analysis"] + (["unit_conversion"] if f else []) + \
        (["text_amounts"] if co.col("seg", "revenue").text else [])
    return task("multi_table", "hard", tags, co, [sg, t], q,
                a_tmpl(tmpl, [(f"share_{y0}", sh0, "%"), (f"share_{y1}", sh1, "%"), ("shift_pp", sh1 - sh0, "%")]),
                [(f"seg_{y0}", sg, f"SELECT {co.sel('seg', 'revenue')} FROM {sg} WHERE fiscal_year = {y0} AND {segc} = '{s}'"),
                 (f"seg_{y1}", sg, f"SELECT {co.sel('seg', 'revenue')} FROM {sg} WHERE fiscal_year = {y1} AND {segc} = '{s}'"),
                 _rev_step(co, y0), _rev_step(co, y1)],
                {f"share_{y0}": f"seg_{y0}{f} / rev_{y0} * 100", f"share_{y1}": f"seg_{y1}{f} / rev_{y1} * 100",
                 "shift_pp": f"(seg_{y1}{f} / rev_{y1} - seg_{y0}{f} / rev_{y0}) * 100"})


def t_sbc(G: Gen, co: Co) -> dict[str, Any] | None:
    y = G.r.choice(YEARS[1:])
    p = y - 1
    sbc = co.raw("sh", "sbc", y)
    pct = sbc / co.raw("is", "revenue", y) * 100
    dil = (co.raw("sh", "diluted", y) / co.raw("sh", "diluted", p) - 1) * 100
    per_emp = sbc / co.raw("hc", "total", y)
    tmpl = (f"In FY{y} {co.poss()} stock-based compensation equalled {{sbc_pct}} % of revenue, or {{sbc_per_employee}} "
            f"USD thousands per year-end employee, and its diluted weighted-average share count changed by "
            f"{{diluted_change}} % from FY{p}.")
    q = (f"Summarise the cost of {co.poss()} equity compensation in fiscal year {y}. Fill in this template, then "
         f"add one sentence of conclusion: \"{tmpl}\"")
    sh, t, hc = co.t("sh"), co.t("is"), co.t("hc")
    su = co.unit("sh", "sbc")
    return task("multi_table", "hard", ["ratio", "per_employee", "dilution", "analysis"], co, [sh, t, hc], q,
                a_tmpl(tmpl, [("sbc_pct", pct, "%"), ("sbc_per_employee", per_emp, "USD thousands"),
                              ("diluted_change", dil, "%")]),
                [("sbc", sh, q_year(co, "sh", "sbc", y)), _rev_step(co, y, "rev"),
                 ("emp", hc, f"SELECT {co.col('hc', 'total').name} FROM {hc} WHERE fiscal_year = {y}"),
                 (f"dil_{y}", sh, q_year(co, "sh", "diluted", y)), (f"dil_{p}", sh, q_year(co, "sh", "diluted", p))],
                {"sbc_pct": f"sbc{conv(su, co.fin_unit)} / rev * 100",
                 "sbc_per_employee": f"sbc{conv(su, 'USD thousands')} / emp",
                 "diluted_change": f"(dil_{y} / dil_{p} - 1) * 100"})


MULTI_GROUPS = [
    [m_rpe, m_rpe, m_opinc_per_emp],
    [m_ebitda_cov, m_implied_rate],
    [m_fcf_margin, m_roe],
    [m_seg_share_is, m_q4_share, m_sbc_pct],
    [m_de, m_net_debt, m_asset_turnover],
]
TEMPLATES = [t_rpe, t_fcf, t_leverage, t_segmix, t_sbc]


# ---- cross-company


def join_names(cos: list[Co]) -> str:
    return ", ".join(c.name for c in cos[:-1]) + " and " + cos[-1].name


def _branch(co: Co, expr: str, frm: str, where: str) -> str:
    return f"SELECT '{co.name}' AS company, {expr} AS metric FROM {frm} WHERE {where}"


def _union(branches: list[str], limit: int | None = None) -> str:
    sql = f"SELECT company FROM ({' UNION ALL '.join(branches)}) AS m WHERE metric IS NOT NULL ORDER BY metric DESC"
    return sql + (f" LIMIT {limit}" if limit else "")


def c_margin_text(G: Gen, cos: list[Co]) -> dict[str, Any]:
    a, b = G.r.sample(cos, 2)
    y = G.r.choice(YEARS)
    which = G.r.choice(["operating", "gross"])
    key = "operating_income" if which == "operating" else "gross_profit"
    ma = {c.name: c.raw("is", key, y) / c.raw("is", "revenue", y) for c in (a, b)}
    best = max(ma, key=lambda n: ma[n])
    q = G.pick(["Which company had the higher {w} margin in its fiscal year {y}: {a} or {b}? Answer with the company name.",
                "Compare the {w} margins of {a} and {b} for fiscal year {y}. Which was higher? Give the company name."],
               w=which, y=y, a=a.name, b=b.name)
    br = [_branch(c, f"{c.x('is', key)} / {c.x('is', 'revenue')}", c.t("is"), f"fiscal_year = {y}") for c in (a, b)]
    return task("multi_table", "medium", ["comparison", "margin"], None, [a.t("is"), b.t("is")], q, a_text(best),
                [("company", None, _union(br, 1))])


def c_growth_text(G: Gen, cos: list[Co]) -> dict[str, Any]:
    a, b = G.r.sample(cos, 2)
    y = G.r.choice(YEARS[1:])
    g = {c.name: c.raw("is", "revenue", y) / c.raw("is", "revenue", y - 1) for c in (a, b)}
    best = max(g, key=lambda n: g[n])
    q = G.pick(["Whose total revenue grew faster from fiscal year {p} to fiscal year {y}: {a} or {b}? Answer with the company name.",
                "Between {a} and {b}, which company posted the higher year-over-year revenue growth in fiscal year {y}? Give the company name."],
               p=y - 1, y=y, a=a.name, b=b.name)
    br = [_branch(c, f"{c.x('is', 'revenue', 'cur')} / {c.x('is', 'revenue', 'prev')}",
                  f"{c.t('is')} AS cur JOIN {c.t('is')} AS prev ON prev.fiscal_year = cur.fiscal_year - 1",
                  f"cur.fiscal_year = {y}") for c in (a, b)]
    return task("multi_table", "hard", ["comparison", "yoy_growth"], None, [a.t("is"), b.t("is")], q, a_text(best),
                [("company", None, _union(br, 1))])


def c_rank_rev(G: Gen, cos: list[Co]) -> dict[str, Any]:
    picks = G.r.sample(cos, 4)
    y = G.r.choice(YEARS)
    vals = {c.name: c.raw("is", "revenue", y) for c in picks}
    order = sorted(vals, key=lambda n: -vals[n])
    q = G.pick(["Rank these companies by total revenue in their fiscal year {y}, largest first: {names}. Answer with the company names in order.",
                "Order {names} from highest to lowest fiscal year {y} total revenue (mind the units of each table). List the company names."],
               y=y, names=join_names(picks))
    br = [_branch(c, f"{c.x('is', 'revenue')}{conv(c.fin_unit, 'USD millions')}", c.t("is"), f"fiscal_year = {y}")
          for c in picks]
    diff = "hard" if any(c.fin_unit != "USD millions" for c in picks) else "medium"
    return task("multi_table", diff, ["ranking", "comparison", "unit_conversion"], None, [c.t("is") for c in picks], q,
                a_list(order), [("companies", None, _union(br))])


def c_rank_rpe(G: Gen, cos: list[Co]) -> dict[str, Any]:
    picks = G.r.sample(cos, 3)
    y = G.r.choice(YEARS)
    vals = {c.name: c.raw("is", "revenue", y) / c.raw("hc", "total", y) for c in picks}
    order = sorted(vals, key=lambda n: -vals[n])
    q = G.pick(["Rank {names} by revenue per year-end employee in fiscal year {y}, highest first. Answer with the company names in order.",
                "Which of {names} was most productive in fiscal year {y} measured by revenue per year-end employee? List all three from highest to lowest."],
               y=y, names=join_names(picks))
    br = []
    tables = []
    for c in picks:
        br.append(_branch(c, f"i.{c.col('is', 'revenue').name}{conv(c.fin_unit, 'USD thousands')} / h.{c.col('hc', 'total').name}",
                          f"{c.t('is')} AS i JOIN {c.t('hc')} AS h ON h.fiscal_year = i.fiscal_year",
                          f"i.fiscal_year = {y}"))
        tables += [c.t("is"), c.t("hc")]
    return task("multi_table", "hard", ["ranking", "per_employee", "comparison"], None, tables, q, a_list(order),
                [("companies", None, _union(br))])


def c_rev_diff(G: Gen, cos: list[Co]) -> dict[str, Any]:
    a, b = G.r.sample(cos, 2)
    y = G.r.choice(YEARS)
    va, vb = a.raw("is", "revenue", y), b.raw("is", "revenue", y)
    if va < vb:
        a, b, va, vb = b, a, vb, va
    q = G.pick(["How much more total revenue did {a} report than {b} in fiscal year {y}? Answer in USD millions.",
                "What was the gap between {a}'s and {b}'s fiscal year {y} total revenue? Answer in USD millions."],
               a=a.name, b=b.name, y=y)
    tags = ["comparison", "difference"] + (["unit_conversion"] if "USD thousands" in (a.fin_unit, b.fin_unit) else [])
    return task("multi_table", "medium", tags, None, [a.t("is"), b.t("is")], q, a_num((va - vb) / 1000, "USD millions"),
                [("rev_a", a.t("is"), q_year(a, "is", "revenue", y)), ("rev_b", b.t("is"), q_year(b, "is", "revenue", y))],
                f"rev_a{conv(a.fin_unit, 'USD millions')} - rev_b{conv(b.fin_unit, 'USD millions')}")


def c_combined(G: Gen, cos: list[Co]) -> dict[str, Any]:
    picks = G.r.sample(cos, 3)
    y = G.r.choice(YEARS)
    val = sum(c.raw("is", "revenue", y) for c in picks) / 1_000_000
    q = G.pick(["What was the combined total revenue of {names} in their fiscal year {y}? Answer in USD billions.",
                "Add up fiscal year {y} total revenue for {names}. Give the total in USD billions."],
               names=join_names(picks), y=y)
    steps = [(f"rev_{i}", c.t("is"), q_year(c, "is", "revenue", y)) for i, c in enumerate(picks, 1)]
    compute = " + ".join(f"rev_{i}{conv(c.fin_unit, 'USD billions')}" for i, c in enumerate(picks, 1))
    return task("multi_table", "medium", ["sum", "comparison", "unit_conversion"], None, [c.t("is") for c in picks], q,
                a_num(val, "USD billions"), steps, compute)


def c_headcount(G: Gen, cos: list[Co]) -> dict[str, Any]:
    picks = G.r.sample(cos, 3)
    y = G.r.choice(YEARS)
    val = sum(c.raw("hc", "total", y) for c in picks)
    q = G.pick(["How many employees did {names} have in total at the end of their fiscal year {y}? Answer as a number of employees.",
                "What was the combined year-end headcount of {names} in fiscal year {y}? Answer in employees."],
               names=join_names(picks), y=y)
    steps = [(f"emp_{i}", c.t("hc"), f"SELECT {c.col('hc', 'total').name} FROM {c.t('hc')} WHERE fiscal_year = {y}")
             for i, c in enumerate(picks, 1)]
    return task("multi_table", "easy", ["sum", "comparison"], None, [c.t("hc") for c in picks], q,
                a_num(val, "employees"), steps, " + ".join(f"emp_{i}" for i in range(1, 4)))


def c_more_employees(G: Gen, cos: list[Co]) -> dict[str, Any]:
    a, b = G.r.sample(cos, 2)
    y = G.r.choice(YEARS)
    n = {c.name: c.raw("hc", "total", y) for c in (a, b)}
    best = max(n, key=lambda k: n[k])
    q = G.pick(["Which company had more employees at the end of its fiscal year {y}: {a} or {b}? Answer with the company name.",
                "At fiscal year-end {y}, did {a} or {b} have the larger workforce? Give the company name."],
               y=y, a=a.name, b=b.name)
    br = [_branch(c, c.col("hc", "total").name, c.t("hc"), f"fiscal_year = {y}") for c in (a, b)]
    return task("multi_table", "easy", ["comparison", "lookup"], None, [a.t("hc"), b.t("hc")], q, a_text(best),
                [("company", None, _union(br, 1))])


def c_template(G: Gen, cos: list[Co]) -> dict[str, Any]:
    a, b = G.r.sample(cos, 2)
    y = G.r.choice(YEARS)
    ma = a.raw("is", "operating_income", y) / a.raw("is", "revenue", y) * 100
    mb = b.raw("is", "operating_income", y) / b.raw("is", "revenue", y) * 100
    tmpl = (f"In fiscal year {y} {a.short} earned an operating margin of {{margin_a}} % and {b.short} "
            f"{{margin_b}} %, a gap of {{gap_pp}} percentage points ({a.short} minus {b.short}).")
    q = (f"Compare the profitability of {a.name} and {b.name} in fiscal year {y}. Fill in this template, then "
         f"add one sentence of conclusion: \"{tmpl}\"")
    return task("multi_table", "hard", ["comparison", "margin", "analysis"], None, [a.t("is"), b.t("is")], q,
                a_tmpl(tmpl, [("margin_a", ma, "%"), ("margin_b", mb, "%"), ("gap_pp", ma - mb, "%")]),
                [("op_a", a.t("is"), q_year(a, "is", "operating_income", y)), ("rev_a", a.t("is"), q_year(a, "is", "revenue", y)),
                 ("op_b", b.t("is"), q_year(b, "is", "operating_income", y)), ("rev_b", b.t("is"), q_year(b, "is", "revenue", y))],
                {"margin_a": "op_a / rev_a * 100", "margin_b": "op_b / rev_b * 100",
                 "gap_pp": "(op_a / rev_a - op_b / rev_b) * 100"})


def c_rpe_template(G: Gen, cos: list[Co]) -> dict[str, Any]:
    a, b = G.r.sample(cos, 2)
    y = G.r.choice(YEARS)
    ra = a.raw("is", "revenue", y) / a.raw("hc", "total", y)
    rb = b.raw("is", "revenue", y) / b.raw("hc", "total", y)
    tmpl = (f"{a.short} generated {{rpe_a}} USD thousands of revenue per year-end employee in fiscal year {y}, "
            f"against {{rpe_b}} USD thousands at {b.short}; {a.poss()} figure is {{ratio}} x that of {b.short}.")
    q = (f"Compare the workforce productivity of {a.name} and {b.name} in fiscal year {y} (revenue divided by "
         f"year-end headcount). Fill in this template, then add one sentence of conclusion: \"{tmpl}\"")
    fa, fb = conv(a.fin_unit, "USD thousands"), conv(b.fin_unit, "USD thousands")
    return task("multi_table", "hard", ["comparison", "per_employee", "analysis", "unit_conversion"], None,
                [a.t("is"), a.t("hc"), b.t("is"), b.t("hc")], q,
                a_tmpl(tmpl, [("rpe_a", ra, "USD thousands"), ("rpe_b", rb, "USD thousands"), ("ratio", ra / rb, "x")]),
                [("rev_a", a.t("is"), q_year(a, "is", "revenue", y)),
                 ("emp_a", a.t("hc"), f"SELECT {a.col('hc', 'total').name} FROM {a.t('hc')} WHERE fiscal_year = {y}"),
                 ("rev_b", b.t("is"), q_year(b, "is", "revenue", y)),
                 ("emp_b", b.t("hc"), f"SELECT {b.col('hc', 'total').name} FROM {b.t('hc')} WHERE fiscal_year = {y}")],
                {"rpe_a": f"rev_a{fa} / emp_a", "rpe_b": f"rev_b{fb} / emp_b",
                 "ratio": f"(rev_a{fa} / emp_a) / (rev_b{fb} / emp_b)"})


CROSS = [c_margin_text, c_margin_text, c_growth_text, c_more_employees, c_rank_rev, c_rank_rev, c_rank_rpe,
         c_rev_diff, c_combined, c_headcount, c_template, c_rpe_template]


# --------------------------------------------------------------------------------------------- build


def build_companies(seed: int) -> list[Co]:
    rng = random.Random(seed)
    cos = [Co(cfg) for cfg in COMPANIES]
    for co in cos:
        co.build(random.Random(rng.randrange(2**32)))
    return cos


def _fill(G: Gen, co: Co | None, fn: Any, tries: int = 12) -> dict[str, Any] | None:
    for _ in range(tries):
        t = fn(G, co) if co is not None else fn(G, G.cos)
        if t is not None:
            return t
    return None


def _signature(t: dict[str, Any]) -> str:
    return " | ".join(s["sql"] for s in t["reference"]["steps"])


def single_tasks(G: Gen) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, co in enumerate(G.cos):
        fns = [*SINGLE_MANDATORY, s_top_seg if i % 2 == 0 else s_rank_seg]
        fns += [G.r.choice(group) for group in SINGLE_GROUPS]
        fns.append(s_text_lookup if any(k.split(".")[0] in ("is", "bs", "cf") for k in co.cfg["text"]) else s_avg)
        mine: list[dict[str, Any]] = []
        for fn in fns:
            t = _fill(G, co, fn)
            for _ in range(10):
                if t is None or _signature(t) not in {_signature(x) for x in mine}:
                    break
                t = _fill(G, co, fn)
            if t is not None:
                mine.append(t)
        out += mine
    for n, t in enumerate(out, 1):
        t["id"] = f"fs-{n:03d}"
    return out


def multi_tasks(G: Gen) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, co in enumerate(G.cos):
        mine: list[dict[str, Any]] = []
        tmpl = _fill(G, co, TEMPLATES[i % len(TEMPLATES)])
        for group in MULTI_GROUPS:
            t = _fill(G, co, G.r.choice(group))
            if t is not None:
                mine.append(t)
        if tmpl is not None:
            mine.append(tmpl)
        out += mine
    for fn in CROSS:
        t = _fill(G, None, fn)
        if t is not None and _signature(t) not in {_signature(x) for x in out}:
            out.append(t)
    for n, t in enumerate(out, 1):
        t["id"] = f"fm-{n:03d}"
    return out


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def render(seed: int = DEFAULT_SEED) -> tuple[dict[str, str], dict[str, list[dict[str, Any]]]]:
    """Every output file (path relative to the suites folder -> text), and the tasks of each suite."""
    cos = build_companies(seed)
    header = f"# Generated by suites/data/finance/generate.py (seed {seed}); do not edit by hand.\n"
    files: dict[str, str] = {}
    catalog: dict[str, Any] = {
        "name": "finance",
        "description": "Fictional companies' financial statements, extracted 10-K style tables.",
        "companies": [{"id": co.id, "name": co.name, "ticker": co.cfg["ticker"], "sector": co.cfg["sector"],
                       "fiscal_year_end": fye_text(co.cfg["fye"])} for co in cos],
        "tables": [],
    }
    for co in cos:
        for kind in KINDS:
            name = co.t(kind)
            cols = co.layout[kind]
            files[f"data/finance/tables/{name}.csv"] = csv_text([c.name for c in cols], co.rows(kind))
            entries = []
            for c in cols:
                e = FlowMap(name=c.name, type=c.type)
                if c.unit:
                    e["unit"] = c.unit
                e["description"] = c.desc
                entries.append(e)
            catalog["tables"].append({"name": name, "company": co.id, "file": f"tables/{name}.csv",
                                      "description": co.table_description(kind), "columns": entries})
    files["data/finance/catalog.yaml"] = dump_yaml(catalog, header)

    G = Gen(random.Random(seed + 1), cos)
    suites = {
        "finance-single": (single_tasks(G), 20,
                           "Single-table questions about fictional companies' 10-K tables: lookups, growth, margins, "
                           "CAGR, shares of a total, averages, rankings, text amounts and unit conversions."),
        "finance-multi": (multi_tasks(G), 30,
                          "Questions that need two or more tables: per-employee metrics, coverage, free-cash-flow "
                          "margins, leverage, segment shares, cross-company comparisons and short templated analyses."),
    }
    summary: dict[str, list[dict[str, Any]]] = {}
    for name, (tasks, turns, desc) in suites.items():
        suite = {"name": name, "version": "1.0", "description": desc, "database": "../data/finance",
                 "tasks": "tasks.yaml",
                 "settings": {"max_turns": turns, "row_cap": 50, "refuse_select_star": True, "refuse_unfiltered": True}}
        files[f"{name}/suite.yaml"] = dump_yaml(suite, header)
        files[f"{name}/tasks.yaml"] = dump_yaml({"tasks": tasks}, header)
        summary[name] = tasks
    return files, summary


def generate(out: Path, seed: int = DEFAULT_SEED) -> dict[str, list[dict[str, Any]]]:
    """Write ``out/data/finance`` and ``out/finance-single``, ``out/finance-multi``; return the tasks per suite.

    Everything is rendered in memory first, so a failure leaves the existing files untouched.
    """
    files, summary = render(seed)
    tables_dir = out / "data" / "finance" / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(tables_dir.glob("*.csv")):
        if f"data/finance/tables/{old.name}" not in files:
            old.unlink()
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2],
                    help="suites folder to write into (default: this repository's suites/)")
    args = ap.parse_args(argv)
    summary = generate(args.out, args.seed)
    for name, tasks in summary.items():
        print(f"{name}: {len(tasks)} tasks")


if __name__ == "__main__":
    main()
