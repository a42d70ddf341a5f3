"""Personal AI assistant (seed 002): user-scoped memory across sessions, a profile injected as a
system prompt fragment, the caller-driven chat and the engram-driven chat (agent_fn), and forget
when the user's situation changes.

Run:  ENGRAM_URL=http://127.0.0.1:8420 PYTHONPATH=sdk/python python3 examples/python/personal_assistant.py
"""

import asyncio
import os

from engram import Engram

client = Engram(base_url=os.environ.get("ENGRAM_URL", "http://127.0.0.1:8420"))
memory = client.memory(context_id="assistant")


def your_llm(system, user=None, messages=None):
    """Offline stand-in for a model: it answers from the memory in its system prompt."""
    parts = system.split("\n\n")
    known = " ".join(" ".join(p.split()) for p in parts[1:] if not p.startswith("##"))
    return f"Noted. (Known: {known[:300]})" if known else "Noted."


async def start_conversation(user_id: str):
    session = await memory.sessions.create(
        scope={"user": user_id},
    )
    return session


async def build_system_prompt(user_id: str) -> str:
    profile = await memory.profile(scope={"user": user_id})

    base = """You are a personal AI assistant. Be concise, direct, and helpful."""

    if profile.summary:
        return f"{base}\n\n## What you know about this user\n\n{profile.summary}"

    return base


async def chat(session, user_id: str, user_message: str) -> str:
    # Build context-aware system prompt
    system = await build_system_prompt(user_id)

    # Retrieve session-specific relevant context
    ctx = await session.context(query=user_message, top_k=5)
    if ctx.items:
        system += f"\n\n## Relevant context\n\n{ctx.formatted}"

    # Call your LLM
    response = your_llm(system=system, user=user_message)

    # Record both turns
    r = await session.turn(role="user", content=user_message)
    await session.turn(role="assistant", content=response)
    for d in r.diff:
        if d.action != "unchanged":
            was = f" (was {d.previous_value})" if d.previous_value is not None else ""
            print(f"  memory {d.action}: {d.category}/{d.key} = {d.value}{was}")
    return response


async def main() -> None:
    user_id = os.environ.get("ENGRAM_EXAMPLE_USER", "alice")

    session = await start_conversation(user_id)
    for msg in ["I'm Alice Chen, Head of Platform at Acme Corp.",
                "I live in Berlin.",
                "I prefer TypeScript over JavaScript.",
                "I prefer bullet-point responses.",
                "I'm currently leading a migration from CommonJS to ESM."]:
        print(f"user: {msg}")
        await chat(session, user_id, msg)

    # A new session, days later: the profile carries over.
    session = await start_conversation(user_id)
    print("user: I just moved from Berlin to London")
    await chat(session, user_id, "I just moved from Berlin to London")
    profile = await memory.profile(scope={"user": user_id})
    print(f"profile summary: {profile.summary}")

    # engram drives the loop
    async def my_llm(messages: list) -> str:
        system = await build_system_prompt(user_id)
        return your_llm(system=system, messages=messages)

    session = await memory.sessions.create(
        scope={"user": user_id},
        agent_fn=my_llm,
    )
    result = await session.chat(content="What are my current projects?")
    print(f"chat response: {result.response}")

    # Forget a specific attribute
    res = await memory.forget(
        scope={"user": user_id},
        entity_type="Person",
        entity_name=user_id,
        attribute_key="employer",
    )
    print(f"forgot employer: {res.expired} expired")

    # Or forget everything in a category
    res = await memory.forget(
        scope={"user": user_id},
        category="context",
    )
    print(f"forgot context: {res.expired} expired")

    profile = await memory.profile(scope={"user": user_id})
    print(f"profile after forget: {profile.summary}")
    for category, attrs in profile.attributes.items():
        print(f"category {category}: {', '.join(f'{a.key}={a.value}' for a in attrs)}")


if __name__ == "__main__":
    asyncio.run(main())
