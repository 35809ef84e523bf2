"""Oversight pages: the audit log, statistics, per-community settings and dashboard users."""

from __future__ import annotations

from aiohttp import web

from bot.errors import InputError
from bot.review.web.accounts import LINK_MINUTES, actor_for, login_link
from bot.review.web.chart import stacked_bars
from bot.review.web.context import actor, dash, render, requires, session, user
from bot.review.web.queries import (
    SOURCES,
    audit_actions,
    audit_page,
    daily_detections,
    known_communities,
)
from bot.storage.cases import CaseRepo
from bot.storage.communities import REGISTRY, check_community
from bot.storage.users import ROLES, check_role

AUDIT_PAGE = 50  # entries per page
CHART_DAYS = 30


@requires("viewer")
async def audit(request: web.Request) -> web.StreamResponse:
    """The append-only log, newest first, paged by entry id, optionally one action."""
    d = dash(request)
    before_text = request.query.get("before", "")
    before = int(before_text) if before_text.isdigit() and len(before_text) < 12 else None
    action = request.query.get("action", "")[:64] or None
    entries = audit_page(d.app.db, before=before, action=action, limit=AUDIT_PAGE)
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return render(
        request,
        "audit.html",
        title="Audit log",
        entries=entries,
        older=older,
        action=action or "",
        actions=audit_actions(d.app.db),
    )


@requires("viewer")
async def stats(request: web.Request) -> web.StreamResponse:
    """Detections per day by source (an SVG chart drawn on the server), and case totals."""
    d = dash(request)
    days = daily_detections(d.app.db, days=CHART_DAYS)
    totals = CaseRepo(d.app.db).stats()
    return render(
        request,
        "stats.html",
        title="Statistics",
        chart=stacked_bars(days, SOURCES),
        days=days,
        totals=sorted(totals.items()),
        chart_days=CHART_DAYS,
    )


def _configured(request: web.Request) -> list[str]:
    settings = dash(request).app.settings
    return [f"discord:{g.id}" for g in settings.discord.guilds] + [
        f"twitch:{c.login.lower()}" for c in settings.twitch.channels
    ]


@requires("viewer")
async def settings_index(request: web.Request) -> web.StreamResponse:
    wanted = request.query.get("community", "").strip()
    if wanted:
        raise web.HTTPSeeOther(f"/settings/{check_community(wanted)}")
    communities = known_communities(dash(request).app.db, _configured(request))
    return render(
        request,
        "settings.html",
        title="Settings",
        communities=communities,
        community=None,
        values={},
        registry=REGISTRY,
        admin=user(request).can("admin"),
    )


@requires("viewer")
async def settings_page(request: web.Request) -> web.StreamResponse:
    """Every registered key of one community, with defaults for those never set."""
    community = check_community(request.match_info["community"])
    values = dash(request).app.communities.all(community)
    communities = known_communities(dash(request).app.db, _configured(request))
    return render(
        request,
        "settings.html",
        title=f"Settings of {community}",
        communities=communities,
        community=community,
        values=values,
        registry=REGISTRY,
        admin=user(request).can("admin"),
    )


def _shown(value: object) -> str:
    """A stored value as the form shows it, so unchanged fields are recognised."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@requires("admin")
async def settings_save(request: web.Request) -> web.StreamResponse:
    """Store the keys whose value changed; each change is audited as `community.set`."""
    d = dash(request)
    community = check_community(request.match_info["community"])
    form = await request.post()
    current = d.app.communities.all(community)
    changed = []
    for spec in REGISTRY:
        sent = form.get(spec.key)
        if not isinstance(sent, str) or sent.strip() == _shown(current[spec.key]):
            continue
        stored = d.app.communities.set(community, spec.key, sent[:100], updated_by=actor(request))
        d.app.audit.record(
            actor(request), "community.set", spec.key, community=community, detail={"value": stored}
        )
        changed.append(spec.key)
    session(request).flash(f"Saved: {', '.join(changed)}." if changed else "Nothing changed.")
    raise web.HTTPSeeOther(f"/settings/{community}")


@requires("admin")
async def users_page(request: web.Request) -> web.StreamResponse:
    return render(
        request,
        "users.html",
        title="Users",
        users=dash(request).users.all(),
        roles=ROLES,
        link=None,
        link_user=None,
        minutes=LINK_MINUTES,
    )


@requires("admin")
async def users_save(request: web.Request) -> web.StreamResponse:
    """Add a user, change a role, disable or enable; an admin cannot lock themselves out."""
    d = dash(request)
    form = await request.post()
    name = str(form.get("name", "")).strip().lower()[:64]
    op = str(form.get("op", ""))
    me = user(request)
    if op == "add":
        found, created = d.users.ensure(
            name, check_role(str(form.get("role", ""))), by=actor(request)
        )
        d.app.audit.record(
            actor(request),
            "dashboard.user-add",
            f"dashboard-user:{found.name}",
            detail={"role": found.role, "created": created},
        )
        session(request).flash(
            f"User {found.name} ({found.role})"
            + (" added: give them a login link." if created else " exists.")
        )
        raise web.HTTPSeeOther("/users")
    target = d.users.get(name)
    if target is None:
        raise InputError(f"there is no dashboard user {name!r}")
    if target.id == me.id:
        raise InputError("you cannot change your own account here (ask another admin)")
    if op == "role":
        role = check_role(str(form.get("role", "")))
        d.users.set_role(target.id, role)
        d.app.audit.record(
            actor(request), "dashboard.role", f"dashboard-user:{target.name}", detail={"role": role}
        )
        session(request).flash(f"{target.name} is now {role}.")
    elif op in ("disable", "enable"):
        d.users.set_disabled(target.id, op == "disable")
        d.app.audit.record(actor(request), f"dashboard.user-{op}", f"dashboard-user:{target.name}")
        session(request).flash(f"{target.name} {op}d.")
    elif op == "link":
        link = login_link(d.app, target.name, by=actor_for(me))
        return render(
            request,
            "users.html",
            title="Users",
            users=d.users.all(),
            roles=ROLES,
            link=link,
            link_user=target.name,
            minutes=LINK_MINUTES,
        )
    else:
        raise InputError("unknown action")
    raise web.HTTPSeeOther("/users")
