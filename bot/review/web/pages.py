"""The review pages: the case queue, a case, decisions, evidence (blurred or revealed), packets."""

from __future__ import annotations

import json
import logging
import secrets
import time

from aiohttp import web

from bot.core.sniff import sniff
from bot.review.web.context import (
    RevealTicket,
    actor,
    dash,
    render,
    requires,
    session,
    user,
)
from bot.review.web.queries import HASH_SIGNALS, CaseFilter, platforms, search_cases, state_counts
from bot.review.workflow import packet_html
from bot.storage.cases import STATES, Case

log = logging.getLogger(__name__)

PAGE_SIZE = 50  # cases per queue page
REVEAL_SECONDS = 60  # a reveal must be loaded this soon after the reason is given
MIN_REASON = 3  # characters, as the vault asks
# What a confirm may ask of the case's platform, and the words for it.
PLATFORM_ACTIONS = {"ban": "ban the member", "timeout": "time the member out"}
MEMBER_NOTE_CHARS = 500  # a note to the member on dismiss (a Twitch whisper's length)
MIME = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
}
VIDEO_KINDS = ("mp4", "webm", "mov")
# Media responses can never run anything, even if opened on their own.
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def _int(text: str, default: int) -> int:
    return int(text) if text.isdigit() and len(text) < 10 else default


def _case(request: web.Request) -> Case:
    found = dash(request).review.cases.get(_int(request.match_info["case_id"], 0))
    if found is None:
        raise web.HTTPNotFound(text="there is no such case")
    return found


@requires("viewer")
async def queue(request: web.Request) -> web.StreamResponse:
    """Cases newest first, filtered by platform, state and the list or bank that matched."""
    d = dash(request)
    query = request.query
    state = query.get("state", "open")
    flt = CaseFilter(
        platform=query.get("platform", "")[:32],
        state=state if state in STATES else "",
        source=query.get("source", "")[:64],
    )
    page = max(1, _int(query.get("page", "1"), 1))
    cases, total = search_cases(d.app.db, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    counts = state_counts(d.app.db, flt)
    sources = [i.name for i in d.app.lists.all()] + [b.name for b in d.app.banks.all()]
    return render(
        request,
        "queue.html",
        title="Cases",
        cases=cases,
        total=total,
        counts=counts,
        all_count=sum(counts.values()),
        filter=flt,
        states=STATES,
        platforms=platforms(d.app.db),
        sources=sorted(set(sources)),
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        hash_signals=HASH_SIGNALS,
    )


@requires("viewer")
async def case_page(request: web.Request) -> web.StreamResponse:
    """Everything about one case; media only for moderators, and blurred until revealed."""
    d = dash(request)
    case = _case(request)
    history = [c for c in d.review.history(case.author_id) if c.id != case.id]
    return render(
        request,
        "case.html",
        title=f"Case {case.id}",
        case=case,
        evidence=d.vault.for_case(case.id),
        history=history,
        offences=d.review.cases.offences(case.author_id),
        moderator=user(request).can("moderator"),
        hash_signals=HASH_SIGNALS,
        vault_open=d.vault_open,
        platform_actions=sorted(d.app.platform_actions),
        platform_notify=sorted(d.app.platform_notify),
    )


@requires("moderator")
async def decide(request: web.Request) -> web.StreamResponse:
    """Confirm or dismiss; the first decision counts, and what it teaches is shown. A confirm
    may ban or time out the author on the case's platform, a dismiss may send them a note,
    through the platform's running bot (`shield run`); alone, the dashboard only records."""
    d = dash(request)
    case = _case(request)
    form = await request.post()
    note = str(form.get("note", "")).strip()[:500] or None
    confirming = request.match_info["action"] == "confirm"
    chosen = str(form.get("platform_action", "none"))
    chosen = chosen if confirming and chosen in PLATFORM_ACTIONS else "none"
    member_note = " ".join(str(form.get("member_note", "")).split())[:MEMBER_NOTE_CHARS]
    if confirming:
        bank = form.get("add_to_bank") == "on"
        decision = d.review.confirm(
            case.id, by=actor(request), note=note, add_to_bank=bank, action=chosen
        )
    else:
        decision = d.review.dismiss(case.id, by=actor(request), note=note)
    current = session(request)
    if decision.changed:
        learned = "; ".join(decision.learned)
        current.flash(
            f"Case {case.id} {decision.case.state}." + (f" {learned}." if learned else "")
        )
        if chosen != "none":
            await _on_platform(request, decision.case, chosen)
        elif not confirming and member_note:
            await _on_platform(request, decision.case, "notify", member_note)
    else:
        current.flash(f"Case {case.id} was already {decision.case.state}: nothing changed.", "warn")
    raise web.HTTPSeeOther(f"/cases/{case.id}")


async def _on_platform(request: web.Request, case: Case, action: str, text: str = "") -> None:
    """Ban, time out or notify through the bot of the case's own platform, if one is running
    in this process; flash what happened, or what the moderator must do on the platform."""
    d = dash(request)
    what = "send your message to the member" if action == "notify" else PLATFORM_ACTIONS[action]
    if case.platform not in (
        d.app.platform_notify if action == "notify" else d.app.platform_actions
    ):
        session(request).flash(
            f"Recorded only: Shield's {case.platform} bot is not running with this dashboard, so "
            f"{what} on {case.platform} yourself (or decide while `shield run` is running).",
            "warn",
        )
        return
    result = await d.review.on_platform(case, action, by=actor(request), text=text)
    level = "warn" if result.failed else "ok"
    session(request).flash(f"{case.platform.capitalize()}: {result.summary()}", level)


def _media(data: bytes, content_type: str, name: str) -> web.Response:
    response = web.Response(body=data, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    disposition = "inline" if content_type != "application/octet-stream" else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


def _evidence_id(request: web.Request) -> int:
    evidence_id = _int(request.match_info["evidence_id"], 0)
    if dash(request).vault.info(evidence_id) is None:
        raise web.HTTPNotFound(text="there is no such evidence")
    return evidence_id


@requires("moderator")
async def preview(request: web.Request) -> web.StreamResponse:
    """The blurred preview (logged as a view by the vault); never cached."""
    evidence_id = _evidence_id(request)
    data = dash(request).vault.preview(evidence_id, actor=actor(request))
    if data is None:
        raise web.HTTPNotFound(text="this item has no preview")
    return _media(data, "image/jpeg", f"preview-{evidence_id}.jpg")


@requires("moderator")
async def reveal(request: web.Request) -> web.StreamResponse:
    """Ask to see an original: a reason is required, and the page may load it once."""
    d = dash(request)
    evidence_id = _evidence_id(request)
    form = await request.post()
    reason = " ".join(str(form.get("reason", "")).split())[:500]
    info = d.vault.info(evidence_id)
    assert info is not None
    if len(reason) < MIN_REASON:
        return render(
            request,
            "error.html",
            status=400,
            title="A reason is required",
            message="Say why you need to see the original; the reason is logged.",
            back=f"/cases/{info.case_id}" if info.case_id else "/",
        )
    moment = time.monotonic()
    for key in [k for k, t in d.tickets.items() if t.expires < moment]:
        del d.tickets[key]
    ticket = secrets.token_urlsafe(24)
    sid = session(request).session_id or ""
    d.tickets[ticket] = RevealTicket(evidence_id, sid, reason, moment + REVEAL_SECONDS)
    # Post/redirect/get: reloading the page must not send the reason again and reveal again.
    raise web.HTTPSeeOther(f"/evidence/{evidence_id}/revealed?ticket={ticket}")


def _ticket(request: web.Request, evidence_id: int, *, spend: bool) -> RevealTicket | None:
    """The reveal ticket in the query if it is for this item, this session, and still fresh."""
    tickets = dash(request).tickets
    key = request.query.get("ticket", "")
    ticket = tickets.pop(key, None) if spend else tickets.get(key)
    valid = (
        ticket is not None
        and ticket.evidence_id == evidence_id
        and ticket.session_id == session(request).session_id
        and ticket.expires >= time.monotonic()
    )
    return ticket if valid else None


@requires("moderator")
async def revealed(request: web.Request) -> web.StreamResponse:
    """The page that shows the original once; after that it only says the reveal was used."""
    evidence_id = _evidence_id(request)
    info = dash(request).vault.info(evidence_id)
    assert info is not None
    ticket = _ticket(request, evidence_id, spend=False)
    return render(
        request,
        "reveal.html",
        title=f"Evidence {evidence_id}",
        info=info,
        reason=ticket.reason if ticket else "",
        source=f"/evidence/{evidence_id}/original?ticket={request.query['ticket']}"
        if ticket
        else None,
        video=info.kind in VIDEO_KINDS,
    )


@requires("moderator")
async def original(request: web.Request) -> web.StreamResponse:
    """The original, once per reveal ticket, audited by the vault with the given reason."""
    d = dash(request)
    evidence_id = _evidence_id(request)
    ticket = _ticket(request, evidence_id, spend=True)
    if ticket is None:
        raise web.HTTPGone(text="this reveal was used or has expired: reveal again with a reason")
    data = d.vault.reveal(evidence_id, actor=actor(request), reason=ticket.reason)
    kind = sniff(data) or ""
    suffix = {"jpeg": "jpg"}.get(kind, kind or "bin")
    return _media(
        data, MIME.get(kind, "application/octet-stream"), f"evidence-{evidence_id}.{suffix}"
    )


@requires("moderator")
async def hold(request: web.Request) -> web.StreamResponse:
    """Set or lift a legal hold (kept past retention, e.g. for a takedown request)."""
    d = dash(request)
    evidence_id = _evidence_id(request)
    form = await request.post()
    reason = " ".join(str(form.get("reason", "")).split())[:500]
    keep = form.get("hold") == "1"
    if keep and len(reason) < MIN_REASON:
        session(request).flash("Say why the evidence must be kept (a reason is required).", "error")
    else:
        d.vault.set_hold(evidence_id, keep, actor=actor(request), reason=reason)
        session(request).flash(f"Evidence {evidence_id}: legal hold {'set' if keep else 'lifted'}.")
    info = d.vault.info(evidence_id)
    raise web.HTTPSeeOther(f"/cases/{info.case_id}" if info and info.case_id else "/")


@requires("moderator")
async def packet(request: web.Request) -> web.StreamResponse:
    """The evidence packet (no media) as JSON or printable HTML, as a download; audited."""
    d = dash(request)
    case = _case(request)
    data = d.review.packet(case.id, by=actor(request))
    if request.match_info["fmt"] == "json":
        body = json.dumps(data, indent=1, ensure_ascii=False)
        response = web.Response(text=body, content_type="application/json", charset="utf-8")
    else:
        response = web.Response(text=packet_html(data), content_type="text/html", charset="utf-8")
        # The packet page styles itself inline (it is made to be saved and printed), and is
        # sandboxed: it can never run anything.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'; sandbox"
        )
    name = f"shield-case-{case.id}-evidence.{request.match_info['fmt']}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
