"""What every dashboard handler shares: the services, the session, roles and page rendering."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from bot.review.web.accounts import actor_for
from bot.review.web.templates import Templates
from bot.storage.users import ROLES, DashboardUser, UserRepo

if TYPE_CHECKING:
    from bot.app import App
    from bot.review.vault import EvidenceVault
    from bot.review.web.auth import CookieBox
    from bot.review.workflow import ReviewService

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

LOGIN_USER_ATTEMPTS = 5  # failed logins per user name per window before it is locked
LOGIN_IP_ATTEMPTS = 20  # failed logins (or bad links) per address per window
LOGIN_WINDOW_SECONDS = 15 * 60
MAX_FLASH = 3  # messages carried to the next page (in the cookie, which must stay under 4 KB)
MAX_FLASH_CHARS = 240


class RateLimiter:
    """At most `attempts` failures per key in a sliding window (in memory, per process)."""

    def __init__(
        self, attempts: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._hits: defaultdict[Hashable, deque[float]] = defaultdict(deque)

    def _live(self, key: Hashable) -> deque[float]:
        hits = self._hits[key]
        limit = self.clock() - self.window
        while hits and hits[0] <= limit:
            hits.popleft()
        if not hits:
            del self._hits[key]  # forget idle keys, so the table cannot grow without end
        return hits

    def blocked(self, key: Hashable) -> bool:
        return len(self._live(key)) >= self.attempts

    def fail(self, key: Hashable) -> None:
        hits = self._live(key)
        hits.append(self.clock())
        self._hits[key] = hits


@dataclass
class RevealTicket:
    """Permission to load one original once, shortly after a moderator gave a reason."""

    evidence_id: int
    session_id: str
    reason: str
    expires: float


@dataclass
class Session:
    """The visitor's cookie: a CSRF nonce, the server-side session id once logged in, messages."""

    nonce: str
    session_id: str | None = None
    user: DashboardUser | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)
    changed: bool = False

    def flash(self, text: str, kind: str = "ok") -> None:
        short = text if len(text) <= MAX_FLASH_CHARS else text[: MAX_FLASH_CHARS - 1] + "…"
        self.flashes = [*self.flashes, (kind, short)][-MAX_FLASH:]
        self.changed = True


@dataclass
class Dashboard:
    """The services the handlers work over, built once by make_app."""

    app: App
    vault: EvidenceVault  # without the key it lists and holds evidence, but shows none
    vault_open: bool  # whether the vault key is loaded (previews and reveals work)
    review: ReviewService
    users: UserRepo
    cookies: CookieBox
    csrf_key: bytes
    templates: Templates
    secure_cookies: bool
    login_by_user: RateLimiter = field(
        default_factory=lambda: RateLimiter(LOGIN_USER_ATTEMPTS, LOGIN_WINDOW_SECONDS)
    )
    login_by_ip: RateLimiter = field(
        default_factory=lambda: RateLimiter(LOGIN_IP_ATTEMPTS, LOGIN_WINDOW_SECONDS)
    )
    tickets: dict[str, RevealTicket] = field(default_factory=dict)


DASHBOARD = web.AppKey("dashboard", Dashboard)
SESSION = web.RequestKey("session", Session)


def dash(request: web.Request) -> Dashboard:
    return request.app[DASHBOARD]


def session(request: web.Request) -> Session:
    return request[SESSION]


def user(request: web.Request) -> DashboardUser:
    """The logged-in user (the access middleware has made sure there is one)."""
    current = request[SESSION].user
    assert current is not None
    return current


def actor(request: web.Request) -> str:
    return actor_for(user(request))


def requires(role: str) -> Callable[[H], H]:
    """Mark a handler with the least role that may use it (viewer < moderator < admin)."""
    assert role in ROLES

    def mark(handler: H) -> H:
        handler.shield_role = role  # type: ignore[attr-defined]
        return handler

    return mark


def public(handler: H) -> H:
    """Mark a handler anyone may use (login, the stylesheet); all others need a login."""
    handler.shield_role = None  # type: ignore[attr-defined]
    return handler


def render(
    request: web.Request, template: str, /, *, status: int = 200, **values: Any
) -> web.Response:
    """A page from a template; the session's messages are shown once and forgotten."""
    from bot.review.web.auth import csrf_token

    current = request.get(SESSION)
    flashes: list[tuple[str, str]] = []
    if current is not None and current.flashes:
        flashes, current.flashes, current.changed = current.flashes, [], True
    body = dash(request).templates.render(
        template,
        user=current.user if current else None,
        csrf=csrf_token(dash(request).csrf_key, current.nonce) if current else "",
        flashes=flashes,
        path=request.path,
        **values,
    )
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def back(request: web.Request, default: str) -> web.HTTPSeeOther:
    """A redirect after a form: to the local page it names in `next`, else to `default`."""
    return web.HTTPSeeOther(local_path(request.query.get("next", ""), default))


def local_path(target: str, default: str) -> str:
    """`target` if it is a path on this site (no scheme, no host, no //), else `default`."""
    ok = target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target
    return target if ok and all(c.isprintable() for c in target) else default
