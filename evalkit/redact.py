"""Credentials removed from any text evalkit stores, prints or logs.

A key can reach a string in many ways: a URL's userinfo (``http://user:KEY@host``), an ``Authorization`` or
``api-key`` header quoted in an error, a provider's message that repeats the key it refused, a token shaped
like ``sk-...``. ``redact`` removes each of them, and the values of the variables that hold keys: every
``api_key_env`` a model names (``register_secret_env``) and, present in the environment, the usual providers'
variables and any whose name ends in ``_API_KEY``, ``_TOKEN`` or ``_SECRET``. A leaf: it imports nothing of
evalkit, so every part may use it.
"""

from __future__ import annotations

import logging
import os
import re

MARK = "[redacted]"

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]*(?::[^/\s@]*)?@")
_HEADER = re.compile(
    r"""(?i)\b(authorization|proxy-authorization|api-key|x-api-key)(["']?\s*[:=]\s*["']?)(bearer\s+|basic\s+)?"""
    r"""[^\s'",}]+"""
)
_TOKEN = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{8,}|\bBearer\s+[A-Za-z0-9._\-]{8,}")
_SECRET_NAMES = re.compile(r"(_API_KEY|_TOKEN|_SECRET|_ACCESS_KEY)$|^(OPENAI|ANTHROPIC|AZURE|GEMINI|HF)_?KEY$")
_MIN_SECRET = 6
"""Values shorter than this are not searched for (a variable holding ``1`` would redact every digit)."""

_named: set[str] = set()


def register_secret_env(name: str | None) -> None:
    """Treat the value of environment variable ``name`` as a secret (a model's ``api_key_env``)."""
    if name:
        _named.add(name)


def secret_values() -> list[str]:
    """The secret values present in the environment now, longest first (so no part of one is left)."""
    names = {n for n in os.environ if _SECRET_NAMES.search(n.upper())} | _named
    values = {os.environ.get(n, "") for n in names}
    return sorted((v for v in values if len(v) >= _MIN_SECRET), key=len, reverse=True)


def redact(text: str) -> str:
    """``text`` with every credential it holds replaced by ``[redacted]``."""
    if not text:
        return text
    for value in secret_values():
        if value in text:
            text = text.replace(value, MARK)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{MARK}@", text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{MARK}", text)
    return _TOKEN.sub(MARK, text)


def redact_url(url: str | None) -> str | None:
    """A URL without the credentials of its userinfo (``http://[redacted]@host/v1``)."""
    return None if url is None else redact(url)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (with its arguments merged in) before any
    handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True
