"""Timeouts and bounded retries, against a tiny scripted stub (the real server does not fail
on demand)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from engram import ConnectionFailed, Engram, EngramSync, ServerError, Timeout, RateLimited

run = asyncio.run
OK_TURN = {"turn": {"id": "trn_1", "session_id": "ses_1", "role": "user", "content": "hi",
                    "created_at": "2024-11-15T10:23:00.000Z", "metadata": {}},
           "diff": [], "queued": False}
ERR = {"error": {"code": "unavailable", "message": "try later"}}


def test_turn_retried_with_same_idempotency_key(stub_factory):
    stub = stub_factory([(503, ERR, {}), "close", (201, OK_TURN, {})])
    memory = Engram(base_url=stub.url, max_retries=2).memory(context_id="assistant")
    r = run(memory.sessions.open("ses_1").turn(role="user", content="hi"))
    assert r.turn.id == "trn_1"
    assert len(stub.requests) == 3
    keys = {q["headers"].get("Idempotency-Key") for q in stub.requests}
    assert len(keys) == 1 and None not in keys
    assert stub.requests[0]["path"] == "/api/v1/assistant/sessions/ses_1/turns"
    assert json.loads(stub.requests[2]["body"]) == {"role": "user", "content": "hi"}


def test_reads_retried_then_give_up(stub_factory):
    stub = stub_factory([(504, ERR, {})] * 10)
    memory = EngramSync(base_url=stub.url, max_retries=2).memory(context_id="assistant")
    with pytest.raises(ServerError) as ei:
        memory.profile(scope={"user": "a"})
    assert ei.value.status == 504
    assert len(stub.requests) == 3  # one try + max_retries


def test_non_idempotent_not_replayed(stub_factory):
    stub = stub_factory([(503, ERR, {}), (201, {"id": "ses_x"}, {})])
    memory = EngramSync(base_url=stub.url, max_retries=3).memory(context_id="assistant")
    with pytest.raises(ServerError):
        memory.sessions.create(scope={"user": "a"})
    assert len(stub.requests) == 1
    stub2 = stub_factory(["close", (201, {"id": "ses_x"}, {})])
    memory = EngramSync(base_url=stub2.url, max_retries=3).memory(context_id="assistant")
    with pytest.raises(ConnectionFailed):
        memory.erase(scope={"user": "a"})
    assert len(stub2.requests) == 1


def test_429_retried_for_anything_honouring_retry_after(stub_factory):
    stub = stub_factory([(429, ERR, {"Retry-After": "0.3"}), (201, {"id": "ses_x"}, {})])
    memory = EngramSync(base_url=stub.url, max_retries=1).memory(context_id="assistant")
    t0 = time.monotonic()
    s = memory.sessions.create(scope={"user": "a"})
    assert s.id == "ses_x" and len(stub.requests) == 2
    assert time.monotonic() - t0 >= 0.3
    stub2 = stub_factory([(429, ERR, {"Retry-After": "7"})])
    with pytest.raises(RateLimited) as ei:
        EngramSync(base_url=stub2.url, max_retries=0).memory("assistant").profile(scope="user/a")
    assert ei.value.retry_after == 7.0


def test_timeout(stub_factory):
    stub = stub_factory(["hang", "hang"])
    client = Engram(base_url=stub.url, timeout=0.3, max_retries=1)
    t0 = time.monotonic()
    with pytest.raises(Timeout) as ei:
        run(client.memory(context_id="assistant").context(scope={"user": "a"}, query="q"))
    assert ei.value.code == "timeout" and ei.value.status is None
    assert len(stub.requests) == 2
    assert time.monotonic() - t0 < 3


def test_keep_alive_reuses_connection(stub_factory):
    stub = stub_factory([(200, {"summary": "", "attributes": {}}, {})] * 3)
    memory = EngramSync(base_url=stub.url).memory(context_id="assistant")
    for _ in range(3):
        memory.profile(scope={"user": "a"})
    assert len(stub.requests) == 3
    assert len(memory._t._pool) == 1  # one pooled connection served all three


def test_concurrent_async_calls(stub_factory):
    stub = stub_factory([(200, {"summary": "s", "attributes": {}}, {})] * 20)
    memory = Engram(base_url=stub.url).memory(context_id="assistant")

    async def go():
        return await asyncio.gather(*[memory.profile(scope={"user": "a"}) for _ in range(20)])

    res = run(go())
    assert [p.summary for p in res] == ["s"] * 20
