"""The blocking twin of the async client, for scripts and notebooks: same names, same
arguments, same results, no ``await``.

    client = EngramSync(base_url="http://127.0.0.1:8420")
    memory = client.memory(context_id="assistant")
    session = memory.sessions.create(scope={"user": "alice"})
    session.turn(role="user", content="I live in Berlin")
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from ._core import (AgentFn, Calls, Scope, SessionState, batch_turns, defaults,
                    healthz_request, reply_text)
from ._http import Transport
from ._types import Attribute, ChatResult, Context, ForgetResult, Profile, TurnResult


class EngramSync:
    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None,
                 timeout: float = 10.0, max_retries: int = 2, *,
                 headers: Optional[Dict[str, str]] = None) -> None:
        base_url, api_key = defaults(base_url, api_key)
        self._t = Transport(base_url, api_key, timeout, max_retries, headers=headers)

    @property
    def base_url(self) -> str:
        return self._t.base_url

    def memory(self, context_id: str = "default") -> "MemorySync":
        return MemorySync(self._t, context_id)

    def healthz(self) -> Dict[str, Any]:
        r = self._t.request(healthz_request())
        try:
            return r.json() or {}
        except ValueError:
            return {"status": r.text()}

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> "EngramSync":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._t.close()


class MemorySync:
    def __init__(self, transport: Transport, context_id: str) -> None:
        self._t = transport
        self._c = Calls(context_id)
        self.context_id = context_id
        self.sessions = SessionsSync(self)

    def _json(self, req: Any) -> Any:
        return self._t.request(req).json()

    def turn(self, scope: Scope, role: str, content: str, created_at: Any = None,
             metadata: Optional[Mapping[str, Any]] = None, *, async_: bool = False,
             idempotency_key: Optional[str] = None) -> TurnResult:
        req = self._c.turn(session_id=None, scope=scope, role=role, content=content,
                           created_at=created_at, metadata=metadata, async_=async_,
                           idempotency_key=idempotency_key)
        return TurnResult.from_dict(self._json(req))

    def turns(self, scope: Scope, turns: Iterable[Mapping[str, Any]], *, async_: bool = False,
              idempotency_key: Optional[str] = None) -> List[TurnResult]:
        req = self._c.turns(session_id=None, scope=scope, turns=batch_turns(turns),
                            async_=async_, idempotency_key=idempotency_key)
        return TurnResult.list_from_dict(self._json(req))

    def context(self, scope: Scope, query: str, top_k: Optional[int] = None,
                max_tokens: Optional[int] = None, as_of: Any = None) -> Context:
        return Context.from_dict(self._json(
            self._c.context(scope, query, top_k, max_tokens, as_of)))

    def profile(self, scope: Scope, as_of: Any = None) -> Profile:
        return Profile.from_dict(self._json(self._c.profile(scope, as_of)))

    def forget(self, scope: Scope, entity_type: Optional[str] = None,
               entity_name: Optional[str] = None, attribute_key: Optional[str] = None,
               category: Optional[str] = None, dry_run: bool = False) -> ForgetResult:
        return ForgetResult.from_dict(self._json(self._c.forget(
            scope, entity_type, entity_name, attribute_key, category, dry_run)))

    def attributes(self, scope: Scope, include_expired: bool = False, key: Optional[str] = None,
                   category: Optional[str] = None) -> List[Attribute]:
        d = self._json(self._c.attributes(scope, include_expired, key, category))
        return [Attribute.from_dict(x) for x in (d or {}).get("attributes") or []]

    def audit(self, scope: Scope) -> List[Dict[str, Any]]:
        d = self._json(self._c.audit(scope))
        return list((d or {}).get("entries") or [])

    def export(self, scope: Scope) -> str:
        return self._t.request(self._c.export(scope)).text()

    def import_(self, data: Union[str, bytes, Iterable[Any]]) -> Dict[str, Any]:
        return self._json(self._c.import_(data)) or {}

    def erase(self, scope: Scope) -> Dict[str, Any]:
        return self._json(self._c.erase(scope)) or {}


class SessionsSync:
    def __init__(self, memory: MemorySync) -> None:
        self._m = memory

    def create(self, scope: Scope, metadata: Optional[Mapping[str, Any]] = None,
               agent_fn: Optional[AgentFn] = None) -> "SessionSync":
        d = self._m._json(self._m._c.create_session(scope, metadata))
        return SessionSync._make(self._m, d.get("id", ""), d, agent_fn, [])

    def open(self, session_id: str, agent_fn: Optional[AgentFn] = None) -> "SessionSync":
        if not session_id:
            raise ValueError("session_id is required")
        return SessionSync._make(self._m, session_id, None, agent_fn, None)

    def get(self, session_id: str, agent_fn: Optional[AgentFn] = None) -> "SessionSync":
        return self.open(session_id, agent_fn).refresh()


@dataclass(eq=False)
class SessionSync(SessionState):
    def refresh(self) -> "SessionSync":
        m: MemorySync = self._memory
        self._apply(m._json(m._c.get_session(self.id)))
        return self

    def turn(self, role: str, content: str, created_at: Any = None,
             metadata: Optional[Mapping[str, Any]] = None, *, async_: bool = False,
             idempotency_key: Optional[str] = None) -> TurnResult:
        m: MemorySync = self._memory
        req = m._c.turn(session_id=self.id, scope=None, role=role, content=content,
                        created_at=created_at, metadata=metadata, async_=async_,
                        idempotency_key=idempotency_key)
        res = TurnResult.from_dict(m._json(req))
        self._record(role, content, metadata)
        return res

    def turns(self, turns: Iterable[Mapping[str, Any]], *, async_: bool = False,
              idempotency_key: Optional[str] = None) -> List[TurnResult]:
        m: MemorySync = self._memory
        items = batch_turns(turns)
        req = m._c.turns(session_id=self.id, scope=None, turns=items, async_=async_,
                         idempotency_key=idempotency_key)
        res = TurnResult.list_from_dict(m._json(req))
        self._record_all(items)
        return res

    def context(self, query: str, top_k: Optional[int] = None,
                max_tokens: Optional[int] = None) -> Context:
        m: MemorySync = self._memory
        return Context.from_dict(m._json(m._c.session_context(self.id, query, top_k, max_tokens)))

    def load_history(self) -> List[Dict[str, Any]]:
        m: MemorySync = self._memory
        if not self.loaded:
            self.refresh()
        if self._history is None:
            turns = self.raw.get("turns")
            if isinstance(turns, list):
                self._history = self.history_from_turns(turns, self.id)
            elif self.turn_count == 0:
                self._history = []
            else:
                text = m.export(self.scope or {})
                self._history = self.history_from_turns(self.turns_from_export(text), self.id)
        return self.messages

    def chat(self, content: str, metadata: Optional[Mapping[str, Any]] = None,
             agent_fn: Optional[AgentFn] = None) -> ChatResult:
        """As the async ``Session.chat``; an async agent_fn is run to completion with
        ``asyncio.run`` (so not from inside a running event loop: use ``Engram`` there)."""
        fn = agent_fn or self.agent_fn
        if fn is None:
            raise ValueError("chat() needs an agent_fn: pass it to sessions.create/open or chat")
        self.load_history()
        user = self.turn(role="user", content=content, metadata=metadata)
        reply = fn(self.messages)
        if inspect.isawaitable(reply):
            reply = asyncio.run(_await(reply))
        text = reply_text(reply)
        bot = self.turn(role="assistant", content=text)
        return ChatResult(response=text, diff=user.diff + bot.diff, session=self,
                          turns=[user.turn, bot.turn])


async def _await(aw: Any) -> Any:
    return await aw
