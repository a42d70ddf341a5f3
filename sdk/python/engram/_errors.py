"""Exceptions raised by the engram client.

Every failure is an :class:`EngramError` carrying what the server said: ``code`` (the
machine-readable ``error.code``, e.g. ``"invalid_scope"``), ``message``, the HTTP ``status`` and
the ``request_id`` from ``X-Request-Id`` (quote it when reporting a problem). Failures that never
reached an HTTP answer (refused connection, reset, timeout) have ``status`` None.
"""

from __future__ import annotations

from typing import Any, Dict, Optional


class EngramError(Exception):
    """Base class of every error the SDK raises."""

    def __init__(self, message: str, *, code: str = "error", status: Optional[int] = None,
                 request_id: Optional[str] = None, body: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"(HTTP {self.status}, {self.code}")
            parts[-1] += f", request {self.request_id})" if self.request_id else ")"
        elif self.code:
            parts.append(f"({self.code})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
                f"status={self.status!r}, request_id={self.request_id!r})")


class InvalidRequest(EngramError):
    """400, 405, 413, 415, 422: the request itself is wrong; retrying will not help."""


class Unauthorized(EngramError):
    """401: no API key, or one the server does not know."""


class Forbidden(EngramError):
    """403: the key is valid but not for this context, scope floor or operation."""


class NotFound(EngramError):
    """404: no such session, context or route."""


class Conflict(EngramError):
    """409: the request conflicts with the current state (e.g. an idempotency key reused
    with a different body)."""


class RateLimited(EngramError):
    """429: the server is overloaded or the key is over its rate; ``retry_after`` is the
    server's hint in seconds, when it gave one."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(EngramError):
    """5xx: the server failed; turn posts and reads were already retried."""


class ConnectionFailed(EngramError):
    """The server could not be reached, or the connection broke before an answer."""


class Timeout(ConnectionFailed):
    """No answer within the client's ``timeout``."""


_BY_STATUS: Dict[int, type] = {
    400: InvalidRequest, 405: InvalidRequest, 411: InvalidRequest, 413: InvalidRequest,
    414: InvalidRequest, 415: InvalidRequest, 422: InvalidRequest, 431: InvalidRequest,
    401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 429: RateLimited,
}


def error_class_for(status: int) -> type:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    if 400 <= status < 500:
        return InvalidRequest
    return EngramError
