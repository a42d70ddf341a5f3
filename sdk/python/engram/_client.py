"""The async client, in the seeds' shapes:

    client = Engram(base_url="http://127.0.0.1:8420")
    memory = client.memory(context_id="assistant")
    session = await memory.sessions.create(scope={"user": "alice"}, agent_fn=llm_call)
    result = await session.chat(content="I just moved from Berlin to London")
    profile = await memory.profile(scope={"user": "alice"})
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from ._core import (AgentFn, Calls, Scope, SessionState, batch_turns, defaults,
                    healthz_request, reply_text)
from ._http import Transport
from ._types import (Attribute, ChatResult, Context, ForgetResult, Profile, TurnResult)


class Engram:
    """Async client. ``timeout`` is per attempt, in seconds; ``max_retries`` bounds the extra
    attempts of retryable calls (see ``engram._http``). Safe to share across tasks and threads;
    close it (or use ``async with``) to drop pooled connections."""

    def __init__(self, base_url: Optional[str] = None, api_key: Optional[str] = None,
                 timeout: float = 10.0, max_retries: int = 2, *,
                 headers: Optional[Dict[str, str]] = None) -> None:
        base_url, api_key = defaults(base_url, api_key)
        self._t = Transport(base_url, api_key, timeout, max_retries, headers=headers)

    @property
    def base_url(self) -> str:
        return self._t.base_url

    def memory(self, context_id: str = "default") -> "Memory":
        return Memory(self._t, context_id)

    async def healthz(self) -> Dict[str, Any]:
        r = await self._t.arequest(healthz_request())
        try:
            return r.json() or {}
        except ValueError:
            return {"status": r.text()}

    async def aclose(self) -> None:
        self._t.close()

    def close(self) -> None:
        self._t.close()

    async def __aenter__(self) -> "Engram":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._t.close()


class Memory:
    """One context (a named memory space): ``client.memory(context_id="assistant")``."""

    def __init__(self, transport: Transport, context_id: str) -> None:
        self._t = transport
        self._c = Calls(context_id)
        self.context_id = context_id
        self.sessions = Sessions(self)

    async def _json(self, req: Any) -> Any:
        return (await self._t.arequest(req)).json()

    async def turn(self, scope: Scope, role: str, content: str, created_at: Any = None,
                   metadata: Optional[Mapping[str, Any]] = None, *, async_: bool = False,
                   idempotency_key: Optional[str] = None) -> TurnResult:
        """Record a turn without a session (``POST /turns``)."""
        req = self._c.turn(session_id=None, scope=scope, role=role, content=content,
                           created_at=created_at, metadata=metadata, async_=async_,
                           idempotency_key=idempotency_key)
        return TurnResult.from_dict(await self._json(req))

    async def turns(self, scope: Scope, turns: Iterable[Mapping[str, Any]], *,
                    async_: bool = False,
                    idempotency_key: Optional[str] = None) -> List[TurnResult]:
        """Record several turns without a session (``POST /turns`` with a batch body); see
        ``Session.turns``."""
        req = self._c.turns(session_id=None, scope=scope, turns=batch_turns(turns),
                            async_=async_, idempotency_key=idempotency_key)
        return TurnResult.list_from_dict(await self._json(req))

    async def context(self, scope: Scope, query: str, top_k: Optional[int] = None,
                      max_tokens: Optional[int] = None, as_of: Any = None) -> Context:
        return Context.from_dict(await self._json(
            self._c.context(scope, query, top_k, max_tokens, as_of)))

    async def profile(self, scope: Scope, as_of: Any = None) -> Profile:
        return Profile.from_dict(await self._json(self._c.profile(scope, as_of)))

    async def forget(self, scope: Scope, entity_type: Optional[str] = None,
                     entity_name: Optional[str] = None, attribute_key: Optional[str] = None,
                     category: Optional[str] = None, dry_run: bool = False) -> ForgetResult:
        return ForgetResult.from_dict(await self._json(self._c.forget(
            scope, entity_type, entity_name, attribute_key, category, dry_run)))

    async def attributes(self, scope: Scope, include_expired: bool = False,
                         key: Optional[str] = None,
                         category: Optional[str] = None) -> List[Attribute]:
        d = await self._json(self._c.attributes(scope, include_expired, key, category))
        return [Attribute.from_dict(x) for x in (d or {}).get("attributes") or []]

    async def audit(self, scope: Scope) -> List[Dict[str, Any]]:
        d = await self._json(self._c.audit(scope))
        return list((d or {}).get("entries") or [])

    async def export(self, scope: Scope) -> str:
        """Everything inside the scope as JSON Lines (sessions, turns, attributes)."""
        return (await self._t.arequest(self._c.export(scope))).text()

    async def import_(self, data: Union[str, bytes, Iterable[Any]]) -> Dict[str, Any]:
        """Load JSON Lines (a string, bytes, or an iterable of records) as ``export`` wrote
        them; ids are kept. Returns the server's counts."""
        return await self._json(self._c.import_(data)) or {}

    async def erase(self, scope: Scope) -> Dict[str, Any]:
        """Delete everything inside the scope (and narrower scopes). Irreversible."""
        return await self._json(self._c.erase(scope)) or {}


class Sessions:
    def __init__(self, memory: Memory) -> None:
        self._m = memory

    async def create(self, scope: Scope, metadata: Optional[Mapping[str, Any]] = None,
                     agent_fn: Optional[AgentFn] = None) -> "Session":
        d = await self._m._json(self._m._c.create_session(scope, metadata))
        return Session._make(self._m, d.get("id", ""), d, agent_fn, [])

    def open(self, session_id: str, agent_fn: Optional[AgentFn] = None) -> "Session":
        """A handle on an existing session, without a network call; its scope and past
        messages are fetched when first needed (``await session.refresh()`` to do it now)."""
        if not session_id:
            raise ValueError("session_id is required")
        return Session._make(self._m, session_id, None, agent_fn, None)

    async def get(self, session_id: str, agent_fn: Optional[AgentFn] = None) -> "Session":
        s = self.open(session_id, agent_fn)
        await s.refresh()
        return s


@dataclass(eq=False)
class Session(SessionState):
    """A conversation: ``.id``, ``.scope``, ``.metadata``, ``.created_at``, ``.turn_count``,
    ``.messages``."""

    async def refresh(self) -> "Session":
        """Re-read the session (``GET /sessions/{id}``): scope, metadata, turn count."""
        m: Memory = self._memory
        self._apply(await m._json(m._c.get_session(self.id)))
        return self

    async def turn(self, role: str, content: str, created_at: Any = None,
                   metadata: Optional[Mapping[str, Any]] = None, *, async_: bool = False,
                   idempotency_key: Optional[str] = None) -> TurnResult:
        m: Memory = self._memory
        req = m._c.turn(session_id=self.id, scope=None, role=role, content=content,
                        created_at=created_at, metadata=metadata, async_=async_,
                        idempotency_key=idempotency_key)
        res = TurnResult.from_dict(await m._json(req))
        self._record(role, content, metadata)
        return res

    async def turns(self, turns: Iterable[Mapping[str, Any]], *, async_: bool = False,
                    idempotency_key: Optional[str] = None) -> List[TurnResult]:
        """Record several turns in one request, in order, all or none: an exchange's two
        turns, or a conversation's history (each turn may carry its own ``created_at``).
        ``turns`` is a list of ``{"role", "content", "created_at"?, "metadata"?}`` dicts (1 to
        1,000); the answer is one ``TurnResult`` per turn, in the same order. An invalid
        element fails the whole batch, naming it (``turns[1].role``): checked here
        (``ValueError``/``TypeError``) or by the server (``InvalidRequest``). One
        ``Idempotency-Key`` covers the batch, so a retried batch is recorded once."""
        m: Memory = self._memory
        items = batch_turns(turns)
        req = m._c.turns(session_id=self.id, scope=None, turns=items, async_=async_,
                         idempotency_key=idempotency_key)
        res = TurnResult.list_from_dict(await m._json(req))
        self._record_all(items)
        return res

    async def context(self, query: str, top_k: Optional[int] = None,
                      max_tokens: Optional[int] = None) -> Context:
        m: Memory = self._memory
        return Context.from_dict(await m._json(
            m._c.session_context(self.id, query, top_k, max_tokens)))

    async def load_history(self) -> List[Dict[str, Any]]:
        """Fetch scope and past messages of a session opened by id (no-op once known)."""
        m: Memory = self._memory
        if not self.loaded:
            await self.refresh()
        if self._history is None:
            turns = self.raw.get("turns")
            if isinstance(turns, list):
                self._history = self.history_from_turns(turns, self.id)
            elif self.turn_count == 0:
                self._history = []
            else:
                # The API has no per-session turn listing; the scope's export holds them.
                text = await m.export(self.scope or {})
                self._history = self.history_from_turns(self.turns_from_export(text), self.id)
        return self.messages

    async def chat(self, content: str, metadata: Optional[Mapping[str, Any]] = None,
                   agent_fn: Optional[AgentFn] = None) -> ChatResult:
        """Record the user's message, call ``agent_fn(messages)`` (sync or async), record its
        reply, and return both with the combined diff. The user turn is recorded first so the
        agent's profile/context lookups already see what the message taught.

        A plain (sync) agent_fn runs on the event loop's thread, as any sync call would: wrap
        a slow blocking client in ``asyncio.to_thread`` inside an async agent_fn instead."""
        fn = agent_fn or self.agent_fn
        if fn is None:
            raise ValueError("chat() needs an agent_fn: pass it to sessions.create/open or chat")
        await self.load_history()
        user = await self.turn(role="user", content=content, metadata=metadata)
        reply = fn(self.messages)
        if inspect.isawaitable(reply):
            reply = await reply
        text = reply_text(reply)
        bot = await self.turn(role="assistant", content=text)
        return ChatResult(response=text, diff=user.diff + bot.diff, session=self,
                          turns=[user.turn, bot.turn])
