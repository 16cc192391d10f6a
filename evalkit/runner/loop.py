"""The agent loop: one task, one model, one epoch → one recorded ``Sample``.

System prompt and question; call the model with the tool specs; run each tool call; append each result
(errors as text the model can act on); stop on a final answer, on max turns, on the sample timeout or on
the budget. A malformed tool call (invalid JSON, unknown tool, arguments that fail the tool's JSON Schema)
becomes an error result that the model sees and the trace records. Tool calls run on a thread of the
loop's executor, so one sample's slow query never holds the others (or its own sample timeout).

A reply with no tool call is a final answer only when it says something and was not cut: one cut by
``max_tokens`` stops the sample as ``truncated``, one with no text as ``empty_reply`` (model failures, with
no answer). Each model event keeps the provider's finish reason, and the sample's metadata what the model
was offered (``offered_tools``, ``tool_choice``, ``tool_protocol``), so a run whose model never saw a tool
says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from evalkit.contracts.answers import check_answer, expected_text, extract_final_answer
from evalkit.contracts.suite import TaskSpec
from evalkit.models import textproto
from evalkit.models.types import ModelCallError, ModelReply
from evalkit.trace.types import Event, Sample, StopReason, ToolCall, utc_now

if TYPE_CHECKING:
    from evalkit.contracts.model_config import ModelConfig
    from evalkit.contracts.suite import SuiteSettings
    from evalkit.runner.options import RunOptions


class ToolOutcome(Protocol):
    @property
    def ok(self) -> bool: ...

    @property
    def content(self) -> str: ...

    @property
    def error_type(self) -> str | None: ...

    @property
    def data(self) -> dict[str, Any] | None: ...


class Environment(Protocol):
    def tool_specs(self) -> list[dict[str, Any]]: ...

    def call(self, name: str, arguments: dict[str, Any]) -> ToolOutcome: ...


class Model(Protocol):
    def offered(self, tools: list[dict[str, Any]]) -> dict[str, Any]: ...

    async def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> ModelReply: ...


@dataclass(frozen=True)
class _Malformed:
    ok: bool
    content: str
    error_type: str | None
    data: dict[str, Any] | None = None


@dataclass
class EpisodeSettings:
    max_turns: int
    system_prompt: str
    tool_protocol: str = "native"
    sample_timeout_s: float | None = None
    over_budget: Callable[[], bool] = lambda: False
    validators: dict[str, Any] = field(default_factory=dict)
    answer_at_turn_limit: bool = False
    """At the turn limit, take the last reply's text as the answer (the rllm-finqa profile: ``finqa_flow``
    answers with the last assistant content when ``MAX_TURNS`` runs out); else a sample stopped there has none."""


def settings_maker(
    suite: SuiteSettings,
    opts: RunOptions,
    system_prompt: str,
    over_budget: Callable[[], bool],
    validators: dict[str, Any],
) -> Callable[[ModelConfig], EpisodeSettings]:
    """Each model's episode settings for a run: the one place a run (in this process or a worker) sets them."""

    def settings_for(config: ModelConfig) -> EpisodeSettings:
        return EpisodeSettings(
            max_turns=opts.max_turns or suite.max_turns,
            system_prompt=system_prompt,
            tool_protocol=config.tool_protocol,
            sample_timeout_s=opts.sample_timeout_s,
            over_budget=over_budget,
            validators=validators,
            answer_at_turn_limit=suite.profile == "rllm-finqa",
        )

    return settings_for


class Episode:
    """State of one episode while it runs; ``run`` drives it and ``sample`` records it."""

    def __init__(self, run_id: str, task: TaskSpec, model_name: str, epoch: int, settings: EpisodeSettings) -> None:
        self.run_id, self.task, self.model_name, self.epoch, self.settings = run_id, task, model_name, epoch, settings
        self.events: list[Event] = []
        self.turn = 0
        self.tool_calls = 0
        self.tool_errors = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.reasoning_tokens: int | None = None
        self.cost: float | None = 0.0
        self.final_answer: str | None = None
        self.stop: StopReason = "max_turns"
        self.error: str | None = None
        self.offered: dict[str, Any] = {}
        self.started = utc_now()
        self._t0 = time.perf_counter()

    @property
    def _seq(self) -> int:
        """The number of the next event."""
        return len(self.events)

    async def run(self, env: Environment, model: Model) -> Sample:
        try:
            if self.settings.sample_timeout_s:
                await asyncio.wait_for(self._loop(env, model), self.settings.sample_timeout_s)
            else:
                await self._loop(env, model)
        except TimeoutError:
            self.stop = "timeout"
            self.error = f"sample timed out after {self.settings.sample_timeout_s:g}s"
        except ModelCallError as exc:
            self.stop = "infra_error"
            self.error = str(exc)
        return self.sample()

    async def _loop(self, env: Environment, model: Model) -> None:
        tools = env.tool_specs()
        self.offered = model.offered(tools)
        text_protocol = self.settings.tool_protocol == "text"
        system = self.settings.system_prompt
        if text_protocol:
            system = system + "\n\n" + textproto.tools_prompt(tools)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            {"role": "user", "content": self.task.question},
        ]
        self.events.append(Event.prompt(self._seq, "system", self.turn, system))
        self.events.append(Event.prompt(self._seq, "user", self.turn, self.task.question))
        max_turns = self.task.max_turns or self.settings.max_turns
        while self.turn < max_turns:
            if self.settings.over_budget():
                self.stop = "budget"
                return
            self.turn += 1
            reply = await model.complete(messages, tools)
            self._record_reply(reply)
            messages.append(_replayed(reply))
            if not reply.tool_calls:
                if reply.finish_reason == "length":
                    self.stop = "truncated"
                elif not reply.content.strip():
                    self.stop = "empty_reply"
                else:
                    self.final_answer = extract_final_answer(reply.content)
                    self.stop = "final_answer"
                return
            texts = []
            for call in reply.tool_calls:
                outcome = await self._run_tool(env, call)
                texts.append(outcome.content)
                if not text_protocol:
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": outcome.content})
            if text_protocol:
                messages.append(textproto.tool_response_message(texts))
        self.stop = "max_turns"
        last = next((e for e in reversed(self.events) if e.kind == "model"), None)
        if self.settings.answer_at_turn_limit and last is not None and (last.content or "").strip():
            self.final_answer = extract_final_answer(last.content or "")

    def _record_reply(self, reply: ModelReply) -> None:
        self.prompt_tokens += reply.usage.prompt_tokens
        self.completion_tokens += reply.usage.completion_tokens
        if reply.reasoning_tokens is not None:
            self.reasoning_tokens = (self.reasoning_tokens or 0) + reply.reasoning_tokens
        if reply.cost_usd is None or self.cost is None:
            self.cost = None
        else:
            self.cost += reply.cost_usd
        self.events.append(
            Event.model_call(
                self._seq,
                self.turn,
                content=reply.content,
                tool_calls=reply.tool_calls,
                usage=reply.usage,
                latency_s=round(reply.latency_s, 6),
                cost_usd=reply.cost_usd,
                cached=reply.cached,
                finish_reason=reply.finish_reason,
                reasoning=reply.reasoning,
            )
        )

    async def _run_tool(self, env: Environment, call: ToolCall) -> ToolOutcome:
        self.tool_calls += 1
        start = time.perf_counter()
        outcome = await asyncio.get_running_loop().run_in_executor(None, self._checked_call, env, call)
        if not outcome.ok:
            self.tool_errors += 1
        self.events.append(
            Event.tool_result(
                self._seq,
                self.turn,
                tool=call.name,
                ok=outcome.ok,
                call_id=call.id,
                arguments=call.arguments if call.arguments is not None else {"_raw": call.raw_arguments},
                content=outcome.content,
                error_type=outcome.error_type,
                data=outcome.data,
                latency_s=round(time.perf_counter() - start, 6),
            )
        )
        return outcome

    def _checked_call(self, env: Environment, call: ToolCall) -> ToolOutcome:
        dispatch = getattr(env, "dispatch", None)
        if dispatch is not None:  # an environment that answers malformed calls in its own words (rllm-finqa)
            try:
                outcome: ToolOutcome = dispatch(call.name, call.arguments, call.raw_arguments)
            except Exception as exc:  # a tool must never crash the episode
                return _Malformed(False, f"Error: {call.name} failed: {exc}", "tool_crash")
            return outcome
        validators = self.settings.validators
        if call.arguments is None:
            return _Malformed(
                False,
                f"Error: the arguments of your {call.name or 'tool'} call are not a valid JSON "
                f"object: {str(call.raw_arguments)[:200]!r}. Send a JSON object.",
                "malformed_call",
            )
        if call.name not in validators:
            known = ", ".join(sorted(validators))
            return _Malformed(False, f"Error: unknown tool {call.name!r}. Available tools: {known}.", "unknown_tool")
        problems = sorted(validators[call.name].iter_errors(call.arguments), key=lambda e: list(e.path))
        if problems:
            detail = "; ".join((f"{'.'.join(map(str, p.path))}: " if p.path else "") + p.message for p in problems[:3])
            return _Malformed(False, f"Error: invalid arguments for {call.name}: {detail}.", "bad_arguments")
        try:
            return env.call(call.name, call.arguments)
        except Exception as exc:  # a tool must never crash the episode
            return _Malformed(False, f"Error: {call.name} failed: {exc}", "tool_crash")

    def sample(self) -> Sample:
        infra = self.stop in ("infra_error", "timeout")
        correct: bool | None = None
        check_reason = answer_rule = None
        if not infra:  # the whole final reply is read: the matcher finds the marker, or else the conclusion
            reply = self.events[-1].content if self.stop == "final_answer" and self.events else self.final_answer
            check = check_answer(self.task.answer, reply or self.final_answer, question=self.task.question)
            correct, check_reason, answer_rule = check.correct, check.reason, check.rule
        return Sample(
            run_id=self.run_id,
            task_id=self.task.id,
            model=self.model_name,
            epoch=self.epoch,
            status="infra_error" if infra else "ok",
            stop_reason=self.stop,
            final_answer=self.final_answer,
            correct=correct,
            expected=expected_text(self.task),
            turns=self.turn,
            tool_calls=self.tool_calls,
            tool_errors=self.tool_errors,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            latency_s=round(time.perf_counter() - self._t0, 6),
            cost_usd=self.cost,
            error=self.error,
            started_at=self.started,
            finished_at=utc_now(),
            events=tuple(self.events),
            metadata={
                **self.offered,
                **({"answer_check": check_reason} if check_reason else {}),
                **({"answer_rule": answer_rule} if answer_rule else {}),
                **({"reasoning_tokens": self.reasoning_tokens} if self.reasoning_tokens is not None else {}),
            },
        )


def _replayed(reply: ModelReply) -> dict[str, Any]:
    """The assistant message that carries a reply into the next turn's history. Its content is text, never
    null: a tool-call turn comes back from OpenAI-style providers with ``content: null``, and some servers'
    chat templates (llama-cpp-python's) fail on null with HTTP 500 (a cached reply may still hold it)."""
    message = reply.raw_message or {"role": "assistant", "content": reply.content}
    if message.get("content") is None:
        message = {**message, "content": ""}
    return message
