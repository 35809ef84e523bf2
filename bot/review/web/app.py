"""The dashboard's aiohttp application: routes, middlewares, security headers, and serving it.

`make_app` builds it over an App and the evidence vault; `start_dashboard` serves it beside the
bots (`shield run`), `serve` alone (`shield dashboard`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.errors import ShieldError
from bot.review.vault import EvidenceVault, VaultKeyError
from bot.review.web import admin, auth, manage, pages
from bot.review.web.context import DASHBOARD, Dashboard, Handler, render
from bot.review.web.templates import Templates
from bot.review.workflow import ReviewService
from bot.storage.users import UserRepo

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MAX_UPLOAD = 64 * 1024 * 1024  # bytes per request: a large list file, never media
CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every response, errors included: no framing, no referrer, no sniffing, no caching."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("Cache-Control", "no-store")
    for name, value in HEADERS.items():
        response.headers[name] = value
    if request.secure or request.app[DASHBOARD].secure_cookies:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors as pages that say what to do: never a traceback, never a raw exception."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.text if exc.text and not exc.text[:3].isdigit() else exc.reason
        return render(request, "error.html", status=exc.status, title=exc.reason, message=message)
    except VaultKeyError as exc:
        return render(request, "error.html", status=503, title="Vault locked", message=str(exc))
    except ShieldError as exc:
        return render(request, "error.html", status=400, title="Cannot do that", message=str(exc))
    except Exception:
        log.exception("dashboard error on %s %s", request.method, request.path)
        return render(
            request,
            "error.html",
            status=500,
            title="Something went wrong",
            message="The error is in Shield's log.",
        )


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Logs method, path and status, never the query (login links carry their token there)."""

    def log(self, request: Any, response: Any, time: float) -> None:
        self.logger.info(
            "%s %s %s %s %.0fms",
            request.remote,
            request.method,
            request.path,
            response.status,
            time * 1000,
        )


def _routes(web_app: web.Application) -> None:
    add: Callable[..., Any]
    r = web_app.router
    for method, path, handler in (
        ("GET", "/", pages.queue),
        ("GET", "/cases/{case_id:\\d+}", pages.case_page),
        ("POST", "/cases/{case_id:\\d+}/{action:confirm|dismiss}", pages.decide),
        ("GET", "/cases/{case_id:\\d+}/packet.{fmt:json|html}", pages.packet),
        ("GET", "/evidence/{evidence_id:\\d+}/preview", pages.preview),
        ("POST", "/evidence/{evidence_id:\\d+}/reveal", pages.reveal),
        ("GET", "/evidence/{evidence_id:\\d+}/revealed", pages.revealed),
        ("GET", "/evidence/{evidence_id:\\d+}/original", pages.original),
        ("POST", "/evidence/{evidence_id:\\d+}/hold", pages.hold),
        ("GET", "/lists", manage.lists_page),
        ("POST", "/lists/add", manage.list_add),
        ("POST", "/lists/import", manage.list_import),
        ("GET", "/lists/{name}", manage.list_page),
        ("POST", "/lists/{name}/toggle", manage.list_toggle),
        ("GET", "/banks", manage.banks_page),
        ("POST", "/banks/add", manage.bank_add),
        ("POST", "/banks/import", manage.bank_import),
        ("GET", "/banks/{name}", manage.bank_page),
        ("POST", "/banks/{name}/toggle", manage.bank_toggle),
        ("GET", "/audit", admin.audit),
        ("GET", "/stats", admin.stats),
        ("GET", "/settings", admin.settings_index),
        ("GET", "/settings/{community}", admin.settings_page),
        ("POST", "/settings/{community}", admin.settings_save),
        ("GET", "/users", admin.users_page),
        ("POST", "/users", admin.users_save),
        ("GET", "/login", auth.login_page),
        ("POST", "/login", auth.login_submit),
        ("GET", "/login/link", auth.link_page),
        ("POST", "/login/link", auth.link_submit),
        ("POST", "/logout", auth.logout),
        ("GET", "/static/shield.css", auth.stylesheet),
    ):
        add = r.add_get if method == "GET" else r.add_post
        add(path, handler)


def make_app(
    app: App, vault: EvidenceVault | None, *, secret_key: bytes | None = None
) -> web.Application:
    """The dashboard over `app`; without a vault (or its key) it shows no media at all.

    `secret_key` is the root of the cookie and CSRF keys (default: the vault master key).
    """
    root = secret_key if secret_key is not None else auth.load_secret_key(app.settings)
    cookie_key, csrf_key = auth.derive_keys(root)
    public_url = app.settings.dashboard.public_url or ""
    web_app = web.Application(
        middlewares=[
            auth.session_middleware,
            errors_middleware,
            auth.access_middleware,
            auth.csrf_middleware,
        ],
        client_max_size=MAX_UPLOAD,
    )
    web_app[DASHBOARD] = Dashboard(
        app=app,
        vault=vault or EvidenceVault(app.db, None, app.settings),
        # The vault has no public "is the key loaded" yet: its key object is None without one.
        vault_open=vault is not None and vault.has_key,
        review=ReviewService(app),
        users=UserRepo(app.db),
        cookies=auth.CookieBox(cookie_key),
        csrf_key=csrf_key,
        templates=Templates(),
        secure_cookies=public_url.startswith("https://"),
    )
    web_app.on_response_prepare.append(_security_headers)
    _routes(web_app)
    return web_app


async def start_dashboard(
    app: App,
    vault: EvidenceVault | None,
    *,
    host: str | None = None,
    port: int | None = None,
    secret_key: bytes | None = None,
) -> web.AppRunner:
    """Serve the dashboard on settings.dashboard's address (or the one given); call
    `await runner.cleanup()` to stop. Port 0 picks a free port (see `runner.addresses`)."""
    settings = app.settings.dashboard
    runner = web.AppRunner(
        make_app(app, vault, secret_key=secret_key), access_log_class=PathOnlyAccessLogger
    )
    await runner.setup()
    site = web.TCPSite(runner, host or settings.host, settings.port if port is None else port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        where = f"{host or settings.host}:{settings.port if port is None else port}"
        raise ShieldError(
            f"cannot serve the dashboard on {where}: {exc.strerror or exc} "
            "(is another program using the port? set [dashboard] port)"
        ) from None
    return runner


async def serve(
    app: App,
    vault: EvidenceVault | None,
    *,
    host: str | None = None,
    port: int | None = None,
    secret_key: bytes | None = None,
    ready: Callable[[list[Any]], None] | None = None,
) -> None:
    """Serve until cancelled (Ctrl+C); `ready` is told the addresses once listening."""
    runner = await start_dashboard(app, vault, host=host, port=port, secret_key=secret_key)
    try:
        if ready is not None:
            ready(list(runner.addresses))
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
