"""Encrypted session cookies, CSRF tokens, roles, and rate-limited login by password or link.

The cookie is sealed with AES-GCM under a key derived (HKDF) from the vault master key, so
there is one secret to keep; it holds a CSRF nonce and, once logged in, a random session id
whose digest is the server-side session row (logging out or disabling a user ends it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
from typing import Any
from urllib.parse import quote

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.review.web.accounts import actor_for
from bot.review.web.context import (
    SESSION,
    Handler,
    Session,
    dash,
    local_path,
    public,
    render,
    session,
)
from bot.settings import Settings
from bot.storage.users import DashboardUser, verify_password

log = logging.getLogger(__name__)

_COOKIE_AAD = b"shield-dashboard-cookie-v1"
_NONCE_BYTES = 12  # AES-GCM
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_ANONYMOUS = 16 * 1024  # bytes a visitor who is not logged in may post (a login form)
FAILED = "Wrong name or password, or that account cannot log in."  # the same for every cause
TOO_MANY = "Too many failed attempts. Wait 15 minutes, or ask an admin for a login link."


def derive_keys(root: bytes) -> tuple[bytes, bytes]:
    """The cookie encryption key and the CSRF key, derived from the vault master key."""
    okm = HKDF(algorithm=SHA256(), length=64, salt=None, info=b"shield-dashboard-v1").derive(root)
    return okm[:32], okm[32:]


def load_secret_key(settings: Settings) -> bytes:
    """The root secret of the dashboard's keys: the vault master key (created if missing)."""
    from bot.review.vault import load_master_key

    return load_master_key(settings)


class CookieBox:
    """Seals small JSON objects into cookie values that cannot be read or forged."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, data: dict[str, Any]) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        plain = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        sealed = self._aead.encrypt(nonce, plain, _COOKIE_AAD)
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, text: str) -> dict[str, Any] | None:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _COOKIE_AAD)
            data = json.loads(plain)
        except (ValueError, InvalidTag, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None


def csrf_token(key: bytes, nonce: str) -> str:
    """The form token for this visitor: bound to their cookie, useless to anyone else."""
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def _secure(request: web.Request) -> bool:
    return request.secure or dash(request).secure_cookies


def cookie_names(request: web.Request) -> tuple[str, str]:
    """(the logged-in cookie, the visitor cookie). Two cookies, because under SameSite=Strict a
    link from another site (Discord) arrives without the login cookie: answering it with a
    visitor cookie must not overwrite the login. The __Host- prefix makes browsers refuse the
    cookie unless it is Secure, host-only and for path /."""
    prefix = "__Host-" if _secure(request) else ""
    return f"{prefix}shield", f"{prefix}shield-visitor"


def _open(request: web.Request, name: str) -> dict[str, Any] | None:
    raw = request.cookies.get(name)
    data = dash(request).cookies.open(raw) if raw else None
    return data if data and isinstance(data.get("n"), str) else None


def _flashes(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), str(t)) for k, t in data.get("f") or [] if isinstance(t, str)]


def _load(request: web.Request) -> Session:
    logged_in, visitor = cookie_names(request)
    data = _open(request, logged_in)
    if data is not None and isinstance(data.get("s"), str):
        found = dash(request).users.session_user(data["s"])
        if found is not None:
            return Session(data["n"], data["s"], found, _flashes(data))
        # Ended, expired or disabled: a visitor again (the stale cookie is deleted).
        return Session(nonce=secrets.token_urlsafe(24), changed=True)
    data = _open(request, visitor)
    if data is not None:
        return Session(nonce=data["n"], flashes=_flashes(data))
    return Session(nonce=secrets.token_urlsafe(24), changed=True)


def _store(request: web.Request, response: web.StreamResponse, current: Session) -> None:
    if response.prepared:
        return
    logged_in, visitor = cookie_names(request)
    keep, drop = (logged_in, visitor) if current.session_id else (visitor, logged_in)
    secure = _secure(request)
    if drop in request.cookies:
        response.del_cookie(drop, path="/", secure=secure, httponly=True, samesite="Strict")
    if not current.changed:
        return
    payload = {"n": current.nonce, "s": current.session_id, "f": current.flashes}
    hours = dash(request).app.settings.dashboard.session_hours
    response.set_cookie(
        keep,
        dash(request).cookies.seal(payload),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
        max_age=hours * 3600 if current.session_id else None,
    )


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read the visitor's session from the cookie, and write it back if it changed."""
    current = _load(request)
    request[SESSION] = current
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _store(request, exc, current)
        raise
    _store(request, response, current)
    return response


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Default deny: every route needs a login and a role unless marked public."""
    needed = getattr(request.match_info.handler, "shield_role", "viewer")
    if needed is None:
        return await handler(request)
    current = session(request).user
    if current is None:
        if request.method in SAFE_METHODS:
            target = request.path_qs if request.path != "/" else "/"
            raise web.HTTPSeeOther(f"/login?next={quote(target, safe='/')}")
        raise web.HTTPForbidden(text="log in first")
    if not current.can(needed):
        return render(
            request,
            "error.html",
            status=403,
            title="Not allowed",
            message=f"Your role ({current.role}) cannot do this; it needs {needed}.",
        )
    return await handler(request)


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every POST carries the visitor's CSRF token, and comes from this site if it says where."""
    if request.method in SAFE_METHODS:
        return await handler(request)
    if (
        session(request).user is None
        and (request.content_length or MAX_ANONYMOUS + 1) > MAX_ANONYMOUS
    ):
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_ANONYMOUS, actual_size=request.content_length or 0
        )
    # With Referrer-Policy no-referrer, Chromium sends `Origin: null` even for our own forms,
    # so only a real other origin is refused here; the token and SameSite=Strict do the rest.
    origin = request.headers.get("Origin")
    if origin not in (None, "null") and origin not in _own_origins(request):
        raise web.HTTPForbidden(text="cross-site request refused")
    form = await request.post()
    sent = request.headers.get("X-CSRF-Token") or form.get("csrf")
    expected = csrf_token(dash(request).csrf_key, session(request).nonce)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        return render(
            request,
            "error.html",
            status=403,
            title="Form expired",
            message="This form is out of date or did not come from this site. Go back, reload "
            "the page and try again.",
        )
    return await handler(request)


def _own_origins(request: web.Request) -> set[str]:
    origins = {f"{request.scheme}://{request.host}"}
    public_url = dash(request).app.settings.dashboard.public_url
    if public_url:
        parts = public_url.split("/")
        origins.add("/".join(parts[:3]))
    return origins


def start_session(request: web.Request, user: DashboardUser, how: str) -> None:
    """Log `user` in: a new session id and a new CSRF nonce (no session fixation)."""
    d = dash(request)
    current = session(request)
    if current.session_id:
        d.users.end_session(current.session_id)
    current.session_id = d.users.new_session(user.id, hours=d.app.settings.dashboard.session_hours)
    current.user = user
    current.nonce = secrets.token_urlsafe(24)
    current.changed = True
    d.app.audit.record(actor_for(user), "dashboard.login", detail={"method": how})


# ----- handlers ---------------------------------------------------------------------------


@public
async def login_page(request: web.Request) -> web.StreamResponse:
    target = local_path(request.query.get("next", ""), "/")
    if session(request).user is not None:
        raise web.HTTPSeeOther(target)
    return render(request, "login.html", title="Log in", next=target, error=None, name="")


@public
async def login_submit(request: web.Request) -> web.StreamResponse:
    """Check a password; per-address and per-name limits stop guessing."""
    d = dash(request)
    form = await request.post()
    name = str(form.get("name", "")).strip().lower()[:64]
    password = str(form.get("password", ""))
    target = local_path(str(form.get("next", "")), "/")
    address = request.remote or "unknown"
    if d.login_by_ip.blocked(("ip", address)) or d.login_by_user.blocked(("user", name)):
        log.warning("dashboard login refused (rate limit) from %s", address)
        return render(
            request,
            "login.html",
            status=429,
            title="Log in",
            next=target,
            error=TOO_MANY,
            name=name,
        )
    user_id, stored = d.users.login_record(name)
    matched = await asyncio.to_thread(verify_password, password, stored)  # CPU only, no database
    found = d.users.by_id(user_id) if matched and user_id is not None else None
    if found is None or found.disabled:
        d.login_by_ip.fail(("ip", address))
        d.login_by_user.fail(("user", name))
        log.warning("failed dashboard login from %s", address)
        return render(
            request, "login.html", status=401, title="Log in", next=target, error=FAILED, name=name
        )
    start_session(request, found, "password")
    raise web.HTTPSeeOther(target)


@public
async def link_page(request: web.Request) -> web.StreamResponse:
    """The page a login link opens: a button, so link previews cannot spend the token."""
    token = request.query.get("t", "")[:200]
    return render(request, "link.html", title="Log in", token=token, error=None)


@public
async def link_submit(request: web.Request) -> web.StreamResponse:
    d = dash(request)
    form = await request.post()
    address = request.remote or "unknown"
    if d.login_by_ip.blocked(("ip", address)):
        return render(request, "link.html", status=429, title="Log in", token="", error=TOO_MANY)
    found = d.users.redeem_login_token(str(form.get("token", "")))
    if found is None:
        d.login_by_ip.fail(("ip", address))
        message = "This login link has expired or was already used. Ask for a new one."
        return render(request, "link.html", status=401, title="Log in", token="", error=message)
    start_session(request, found, "link")
    raise web.HTTPSeeOther("/")


@public
async def logout(request: web.Request) -> web.StreamResponse:
    d = dash(request)
    current = session(request)
    if current.session_id:
        d.users.end_session(current.session_id)
    current.session_id, current.user = None, None
    current.nonce, current.flashes, current.changed = secrets.token_urlsafe(24), [], True
    current.flash("You are logged out.")
    raise web.HTTPSeeOther("/login")


@public
async def stylesheet(request: web.Request) -> web.StreamResponse:
    from bot.review.web.templates import STATIC

    response = web.Response(
        body=(STATIC / "shield.css").read_bytes(), content_type="text/css", charset="utf-8"
    )
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
