"""Every method of the async client, end to end against a real ``engram serve``."""

from __future__ import annotations

import asyncio
import json

import pytest

from engram import (Attribute, Context, ContextItem, DiffEntry, Engram, ForgetResult, Profile,
                    Session, Turn, TurnResult)

run = asyncio.run


def memory_for(server, context_id="assistant"):
    return Engram(base_url=server.url).memory(context_id=context_id)


def test_healthz(server):
    assert isinstance(run(Engram(base_url=server.url).healthz()), dict)


def test_session_create_get_open(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user}, metadata={"channel": "web"})
        assert isinstance(s, Session)
        assert s.id.startswith("ses_")
        assert s.scope == {"user": user}
        assert s.metadata == {"channel": "web"}
        assert s.context_id == "assistant"
        assert s.created_at and s.created_at.endswith("Z")
        assert s.turn_count == 0
        await s.turn(role="user", content="Hello there")

        again = memory.sessions.open(s.id)  # sync, no network
        assert again.id == s.id and again.scope is None
        await again.refresh()
        assert again.scope == {"user": user}
        assert again.turn_count == 1
        got = await memory.sessions.get(s.id)
        assert got.metadata == {"channel": "web"} and got.raw["id"] == s.id
    run(go())


def test_session_scope_as_path(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope=f"org/acme/user/{user}")
        assert s.scope == {"org": "acme", "user": user}
    run(go())


def test_turn_and_diff(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        r = await s.turn(role="user", content="I live in Berlin.",
                         metadata={"source": "test"})
        assert isinstance(r, TurnResult) and isinstance(r.turn, Turn)
        assert r.turn.id and r.turn.role == "user" and r.turn.content == "I live in Berlin."
        assert r.turn.session_id == s.id
        assert r.turn.metadata == {"source": "test"}
        assert r.queued is False
        assert all(isinstance(d, DiffEntry) for d in r.diff)
        added = [d for d in r.diff if d.key == "location"]
        assert added and added[0].action == "added" and added[0].value == "Berlin"
        assert added[0].entity == ["Person", user] and added[0].category == "identity"

        r2 = await s.turn(role="user", content="I just moved from Berlin to London")
        upd = [d for d in r2.diff if d.key == "location"]
        assert upd and upd[0].action == "updated"
        assert upd[0].value == "London" and upd[0].previous_value == "Berlin"

        r3 = await s.turn(role="assistant", content="Welcome to London!",
                          created_at="2024-11-15T10:23:00Z")
        assert r3.turn.role == "assistant"
        assert r3.turn.created_at.startswith("2024-11-15T10:23:00")
        assert r3.diff == [] or all(d.action == "unchanged" for d in r3.diff)
    run(go())


def test_turn_async_flag(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        r = await s.turn(role="user", content="I work at Acme Corp.", async_=True)
        assert r.turn.id
        assert r.queued is True
    run(go())


def test_idempotency_key_dedupes(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        a = await s.turn(role="user", content="I have a dog named Rex.", idempotency_key="k-" + user)
        b = await s.turn(role="user", content="I have a dog named Rex.", idempotency_key="k-" + user)
        assert a.turn.id == b.turn.id
        await s.refresh()
        assert s.turn_count == 1
    run(go())


def test_sessionless_turn(server, user):
    async def go():
        memory = memory_for(server)
        r = await memory.turn(scope={"user": user}, role="user",
                              content="I work at Acme Corp as a backend engineer.")
        assert r.turn.id and r.turn.content.startswith("I work at Acme")
        keys = {d.key for d in r.diff}
        assert "employer" in keys
    run(go())


def test_session_and_scope_context(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        await s.turn(role="user", content="I live in Berlin.")
        await s.turn(role="user", content="My favourite programming language is Rust.")
        ctx = await s.context(query="Where do I live?", top_k=5)
        assert isinstance(ctx, Context)
        assert ctx.items and all(isinstance(i, ContextItem) for i in ctx.items)
        assert len(ctx.items) <= 5
        assert "Berlin" in ctx.formatted
        it = ctx.items[0]
        assert it.kind in ("attribute", "turn") and it.id and it.text
        assert isinstance(it.scores, dict) and it.tokens > 0

        ctx2 = await memory.context(scope={"user": user}, query="Where do I live?",
                                    max_tokens=200)
        assert "Berlin" in ctx2.formatted
        assert sum(i.tokens for i in ctx2.items) <= 200

        # Nothing relevant: formatted is "" so `if ctx.formatted` leaves the prompt alone.
        empty = await memory.context(scope={"user": "nobody" + user}, query="zebra quantum")
        assert empty.items == [] and empty.formatted == ""
    run(go())


def test_profile(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        await s.turn(role="user", content="I just moved from Berlin to London")
        p = await memory.profile(scope={"user": user})
        assert isinstance(p, Profile)
        assert "London" in p.summary
        assert set(p.attributes) >= {"identity", "knowledge", "context", "instructions",
                                     "unknowns"}
        loc = [a for a in p.attributes["identity"] if a.key == "location"]
        assert loc and isinstance(loc[0], Attribute) and loc[0].value == "London"
        assert loc[0].valid_until is None and loc[0].entity == ["Person", user]
        empty = await memory.profile(scope={"user": "nobody" + user})
        assert empty.summary == "" and empty.all() == []
    run(go())


def test_profile_as_of(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        await s.turn(role="user", content="I live in Berlin.", created_at="2024-01-01T00:00:00Z")
        await s.turn(role="user", content="I moved to London.", created_at="2024-06-01T00:00:00Z")
        then = await memory.profile(scope={"user": user}, as_of="2024-03-01T00:00:00Z")
        vals = [a.value for a in then.attributes["identity"] if a.key == "location"]
        assert vals == ["Berlin"]
    run(go())


def test_attributes_with_chain(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        await s.turn(role="user", content="I live in Berlin.")
        await s.turn(role="user", content="I just moved from Berlin to London")
        cur = await memory.attributes(scope={"user": user})
        loc = [a for a in cur if a.key == "location"]
        assert len(loc) == 1 and loc[0].value == "London"
        assert [c.value for c in loc[0].chain][-1] == "Berlin" or \
            any(c.value == "Berlin" for c in loc[0].chain)
        allv = await memory.attributes(scope={"user": user}, include_expired=True)
        assert {a.value for a in allv if a.key == "location"} >= {"Berlin", "London"}
        only = await memory.attributes(scope={"user": user}, key="location")
        assert only and all(a.key == "location" for a in only)
        ident = await memory.attributes(scope={"user": user}, category="identity")
        assert ident and all(a.category == "identity" for a in ident)
    run(go())


def test_forget(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        await s.turn(role="user", content="I work at Acme Corp.")
        await s.turn(role="user", content="I'm currently leading a migration from CommonJS to ESM.")
        dry = await memory.forget(scope={"user": user}, entity_type="Person", entity_name=user,
                                  attribute_key="employer", dry_run=True)
        assert isinstance(dry, ForgetResult) and dry.dry_run is True and dry.expired >= 1
        assert any(a.key == "employer" for a in (await memory.profile(scope={"user": user})).all())

        res = await memory.forget(scope={"user": user}, entity_type="Person", entity_name=user,
                                  attribute_key="employer")
        assert res.dry_run is False and res.expired >= 1
        assert all(a.key == "employer" for a in res.attributes)
        prof = await memory.profile(scope={"user": user})
        assert not any(a.key == "employer" for a in prof.all())

        res2 = await memory.forget(scope={"user": user}, category="context")
        assert res2.expired >= 1
        assert (await memory.profile(scope={"user": user})).attributes["context"] == []
        # Forget retires, it does not delete: history still has the records.
        hist = await memory.attributes(scope={"user": user}, include_expired=True)
        assert any(a.key == "employer" and a.valid_until for a in hist)
    run(go())


def test_audit(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        await s.turn(role="user", content="I live in Paris.")
        entries = await memory.audit(scope={"user": user})
        assert isinstance(entries, list) and entries
        assert all(isinstance(e, dict) for e in entries)
    run(go())


def test_export_import_erase(server, user):
    async def go():
        memory = memory_for(server)
        s = await memory.sessions.create(scope={"user": user})
        await s.turn(role="user", content="I live in Madrid.")
        await s.turn(role="assistant", content="Nice city.")
        text = await memory.export(scope={"user": user})
        recs = [json.loads(l) for l in text.splitlines() if l.strip()]
        types = {r.get("type") for r in recs}
        assert {"session", "turn", "attribute"} <= types
        assert sum(1 for r in recs if r["type"] == "turn") == 2

        counts = await memory.erase(scope={"user": user})
        assert isinstance(counts, dict)
        assert (await memory.profile(scope={"user": user})).summary == ""
        left = [json.loads(l) for l in (await memory.export(scope={"user": user})).splitlines()
                if l.strip()]
        assert [r for r in left if r.get("type") != "audit"] == []  # erase leaves a tombstone

        counts = await memory.import_(text)
        assert isinstance(counts, dict)
        again = await memory.export(scope={"user": user})

        def memory_records(jsonl):  # the audit log gains erase's tombstone; compare the rest
            return sorted(l for l in jsonl.splitlines()
                          if l.strip() and json.loads(l).get("type") != "audit")
        assert memory_records(again) == memory_records(text)
        assert "Madrid" in (await memory.profile(scope={"user": user})).summary
        # import_ also takes records
        await memory.erase(scope={"user": user})
        await memory.import_(recs)
        assert "Madrid" in (await memory.profile(scope={"user": user})).summary
    run(go())


def test_scope_floor(server, user):
    async def go():
        memory = memory_for(server)
        org = "o" + user
        await memory.turn(scope={"org": org}, role="user", content="I live in Oslo.")
        bob = await memory.sessions.create(scope={"org": org, "user": "bob"})
        await bob.turn(role="user", content="I work at Initech.")
        alice = await memory.profile(scope={"org": org, "user": user})
        vals = {a.value for a in alice.all()}
        assert "Oslo" in vals and "Initech" not in vals
    run(go())


def test_contexts_are_isolated(server, user):
    async def go():
        a = memory_for(server, "assistant")
        b = memory_for(server, "other_ctx")
        await a.turn(scope={"user": user}, role="user", content="I live in Lisbon.")
        pb = await b.profile(scope={"user": user})
        assert "Lisbon" not in pb.summary
    run(go())


def test_client_context_manager(server):
    async def go():
        async with Engram(base_url=server.url) as client:
            assert client.base_url == server.url
            await client.healthz()
    run(go())
