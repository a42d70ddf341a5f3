"""What the async client and its sync twin share: request builders for every endpoint, scope
helpers, and the session state (data fields and the chat message list). The two front ends
(``_client.py``, ``_sync.py``) only differ in how they wait."""

from __future__ import annotations

import datetime as _dt
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Union

from ._http import Request, json_request, quote_seg

Scope = Union[Mapping[str, str], str]
AgentFn = Callable[[List[Dict[str, Any]]], Any]
ROLES = ("user", "assistant", "system", "tool")


DEFAULT_URL = "http://127.0.0.1:8420"


def defaults(base_url: Optional[str], api_key: Optional[str]):
    """Unset arguments fall back to $ENGRAM_URL and $ENGRAM_API_KEY, then to the local server."""
    return (base_url or os.environ.get("ENGRAM_URL") or DEFAULT_URL,
            api_key if api_key is not None else os.environ.get("ENGRAM_API_KEY") or None)


def scope_path(scope: Scope) -> str:
    """The path form of a scope: dimensions sorted by name, ``org/acme/user/alice``."""
    if isinstance(scope, str):
        return scope.strip("/")
    if not isinstance(scope, Mapping):
        raise TypeError("scope must be a dict like {'user': 'alice'} or a path 'user/alice'")
    return "/".join(f"{k}/{scope[k]}" for k in sorted(scope))


def scope_dict(scope: Any) -> Dict[str, str]:
    if isinstance(scope, Mapping):
        return {str(k): str(v) for k, v in scope.items()}
    if isinstance(scope, str):
        parts = [p for p in scope.strip("/").split("/")]
        return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}
    return {}


def scope_user(scope: Any) -> Optional[str]:
    return scope_dict(scope).get("user")


def _scope_arg(scope: Scope) -> Any:
    if isinstance(scope, Mapping):
        return dict(scope)
    if isinstance(scope, str):
        return scope
    raise TypeError("scope must be a dict like {'user': 'alice'} or a path 'user/alice'")


def _ingest_body(session_id: Optional[str], scope: Optional[Scope],
                 missing: str) -> Dict[str, Any]:
    """An ingest body's start: the scope, which only a session-less request carries."""
    if session_id is not None:
        return {}
    if scope is None:
        raise ValueError(missing)
    return {"scope": _scope_arg(scope)}


def iso(ts: Any) -> Optional[str]:
    """datetime (naive = UTC) or string -> ISO 8601 with milliseconds and Z."""
    if ts is None or isinstance(ts, str):
        return ts
    if isinstance(ts, (int, float)):
        ts = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    if isinstance(ts, _dt.date) and not isinstance(ts, _dt.datetime):
        ts = _dt.datetime(ts.year, ts.month, ts.day, tzinfo=_dt.timezone.utc)
    if isinstance(ts, _dt.datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=_dt.timezone.utc)
        ts = ts.astimezone(_dt.timezone.utc)
        return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"
    raise TypeError(f"expected a datetime or ISO 8601 string, got {type(ts).__name__}")


def _put(body: Dict[str, Any], **kw: Any) -> Dict[str, Any]:
    for k, v in kw.items():
        if v is not None:
            body[k] = v
    return body


def jsonl_bytes(data: Union[str, bytes, Iterable[Any]]) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    lines = []
    for rec in data:
        lines.append(rec if isinstance(rec, str) else json.dumps(rec, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


TURN_FIELDS = ("role", "content", "created_at", "metadata")


def batch_turn(i: int, t: Any) -> Dict[str, Any]:
    """One element of a batch, checked as ``Calls.turn`` checks its arguments."""
    if not isinstance(t, Mapping):
        raise TypeError(f"turns[{i}] must be a dict with 'role' and 'content', "
                        f"got {type(t).__name__}")
    extra = [k for k in t if k not in TURN_FIELDS]
    if extra:
        raise TypeError(f"turns[{i}] has unknown field {extra[0]!r} "
                        f"(a turn has {', '.join(TURN_FIELDS)})")
    role = t.get("role")
    if role not in ROLES:
        raise ValueError(f"turns[{i}].role must be one of {', '.join(ROLES)}; got {role!r}")
    content = t.get("content")
    if not isinstance(content, str):
        raise TypeError(f"turns[{i}].content must be a string")
    md = t.get("metadata")
    if md is not None and not isinstance(md, Mapping):
        raise TypeError(f"turns[{i}].metadata must be a dict, got {type(md).__name__}")
    try:
        at = iso(t.get("created_at"))
    except TypeError as e:
        raise TypeError(f"turns[{i}].created_at: {e}") from None
    return _put({"role": role, "content": content}, created_at=at,
                metadata=dict(md) if md else None)


def batch_turns(turns: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The ``turns`` of a batch as sent: each element checked as ``Calls.turn`` checks its
    arguments, the error naming it (``turns[1].role``). The server checks the rest and names
    the element the same way (``turns[1].created_at``), answering 400 (``InvalidRequest``)."""
    if isinstance(turns, (str, bytes, Mapping)):
        raise TypeError("turns must be a list of {'role', 'content', ...} dicts")
    items = [batch_turn(i, t) for i, t in enumerate(turns)]
    if not items:
        raise ValueError("turns must hold at least one turn (1 to 1,000)")
    return items


class Calls:
    """Request builders for one context: ``/api/v1/{context_id}/...``."""

    def __init__(self, context_id: str) -> None:
        if not context_id:
            raise ValueError("context_id is required")
        self.context_id = context_id
        self.base = f"/api/v1/{quote_seg(context_id)}"

    def create_session(self, scope: Scope, metadata: Optional[Mapping[str, Any]]) -> Request:
        body = _put({"scope": _scope_arg(scope)}, metadata=dict(metadata) if metadata else None)
        return json_request("POST", f"{self.base}/sessions", body)

    def get_session(self, session_id: str) -> Request:
        return json_request("GET", f"{self.base}/sessions/{quote_seg(session_id)}", retryable=True)

    def turn(self, *, session_id: Optional[str], scope: Optional[Scope], role: str, content: str,
             created_at: Any, metadata: Optional[Mapping[str, Any]], async_: bool,
             idempotency_key: Optional[str]) -> Request:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
        if not isinstance(content, str):
            raise TypeError("content must be a string")
        body = _ingest_body(session_id, scope, "a turn without a session needs a scope")
        body["role"] = role
        body["content"] = content
        _put(body, created_at=iso(created_at), metadata=dict(metadata) if metadata else None)
        return self._ingest(body, session_id, async_, idempotency_key)

    def turns(self, *, session_id: Optional[str], scope: Optional[Scope],
              turns: List[Dict[str, Any]], async_: bool,
              idempotency_key: Optional[str]) -> Request:
        """A batch: ``{"turns": [...], "async"?, "scope"?}``, recorded in order, all or none.
        ``turns`` comes from ``batch_turns``."""
        body = _ingest_body(session_id, scope, "turns without a session need a scope")
        body["turns"] = list(turns)
        return self._ingest(body, session_id, async_, idempotency_key)

    def _ingest(self, body: Dict[str, Any], session_id: Optional[str], async_: bool,
                idempotency_key: Optional[str]) -> Request:
        """POST a turn or a batch to its session's or the context's /turns."""
        if async_:
            body["async"] = True
        # One key per logical request (a turn or a batch), reused by every retry: the server
        # records it once.
        headers = {"Idempotency-Key": idempotency_key or f"idem_{uuid.uuid4().hex}"}
        path = (f"{self.base}/sessions/{quote_seg(session_id)}/turns" if session_id is not None
                else f"{self.base}/turns")
        return json_request("POST", path, body, retryable=True, headers=headers)

    def session_context(self, session_id: str, query: str, top_k: Optional[int],
                        max_tokens: Optional[int]) -> Request:
        body = _put({"query": query}, top_k=top_k, max_tokens=max_tokens)
        return json_request("POST", f"{self.base}/sessions/{quote_seg(session_id)}/context", body,
                            retryable=True)

    def context(self, scope: Scope, query: str, top_k: Optional[int], max_tokens: Optional[int],
                as_of: Any) -> Request:
        body = _put({"scope": _scope_arg(scope), "query": query}, top_k=top_k,
                    max_tokens=max_tokens, as_of=iso(as_of))
        return json_request("POST", f"{self.base}/context", body, retryable=True)

    def profile(self, scope: Scope, as_of: Any) -> Request:
        body = _put({"scope": _scope_arg(scope)}, as_of=iso(as_of))
        return json_request("POST", f"{self.base}/profile", body, retryable=True)

    def forget(self, scope: Scope, entity_type: Optional[str], entity_name: Optional[str],
               attribute_key: Optional[str], category: Optional[str], dry_run: bool) -> Request:
        body = _put({"scope": _scope_arg(scope)}, entity_type=entity_type,
                    entity_name=entity_name, attribute_key=attribute_key, category=category)
        body["dry_run"] = bool(dry_run)
        # A dry run changes nothing, so it may be replayed.
        return json_request("POST", f"{self.base}/forget", body, retryable=bool(dry_run))

    def attributes(self, scope: Scope, include_expired: bool, key: Optional[str],
                   category: Optional[str]) -> Request:
        body = _put({"scope": _scope_arg(scope)}, key=key, category=category)
        body["include_expired"] = bool(include_expired)
        return json_request("POST", f"{self.base}/attributes", body, retryable=True)

    def audit(self, scope: Scope) -> Request:
        return json_request("GET", f"{self.base}/audit?scope={quote_seg(scope_path(scope))}",
                            retryable=True)

    def export(self, scope: Scope) -> Request:
        req = json_request("POST", f"{self.base}/export", {"scope": _scope_arg(scope)},
                           retryable=True)
        req.headers["Accept"] = "application/x-ndjson, application/json"
        return req

    def import_(self, data: Union[str, bytes, Iterable[Any]]) -> Request:
        return Request("POST", f"{self.base}/import", jsonl_bytes(data), "application/x-ndjson")

    def erase(self, scope: Scope) -> Request:
        return json_request("POST", f"{self.base}/erase", {"scope": _scope_arg(scope)})


def healthz_request() -> Request:
    return json_request("GET", "/healthz", retryable=True)


@dataclass(eq=False)
class SessionState:
    """Data fields of a session plus the message list ``chat`` hands to ``agent_fn``.

    ``_history`` is None until known: a session opened by id (``sessions.open``) learns its
    scope and past turns on first need (``GET /sessions/{id}``, then the turns themselves)."""

    id: str
    context_id: Optional[str] = None  # ("context" is the method session.context())
    scope: Optional[Dict[str, str]] = None
    created_at: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    turn_count: int = 0
    raw: Dict[str, Any] = field(default_factory=dict, repr=False)
    agent_fn: Optional[AgentFn] = field(default=None, repr=False)
    _history: Optional[List[Dict[str, Any]]] = field(default=None, repr=False)
    _memory: Any = field(default=None, repr=False)

    @classmethod
    def _make(cls, memory: Any, session_id: str, data: Optional[Dict[str, Any]],
              agent_fn: Optional[AgentFn], history: Optional[List[Dict[str, Any]]]) -> Any:
        s = cls(id=session_id, agent_fn=agent_fn, _history=history, _memory=memory)
        if data:
            s._apply(data)
        return s

    def _apply(self, data: Dict[str, Any]) -> None:
        self.raw = data
        self.id = data.get("id", self.id)
        self.context_id = data.get("context", self.context_id)
        sc = data.get("scope")
        if sc is not None:
            self.scope = scope_dict(sc)
        self.created_at = data.get("created_at", self.created_at)
        md = data.get("metadata")
        self.metadata = md if isinstance(md, dict) else {}
        self.turn_count = int(data.get("turn_count") or 0)

    @property
    def loaded(self) -> bool:
        return self.scope is not None

    @property
    def user_id(self) -> Optional[str]:
        return scope_user(self.scope) if self.scope is not None else None

    def _record(self, role: str, content: str, metadata: Optional[Mapping[str, Any]]) -> None:
        self.turn_count += 1
        if self._history is not None:
            m: Dict[str, Any] = {"role": role, "content": content}
            self._history.append(m)

    def _record_all(self, turns: List[Dict[str, Any]]) -> None:
        for t in turns:
            self._record(t["role"], t["content"], t.get("metadata"))

    @property
    def messages(self) -> List[Dict[str, Any]]:
        """The session's messages as ``[{"role", "content"}, ...]``; the first one also carries
        ``"user_id"`` (the scope's ``user``), so an agent_fn can build a per-user prompt with
        ``messages[0].get("user_id")``."""
        msgs = [dict(m) for m in (self._history or [])]
        if msgs:
            msgs[0]["user_id"] = self.user_id
        return msgs

    @staticmethod
    def history_from_turns(turns: Iterable[Any], session_id: str) -> List[Dict[str, Any]]:
        out = []
        for t in turns:
            if not isinstance(t, dict):
                continue
            sid = t.get("session_id", t.get("session"))
            if sid is not None and sid != session_id:
                continue
            out.append({"role": t.get("role", ""), "content": t.get("content", ""),
                        "_at": t.get("created_at") or ""})
        out.sort(key=lambda m: m["_at"])  # stable: equal timestamps keep server order
        for m in out:
            del m["_at"]
        return out

    @staticmethod
    def turns_from_export(text: str) -> List[Dict[str, Any]]:
        out = []
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("type") == "turn":
                out.append(rec)
        return out


def reply_text(reply: Any) -> str:
    """Accept what agent functions commonly return: a string, a message dict with
    "content", or an OpenAI-style completion dict."""
    if isinstance(reply, str):
        return reply
    if isinstance(reply, Mapping):
        if isinstance(reply.get("content"), str):
            return reply["content"]
        ch = reply.get("choices")
        if isinstance(ch, list) and ch and isinstance(ch[0], Mapping):
            msg = ch[0].get("message")
            if isinstance(msg, Mapping) and isinstance(msg.get("content"), str):
                return msg["content"]
    if reply is None:
        raise TypeError("agent_fn returned None; it must return the assistant's reply text")
    return str(reply)
