"""Minimal integration around an existing LLM call (seed 001): retrieve context before the call,
record the exchange after it, and leave the prompt exactly as it was when memory has nothing
relevant (the `if ctx.formatted` guard). Then widen from one org-wide scope to per-user scopes
without migrating anything (scope floor matching).

Run:  ENGRAM_URL=http://127.0.0.1:8420 PYTHONPATH=sdk/python python3 examples/python/minimal_integration.py
"""

import asyncio
import os

from engram import Engram

client = Engram(base_url=os.environ.get("ENGRAM_URL", "http://127.0.0.1:8420"))
memory = client.memory(context_id="assistant")

# Phase 1: single scope, all conversations share it
DEFAULT_SCOPE = {"org": "my-app"}


def your_existing_system_prompt() -> str:
    return "You are the support assistant of my-app."


def your_existing_llm_call(system: str, user: str) -> str:
    """The application's LLM call, unchanged (a stand-in that runs offline)."""
    if system == your_existing_system_prompt():
        return "Happy to help!"
    given = " ".join(system.split("\n\n", 1)[1].split())
    return f"Happy to help! (I was given: {given[:200]})"


async def answer(user_message: str, session=None, scope=DEFAULT_SCOPE) -> str:
    """The existing wrapper around LLM calls, with memory added. `session` is optional, so every
    existing call site keeps working."""
    # 1. Retrieve relevant context
    if session is not None:
        ctx = await session.context(query=user_message)
    else:
        ctx = await memory.context(scope=scope, query=user_message)

    # 2. Inject into your existing system prompt
    system = your_existing_system_prompt()
    if ctx.formatted:
        system = f"{system}\n\n## Relevant context\n{ctx.formatted}"
    print(f"prompt unchanged: {system == your_existing_system_prompt()}")

    # 3. Your existing LLM call – unchanged
    response = your_existing_llm_call(system=system, user=user_message)

    # 4. Record the exchange
    if session is not None:
        await session.turn(role="user", content=user_message)
        await session.turn(role="assistant", content=response)
    else:
        await memory.turn(scope=scope, role="user", content=user_message)
        await memory.turn(scope=scope, role="assistant", content=response)
    return response


async def main() -> None:
    user_id = os.environ.get("ENGRAM_EXAMPLE_USER", "alice")

    # Phase 1: one org-wide scope.
    print("reply:", await answer("What is the capital of Australia?"))  # nothing stored yet
    session = await memory.sessions.create(scope={"org": "my-app"})
    print("reply:", await answer("Our company uses PostgreSQL for everything.", session))
    print("reply:", await answer("Which database do we use, PostgreSQL?", session))

    # Expanding to multi-user: only the session's scope changes.
    session = await memory.sessions.create(scope={"org": "my-app", "user": user_id})
    print("reply:", await answer("I live in Lisbon.", session))

    # Profile injection at session start
    profile = await memory.profile(scope={"org": "my-app", "user": user_id})
    system = your_existing_system_prompt()
    if profile.summary:
        system = f"{system}\n\n## About this user\n{profile.summary}"
    print(f"about this user: {profile.summary}")

    # Scope floor: the user's view includes org-wide memory; another user's does not see hers.
    mine = await memory.context(scope={"org": "my-app", "user": user_id}, query="database PostgreSQL")
    print(f"user sees org memory: {'PostgreSQL' in mine.formatted}")
    other = await memory.profile(scope={"org": "my-app", "user": "bob"})
    print(f"bob sees alice's city: {'Lisbon' in other.summary}")


if __name__ == "__main__":
    asyncio.run(main())
