"""Episodes as a production agent's tool-calling logs record them (OpenAI chat messages), with no gold answer.

Each line carries what such logs carry: ``tool_calls`` with JSON-string arguments (parallel calls in one
turn), tool results as plain text, CSV or JSON, prose answers without a ``FINAL ANSWER:`` marker (one with a
``<think>`` block), a hand-off to another agent, a user who stops the conversation, a log cut after a tool
result, and the reward the production system logged in ``metadata``. None has ``expected``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SYSTEM = "You are Northwind's finance assistant. Use the tools to look up figures before you answer."


def call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def answered_in_prose() -> dict[str, Any]:
    """Lists the tables, reads two schemas in one turn, queries, answers in prose after a think block."""
    query = "SELECT fiscal_year, rd_expense FROM northwind_opex WHERE fiscal_year IN (2021, 2022)"
    return {
        "model": "prod-agent",
        "task_id": "rd-spend",
        "metadata": {"reward": 1.0, "conversation_id": "conv-8812", "channel": "web"},
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "How much did we spend on R&D in 2022 compared with 2021?"},
            {"role": "assistant", "content": None, "tool_calls": [call("call_9fQ2", "get_table_names", {})]},
            {"role": "tool", "tool_call_id": "call_9fQ2", "content": '["northwind_opex", "northwind_headcount"]'},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    call("call_Hk01", "get_table_info", {"table": "northwind_opex"}),
                    call("call_Hk02", "get_table_info", {"table": "northwind_headcount"}),
                ],
            },
            {"role": "tool", "tool_call_id": "call_Hk01", "content": "fiscal_year INTEGER\nrd_expense DOUBLE"},
            {"role": "tool", "tool_call_id": "call_Hk02", "content": "fiscal_year INTEGER\nemployees INTEGER"},
            {"role": "assistant", "content": "", "tool_calls": [call("call_Zp7x", "sql_query", {"query": query})]},
            {"role": "tool", "tool_call_id": "call_Zp7x", "content": "fiscal_year,rd_expense\n2021,412.5\n2022,468.0"},
            {
                "role": "assistant",
                "content": "<think>468.0 / 412.5 = 1.1345, so up about 13.5%.</think>\n"
                "R&D spending was $468.0 million in 2022, up about 13.5% from $412.5 million in 2021.",
            },
        ],
    }


def handed_off() -> dict[str, Any]:
    """Hits a missing table, then hands the conversation to another agent."""
    return {
        "model": "prod-agent",
        "task_id": "headcount",
        "metadata": {"reward": 0.0, "conversation_id": "conv-8813"},
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "What was our headcount at the end of 2023?"},
            {
                "role": "assistant",
                "content": "Let me check the HR data.",
                "tool_calls": [call("call_Qa1", "sql_query", {"query": "SELECT employees FROM headcount"})],
            },
            {
                "role": "tool",
                "tool_call_id": "call_Qa1",
                "content": "Catalog Error: Table with name headcount does not exist!\n"
                'Did you mean "northwind_headcount"?',
            },
            {
                "role": "assistant",
                "content": "I'll pass you to our HR specialist.",
                "tool_calls": [call("call_Qa2", "transfer_to_hr_agent", {})],
            },
            {"role": "tool", "tool_call_id": "call_Qa2", "content": '{"assistant": "HR Agent"}'},
        ],
    }


def user_stopped() -> dict[str, Any]:
    """Queries, replies with a rough figure and a question back; the user ends the conversation."""
    query = "SELECT gross_profit, revenue FROM northwind_income WHERE fiscal_year = 2022"
    return {
        "model": "prod-agent",
        "task_id": "margin",
        "metadata": {"reward": 0, "conversation_id": "conv-8814"},
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "What was the gross margin in 2022?"},
            {"role": "assistant", "content": None, "tool_calls": [call("call_m1", "sql_query", {"query": query})]},
            {"role": "tool", "tool_call_id": "call_m1", "content": "gross_profit,revenue\n1210.0,3020.0"},
            {
                "role": "assistant",
                "content": "The gross margin was roughly 40%. Would you like a breakdown by quarter?",
            },
            {"role": "user", "content": "no, stop here"},
        ],
    }


def cut_off() -> dict[str, Any]:
    """The log ends after a tool result: whatever happened next was not recorded."""
    query = "SELECT SUM(capex) AS capex FROM northwind_cashflow WHERE fiscal_year = 2020"
    return {
        "model": "prod-agent",
        "task_id": "capex",
        "metadata": {"reward": 1, "conversation_id": "conv-8815"},
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Total capex for 2020?"},
            {"role": "assistant", "content": None, "tool_calls": [call("call_c1", "sql_query", {"query": query})]},
            {"role": "tool", "tool_call_id": "call_c1", "content": '[{"capex": 88.2}]'},
        ],
    }


def no_reward() -> dict[str, Any]:
    """An answered episode whose log has no reward at all."""
    query = "SELECT cash FROM northwind_balance WHERE fiscal_year = 2022"
    return {
        "model": "prod-agent",
        "task_id": "cash",
        "metadata": {"conversation_id": "conv-8816"},
        "messages": [
            {"role": "user", "content": "How much cash did we end 2022 with?"},
            {"role": "assistant", "content": None, "tool_calls": [call("call_k1", "sql_query", {"query": query})]},
            {"role": "tool", "tool_call_id": "call_k1", "content": "cash\n731.4"},
            {"role": "assistant", "content": "We closed 2022 with about $731 million in cash."},
        ],
    }


def production_log() -> list[dict[str, Any]]:
    """Four rewarded episodes, two of them with a reward of at least 1."""
    return [answered_in_prose(), handed_off(), user_stopped(), cut_off()]


def write_jsonl(path: Path, episodes: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in episodes), "utf-8")
    return path
