"""session.chat: the SDK drives the loop around agent_fn (seed 000, shape 1; seed 002)."""

from __future__ import annotations

import asyncio

import pytest

from engram import ChatResult, Engram, EngramSync

run = asyncio.run


def test_chat_async_agent_fn(server, user):
    seen = []

    async def go():
        memory = Engram(base_url=server.url).memory(context_id="assistant")

        async def llm_call(messages):
            seen.append([dict(m) for m in messages])
            user_id = messages[0].get("user_id")  # the seed's way to find the user
            profile = await memory.profile(scope={"user": user_id})
            system = "You are a helpful assistant."
            if profile.summary:
                system += f"\n\n{profile.summary}"
            return f"[{system}] ok"

        session = await memory.sessions.create(scope={"user": user}, agent_fn=llm_call)
        r1 = await session.chat(content="I just moved from Berlin to London")
        assert isinstance(r1, ChatResult)
        assert r1.session is session
        # the user turn was recorded before agent_fn ran, so its profile already knows
        assert "London" in r1.response
        assert any(d.key == "location" and d.value == "London" for d in r1.diff)
        assert [t.role for t in r1.turns] == ["user", "assistant"]

        r2 = await session.chat(content="What city do I live in?")
        assert session.turn_count == 4
        return r2

    run(go())
    assert seen[0] == [{"role": "user", "content": "I just moved from Berlin to London",
                        "user_id": user}]
    assert [m["role"] for m in seen[1]] == ["user", "assistant", "user"]
    assert seen[1][0]["user_id"] == user and "user_id" not in seen[1][1]


def test_chat_sync_agent_fn_and_reopen(server, user):
    calls = []

    def my_llm(messages):  # a plain function works too
        calls.append(len(messages))
        return {"content": f"reply #{len(messages)}"}

    async def go():
        memory = Engram(base_url=server.url).memory(context_id="assistant")
        s = await memory.sessions.create(scope={"user": user}, agent_fn=my_llm)
        r = await s.chat(content="I prefer bullet-point responses.")
        assert r.response == "reply #1"

        # A reopened session (another process, say) sees the earlier exchange.
        again = memory.sessions.open(s.id, agent_fn=my_llm)
        r2 = await again.chat(content="Thanks")
        assert r2.response == "reply #3"
        assert again.messages[0]["user_id"] == user
        assert [m["content"] for m in again.messages] == [
            "I prefer bullet-point responses.", "reply #1", "Thanks", "reply #3"]

        # agent_fn given per call overrides the session's
        r3 = await again.chat(content="x", agent_fn=lambda m: "override")
        assert r3.response == "override"

    run(go())
    assert calls == [1, 3]


def test_chat_without_agent_fn(server, user):
    async def go():
        memory = Engram(base_url=server.url).memory(context_id="assistant")
        s = await memory.sessions.create(scope={"user": user})
        with pytest.raises(ValueError):
            await s.chat(content="hello")
    run(go())


def test_chat_sync_client(server, user):
    memory = EngramSync(base_url=server.url).memory(context_id="assistant")

    async def async_fn(messages):
        await asyncio.sleep(0)
        return "async reply"

    s = memory.sessions.create(scope={"user": user}, agent_fn=lambda m: "sync reply")
    assert s.chat(content="I live in Rome.").response == "sync reply"
    assert s.chat(content="hi", agent_fn=async_fn).response == "async reply"
    assert len(s.messages) == 4
