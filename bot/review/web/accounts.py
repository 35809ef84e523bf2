"""Dashboard accounts as the CLI and the Discord command use them: passwords and login links.

No web framework here, so a slash command can hand out a link without importing aiohttp.
Every change is written to the audit log; secrets never are.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING
from urllib.parse import quote

from bot.errors import InputError
from bot.settings import Settings
from bot.storage.users import (
    DashboardUser,
    UserRepo,
    check_name,
    check_password_rules,
    check_role,
)

if TYPE_CHECKING:
    from bot.app import App

LINK_MINUTES = 15  # a login link lasts this long, and works once
MAX_LINK_MINUTES = 24 * 60


def actor_for(user: DashboardUser) -> str:
    """The audit-log actor: platform accounts (discord:ID) as themselves, others as web:NAME."""
    return user.name if ":" in user.name else f"web:{user.name}"


def dashboard_url(settings: Settings) -> str:
    """Where people reach the dashboard: `public_url`, else the address it listens on."""
    if settings.dashboard.public_url:
        return settings.dashboard.public_url.rstrip("/")
    host = settings.dashboard.host
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a host name
    return f"http://{host}:{settings.dashboard.port}"


def set_password(
    app: App, name: str, password: str, *, role: str | None, by: str
) -> tuple[DashboardUser, bool]:
    """Set a user's password (creating the user, as admin unless told otherwise); ends their
    sessions. Returns the user and whether it was created."""
    check_password_rules(password)  # before anything is created
    users = UserRepo(app.db)
    user, created = users.ensure(check_name(name), check_role(role or "admin"), by=by)
    if role is not None and not created and role != user.role:
        users.set_role(user.id, role)
    users.set_password(user.id, password)
    if user.disabled:
        users.set_disabled(user.id, False)
    app.audit.record(
        by,
        "dashboard.password",
        f"dashboard-user:{user.name}",
        detail={"created": created, "role": role or user.role},
    )
    final = users.get(user.name)
    assert final is not None
    return final, created


def login_link(
    app: App, name: str, *, by: str, role: str | None = None, minutes: int = LINK_MINUTES
) -> str:
    """A one-time login URL for `name` (created with `role`, moderator by default, if new).

    The Discord `/shield dashboard` command calls this with the moderator's `discord:ID`.
    The link opens a page with a button: previews that fetch links (Discord's) cannot use it.
    """
    if not 1 <= minutes <= MAX_LINK_MINUTES:
        raise ValueError(f"a login link lasts 1 to {MAX_LINK_MINUTES} minutes")
    users = UserRepo(app.db)
    user, created = users.ensure(check_name(name), check_role(role or "moderator"), by=by)
    if role is not None and not created and role != user.role:
        users.set_role(user.id, role)
    if user.disabled:
        raise InputError(f"dashboard user {user.name} is disabled: enable them first")
    token = users.new_login_token(user.id, by=by, minutes=minutes)
    app.audit.record(
        by,
        "dashboard.login-link",
        f"dashboard-user:{user.name}",
        detail={"created": created, "minutes": minutes},
    )
    return f"{dashboard_url(app.settings)}/login/link?t={quote(token)}"
