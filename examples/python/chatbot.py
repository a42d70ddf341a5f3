"""Chatbot with per-user memory and profile injection: the two integration shapes of the
"chat application" guide (seed 000).

Shape 1: engram drives the loop. You give `agent_fn`, and engram calls it, records both turns
and runs extraction.
Shape 2: you drive the loop. You inject the profile and the context before your own LLM call,
and record both turns after it.

Run:  ENGRAM_URL=http://127.0.0.1:8420 PYTHONPATH=sdk/python python3 examples/python/chatbot.py
"""

import asyncio
import os

from engram import Engram  # the only line that differs from the guide (and the client below)

client = Engram(base_url=os.environ.get("ENGRAM_URL", "http://127.0.0.1:8420"))
memory = client.memory(context_id="assistant")
USER = os.environ.get("ENGRAM_EXAMPLE_USER", "alice")


def your_llm(system, user=None, messages=None):
    """A stand-in for a real model, so the example runs offline: it says what memory it was
    given in its system prompt."""
    known = system.split("\n\n", 1)[1] if "\n\n" in system else ""
    known = " ".join(known.replace("## User context", "").replace("## Relevant memory", "").split())
    if known:
        return f"Got it. (What I know about you: {known[:200]})"
    return "Got it. (I don't know anything about you yet.)"


# ---- Shape 1: engram drives the loop ---------------------------------------------------

async def llm_call(messages: list) -> str:
    # Build a memory-aware system prompt
    user_id = messages[0].get("user_id")  # passed as metadata
    profile = await memory.profile(scope={"user": user_id})
    system = "You are a helpful assistant."
    if profile.summary:
        system += f"\n\n{profile.summary}"
    return your_llm(system=system, messages=messages)


async def shape_one(user_id: str) -> str:
    # Per conversation
    session = await memory.sessions.create(scope={"user": user_id}, agent_fn=llm_call)
    for user_message in ["I work at Acme Corp as a backend engineer.",
                         "I just moved from Berlin to London"]:
        # Each user message
        result = await session.chat(content=user_message)
        reply = result.response
        print(f"[shape 1] user: {user_message}")
        print(f"[shape 1] assistant: {reply}")
        for d in result.diff:
            if d.action != "unchanged":
                was = f" (was {d.previous_value})" if d.previous_value else ""
                print(f"[shape 1] memory {d.action}: {d.key} = {d.value}{was}")
    return session.id


# ---- Shape 2: the caller drives the loop -------------------------------------------------

async def handle_message(user_id: str, session_id, user_message: str) -> str:
    # Re-open existing session or create a new one
    if session_id:
        session = memory.sessions.open(session_id)
    else:
        session = await memory.sessions.create(scope={"user": user_id})

    profile = await memory.profile(scope={"user": user_id})
    ctx = await session.context(query=user_message)

    # Build system prompt
    system = "You are a helpful assistant."
    if profile.summary:
        system += f"\n\n## User context\n{profile.summary}"
    if ctx.formatted:
        system += f"\n\n## Relevant memory\n{ctx.formatted}"

    # Your LLM call
    response = your_llm(system=system, user=user_message)

    # Record the exchange
    await session.turn(role="user", content=user_message)
    await session.turn(role="assistant", content=response)
    return response


async def main() -> None:
    first = await shape_one(USER)

    # A later conversation: memory is user-scoped, not session-scoped.
    reply = await handle_message(USER, None, "Where do I live now?")
    print(f"[shape 2] new session reply: {reply}")
    reply = await handle_message(USER, first, "I just moved to the platform team.")
    print(f"[shape 2] reopened session reply: {reply}")

    # Querying accumulated memory
    profile = await memory.profile(scope={"user": USER})
    print(f"profile summary: {profile.summary}")
    for category, attrs in profile.attributes.items():
        for a in attrs:
            print(f"profile {category}: {a.key} = {a.value}")


if __name__ == "__main__":
    asyncio.run(main())
