"""``LLMJudge``: any litellm model grading judge criteria, through the ``ModelGateway``.

For each (criterion, sample) the criterion's ``judge.prompt`` (a jinja2 template) is rendered with
``question``, ``trace`` (``render.render_trace``), ``expected``, ``answer``, ``criterion`` (its description),
``scale_min``, ``scale_max``, ``anchors`` (a list of ``(score, text)`` pairs) and ``scale`` (the scale and
anchors as text; appended to the prompt when the template uses neither ``anchors`` nor ``scale``), then an
instruction to reply with JSON only: ``{"score": <number in the scale>, "reasoning": "..."}``.

The reply is validated with jsonschema (a score inside the scale). A reply that does not validate is
answered with a corrective message and asked again, up to ``max_retries`` more times; after that the
verdict is an ``error`` (never a score). With ``samples: n`` the model is asked n times; the value is the
mean normalised to [0, 1], verdict ``pass``/``fail`` against ``pass_threshold`` (on the judge's scale) when
there is one, else ``value``. Agreement (each score, their spread and standard deviation), the reasoning,
tokens and the judge's cost go into the score's ``detail`` (``details`` here, keyed by sample and
criterion, until the scoring service attaches them to the scores).

Which model judges a criterion: the criterion's own ``judge.model``, else the judge given to ``LLMJudge``
(``--judge`` or ``judge:`` in evalkit.yaml); with neither the criterion is ``skipped``. Calls go through the
``ResponseCache`` when one is given, keyed by the whole request plus the sample index, so a re-score with
the same rubric costs nothing and repeated samples are never answered from one another's cache entry.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from evalkit.models.types import ModelCallError, ModelReply
from evalkit.scoring.registry import Verdict, VerdictKind
from evalkit.scoring.render import clip, expected_of, question_of, render_trace

if TYPE_CHECKING:
    import jinja2
    import jsonschema

    from evalkit.contracts.model_config import ModelConfig
    from evalkit.contracts.rubric import CriterionSpec, JudgeSpec
    from evalkit.contracts.suite import TaskSpec
    from evalkit.models.cache import ResponseCache
    from evalkit.models.gateway import ModelGateway
    from evalkit.trace.types import Sample

SYSTEM_PROMPT = (
    "You are a careful, strict and fair grader. You assess how an AI agent answered a question about "
    "financial data using SQL tools, following the grading instructions exactly. You only grade; you never "
    "solve the task again yourself."
)
JSON_INSTRUCTION = (
    "Reply with JSON only, nothing before or after it: "
    '{{"score": <a number from {lo} to {hi}>, "reasoning": "<one or two sentences>"}}'
)
CORRECTION = (
    "Your reply could not be used: {problem}. Reply again with JSON only: "
    '{{"score": <a number from {lo} to {hi}>, "reasoning": "<one or two sentences>"}}'
)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


@cache
def _jinja() -> jinja2.Environment:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@cache
def _validator(lo: float, hi: float) -> jsonschema.protocols.Validator:
    import jsonschema

    schema = {
        "type": "object",
        "required": ["score", "reasoning"],
        "properties": {"score": {"type": "number", "minimum": lo, "maximum": hi}, "reasoning": {"type": "string"}},
    }
    return jsonschema.Draft202012Validator(schema)


def _num(x: float) -> str:
    return f"{x:g}"


def parse_judgment(content: str, lo: float, hi: float) -> tuple[float, str] | str:
    """``(score, reasoning)`` from a judge reply, or the problem with it. A ``<think>`` block and a Markdown
    code fence around the JSON are tolerated; anything else must be the JSON object."""
    text = _THINK.sub("", content or "").strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    if not text:
        return "the reply is empty"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("{"), text.rfind("}")
        try:
            obj = json.loads(text[start : end + 1]) if 0 <= start < end else None
        except json.JSONDecodeError:
            obj = None
        if obj is None:
            return f"it is not JSON ({clip(text, 80)!r})"
    errors = sorted(_validator(lo, hi).iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = ".".join(str(p) for p in e.path)
        return f"{where + ': ' if where else ''}{e.message}"
    return float(obj["score"]), obj["reasoning"].strip()


@dataclass
class JudgeUsage:
    """What the judge's calls cost in this scoring (cached replies cost nothing and are counted apart)."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unknown_cost_calls: int = 0

    def add(self, reply: ModelReply) -> None:
        if reply.cached:
            self.cached_calls += 1
            return
        self.calls += 1
        self.prompt_tokens += reply.usage.prompt_tokens
        self.completion_tokens += reply.usage.completion_tokens
        if reply.cost_usd is None:
            self.unknown_cost_calls += 1
        else:
            self.cost_usd += reply.cost_usd


@dataclass
class _Sampled:
    """One judgment (one of ``samples: n``): its score or its problem, and the replies it took."""

    score: float | None = None
    reasoning: str | None = None
    problems: list[str] = field(default_factory=list)
    replies: list[ModelReply] = field(default_factory=list)


class LLMJudge:
    """Implements ``evalkit.scoring.engine.Judge`` with litellm models."""

    def __init__(
        self,
        model: ModelConfig | None,
        *,
        resolve: Callable[[str], ModelConfig] | None = None,
        cache: ResponseCache | None = None,
        max_retries: int = 2,
        timeout_s: float = 120.0,
        max_attempts: int = 5,
    ) -> None:
        self.model = model
        self._resolve = resolve
        self.cache = cache
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.usage = JudgeUsage()
        self.details: dict[tuple[str, str], dict[str, Any]] = {}
        self._gateways: dict[str, ModelGateway] = {}
        self._models: dict[str, ModelConfig] = {}

    # ---- models ---------------------------------------------------------------------------------------
    def model_for(self, spec: JudgeSpec) -> ModelConfig | None:
        """The criterion's own model, else the default judge, else None."""
        if spec.model is None:
            return self.model
        if spec.model not in self._models:
            if self._resolve is None:
                from evalkit.contracts.model_config import ModelConfig

                self._models[spec.model] = ModelConfig(name=spec.model, model=spec.model)
            else:
                self._models[spec.model] = self._resolve(spec.model)
        return self._models[spec.model]

    def prepare(self, criteria: Iterable[CriterionSpec], *, request: bool = True) -> None:
        """Set up the gateway of every judge model the criteria need, so that a missing API key or an
        unknown alias fails before any scoring (``ConfigError``), and preflight each (``models.preflight``:
        its provider, its credentials and, with ``request``, one small request; ``PreflightError``)."""
        from evalkit.models.preflight import preflight

        configs: dict[str, ModelConfig] = {}
        for c in criteria:
            config = self.model_for(c.judge) if c.judge is not None else None
            if config is not None:
                configs.setdefault(config.name, config)
        preflight(list(configs.values()), {"timeout_s": self.timeout_s}, request=request, role="judge")
        for config in configs.values():
            self._gateway(config)

    def _gateway(self, config: ModelConfig) -> ModelGateway:
        if config.name not in self._gateways:
            from evalkit.models.gateway import ModelGateway

            self._gateways[config.name] = ModelGateway(config, timeout_s=self.timeout_s, max_attempts=self.max_attempts)
        return self._gateways[config.name]

    async def aclose(self) -> None:
        """Close the judge models' connections (those of the direct client belong to the running loop)."""
        for gateway in self._gateways.values():
            await gateway.aclose()

    def take_details(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The details recorded since the last call, by (sample_id, criterion id); then forgets them."""
        out, self.details = self.details, {}
        return out

    # ---- prompt ---------------------------------------------------------------------------------------
    def build_prompt(self, criterion: CriterionSpec, sample: Sample, task: TaskSpec | None) -> str:
        """The user message sent to the judge (raises ``jinja2.TemplateError`` for a broken template)."""
        assert criterion.judge is not None
        spec = criterion.judge
        lo, hi = spec.scale_min, spec.scale_max
        scale = f"Score on a scale from {_num(lo)} to {_num(hi)}."
        if spec.anchors:
            scale += " Anchors:\n" + "\n".join(f"- {k}: {v}" for k, v in spec.anchors)
        env = _jinja()
        variables = {
            "question": question_of(sample, task),
            "trace": render_trace(sample),
            "expected": expected_of(sample, task),
            "answer": sample.final_answer or "(no final answer)",
            "criterion": criterion.description,
            "scale_min": _num(lo),
            "scale_max": _num(hi),
            "anchors": list(spec.anchors),
            "scale": scale,
        }
        body = env.from_string(spec.prompt).render(**variables).strip()
        from jinja2 import meta

        used = meta.find_undeclared_variables(env.parse(spec.prompt))
        parts = [body]
        if not used & {"anchors", "scale"}:
            parts.append(scale)
        parts.append(JSON_INSTRUCTION.format(lo=_num(lo), hi=_num(hi)))
        return "\n\n".join(parts)

    # ---- judging --------------------------------------------------------------------------------------
    async def judge(self, criterion: CriterionSpec, sample: Sample, task: TaskSpec | None) -> Verdict:
        spec = criterion.judge
        if spec is None:
            return Verdict.error(f"criterion {criterion.id} has no judge block")
        config = self.model_for(spec)
        if config is None:
            return Verdict("skipped", None, "not scored: no judge configured (--judge MODEL)")
        if not spec.scale_max > spec.scale_min:
            return Verdict.error(f"judge scale {_num(spec.scale_min)}..{_num(spec.scale_max)} is empty")
        import jinja2

        try:
            prompt = self.build_prompt(criterion, sample, task)
        except jinja2.TemplateError as exc:
            return Verdict.error(f"judge prompt of {criterion.id} cannot be rendered: {exc}")
        gateway = self._gateway(config)
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]
        detail: dict[str, Any] = {"judge_model": config.model}
        if config.name != config.model:
            detail["judge_alias"] = config.name
        try:
            runs = await asyncio.gather(*(self._sample(gateway, messages, spec, i) for i in range(spec.samples)))
        except ModelCallError as exc:
            detail["call_error"] = str(exc)
            self.details[(sample.sample_id, criterion.id)] = detail
            return Verdict.error(f"judge call failed: {exc}")
        verdict = self._verdict(spec, runs, detail)
        self.details[(sample.sample_id, criterion.id)] = detail
        return verdict

    async def _sample(
        self, gateway: ModelGateway, messages: list[dict[str, Any]], spec: JudgeSpec, index: int
    ) -> _Sampled:
        lo, hi = spec.scale_min, spec.scale_max
        out = _Sampled()
        convo = list(messages)
        key = None
        if self.cache is not None:
            from evalkit.models.cache import RequestKey

            key = RequestKey({**gateway.request_params(), "evalkit_role": "judge"}, [], None, index)
        for _attempt in range(1 + self.max_retries):
            reply = await self._complete(gateway, convo, key.key(convo) if key is not None else None)
            out.replies.append(reply)
            parsed = parse_judgment(reply.content, lo, hi)
            if not isinstance(parsed, str):
                out.score, out.reasoning = parsed
                return out
            out.problems.append(parsed)
            convo = [
                *convo,
                {"role": "assistant", "content": reply.content},
                {"role": "user", "content": CORRECTION.format(problem=parsed, lo=_num(lo), hi=_num(hi))},
            ]
        return out

    async def _complete(self, gateway: ModelGateway, messages: list[dict[str, Any]], key: str | None) -> ModelReply:
        if self.cache is not None and key is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.usage.add(hit)
                return hit
        reply = await gateway.complete(messages, [])
        self.usage.add(reply)
        if self.cache is not None and key is not None:
            self.cache.put(key, reply)
        return reply

    def _verdict(self, spec: JudgeSpec, runs: list[_Sampled], detail: dict[str, Any]) -> Verdict:
        lo, hi = spec.scale_min, spec.scale_max
        replies = [r for run in runs for r in run.replies]
        costs = [r.cost_usd for r in replies]
        detail.update(
            scale=[lo, hi],
            samples=len(runs),
            attempts=[len(run.replies) for run in runs],
            prompt_tokens=sum(r.usage.prompt_tokens for r in replies),
            completion_tokens=sum(r.usage.completion_tokens for r in replies),
            judge_cost_usd=None if any(c is None for c in costs) else sum(c for c in costs if c is not None),
            cached_calls=sum(1 for r in replies if r.cached),
        )
        problems = [p for run in runs for p in run.problems]
        if problems:
            detail["invalid_replies"] = problems
        failed = [run for run in runs if run.score is None]
        scores = [run.score for run in runs if run.score is not None]
        detail["scores"] = scores
        if failed:
            last = failed[0].problems[-1] if failed[0].problems else "no reply"
            return Verdict.error(
                f"judge gave no valid verdict in {len(failed[0].replies)} replies "
                f"({len(failed)} of {len(runs)} samples failed); last problem: {last}"
            )
        reasonings = [run.reasoning or "" for run in runs]
        mean = statistics.fmean(scores)
        value = (mean - lo) / (hi - lo)
        detail.update(mean=mean, reasoning=reasonings[0] if len(runs) == 1 else reasonings)
        if len(scores) > 1:
            detail.update(stdev=statistics.pstdev(scores), spread=max(scores) - min(scores))
        head = f"judge {_num(round(mean, 4))}/{_num(hi)}"
        if len(scores) > 1:
            head += f" (mean of {', '.join(_num(s) for s in scores)})"
        reason = f"{head}: {clip(reasonings[0], 300)}"
        if spec.pass_threshold is not None:
            detail["pass_threshold"] = spec.pass_threshold
            kind: VerdictKind = "pass" if mean >= spec.pass_threshold else "fail"
            return Verdict(kind, max(0.0, min(1.0, value)), reason)
        return Verdict.score(value, reason)
