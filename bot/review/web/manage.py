"""Lists and banks pages: show, add, disable or enable, import an uploaded file. All audited."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from bot.core.listformats import FORMATS as LIST_FORMATS
from bot.core.listformats import BadLine
from bot.core.signals import SIGNAL_TYPES, signal_type
from bot.core.verdict import Tier
from bot.errors import InputError
from bot.lists import add_rule, import_file, parse_user_rule
from bot.media import banking
from bot.media.hashlists import FORMATS as BANK_FORMATS
from bot.review.web.context import actor, dash, render, requires, session, user
from bot.review.web.queries import bank_entries, list_entries
from bot.storage.banks import NewBankEntry

ENTRIES_PAGE = 200  # rules or hashes per page
T = TypeVar("T")


def _tier(text: str) -> Tier | None:
    if not text.strip():
        return None
    try:
        return Tier.parse(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _text(form: object, key: str, limit: int = 500) -> str:
    value = form.get(key, "")  # type: ignore[attr-defined]
    return str(value).strip()[:limit] if isinstance(value, str) else ""


def _page(request: web.Request) -> int:
    text = request.query.get("page", "1")
    return max(1, int(text)) if text.isdigit() and len(text) < 7 else 1


def _bad(bad: list[BadLine], count: int) -> str:
    if not count:
        return ""
    first = "; ".join(f"line {b.line}: {b.reason}" for b in bad[:3])
    return f", {count} bad lines ({first})"


async def _upload(request: web.Request, run: Callable[[Path, dict[str, str]], T]) -> T:
    """Save the uploaded `file` under its own (cleaned) name in a private temporary folder and
    run the import on it; list and hash files hold no media."""
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise InputError("choose a file to import")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(upload.filename or "upload").name)[:80]
    with tempfile.TemporaryDirectory(prefix="shield-import-") as folder:
        path = Path(folder) / (name.lstrip(".") or "upload.txt")
        with path.open("wb") as out:
            while chunk := upload.file.read(1 << 16):
                out.write(chunk)
        return run(path, fields)


# ----- lists ------------------------------------------------------------------------------


@requires("viewer")
async def lists_page(request: web.Request) -> web.StreamResponse:
    return render(
        request,
        "lists.html",
        title="Lists",
        lists=dash(request).app.lists.all(),
        tiers=[t.value for t in Tier],
        formats=("auto", *LIST_FORMATS),
        moderator=user(request).can("moderator"),
    )


@requires("viewer")
async def list_page(request: web.Request) -> web.StreamResponse:
    d = dash(request)
    info = d.app.lists.get(request.match_info["name"])
    if info is None:
        raise web.HTTPNotFound(text="there is no such list")
    q = request.query.get("q", "")[:200]
    page = _page(request)
    rows, total = list_entries(
        d.app.db, info.id, q=q, limit=ENTRIES_PAGE, offset=(page - 1) * ENTRIES_PAGE
    )
    return render(
        request,
        "list.html",
        title=f"List {info.name}",
        info=info,
        rows=rows,
        total=total,
        q=q,
        page=page,
        pages=max(1, -(-total // ENTRIES_PAGE)),
        tiers=[t.value for t in Tier],
        moderator=user(request).can("moderator"),
    )


@requires("moderator")
async def list_add(request: web.Request) -> web.StreamResponse:
    d = dash(request)
    form = await request.post()
    name = _text(form, "list", 64)
    rule, added = add_rule(
        d.app,
        name,
        _text(form, "rule", 300),
        tier=_tier(_text(form, "tier")),
        actor=actor(request),
        note=_text(form, "note") or None,
    )
    d.app.reload()
    word = "added to" if added else "was already in"
    session(request).flash(f"{rule.value} {word} list {name}.")
    raise web.HTTPSeeOther(f"/lists/{name}")


@requires("moderator")
async def list_toggle(request: web.Request) -> web.StreamResponse:
    """Stop or resume using a whole list, or one rule of it (nothing is deleted)."""
    d = dash(request)
    info = d.app.lists.get(request.match_info["name"])
    if info is None:
        raise web.HTTPNotFound(text="there is no such list")
    form = await request.post()
    enabled = _text(form, "enabled") == "1"
    word = "enable" if enabled else "disable"
    if text := _text(form, "rule", 300):
        rule = parse_user_rule(text)
        if not d.app.lists.set_entry_enabled(info.id, rule, enabled):
            raise InputError(f"{rule.value} is not in list {info.name}")
        d.app.audit.record(
            actor(request), f"list.rule-{word}", info.name, detail={"rule": rule.value}
        )
        session(request).flash(f"{rule.value} {word}d in list {info.name}.")
    else:
        d.app.lists.set_enabled(info.id, enabled)
        d.app.audit.record(actor(request), f"list.{word}", info.name)
        session(request).flash(f"List {info.name} {word}d.")
    d.app.reload()
    raise web.HTTPSeeOther(f"/lists/{info.name}" if text else "/lists")


@requires("moderator")
async def list_import(request: web.Request) -> web.StreamResponse:
    d = dash(request)

    def run(path: Path, fields: dict[str, str]) -> str:
        report = import_file(
            d.app,
            path,
            list_name=fields.get("list", "").strip()[:64],
            tier=_tier(fields.get("tier", "")) or Tier.BLOCK,
            fmt=fields.get("format", "auto"),
            actor=actor(request),
        )
        return (
            f"Imported {path.name} into list {report.list_name} ({report.format}): "
            f"{report.added} added, {report.existing} already there"
            f"{_bad(report.bad, len(report.bad))}."
        )

    session(request).flash(await _upload(request, run))
    d.app.reload()
    raise web.HTTPSeeOther("/lists")


# ----- banks ------------------------------------------------------------------------------


@requires("viewer")
async def banks_page(request: web.Request) -> web.StreamResponse:
    return render(
        request,
        "banks.html",
        title="Banks",
        banks=dash(request).app.banks.all(),
        tiers=[t.value for t in Tier],
        formats=BANK_FORMATS,
        signals=[s.name for s in SIGNAL_TYPES],
        moderator=user(request).can("moderator"),
    )


@requires("viewer")
async def bank_page(request: web.Request) -> web.StreamResponse:
    """A bank's entries; hash values only for moderators (perceptual hashes are sensitive)."""
    d = dash(request)
    info = d.app.banks.get(request.match_info["name"])
    if info is None:
        raise web.HTTPNotFound(text="there is no such bank")
    page = _page(request)
    rows, total = bank_entries(
        d.app.db, info.id, limit=ENTRIES_PAGE, offset=(page - 1) * ENTRIES_PAGE
    )
    return render(
        request,
        "bank.html",
        title=f"Bank {info.name}",
        info=info,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // ENTRIES_PAGE)),
        moderator=user(request).can("moderator"),
    )


@requires("moderator")
async def bank_add(request: web.Request) -> web.StreamResponse:
    """Add one known hash by value (files are hashed locally with `shield bank add`)."""
    d = dash(request)
    form = await request.post()
    try:
        kind = signal_type(_text(form, "signal", 16))
        value = kind.validate(_text(form, "value", 200))
    except ValueError as exc:
        raise InputError(str(exc)) from None
    info = banking.ensure_bank(
        d.app.banks,
        d.app.audit,
        _text(form, "bank", 64),
        tier=_tier(_text(form, "tier")),
        actor=actor(request),
    )
    entry = NewBankEntry(
        kind.name, value, source="added on the dashboard", note=_text(form, "note") or None
    )
    added, _ = d.app.banks.add_entries(info.id, [entry], added_by=actor(request))
    d.app.audit.record(
        actor(request),
        "bank.add",
        info.name,
        detail={"signal_type": kind.name, "value": value, "added": added},
    )
    d.app.reload()
    session(request).flash(
        f"{kind.name} hash {'added to' if added else 'was already in'} bank {info.name}."
    )
    raise web.HTTPSeeOther(f"/banks/{info.name}")


@requires("moderator")
async def bank_toggle(request: web.Request) -> web.StreamResponse:
    """Stop or resume using a whole bank, or one entry of it (nothing is deleted)."""
    d = dash(request)
    name = request.match_info["name"]
    form = await request.post()
    enabled = _text(form, "enabled") == "1"
    entry = _text(form, "entry", 12)
    if entry:
        if not entry.isdigit():
            raise InputError("give the entry's id")
        banking.set_entries_enabled(
            d.app.banks, d.app.audit, [entry], enabled=enabled, actor=actor(request), bank=name
        )
        session(request).flash(f"Entry {entry} {'enabled' if enabled else 'disabled'}.")
    else:
        banking.set_bank_enabled(
            d.app.banks, d.app.audit, name, enabled=enabled, actor=actor(request)
        )
        session(request).flash(f"Bank {name} {'enabled' if enabled else 'disabled'}.")
    d.app.reload()
    raise web.HTTPSeeOther(f"/banks/{name}" if entry else "/banks")


@requires("moderator")
async def bank_import(request: web.Request) -> web.StreamResponse:
    d = dash(request)

    def run(path: Path, fields: dict[str, str]) -> str:
        report = banking.import_file(
            d.app.banks,
            d.app.audit,
            path,
            bank=fields.get("bank", "").strip()[:64],
            tier=_tier(fields.get("tier", "")),
            fmt=fields.get("format", "auto"),
            actor=actor(request),
        )
        return (
            f"Imported {path.name} into bank {report.bank} ({report.format}): "
            f"{report.added} added, {report.existing} already there"
            f"{_bad(report.bad, report.bad_count)}."
        )

    session(request).flash(await _upload(request, run))
    d.app.reload()
    raise web.HTTPSeeOther("/banks")
