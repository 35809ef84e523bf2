"""What the sandbox saw and sent, kept so tests and benchmarks can inspect and await it."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from bot.sandbox.discord.model import Json

PathMatch = str | re.Pattern[str] | None


@dataclass
class UploadedFile:
    """A file part of a multipart request (`files[n]`)."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    """One HTTP request to the sandbox; `path` drops the /api/v10 prefix; times are perf_counter."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    files: list[UploadedFile] = field(default_factory=list)
    at: float = 0.0
    status: int = 0
    response: Any = None
    done_at: float = 0.0

    @property
    def reason(self) -> str | None:
        """The decoded X-Audit-Log-Reason header, if any."""
        value = self.headers.get("X-Audit-Log-Reason")
        return unquote(value) if value is not None else None

    def matches(self, method: str | None, path: PathMatch) -> bool:
        if method is not None and self.method != method.upper():
            return False
        return path_matches(self.path, path)


@dataclass
class Dispatch:
    """One gateway event sent (or queued) to one session."""

    session_id: str
    seq: int
    event: str
    data: Json
    at: float
    replayed: bool = False


@dataclass
class Frame:
    """One frame a client sent to the gateway."""

    op: int
    data: Any
    at: float


@dataclass
class RateLimitRule:
    """Answer the next `remaining` requests matching `method`/`path` with 429."""

    remaining: int
    method: str | None = None
    path: PathMatch = None
    retry_after: float = 0.05
    is_global: bool = False
    hits: int = 0

    def take(self, request: Request) -> bool:
        if self.remaining <= 0 or not request.matches(self.method, self.path):
            return False
        self.remaining -= 1
        self.hits += 1
        return True


# Where a handler finds the record (parsed body, uploads, headers) of the request it serves.
RECORD = web.RequestKey("sandbox_record", Request)


def path_matches(path: str, pattern: PathMatch) -> bool:
    """Exact match for a string, full match for a regex, anything for None."""
    if pattern is None:
        return True
    if isinstance(pattern, str):
        return path == pattern
    return pattern.fullmatch(path) is not None


@dataclass
class InteractionRecord:
    """An interaction the sandbox dispatched, and how the client answered it."""

    id: int
    token: str
    type: int
    payload: Json
    channel_id: int
    guild_id: int | None
    user_id: int
    callbacks: list[Json] = field(default_factory=list)
    original: Json | None = None
    followups: list[Json] = field(default_factory=list)
    responded: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def message(self) -> Json | None:
        """The message whose component was used (component interactions only)."""
        message: Json | None = self.payload.get("message")
        return message

    async def wait_response(self, timeout: float = 5.0) -> Json:
        """The first callback body (`{"type": ..., "data": ...}`) once the client answers."""
        try:
            await asyncio.wait_for(self.responded.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"interaction {self.id} got no callback in {timeout}s") from None
        return self.callbacks[0]
