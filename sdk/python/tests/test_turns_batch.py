"""Batched turn recording (``session.turns``, ``memory.turns``): one request, in order, all or
none, against a real ``engram serve``; the retry path against the scripted stub."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from engram import (Conflict, Engram, EngramSync, InvalidRequest, SessionSync, TurnResult)

run = asyncio.run


def memory_for(server, context_id="assistant"):
    return Engram(base_url=server.url).memory(context_id=context_id)


def test_session_turns_in_order_with_diffs(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        res = await s.turns([
            {"role": "user", "content": "I live in Berlin.", "metadata": {"source": "test"}},
            {"role": "assistant", "content": "Berlin is lovely."},
            {"role": "user", "content": "I just moved from Berlin to London"},
        ])
        assert isinstance(res, list) and len(res) == 3
        assert all(isinstance(r, TurnResult) for r in res)
        assert [r.turn.role for r in res] == ["user", "assistant", "user"]
        assert [r.turn.content for r in res] == ["I live in Berlin.", "Berlin is lovely.",
                                                 "I just moved from Berlin to London"]
        assert all(r.turn.session_id == s.id and r.queued is False for r in res)
        assert res[0].turn.metadata == {"source": "test"}
        assert len({r.turn.id for r in res}) == 3
        # Each element's diff is its own, in order: added by the first, updated by the third.
        loc0 = [d for d in res[0].diff if d.key == "location"]
        assert loc0 and loc0[0].action == "added" and loc0[0].value == "Berlin"
        assert [d for d in res[1].diff if d.action != "unchanged"] == []
        loc2 = [d for d in res[2].diff if d.key == "location"]
        assert loc2 and loc2[0].action == "updated"
        assert loc2[0].value == "London" and loc2[0].previous_value == "Berlin"

        # The local message list and count follow, as with turn().
        assert [m["content"] for m in s.messages] == [r.turn.content for r in res]
        assert s.messages[0]["user_id"] == user and s.turn_count == 3
        assert (await memory.sessions.get(s.id)).turn_count == 3
        p = await memory.profile(scope={"user": user})
        assert "London" in p.summary
    run(go())


def test_backfill_with_created_at(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        res = await s.turns([
            {"role": "user", "content": "I live in Berlin.",
             "created_at": dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.timezone.utc)},
            {"role": "user", "content": "I moved to London.", "created_at": "2024-06-01T00:00:00Z"},
        ])
        assert res[0].turn.created_at.startswith("2024-01-01T09:00:00")
        assert res[1].turn.created_at.startswith("2024-06-01T00:00:00")
        then = await memory.profile(scope={"user": user}, as_of="2024-03-01T00:00:00Z")
        assert [a.value for a in then.attributes["identity"] if a.key == "location"] == ["Berlin"]

        # A session opened by id learns the batch's turns as its past messages.
        again = memory.sessions.open(s.id)
        assert [m["content"] for m in await again.load_history()] == \
            ["I live in Berlin.", "I moved to London."]
    run(go())


def test_sessionless_turns_and_async(server, user):
    async def go():
        memory = memory_for(server)
        res = await memory.turns(scope={"user": user}, turns=[
            {"role": "user", "content": "I work at Acme Corp as a backend engineer."},
            {"role": "assistant", "content": "Noted."},
        ])
        assert [r.turn.session_id for r in res] == [None, None]
        assert any(d.key == "employer" for d in res[0].diff)
        q = await memory.turns(scope=f"user/{user}", async_=True,
                               turns=[{"role": "user", "content": "I live in Oslo."}])
        assert len(q) == 1 and q[0].queued is True and q[0].diff == [] and q[0].turn.id
    run(go())


def test_bad_element_fails_whole_batch(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        await s.turn(role="user", content="I live in Berlin.")
        good = {"role": "user", "content": "I just moved from Berlin to Rome"}

        # The server names the element; the good one before it is not recorded either.
        with pytest.raises(InvalidRequest) as ei:
            await s.turns([good, {"role": "user", "content": "x", "created_at": "yesterday"}])
        assert ei.value.status == 400 and "turns[1].created_at" in ei.value.message
        with pytest.raises(InvalidRequest) as ei:
            await memory.turns(scope={"user": user},
                               turns=[good, good, {"role": "user", "content": "y",
                                                   "created_at": "soon"}])
        assert "turns[2].created_at" in ei.value.message

        # What the SDK checks itself (as turn() does) it names the same way, sending nothing.
        with pytest.raises(ValueError, match=r"turns\[1\]\.role"):
            await s.turns([good, {"role": "robot", "content": "beep"}])
        with pytest.raises(TypeError, match=r"turns\[0\]\.content"):
            await s.turns([{"role": "user"}])
        with pytest.raises(TypeError, match=r"turns\[1\] has unknown field 'text'"):
            await s.turns([good, {"role": "user", "text": "hi"}])
        with pytest.raises(ValueError):
            await s.turns([])

        assert s.turn_count == 1 and [m["content"] for m in s.messages] == ["I live in Berlin."]
        assert (await memory.sessions.get(s.id)).turn_count == 1
        p = await memory.profile(scope={"user": user})
        assert "Berlin" in p.summary and "Rome" not in p.summary
        turns = [json.loads(l) for l in (await memory.export(scope={"user": user})).splitlines()
                 if l.strip() and json.loads(l).get("type") == "turn"]
        assert [t["content"] for t in turns] == ["I live in Berlin."]
    run(go())


def test_batch_retry_is_recorded_once(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        batch = [{"role": "user", "content": "I have a dog named Rex."},
                 {"role": "assistant", "content": "Hello Rex!"}]
        a = await s.turns(batch, idempotency_key="kb-" + user)
        b = await s.turns(batch, idempotency_key="kb-" + user)
        assert [r.turn.id for r in a] == [r.turn.id for r in b]
        assert (await memory.sessions.get(s.id)).turn_count == 2
        with pytest.raises(Conflict):
            await s.turns(batch[:1], idempotency_key="kb-" + user)
    run(go())


def test_batch_retried_with_same_idempotency_key(stub_factory):
    ok = {"turns": [
        {"turn": {"id": "trn_1", "session_id": "ses_1", "role": "user", "content": "hi"},
         "diff": [{"action": "added", "entity": ["Person", "a"], "category": "identity",
                   "key": "location", "value": "Paris"}], "queued": False},
        {"turn": {"id": "trn_2", "session_id": "ses_1", "role": "assistant", "content": "yo"},
         "diff": [], "queued": False}]}
    err = {"error": {"code": "unavailable", "message": "try later"}}
    stub = stub_factory([(503, err, {}), "close", (200, ok, {})])
    memory = Engram(base_url=stub.url, max_retries=2).memory(context_id="assistant")
    s = memory.sessions.open("ses_1")
    res = run(s.turns([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
                      async_=True))
    assert [r.turn.id for r in res] == ["trn_1", "trn_2"]
    assert res[0].diff[0].value == "Paris" and res[1].diff == []
    assert len(stub.requests) == 3
    keys = {q["headers"].get("Idempotency-Key") for q in stub.requests}
    assert len(keys) == 1 and None not in keys
    assert {q["body"] for q in stub.requests} == {stub.requests[0]["body"]}
    assert stub.requests[0]["path"] == "/api/v1/assistant/sessions/ses_1/turns"
    assert json.loads(stub.requests[0]["body"]) == {
        "turns": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
        "async": True}
    assert s.turn_count == 2

    stub2 = stub_factory([(502, err, {}), (200, {"turns": ok["turns"][:1]}, {})])
    m2 = EngramSync(base_url=stub2.url, max_retries=1).memory(context_id="assistant")
    r = m2.turns(scope={"user": "a"}, turns=[{"role": "user", "content": "hi"}],
                 idempotency_key="mine")
    assert [x.turn.id for x in r] == ["trn_1"]
    assert [q["headers"].get("Idempotency-Key") for q in stub2.requests] == ["mine", "mine"]
    assert stub2.requests[1]["path"] == "/api/v1/assistant/turns"
    assert json.loads(stub2.requests[1]["body"]) == {
        "scope": {"user": "a"}, "turns": [{"role": "user", "content": "hi"}]}


def test_sync_turns(server, user):
    with EngramSync(base_url=server.url) as client:
        memory = client.memory(context_id="assistant")
        s = memory.sessions.create(scope={"user": user})
        assert isinstance(s, SessionSync)
        res = s.turns([{"role": "user", "content": "I live in Berlin."},
                       {"role": "assistant", "content": "Nice."}])
        assert [r.turn.role for r in res] == ["user", "assistant"]
        assert any(d.key == "location" and d.action == "added" for d in res[0].diff)
        assert s.turn_count == 2 and len(s.messages) == 2
        res = memory.turns(scope={"user": user},
                           turns=[{"role": "user", "content": "I work at Acme Corp."}])
        assert any(d.key == "employer" for d in res[0].diff)
        with pytest.raises(InvalidRequest, match=r"turns\[0\]\.created_at"):
            s.turns([{"role": "user", "content": "I live in Rome.", "created_at": "nope"}])
        assert memory.sessions.get(s.id).turn_count == 2
        assert "Rome" not in memory.profile(scope={"user": user}).summary
