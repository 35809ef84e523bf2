"""What the local Twitch saw and sent, kept so tests and benchmarks can inspect and await it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bot.sandbox.twitch.model import Json, rfc3339

T = TypeVar("T")

PathMatch = str | re.Pattern[str] | None


def path_matches(path: str, pattern: PathMatch) -> bool:
    """Exact match for a string, full match for a regex, anything for None."""
    if pattern is None:
        return True
    if isinstance(pattern, str):
        return path == pattern
    return pattern.fullmatch(path) is not None


@dataclass
class Request:
    """One HTTP request (OAuth or Helix). `path` is the full path, e.g. `/helix/moderation/chat`;
    `query` keeps the first value of each key (`query_items` keeps them all); `at` and `done_at`
    are `time.perf_counter()` on arrival and when the answer was ready."""

    method: str
    path: str
    query: dict[str, str]
    query_items: list[tuple[str, str]]
    headers: dict[str, str]
    json: Any = None
    at: float = 0.0
    status: int = 0
    response: Any = None
    done_at: float = 0.0
    token_user_id: str | None = None  # owner of the bearer token; None for an app token or none
    token_is_app: bool = False
    response_headers: dict[str, str] = field(default_factory=dict)

    def matches(self, method: str | None, path: PathMatch) -> bool:
        if method is not None and self.method != method.upper():
            return False
        return path_matches(self.path, path)

    def header(self, name: str) -> str:
        """A request header, whatever its case; "" if absent."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), "")

    def __repr__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query_items)
        return f"<{self.method} {self.path}{'?' + query if query else ''} -> {self.status}>"


@dataclass
class Notification:
    """One EventSub frame sent to one websocket session; `at`: perf_counter just before sending."""

    message_id: str
    subscription_type: str
    subscription_version: str
    subscription_id: str
    session_id: str
    event: Json
    frame: str
    at: float
    redelivery: bool = False


@dataclass
class ChatLine:
    """A chat message the local Twitch knows of, for the Delete Chat Messages rules."""

    message_id: str
    broadcaster_id: str
    chatter_id: str
    text: str
    sent_at: datetime
    deleted: bool = False
    deleted_by: str | None = None


@dataclass
class Deletion:
    message_id: str
    broadcaster_id: str
    moderator_id: str
    chatter_id: str
    at: float


@dataclass
class ChatClear:
    """A Delete Chat Messages call WITHOUT message_id: it wipes the whole chat. Never wanted."""

    broadcaster_id: str
    moderator_id: str
    request: Request


@dataclass
class Ban:
    broadcaster_id: str
    moderator_id: str
    user_id: str
    duration: int | None  # None = permanent ban
    reason: str
    created_at: datetime
    end_time: datetime | None
    at: float
    lifted: bool = False  # unbanned

    @property
    def is_timeout(self) -> bool:
        return self.duration is not None


@dataclass
class ChatWarning:
    broadcaster_id: str
    moderator_id: str
    user_id: str
    reason: str
    at: float


@dataclass
class SentChat:
    broadcaster_id: str
    sender_id: str
    message_id: str
    text: str
    reply_parent_message_id: str | None
    at: float


@dataclass
class HeldMessage:
    """A message AutoMod holds for review (its hold event by subscription version) and how it
    was resolved."""

    message_id: str
    broadcaster_id: str
    user_id: str
    text: str
    events: dict[str, Json]
    status: str = "pending"  # Approved or Denied once resolved
    resolved_by: str | None = None


@dataclass
class Delivery:
    """An event the local Twitch sent, and the notifications that carried it (one per matching
    subscription; empty when nobody had subscribed)."""

    message_id: str  # the chat message, whisper or held message id
    event: Json
    notifications: list[Notification]

    @property
    def at(self) -> float:
        """perf_counter when the first notification went out."""
        return self.notifications[0].at


@dataclass
class AutomodResolution:
    msg_id: str
    moderator_id: str
    action: str  # ALLOW or DENY
    at: float


@dataclass
class InboundFrame:
    """Something a client sent on the EventSub websocket (Twitch closes with 4001 for it)."""

    session_id: str
    data: Any
    at: float


@dataclass
class Fault:
    """Answer the next `count` requests matching `method`/`path` with `status` and `body`."""

    status: int
    count: int = 1
    method: str | None = None
    path: PathMatch = None
    message: str = ""
    hits: int = 0

    def take(self, request: Request) -> bool:
        if self.count <= 0 or not request.matches(self.method, self.path):
            return False
        self.count -= 1
        self.hits += 1
        return True


@dataclass
class Subscription:
    """An EventSub subscription with a websocket transport."""

    id: str
    type: str
    version: str
    condition: dict[str, str]
    session_id: str
    user_id: str
    client_id: str
    created_at: datetime
    status: str = "enabled"
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None
    cost: int = 0
    extra: Json = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.status == "enabled"

    def helix(self) -> Json:
        transport: Json = {"method": "websocket", "session_id": self.session_id}
        if self.connected_at is not None:
            transport["connected_at"] = rfc3339(self.connected_at)
        if self.disconnected_at is not None:
            transport["disconnected_at"] = rfc3339(self.disconnected_at)
        return {
            "id": self.id,
            "status": self.status,
            "type": self.type,
            "version": self.version,
            "condition": dict(self.condition),
            "created_at": rfc3339(self.created_at),
            "transport": transport,
            "cost": self.cost,
        }
