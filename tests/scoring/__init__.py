"""Helpers for the scoring tests: build a trace step by step, the way the runner records one."""

from __future__ import annotations

from typing import Any

from evalkit.contracts.answers import extract_final_answer
from evalkit.trace.types import Event, Sample, StopReason, ToolCall, Usage


class TraceBuilder:
    """Events numbered like the runner's: 0 system, 1 user, then a model event per turn followed by the tool
    events of its calls. Each tool method returns the tool event's seq."""

    def __init__(self, question: str = "What was it?", task_id: str = "t1") -> None:
        self.task_id = task_id
        self.events: list[Event] = [
            Event(seq=0, kind="system", turn=0, content="You are an analyst."),
            Event(seq=1, kind="user", turn=0, content=question),
        ]
        self.turn = 0
        self.final_answer: str | None = None

    def _next(self) -> int:
        return len(self.events)

    def call(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        ok: bool = True,
        content: str = "",
        error_type: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> int:
        self.turn += 1
        call_id = f"c{self.turn}"
        self.events.append(
            Event(
                seq=self._next(),
                kind="model",
                turn=self.turn,
                content="",
                tool_calls=(ToolCall(call_id, tool, arguments),),
                usage=Usage(100, 10),
            )
        )
        seq = self._next()
        self.events.append(
            Event(
                seq=seq,
                kind="tool",
                turn=self.turn,
                tool=tool,
                call_id=call_id,
                arguments=arguments,
                content=content if ok else f"Error: {content}",
                ok=ok,
                error_type=None if ok else (error_type or "sql_error"),
                data=data,
            )
        )
        return seq

    def names(self, company: str | None = None, tables: tuple[str, ...] = ()) -> int:
        args = {"company": company} if company else {}
        return self.call("get_table_names", args, content="\n".join(tables), data={"tables": list(tables)})

    def info(self, table: str, ok: bool = True) -> int:
        if not ok:
            return self.call(
                "get_table_info", {"table": table}, ok=False, error_type="unknown_table", content=f"unknown {table}"
            )
        return self.call("get_table_info", {"table": table}, content=f"Table {table}", data={"table": table})

    def sql(
        self,
        query: str,
        result: str = "x\n1",
        *,
        error: str | None = None,
        missing: str | None = None,
        message: str = "",
    ) -> int:
        if error is None:
            return self.call("sql_query", {"query": query}, content=result, data={"rows": 1})
        data: dict[str, Any] = {"tables": []}
        if missing is not None:
            data["missing"] = missing
        return self.call("sql_query", {"query": query}, ok=False, error_type=error, content=message or error, data=data)

    def calc(self, expression: str, value: float | None = None, text: str | None = None) -> int:
        if value is None:
            return self.call("calculator", {"expression": expression}, ok=False, error_type="calc_error")
        return self.call(
            "calculator", {"expression": expression}, content=text or f"{value:.10g}", data={"value": value}
        )

    def final(self, text: str) -> int:
        self.turn += 1
        seq = self._next()
        self.events.append(Event(seq=seq, kind="model", turn=self.turn, content=text, usage=Usage(100, 10)))
        self.final_answer = extract_final_answer(text)
        return seq

    def sample(self, stop_reason: StopReason | None = None, model: str = "m") -> Sample:
        tool_events = [e for e in self.events if e.kind == "tool"]
        stop: StopReason = stop_reason or ("final_answer" if self.final_answer is not None else "max_turns")
        return Sample(
            run_id="run",
            task_id=self.task_id,
            model=model,
            epoch=0,
            status="ok",
            stop_reason=stop,
            final_answer=self.final_answer,
            correct=None,
            expected=None,
            turns=self.turn,
            tool_calls=len(tool_events),
            tool_errors=sum(1 for e in tool_events if not e.ok),
            prompt_tokens=100 * self.turn,
            completion_tokens=10 * self.turn,
            latency_s=0.0,
            cost_usd=None,
            error=None,
            started_at="2025-01-01T00:00:00Z",
            finished_at="2025-01-01T00:00:01Z",
            events=tuple(self.events),
        )
