"""The scripted offline agents as a litellm custom provider (``scripted/disciplined``, ``scripted/reckless``,
``scripted/noisy`` and the fault-injection personas such as ``scripted/hostile``: ``scripts.POLICIES``), so they
go through the same gateway path as any model.

The runner registers the suite's tasks here and passes the task id, epoch and seed in litellm's
``metadata``; the reply is a pure function of those and the conversation (see ``evalkit.models.scripts``).
When the request carries no ``tools`` the agent answers in the text tool-call protocol instead.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from litellm import CustomLLM
from litellm.types.utils import ChatCompletionMessageToolCall, Function, ModelResponse, Usage

from evalkit.models import profile_adapter, scripts, textproto

_RESPONSE = re.compile(r"<tool_response>\n?(.*?)\n?</tool_response>", re.DOTALL)


def tool_results(messages: list[dict[str, Any]], native: bool) -> list[str]:
    """The texts of the tool results so far, in call order."""
    if native:
        return [str(m.get("content") or "") for m in messages if m.get("role") == "tool"]
    out: list[str] = []
    for m in messages[2:]:
        if m.get("role") == "user":
            out.extend(_RESPONSE.findall(str(m.get("content") or "")))
    return out


def _thought_prefix(action: scripts.Action, task: Any, ctx: dict[str, Any]) -> str:
    """The reasoning as a ``<think>`` block opening the content, for the samples whose server has no reasoning
    parser (``persona_reasoning.in_content``); "" when it goes in its own field or there is none."""
    from evalkit.models.persona_reasoning import in_content

    if not action.reasoning or not in_content(task, int(ctx.get("seed") or 0), int(ctx.get("epoch") or 0)):
        return ""
    return f"<think>\n{action.reasoning}\n</think>\n\n"


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class ScriptedProvider(CustomLLM):
    """litellm's hook for the scripted agents."""

    async def acompletion(
        self,
        model: str,
        messages: list[dict[str, Any]],
        api_base: str,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Any,
        encoding: Any,
        api_key: Any,
        logging_obj: Any,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: Any = None,
        timeout: Any = None,
        client: Any = None,
    ) -> ModelResponse:
        policy = model.split("/")[-1]
        if policy not in scripts.POLICIES:
            raise ValueError(f"unknown scripted agent {model!r}; known: {', '.join(scripts.POLICIES)}")
        ctx = ((litellm_params or {}).get("metadata") or {}).get("evalkit") or {}
        task = scripts.lookup_task(str(ctx.get("suite_hash")), str(ctx.get("task_id")))
        params = ctx.get("params") or {}
        latency_ms = float(params.get("latency_ms", 0))
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        native = bool(optional_params.get("tools"))
        results = tool_results(messages, native)
        adapter = None
        if profile_adapter.offers_rllm_tools(optional_params.get("tools"), messages):  # the rllm-finqa profile
            adapter = profile_adapter.ProfileAdapter(str(ctx.get("suite_hash")), task)
            results = adapter.results(messages, native, results)
        action = scripts.next_action(
            policy, task, results, seed=int(ctx.get("seed") or 0), epoch=int(ctx.get("epoch") or 0), params=params
        )
        if adapter is not None:
            action = adapter.action(action)
        message = model_response.choices[0].message
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        thought = _thought_prefix(action, task, ctx)
        if action.reasoning and not thought:
            message.reasoning_content = action.reasoning  # a server whose reasoning parser splits it off
        if isinstance(action, scripts.FinalAction):
            message.content = thought + action.text
            out_text = message.content
        elif native:
            arguments = json.dumps(action.arguments)
            message.content = thought or None
            message.tool_calls = [
                ChatCompletionMessageToolCall(
                    id=f"call_{turn}_0", type="function", function=Function(name=action.name, arguments=arguments)
                )
            ]
            model_response.choices[0].finish_reason = "tool_calls"
            out_text = action.name + arguments
        else:
            message.content = thought + textproto.format_call(action.name, action.arguments)
            out_text = message.content
        prompt = sum(_tokens(str(m.get("content") or "")) for m in messages)
        completion = _tokens(out_text + (action.reasoning or ""))
        model_response.usage = Usage(
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )
        model_response.model = model
        # The scripted agents are free: saying so spares litellm pricing the reply (twice) on every call.
        model_response._hidden_params["response_cost"] = 0.0
        return model_response
