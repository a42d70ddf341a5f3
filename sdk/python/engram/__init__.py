"""engram: persistent memory for LLM applications, the Python client.

Standard library only. ``Engram`` is the asyncio client, ``EngramSync`` its blocking twin::

    from engram import Engram
    client = Engram(base_url="http://127.0.0.1:8420")
    memory = client.memory(context_id="assistant")
    session = await memory.sessions.create(scope={"user": "alice"})
    await session.turn(role="user", content="I live in Berlin")
    profile = await memory.profile(scope={"user": "alice"})
"""

from ._client import Engram, Memory, Session, Sessions
from ._core import scope_path
from ._errors import (Conflict, ConnectionFailed, EngramError, Forbidden, InvalidRequest,
                      NotFound, RateLimited, ServerError, Timeout, Unauthorized)
from ._http import __version__
from ._sync import EngramSync, MemorySync, SessionsSync, SessionSync
from ._types import (Attribute, ChatResult, Context, ContextItem, DiffEntry, ForgetResult,
                     Profile, Turn, TurnResult)

__all__ = [
    "Engram", "EngramSync", "Memory", "MemorySync", "Sessions", "SessionsSync", "Session",
    "SessionSync", "Turn", "TurnResult", "DiffEntry", "Context", "ContextItem", "Profile",
    "Attribute", "ForgetResult", "ChatResult", "EngramError", "InvalidRequest", "Unauthorized",
    "Forbidden", "NotFound", "Conflict", "RateLimited", "ServerError", "ConnectionFailed",
    "Timeout", "scope_path", "__version__",
]
