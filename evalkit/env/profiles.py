"""The tool profiles a suite chooses between (``tools: {profile: ...}``): which environment answers the
agent's calls, and which system prompt it gets when neither the run nor the suite gives one."""

from __future__ import annotations

from evalkit.contracts.suite import SuiteSettings
from evalkit.env.prompt import system_prompt


def profile_system_prompt(settings: SuiteSettings, override: str | None = None) -> str:
    """The system prompt of a run: ``override`` (``evalkit run --system-prompt FILE``), else the suite's
    (``tools.system_prompt`` or ``settings.system_prompt``), else the profile's default: evalkit's workflow
    prompt, or for ``rllm-finqa`` the cookbook's ``react_system_prompt.txt``."""
    if override:
        return override
    if settings.profile == "rllm-finqa" and not settings.system_prompt:
        from evalkit.env.rllm_prompt import REACT_SYSTEM_PROMPT

        return REACT_SYSTEM_PROMPT
    return system_prompt(settings.system_prompt)
