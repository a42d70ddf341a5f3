"""Typed results. Each keeps the server's JSON object in ``raw`` (so fields added by newer
servers are never lost) and exposes the documented fields as attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

CATEGORIES = ("identity", "knowledge", "context", "instructions", "unknowns")


def _d(obj: Any) -> Dict[str, Any]:
    return obj if isinstance(obj, dict) else {}


@dataclass
class Turn:
    id: str
    session_id: Optional[str]
    role: str
    content: str
    created_at: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any) -> "Turn":
        d = _d(d)
        return cls(id=d.get("id", ""), session_id=d.get("session_id", d.get("session")),
                   role=d.get("role", ""), content=d.get("content", ""),
                   created_at=d.get("created_at"), metadata=_d(d.get("metadata")), raw=d)


@dataclass
class DiffEntry:
    """One change a turn made to memory: action is added, updated, expired, unchanged or
    flagged (routed to ``unknowns`` for review)."""
    action: str
    entity: List[str]
    category: Optional[str]
    key: Optional[str]
    value: Any
    previous_value: Any = None
    attribute_id: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any) -> "DiffEntry":
        d = _d(d)
        return cls(action=d.get("action", ""), entity=list(d.get("entity") or []),
                   category=d.get("category"), key=d.get("key"), value=d.get("value"),
                   previous_value=d.get("previous_value"), attribute_id=d.get("attribute_id"),
                   raw=d)


@dataclass
class TurnResult:
    turn: Turn
    diff: List[DiffEntry]
    queued: bool = False
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any) -> "TurnResult":
        d = _d(d)
        return cls(turn=Turn.from_dict(d.get("turn")),
                   diff=[DiffEntry.from_dict(x) for x in d.get("diff") or []],
                   queued=bool(d.get("queued", False)), raw=d)

    @classmethod
    def list_from_dict(cls, d: Any) -> List["TurnResult"]:
        """A batch's answer, ``{"turns": [{"turn", "diff", "queued"}, ...]}``, in order."""
        return [cls.from_dict(x) for x in _d(d).get("turns") or []]


@dataclass
class ContextItem:
    """A ranked memory: ``kind`` is "attribute" or "turn"; ``scores`` holds the parts of
    ``score``. Turn items fill session_id/role/metadata; attribute items fill
    entity/category/key/value/valid_from/source_turn."""
    kind: str
    id: str
    text: str
    score: float
    scores: Dict[str, Any] = field(default_factory=dict)
    tokens: int = 0
    created_at: Optional[str] = None
    session_id: Optional[str] = None
    role: Optional[str] = None
    metadata: Optional[Dict[str, Any]] = None
    entity: Optional[List[str]] = None
    category: Optional[str] = None
    key: Optional[str] = None
    value: Any = None
    valid_from: Optional[str] = None
    source_turn: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any) -> "ContextItem":
        d = _d(d)
        return cls(kind=d.get("kind", ""), id=d.get("id", ""), text=d.get("text", ""),
                   score=float(d.get("score") or 0.0), scores=_d(d.get("scores")),
                   tokens=int(d.get("tokens") or 0), created_at=d.get("created_at"),
                   session_id=d.get("session_id"), role=d.get("role"),
                   metadata=d.get("metadata"), entity=d.get("entity"),
                   category=d.get("category"), key=d.get("key"), value=d.get("value"),
                   valid_from=d.get("valid_from"), source_turn=d.get("source_turn"), raw=d)


@dataclass
class Context:
    """Memories relevant to a query. ``formatted`` is "" when nothing is relevant, so
    ``if ctx.formatted:`` leaves the caller's prompt unchanged."""
    items: List[ContextItem]
    formatted: str
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any) -> "Context":
        d = _d(d)
        return cls(items=[ContextItem.from_dict(x) for x in d.get("items") or []],
                   formatted=d.get("formatted") or "", raw=d)


@dataclass
class Attribute:
    id: str
    entity: List[str]
    category: str
    key: str
    value: Any
    confidence: Optional[float] = None
    importance: Optional[float] = None
    source_turn: Optional[str] = None
    valid_from: Optional[str] = None
    valid_until: Optional[str] = None
    recorded_at: Optional[str] = None
    supersedes: Optional[str] = None
    chain: List["Attribute"] = field(default_factory=list)
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def active(self) -> bool:
        return self.valid_until is None

    @classmethod
    def from_dict(cls, d: Any) -> "Attribute":
        d = _d(d)
        chain = [cls.from_dict(x) for x in d.get("chain") or [] if isinstance(x, dict)]
        return cls(id=d.get("id", ""), entity=list(d.get("entity") or []),
                   category=d.get("category", ""), key=d.get("key", ""), value=d.get("value"),
                   confidence=d.get("confidence"), importance=d.get("importance"),
                   source_turn=d.get("source_turn"), valid_from=d.get("valid_from"),
                   valid_until=d.get("valid_until"), recorded_at=d.get("recorded_at"),
                   supersedes=d.get("supersedes"), chain=chain, raw=d)


@dataclass
class Profile:
    """``summary`` is dense prose for a system prompt ("" when nothing is known);
    ``attributes`` maps each of the five categories to its current attributes."""
    summary: str
    attributes: Dict[str, List[Attribute]]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any) -> "Profile":
        d = _d(d)
        attrs: Dict[str, List[Attribute]] = {c: [] for c in CATEGORIES}
        src = d.get("attributes")
        if isinstance(src, dict):
            for cat, lst in src.items():
                attrs[cat] = [Attribute.from_dict(x) for x in lst or []]
        elif isinstance(src, list):  # tolerate a flat list
            for x in src:
                a = Attribute.from_dict(x)
                attrs.setdefault(a.category, []).append(a)
        return cls(summary=d.get("summary") or "", attributes=attrs, raw=d)

    def all(self) -> List[Attribute]:
        return [a for lst in self.attributes.values() for a in lst]


@dataclass
class ForgetResult:
    expired: int
    dry_run: bool
    attributes: List[Attribute]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Any) -> "ForgetResult":
        d = _d(d)
        return cls(expired=int(d.get("expired") or 0), dry_run=bool(d.get("dry_run", False)),
                   attributes=[Attribute.from_dict(x) for x in d.get("attributes") or []], raw=d)


@dataclass
class ChatResult:
    """What ``session.chat`` returns: the agent's reply, the diff of both recorded turns, and
    the session (its ``messages`` now include the exchange)."""
    response: str
    diff: List[DiffEntry]
    session: Any
    turns: List[Turn] = field(default_factory=list)
