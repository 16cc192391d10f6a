"""What a failed model call was: litellm's and the providers' exceptions turned into one ``ModelCallError``
with an error class, whether a retry can help, and the provider's Retry-After.

litellm raises ``InternalServerError`` (HTTP 500) for several failures that are not the server's: a refused
connection, a reply that is not JSON or not a chat completion, an ``api_base`` with credentials in it. The
class is read from the status first and then from litellm's message, so each gets the class it is.
"""

from __future__ import annotations

import time
from typing import Any

from evalkit.models.types import ErrorClass, ModelCallError
from evalkit.redact import redact

_TRANSIENT_NAMES = {
    "RateLimitError",
    "Timeout",
    "APITimeoutError",
    "APIConnectionError",
    "ServiceUnavailableError",
    "InternalServerError",
    "BadGatewayError",
    "APIError",
}

_MALFORMED_MARKS = (
    "Invalid response object",
    "Expecting value",
    "JSONDecodeError",
    "Unterminated string",
    "PydanticSerializationUnexpectedValue",
)
"""litellm's words for a 200 reply it could not read as a chat completion (its error says HTTP 500); the last
is pydantic's warning about such a reply, an error where warnings are errors."""
_CONNECTION_MARKS = ("Connection error", "Connection refused", "ConnectError", "Name or service not known")
_CREDENTIAL_MARKS = ("credentials encoded in URL",)

_TRANSIENT_CLASSES: frozenset[ErrorClass] = frozenset(
    {"rate_limited", "timeout", "connection", "server_error", "malformed_reply", "provider_error"}
)


def classify_error(exc: BaseException) -> ModelCallError:
    """Turn a litellm/provider exception into a ModelCallError: its class, transient or not, its status."""
    if isinstance(exc, ModelCallError):
        return exc
    name = type(exc).__name__
    raw_status = getattr(exc, "status_code", None)
    status = raw_status if isinstance(raw_status, int) else None
    text = str(exc).strip()
    error_class = _class_of(name, status, text)
    transient = error_class in _TRANSIENT_CLASSES
    if error_class == "provider_error":
        transient = name in _TRANSIENT_NAMES
    answered = error_class not in ("connection", "malformed_reply") and not _has(text, _CREDENTIAL_MARKS)
    shown_status = status if answered else None  # litellm says 500 for failures no server answered
    said = "malformed reply: " if error_class == "malformed_reply" else ""
    message = redact(f"{said}{name}: {text[:500]}")
    return ModelCallError(
        message, transient=transient, retry_after=_retry_after(exc), error_class=error_class, status=shown_status
    )


def http_failure(status: int, text: str, headers: Any, *, not_json: bool = False) -> ModelCallError:
    """A server's answer that is no chat completion, from the direct client: an error status (classed as
    ``classify_error`` classes litellm's), or a 200 whose body is not a JSON object (``malformed_reply``)."""
    detail = _server_message(text)
    if not_json:
        shown = text[:200] + ("..." if len(text) > 200 else "")
        message = f"malformed reply: the reply is not a JSON object ({len(text):,} characters): {shown!r}"
        return ModelCallError(redact(message), transient=True, error_class="malformed_reply")
    error_class = _class_of("", status, detail)
    message = redact(f"HTTP {status} ({error_class}): {detail[:500]}")
    return ModelCallError(
        message,
        transient=error_class in _TRANSIENT_CLASSES,
        retry_after=_retry_after_header(headers),
        error_class=error_class,
        status=status,
    )


def _server_message(text: str) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the body itself."""
    import json

    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return text.strip()


def _class_of(name: str, status: int | None, text: str) -> ErrorClass:
    if _has(text, _CREDENTIAL_MARKS) or status in (401, 403):
        return "auth_failed"
    if name == "APIConnectionError" or any(mark in text for mark in _CONNECTION_MARKS):
        return "connection"
    if any(mark in text for mark in _MALFORMED_MARKS):
        return "malformed_reply"
    if status == 429 or name == "RateLimitError":
        return "rate_limited"
    if status == 408 or "Timeout" in name:
        return "timeout"
    if status is not None and 400 <= status < 500 and status != 409:
        return "request_rejected"
    if (status is not None and status >= 500) or status == 409:
        return "server_error"
    return "provider_error"


def _has(text: str, marks: tuple[str, ...]) -> bool:
    return any(mark in text for mark in marks)


def _retry_after(exc: BaseException) -> float | None:
    headers: Any = None
    response = getattr(exc, "response", None)
    if response is not None:
        headers = getattr(response, "headers", None)
    if not headers:
        headers = getattr(exc, "litellm_response_headers", None)
    return _retry_after_header(headers)


def _retry_after_header(headers: Any) -> float | None:
    if not headers:
        return None
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        ms = headers.get("retry-after-ms")
        return float(ms) / 1000 if ms else None
    try:
        return float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
