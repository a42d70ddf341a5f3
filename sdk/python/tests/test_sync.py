"""EngramSync: the blocking twin has the same surface."""

from __future__ import annotations

import json

import pytest

from engram import (Context, EngramSync, ForgetResult, NotFound, Profile, SessionSync,
                    TurnResult)


def test_sync_surface(server, user):
    with EngramSync(base_url=server.url) as client:
        assert isinstance(client.healthz(), dict)
        memory = client.memory(context_id="assistant")
        s = memory.sessions.create(scope={"user": user}, metadata={"k": "v"})
        assert isinstance(s, SessionSync) and s.id.startswith("ses_")
        r = s.turn(role="user", content="I live in Berlin.")
        assert isinstance(r, TurnResult) and r.turn.session_id == s.id
        s.turn(role="user", content="I just moved from Berlin to London")
        assert memory.sessions.open(s.id).refresh().turn_count == 2
        assert memory.sessions.get(s.id).metadata == {"k": "v"}

        ctx = s.context(query="moved to London", top_k=3)
        assert isinstance(ctx, Context) and "London" in ctx.formatted
        ctx2 = memory.context(scope={"user": user}, query="moved to London", max_tokens=100)
        assert "London" in ctx2.formatted

        memory.turn(scope={"user": user}, role="user", content="I work at Acme Corp.")
        p = memory.profile(scope={"user": user})
        assert isinstance(p, Profile) and "London" in p.summary

        attrs = memory.attributes(scope={"user": user}, include_expired=True)
        assert {a.value for a in attrs if a.key == "location"} >= {"Berlin", "London"}

        f = memory.forget(scope={"user": user}, attribute_key="employer")
        assert isinstance(f, ForgetResult) and f.expired >= 1

        assert memory.audit(scope=f"user/{user}")
        text = memory.export(scope={"user": user})
        assert any(json.loads(l)["type"] == "turn" for l in text.splitlines() if l.strip())
        memory.erase(scope={"user": user})
        assert memory.profile(scope={"user": user}).summary == ""
        memory.import_(text)
        assert "London" in memory.profile(scope={"user": user}).summary

        with pytest.raises(NotFound):
            memory.sessions.get("ses_does_not_exist")
