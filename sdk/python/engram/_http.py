"""HTTP transport: one small keep-alive connection pool, retries, error mapping.

Why ``http.client`` in a thread rather than an HTTP/1.1 client written on asyncio streams:
``http.client`` is the standard library's complete HTTP/1.1 implementation (Content-Length and
chunked bodies, keep-alive, HTTPS through ``ssl``, header folding, 1xx answers), tested for two
decades. Re-implementing that on ``asyncio.StreamReader`` would be several hundred lines of
parsing to get wrong, for no gain here: an engram call is one small request and one small answer,
so the cost of the thread hop (tens of microseconds) is noise next to the round trip. The same
transport therefore serves both the async client (``run_in_executor`` on the loop's default
executor) and the sync twin (called directly), and both share the retry policy below.

Retry policy (``max_retries`` extra attempts, exponential backoff with jitter, ``Retry-After``
honoured on 429/503):
  * a request the server cannot have seen (connection refused) or explicitly refused to do
    (429) is retried whatever it is;
  * a *retryable* request (GET, context, profile, attributes, export, audit, and turn posts,
    which carry an ``Idempotency-Key`` reused on every attempt) is also retried after a broken
    connection, a timeout, or 502/503/504;
  * anything else (session create, forget, import, erase) is not replayed after it may have
    reached the server.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import random
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote, urlsplit

from ._errors import ConnectionFailed, EngramError, RateLimited, Timeout, error_class_for

__version__ = "0.1.0"
USER_AGENT = f"engram-python/{__version__}"
RETRY_STATUSES = (502, 503, 504)
MAX_IDLE = 8  # pooled keep-alive connections kept per client


@dataclass
class Request:
    method: str
    path: str  # absolute path below the base URL, already quoted
    body: Optional[bytes] = None
    content_type: Optional[str] = None
    headers: Dict[str, str] = field(default_factory=dict)
    retryable: bool = False


@dataclass
class Response:
    status: int
    headers: Dict[str, str]  # lower-cased names
    body: bytes

    @property
    def request_id(self) -> Optional[str]:
        return self.headers.get("x-request-id")

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))

    def text(self) -> str:
        return self.body.decode("utf-8")


class _AttemptFailed(Exception):
    """A try that produced no HTTP answer. ``sent`` is False when the request certainly never
    reached the server (refused), so it is safe to replay anything."""

    def __init__(self, error: EngramError, sent: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.sent = sent


def json_request(method: str, path: str, body: Any = None, *, retryable: bool = False,
                 headers: Optional[Dict[str, str]] = None) -> Request:
    data = None
    ctype = None
    if body is not None:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        ctype = "application/json"
    return Request(method, path, data, ctype, dict(headers or {}), retryable)


def quote_seg(s: str) -> str:
    return quote(str(s), safe="")


def error_from_response(resp: Response) -> EngramError:
    code = f"http_{resp.status}"
    message = ""
    body: Any = None
    try:
        body = resp.json()
    except (ValueError, UnicodeDecodeError):
        body = resp.body.decode("utf-8", "replace")[:500]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = str(body["error"].get("code") or code)
        message = str(body["error"].get("message") or "")
    elif isinstance(body, str):
        message = body.strip()
    if not message:
        message = http.client.responses.get(resp.status, "HTTP error")
    cls = error_class_for(resp.status)
    kw: Dict[str, Any] = dict(code=code, status=resp.status, request_id=resp.request_id, body=body)
    if cls is RateLimited:
        kw["retry_after"] = _retry_after(resp)
    return cls(message, **kw)


def _retry_after(resp: Response) -> Optional[float]:
    v = resp.headers.get("retry-after")
    if not v:
        return None
    try:
        return max(0.0, float(v))
    except ValueError:
        return None


class Transport:
    """Thread-safe: the pool is guarded by a lock and a connection is used by one thread at a
    time (taken out of the pool for the duration of a request)."""

    def __init__(self, base_url: str, api_key: Optional[str], timeout: float, max_retries: int,
                 backoff: float = 0.2, max_backoff: float = 8.0,
                 headers: Optional[Dict[str, str]] = None) -> None:
        u = urlsplit(base_url.rstrip("/"))
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"base_url must be http://host[:port] or https://..., got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.prefix = u.path.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.extra_headers = dict(headers or {})
        self._pool: List[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._ssl = ssl.create_default_context() if u.scheme == "https" else None

    # -- connections ---------------------------------------------------------------------

    def _new_conn(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self._ssl)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _take(self) -> Tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            while self._pool:
                conn = self._pool.pop()
                if not _dropped(conn):
                    return conn, True
                conn.close()
        return self._new_conn(), False

    def _give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._pool) < MAX_IDLE:
                self._pool.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for c in pool:
            c.close()

    # -- one attempt ---------------------------------------------------------------------

    def send_once(self, req: Request) -> Response:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        headers.update(self.extra_headers)
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if req.content_type:
            headers["Content-Type"] = req.content_type
        headers.update(req.headers)
        conn, reused = self._take()
        sent = False
        try:
            if conn.sock is None:
                # Nothing has been written yet: any failure here is safe to retry.
                try:
                    conn.connect()
                except (socket.timeout, TimeoutError) as e:
                    raise _AttemptFailed(Timeout(
                        f"cannot connect to {self.base_url} within {self.timeout}s",
                        code="timeout"), sent=False) from e
                except OSError as e:
                    code = ("connection_refused" if isinstance(e, ConnectionRefusedError)
                            else "connection_error")
                    raise _AttemptFailed(ConnectionFailed(
                        f"cannot connect to {self.base_url}: {e.strerror or e}",
                        code=code), sent=False) from e
            sent = True
            early = False
            try:
                conn.request(req.method, self.prefix + req.path, body=req.body, headers=headers)
            except (BrokenPipeError, ConnectionResetError) as e:
                # A server may answer before reading the whole body (413 for an oversized
                # one) and close its side: the answer is usually already here to be read.
                try:
                    r = conn.getresponse()
                    early = True
                except Exception:
                    if reused:
                        # The server had closed this idle keep-alive connection before we
                        # wrote: the request was never read, so it is safe to send again.
                        raise _AttemptFailed(ConnectionFailed(
                            f"keep-alive connection to {self.base_url} was closed",
                            code="connection_error"), sent=False) from e
                    raise
            else:
                r = conn.getresponse()
            data = r.read()
            resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
            if r.will_close or early:
                conn.close()
            else:
                self._give(conn)
            return resp
        except _AttemptFailed:
            conn.close()
            raise
        except (socket.timeout, TimeoutError) as e:
            conn.close()
            raise _AttemptFailed(Timeout(
                f"no answer from {self.base_url} within {self.timeout}s ({req.method} {req.path})",
                code="timeout"), sent=True) from e
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise _AttemptFailed(ConnectionFailed(
                f"connection to {self.base_url} failed: {type(e).__name__}: {e}",
                code="connection_error"), sent=sent) from e

    # -- retry policy ----------------------------------------------------------------------

    def _delay(self, req: Request, attempt: int, resp: Optional[Response],
               fail: Optional[_AttemptFailed]) -> Optional[float]:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= self.max_retries:
            return None
        hint: Optional[float] = None
        if fail is not None:
            if fail.sent and not req.retryable:
                return None
        elif resp is not None:
            if resp.status == 429 or (resp.status in RETRY_STATUSES and req.retryable):
                hint = _retry_after(resp)
            else:
                return None
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        delay = base * (0.5 + random.random() / 2)
        if hint is not None:
            delay = max(delay, min(hint, self.max_backoff))
        return delay

    def request(self, req: Request) -> Response:
        """Blocking send with retries; returns a 2xx/3xx response or raises EngramError."""
        attempt = 0
        while True:
            resp, fail = None, None
            try:
                resp = self.send_once(req)
                if resp.status < 400:
                    return resp
            except _AttemptFailed as f:
                fail = f
            delay = self._delay(req, attempt, resp, fail)
            if delay is None:
                raise fail.error if fail is not None else error_from_response(resp)  # type: ignore[arg-type]
            attempt += 1
            time.sleep(delay)

    async def arequest(self, req: Request) -> Response:
        """The same policy on asyncio: the attempt runs in the loop's default executor, the
        backoff sleeps on the loop."""
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            resp, fail = None, None
            try:
                resp = await loop.run_in_executor(None, self.send_once, req)
                if resp.status < 400:
                    return resp
            except _AttemptFailed as f:
                fail = f
            delay = self._delay(req, attempt, resp, fail)
            if delay is None:
                raise fail.error if fail is not None else error_from_response(resp)  # type: ignore[arg-type]
            attempt += 1
            await asyncio.sleep(delay)


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """True when a pooled connection is unusable: closed locally, or readable while idle
    (the server closed it, or sent something we did not ask for). Same check as urllib3's
    is_connection_dropped."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        r, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(r)
