"""The review dashboard over HTTP: login, sessions, CSRF, roles, every page, media and audit."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import select
import signal
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from bot.app import App
from bot.core.actions import Enforced
from bot.core.verdict import Tier
from bot.review.vault import EvidenceVault, strip_metadata
from bot.review.web.accounts import login_link, set_password
from bot.review.web.app import make_app
from bot.review.web.auth import FAILED
from bot.review.web.context import DASHBOARD, RateLimiter
from bot.review.workflow import ReviewService
from bot.storage.cases import CaseRepo
from bot.storage.users import UserRepo, hash_password, verify_password
from tests.conftest import Shield

KEY = bytes(range(32))
PASSWORD = "correct horse battery staple"
PDQ = "f" * 16 + "0" * 48
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
Client = TestClient[web.Request, web.Application]


def picture(seed: int = 3) -> bytes:
    """A generated test picture (noise), never real media."""
    rng = np.random.default_rng(seed)
    image = Image.fromarray((rng.random((40, 60, 3)) * 255).astype("uint8")).resize((300, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def open_case(
    app: App, mid: str, *, author: str = "discord:7", findings: list[dict[str, Any]] | None = None
) -> int:
    case, _ = CaseRepo(app.db).open(
        platform="discord", community="discord:111", channel_id="2", message_id=mid,
        author_id=author, author_name="<b>troll</b>", jump_url=f"https://discord.com/channels/111/2/{mid}",
        tier="review", action="held", dry_run=False, hashes=[{"md5": "a" * 32, "pdq": [PDQ]}],
        findings=findings if findings is not None else [
            {"signal": "pdq", "value": PDQ, "matched": PDQ, "bank": "shared", "tier": "review", "distance": 12},
            {"signal": "domain", "value": "clothoff.io", "matched": "clothoff.io", "list": "deepfake-sites", "tier": "block"},
        ],
    )  # fmt: skip
    return case.id


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheaper scrypt for these tests (the cost is read from each stored hash, so all checks
    still run); the real cost is 2**15."""
    monkeypatch.setattr("bot.storage.users.SCRYPT_N", 2**10)


@pytest.fixture
def vault(app: App) -> EvidenceVault:
    return EvidenceVault(app.db, KEY, app.settings)


@pytest.fixture
def seeded(app: App, vault: EvidenceVault) -> dict[str, int]:
    """Three users (one per role), two cases about one author, and one sealed picture."""
    for name, role in (("ada", "admin"), ("mo", "moderator"), ("vi", "viewer")):
        set_password(app, name, PASSWORD, role=role, by="test")
    first = open_case(app, "1")
    second = open_case(app, "2")
    evidence = vault.store(picture(), case_id=first, reason="review-tier match", actor="rule:test")
    return {"case": first, "other": second, "evidence": evidence}


@pytest.fixture
async def web_app(app: App, vault: EvidenceVault, seeded: dict[str, int]) -> web.Application:
    return make_app(app, vault, secret_key=KEY)


@pytest.fixture
async def client(web_app: web.Application) -> AsyncIterator[Client]:
    async with TestClient(TestServer(web_app)) as test_client:
        yield test_client


async def new_client(web_app: web.Application) -> Client:
    """A second browser on the same server (its own cookies)."""
    server = TestServer(web_app)
    other: Client = TestClient(server)
    await other.start_server()
    return other


async def csrf(client: Client, path: str = "/login") -> str:
    response = await client.get(path)
    found = CSRF.search(await response.text())
    assert found, f"no CSRF token on {path}"
    return found.group(1)


async def login(client: Client, name: str, password: str = PASSWORD, **extra: str) -> Any:
    token = await csrf(client)
    data = {"csrf": token, "name": name, "password": password, **extra}
    return await client.post("/login", data=data, allow_redirects=False)


async def post(
    client: Client, path: str, data: dict[str, Any] | None = None, *, page: str = "/"
) -> Any:
    """A form POST the way the browser sends it: with the CSRF token of the session."""
    return await client.post(
        path, data={"csrf": await csrf(client, page), **(data or {})}, allow_redirects=False
    )


def actions(app: App) -> list[str]:
    return [e.action for e in app.audit.recent(500)]


# ----- storage ----------------------------------------------------------------------------


def test_password_hashes_are_salted_scrypt_and_checked_in_constant_time() -> None:
    """The same password hashes differently each time; a wrong one or a broken hash fails."""
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$") and PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, "scrypt$broken") and not verify_password(PASSWORD, "")


def test_login_tokens_and_sessions_are_stored_only_as_digests(app: App) -> None:
    """Nothing in the database lets someone log in: no token, session id or password as given."""
    users = UserRepo(app.db)
    user, _ = users.ensure("mo", "moderator", by="test")
    users.set_password(user.id, PASSWORD)
    token = users.new_login_token(user.id, by="test", minutes=5)
    session_id = users.new_session(user.id, hours=1)
    dump = "\n".join(app.db.conn.iterdump())
    assert token not in dump and session_id not in dump and PASSWORD not in dump
    assert users.redeem_login_token(token) == users.get("mo")
    assert users.redeem_login_token(token) is None  # single use


# ----- headers, unauthenticated, login ----------------------------------------------------


async def test_every_response_has_the_security_headers(client: Client) -> None:
    """Pages, redirects, errors and the stylesheet all forbid framing, sniffing and caching."""
    for path in ("/login", "/", "/nothing-here", "/static/shield.css"):
        response = await client.get(path, allow_redirects=False)
        headers = response.headers
        assert "default-src 'self'" in headers["Content-Security-Policy"], path
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"], path
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"


async def test_unauthenticated_requests_are_refused(
    client: Client, app: App, seeded: dict[str, int]
) -> None:
    """Without a login, pages redirect to the login page, media is never sent, posts fail."""
    for path in ("/", f"/cases/{seeded['case']}", f"/evidence/{seeded['evidence']}/preview",
                 f"/cases/{seeded['case']}/packet.json", "/audit", "/users"):  # fmt: skip
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"].startswith("/login?next="), (
            path
        )
        assert response.content_type != "image/jpeg"
    response = await post(client, f"/cases/{seeded['case']}/confirm", page="/login")
    assert response.status == 403
    assert CaseRepo(app.db).get(seeded["case"]).state == "open"  # type: ignore[union-attr]


async def test_password_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(
    client: Client, app: App
) -> None:
    """A session cookie is HttpOnly and SameSite=Strict; after logout a copy of it is useless."""
    response = await login(client, "ada", next="/audit")
    assert response.status == 303 and response.headers["Location"] == "/audit"
    cookie = response.cookies["shield"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    assert "ada" in await (await client.get("/")).text()
    stolen = cookie.value
    response = await post(client, "/logout")
    assert response.status == 303 and response.headers["Location"] == "/login"
    client.session.cookie_jar.clear()
    response = await client.get("/", headers={"Cookie": f"shield={stolen}"}, allow_redirects=False)
    assert response.status == 303  # the server-side session is gone
    assert "dashboard.login" in actions(app)


async def test_wrong_password_and_unknown_name_get_the_same_answer(client: Client) -> None:
    """The failure message never says whether the name exists."""
    wrong = await login(client, "ada", "not the password")
    unknown = await login(client, "nobody", "not the password")
    assert wrong.status == unknown.status == 401
    assert FAILED.replace("'", "&#39;") in await wrong.text()
    assert FAILED.replace("'", "&#39;") in await unknown.text()


async def test_login_is_rate_limited_per_name_and_per_address(
    client: Client, web_app: web.Application
) -> None:
    """Five failures lock a name (even the right password waits); many lock an address."""
    for _ in range(5):
        assert (await login(client, "mo", "guess guess guess")).status == 401
    assert (await login(client, "mo")).status == 429
    web_app[DASHBOARD].login_by_ip = RateLimiter(3, 900)
    for name in ("x1", "x2", "x3"):
        await login(client, name, "guess guess guess")
    assert (await login(client, "ada")).status == 429


async def test_visitors_cannot_post_large_bodies(client: Client) -> None:
    """Before logging in, only a small form is read: no uploads from strangers."""
    token = await csrf(client)
    response = await client.post(
        "/login", data={"csrf": token, "name": "x" * 20_000, "password": "y"}
    )
    assert response.status == 413


async def test_next_cannot_send_you_to_another_site(client: Client) -> None:
    """After login, only a local path is followed (no open redirect)."""
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await login(client, "ada", next=target)
        assert response.headers["Location"] == "/"
        await post(client, "/logout")


async def test_login_link_works_once_and_only_by_posting(
    client: Client, web_app: web.Application, app: App
) -> None:
    """Opening the link (as a link preview would) does nothing; the button logs in, once."""
    link = login_link(app, "discord:42", by="discord:42")
    path = link.split("8080", 1)[1]
    page = await client.get(path)
    assert page.status == 200 and "Log in" in await page.text()
    assert (await client.get("/", allow_redirects=False)).status == 303
    token = path.split("t=", 1)[1]
    response = await post(client, "/login/link", {"token": token}, page=path)
    assert response.status == 303
    assert "discord:42" in await (await client.get("/")).text()
    other = await new_client(web_app)
    try:
        again = await post(other, "/login/link", {"token": token}, page=path)
        assert again.status == 401
    finally:
        await other.close()


async def test_an_expired_login_link_is_refused(client: Client, app: App) -> None:
    link = login_link(app, "mo", by="test")
    app.db.execute("UPDATE dashboard_login_tokens SET expires_at = '2000-01-01T00:00:00+00:00'")
    path = link.split("8080", 1)[1]
    response = await post(client, "/login/link", {"token": path.split("t=", 1)[1]}, page=path)
    assert response.status == 401


async def test_a_tampered_cookie_is_a_new_visitor(client: Client) -> None:
    await login(client, "ada")
    value = next(c for c in client.session.cookie_jar if c.key == "shield").value
    client.session.cookie_jar.clear()
    assert (await client.get("/", headers={"Cookie": f"shield={value}"})).status == 200
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    response = await client.get(
        "/", headers={"Cookie": f"shield={tampered}"}, allow_redirects=False
    )
    assert response.status == 303


async def test_https_public_url_makes_cookies_secure_and_host_only(
    app: App, vault: EvidenceVault, seeded: dict[str, int]
) -> None:
    """Behind https the cookie is Secure with the __Host- prefix, and HSTS is sent."""
    dashboard = msgspec.structs.replace(
        app.settings.dashboard, public_url="https://shield.example.org"
    )
    secure_app = App(settings=msgspec.structs.replace(app.settings, dashboard=dashboard), db=app.db)
    async with TestClient(TestServer(make_app(secure_app, vault, secret_key=KEY))) as c:
        response = await c.get("/login")
        assert response.cookies["__Host-shield-visitor"]["secure"]
        assert "max-age" in response.headers["Strict-Transport-Security"]
        # The aiohttp client keeps no Secure cookies over http: send the visitor cookie back.
        visitor = response.cookies["__Host-shield-visitor"].value
        token = CSRF.search(await response.text())
        assert token
        answer = await c.post(
            "/login",
            data={"csrf": token.group(1), "name": "ada", "password": PASSWORD},
            headers={"Cookie": f"__Host-shield-visitor={visitor}"},
            allow_redirects=False,
        )
        assert answer.status == 303 and answer.cookies["__Host-shield"]["secure"]


async def test_a_request_without_the_login_cookie_does_not_log_you_out(client: Client) -> None:
    """Under SameSite=Strict a link from Discord arrives without the login cookie; the visitor
    cookie set in answer must not replace the login, so the next click is still logged in."""
    await login(client, "mo")
    login_cookie = next(c for c in client.session.cookie_jar if c.key == "shield").value
    client.session.cookie_jar.clear()
    arrival = await client.get("/cases/1", allow_redirects=False)
    assert arrival.status == 303 and "shield" not in arrival.cookies
    assert "shield-visitor" in arrival.cookies
    both = f"shield={login_cookie}; shield-visitor={arrival.cookies['shield-visitor'].value}"
    after = await client.get("/", headers={"Cookie": both}, allow_redirects=False)
    assert after.status == 200 and "mo" in await after.text()
    assert after.cookies["shield-visitor"]["max-age"] == "0"  # the stray visitor cookie goes


# ----- CSRF and roles -----------------------------------------------------------------------


async def test_every_post_route_refuses_a_missing_or_foreign_csrf_token(
    client: Client, web_app: web.Application, app: App, seeded: dict[str, int]
) -> None:
    """No form is accepted without this session's token, or from another site."""
    await login(client, "ada")
    posts = {
        r.resource.canonical for r in web_app.router.routes() if r.method == "POST" and r.resource
    }  # type: ignore[union-attr]
    assert len(posts) >= 14
    for pattern in posts:
        path = re.sub(r"\{case_id[^}]*\}", str(seeded["case"]), pattern)
        path = re.sub(r"\{evidence_id[^}]*\}", str(seeded["evidence"]), path)
        path = path.replace("{action:confirm|dismiss}", "confirm").replace(
            "{name}", "deepfake-sites"
        )
        path = path.replace("{community}", "discord:111")
        for data in ({}, {"csrf": "0" * 64}):
            response = await client.post(path, data=data, allow_redirects=False)
            assert response.status == 403, (path, data)
    token = await csrf(client, "/")
    response = await client.post(f"/cases/{seeded['case']}/confirm", data={"csrf": token},
                                 headers={"Origin": "https://evil.example"}, allow_redirects=False)  # fmt: skip
    assert response.status == 403
    assert CaseRepo(app.db).get(seeded["case"]).state == "open"  # type: ignore[union-attr]


async def test_a_viewer_sees_metadata_only(
    client: Client, seeded: dict[str, int], app: App
) -> None:
    """Viewers read cases, but get no preview, no reveal, no packet, no decisions, no hashes."""
    await login(client, "vi")
    page = await (await client.get(f"/cases/{seeded['case']}")).text()
    assert (
        "/preview" not in page
        and "Reveal" not in page
        and "Media is shown to moderators only" in page
    )
    assert PDQ not in page and "/confirm" not in page
    for path in (
        f"/evidence/{seeded['evidence']}/preview",
        f"/cases/{seeded['case']}/packet.json",
        "/users",
    ):
        response = await client.get(path)
        assert response.status == 403 and response.content_type == "text/html", path
    assert (await post(client, f"/cases/{seeded['case']}/confirm")).status == 403
    app.banks.ensure("shared", Tier.BLOCK, created_by="test")
    assert (await client.get("/banks/shared")).status == 200


async def test_moderators_cannot_change_settings_or_users(client: Client) -> None:
    await login(client, "mo")
    assert (await client.get("/users")).status == 403
    assert (await post(client, "/settings/discord:111", {"dry_run": "true"})).status == 403
    assert (
        await post(client, "/users", {"op": "add", "name": "eve", "role": "admin"})
    ).status == 403


# ----- pages --------------------------------------------------------------------------------


async def test_every_page_renders_escaped_without_scripts_or_inline_styles(
    client: Client, seeded: dict[str, int]
) -> None:
    """Each page answers 200 as an admin, escapes user data, and needs no script or inline style."""
    await login(client, "ada")
    pages = ["/", "/?state=all&platform=discord&source=deepfake-sites", "/?state=confirmed&page=2",
             f"/cases/{seeded['case']}", "/lists", "/lists/deepfake-sites", "/lists/deepfake-sites?q=cloth",
             "/banks", "/audit", "/audit?action=evidence.store", "/stats", "/settings",
             "/settings/discord:111", "/users"]  # fmt: skip
    for path in pages:
        response = await client.get(path)
        text = await response.text()
        assert response.status == 200, path
        assert "<script" not in text and " style=" not in text and "<style" not in text, path
        assert "<b>troll</b>" not in text, path
    case_page = await (await client.get(f"/cases/{seeded['case']}")).text()
    assert "&lt;b&gt;troll&lt;/b&gt;" in case_page and "distance" in case_page.lower()
    assert 'href="https://discord.com/channels/111/2/1"' in case_page
    assert f"/cases/{seeded['other']}" in case_page  # the author's other case


async def test_a_javascript_jump_link_is_not_a_link(client: Client, app: App) -> None:
    case_id = CaseRepo(app.db).open(
        platform="twitch", community="twitch:streamer", channel_id="c", message_id="js", author_id="twitch:9",
        author_name="x", jump_url="javascript:alert(1)", tier="block", findings=[], hashes=[], action="deleted", dry_run=False,
    )[0].id  # fmt: skip
    await login(client, "ada")
    assert "javascript:" not in await (await client.get(f"/cases/{case_id}")).text()


async def test_queue_filters_and_counts(client: Client, app: App, seeded: dict[str, int]) -> None:
    """The queue shows open cases newest first, and filters by platform and list or bank."""
    ReviewService(app).dismiss(seeded["other"], by="test")
    await login(client, "mo")
    text = await (await client.get("/")).text()
    assert (
        f'href="/cases/{seeded["case"]}"' in text and f'href="/cases/{seeded["other"]}"' not in text
    )
    everything = await (await client.get("/?state=all")).text()
    assert everything.index(f"/cases/{seeded['other']}") < everything.index(
        f"/cases/{seeded['case']}"
    )
    assert "2 cases" in everything
    assert "0 cases" in await (await client.get("/?state=all&platform=twitch")).text()
    assert "0 cases" in await (await client.get("/?state=all&source=no-such-list")).text()
    assert "2 cases" in await (await client.get("/?state=all&source=shared")).text()


async def test_stats_draw_an_svg_chart_on_the_server(client: Client) -> None:
    await login(client, "vi")
    text = await (await client.get("/stats")).text()
    assert "<svg" in text and 'class="bar media"' in text and "media (2)" in text


# ----- evidence -----------------------------------------------------------------------------


async def test_preview_is_a_no_store_jpeg_for_moderators_and_logged(
    client: Client, app: App, seeded: dict[str, int]
) -> None:
    await login(client, "mo")
    response = await client.get(f"/evidence/{seeded['evidence']}/preview")
    assert response.status == 200 and response.content_type == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert (await response.read())[:3] == b"\xff\xd8\xff"
    entry = app.audit.recent(1)[0]
    assert (entry.action, entry.actor) == ("evidence.preview", "web:mo")


async def test_reveal_needs_a_reason_shows_the_original_once_and_is_audited(
    client: Client, web_app: web.Application, app: App, seeded: dict[str, int]
) -> None:
    """No reason, no reveal; with one the page may load the original once, and the log says why."""
    await login(client, "mo")
    path = f"/evidence/{seeded['evidence']}/reveal"
    refused = await post(client, path, {"reason": "  "}, page=f"/cases/{seeded['case']}")
    assert refused.status == 400 and "evidence.reveal" not in actions(app)

    async def reveal_page() -> str:
        answer = await post(
            client, path, {"reason": "borderline match"}, page=f"/cases/{seeded['case']}"
        )
        assert answer.status == 303  # post/redirect/get: a reload cannot reveal again
        shown = await client.get(answer.headers["Location"])
        assert shown.headers["Cache-Control"] == "no-store"
        return await shown.text()

    first = await reveal_page()
    source = re.search(r'src="(/evidence/\d+/original\?ticket=[^"]+)"', first)
    assert source
    other = await new_client(web_app)
    try:
        await login(other, "ada")
        assert (await other.get(source.group(1))).status == 410  # another session cannot use it
    finally:
        await other.close()
    second = await reveal_page()
    source = re.search(r'src="(/evidence/\d+/original\?ticket=[^"]+)"', second)
    assert source
    original = await client.get(source.group(1))
    assert original.status == 200 and original.headers["Cache-Control"] == "no-store"
    assert await original.read() == strip_metadata(picture())
    assert (await client.get(source.group(1))).status == 410  # once
    revisit = await client.get(source.group(1).replace("/original", "/revealed"))
    assert (
        "/original" not in await revisit.text()
        and "was used or has expired" in await revisit.text()
    )
    reveals = [e for e in app.audit.recent(50) if e.action == "evidence.reveal"]
    assert len(reveals) == 1 and reveals[0].detail == {"reason": "borderline match"}
    assert reveals[0].actor == "web:mo"
    assert "borderline match" in await (await client.get("/audit")).text()


async def test_legal_hold_needs_a_reason(
    client: Client, vault: EvidenceVault, seeded: dict[str, int]
) -> None:
    await login(client, "mo")
    path = f"/evidence/{seeded['evidence']}/hold"
    await post(client, path, {"hold": "1", "reason": ""}, page=f"/cases/{seeded['case']}")
    assert not vault.info(seeded["evidence"]).legal_hold  # type: ignore[union-attr]
    await post(
        client, path, {"hold": "1", "reason": "takedown request"}, page=f"/cases/{seeded['case']}"
    )
    assert vault.info(seeded["evidence"]).legal_hold  # type: ignore[union-attr]


async def test_without_the_vault_no_media_is_shown(app: App, seeded: dict[str, int]) -> None:
    """A dashboard without the vault key lists evidence but shows and serves none."""
    async with TestClient(TestServer(make_app(app, None, secret_key=KEY))) as c:
        await login(c, "mo")
        page = await (await c.get(f"/cases/{seeded['case']}")).text()
        assert "vault key is not loaded" in page and "/preview" not in page
        assert (await c.get(f"/evidence/{seeded['evidence']}/preview")).status == 503


# ----- decisions and packets ----------------------------------------------------------------


async def test_confirm_and_dismiss_record_the_moderator(
    client: Client, app: App, seeded: dict[str, int]
) -> None:
    await login(client, "mo")
    page = f"/cases/{seeded['case']}"
    response = await post(
        client, f"{page}/confirm", {"note": "known fake", "add_to_bank": "on"}, page=page
    )
    assert response.status == 303 and response.headers["Location"] == page
    case = CaseRepo(app.db).get(seeded["case"])
    assert case is not None and (case.state, case.decided_by, case.decision_note) == (
        "confirmed",
        "web:mo",
        "known fake",
    )
    assert "hashes added to bank confirmed" in await (await client.get(page)).text()
    await post(client, f"{page}/dismiss", page=page)
    assert "was already confirmed" in await (await client.get(page)).text()
    other = f"/cases/{seeded['other']}"
    await post(client, f"{other}/dismiss", {"note": "fan art"}, page=other)
    assert CaseRepo(app.db).get(seeded["other"]).state == "dismissed"  # type: ignore[union-attr]


async def test_confirm_acts_through_the_platform_action_registered_for_the_case(
    client: Client, app: App, seeded: dict[str, int]
) -> None:
    """With a platform's bot running (`shield run`), a confirm asks it to ban or time out, a
    dismiss sends the note to the member; other platforms' actions are never called."""
    calls: list[tuple[str, int, str, str]] = []

    def fake(platform: str, kind: str) -> Any:
        async def act(case: Any, what: str, by: str) -> Enforced:
            calls.append((f"{platform}:{kind}", case.id, what, by))
            return Enforced(done=[f"{kind} {what} done"])

        return act

    app.platform_actions.update(discord=fake("discord", "act"), twitch=fake("twitch", "act"))
    app.platform_notify.update(discord=fake("discord", "notify"), twitch=fake("twitch", "notify"))
    await login(client, "mo")
    page = f"/cases/{seeded['case']}"
    assert 'name="platform_action"' in await (await client.get(page)).text()
    await post(client, f"{page}/confirm", {"platform_action": "ban"}, page=page)
    assert "Discord: act ban done" in await (await client.get(page)).text()
    other = f"/cases/{seeded['other']}"
    await post(client, f"{other}/dismiss", {"member_note": "sorry,  our mistake"}, page=other)
    assert "Discord: notify sorry, our mistake done" in await (await client.get(other)).text()
    assert calls == [
        ("discord:act", seeded["case"], "ban", "web:mo"),
        ("discord:notify", seeded["other"], "sorry, our mistake", "web:mo"),
    ]
    confirmed = app.audit.recent(5, action="case.confirm")
    assert confirmed and confirmed[0].detail["action"] == "ban"
    third = open_case(app, "3")
    await post(
        client, f"/cases/{third}/confirm", {"platform_action": "nuke"}, page=f"/cases/{third}"
    )
    await post(client, f"{page}/confirm", {"platform_action": "ban"}, page=page)  # decided
    assert len(calls) == 2  # an unknown action records only; a second decision does nothing
    enforce = app.audit.recent(5, action="case.enforce")
    assert [e.detail["action"] for e in enforce] == ["ban"]  # audited once, by the dashboard
    assert [e.detail["text"] for e in app.audit.recent(5, action="case.notify")] == [
        "sorry, our mistake"
    ]


async def test_without_a_running_bot_the_dashboard_says_to_act_on_the_platform(
    client: Client, app: App, seeded: dict[str, int]
) -> None:
    """`shield dashboard` alone records the decision and says the ban must be done elsewhere."""
    await login(client, "mo")
    page = f"/cases/{seeded['case']}"
    assert "a ban or timeout must be done on discord" in await (await client.get(page)).text()
    await post(client, f"{page}/confirm", {"platform_action": "timeout"}, page=page)
    text = await (await client.get(page)).text()
    assert "Recorded only" in text and "time the member out on discord yourself" in text
    assert CaseRepo(app.db).get(seeded["case"]).state == "confirmed"  # type: ignore[union-attr]
    other = f"/cases/{seeded['other']}"
    await post(client, f"{other}/dismiss", {"member_note": "sorry"}, page=other)
    assert (
        "send your message to the member on discord yourself"
        in await (await client.get(other)).text()
    )
    assert "case.enforce" not in actions(app) and "case.notify" not in actions(app)


async def test_evidence_packet_downloads_are_audited_and_media_free(
    client: Client, app: App, seeded: dict[str, int]
) -> None:
    await login(client, "mo")
    response = await client.get(f"/cases/{seeded['case']}/packet.json")
    packet = json.loads(await response.text())
    assert packet["case"] == seeded["case"] and packet["media_included"] is False
    assert response.headers["Content-Disposition"].startswith("attachment")
    page = await client.get(f"/cases/{seeded['case']}/packet.html")
    assert (
        "sandbox" in page.headers["Content-Security-Policy"]
        and "&lt;b&gt;troll" in await page.text()
    )
    assert actions(app).count("case.export") == 2
    from bot.settings import ReviewSettings

    app.settings = msgspec.structs.replace(
        app.settings, review=ReviewSettings(support_text="Write to safety@example.org")
    )
    response = await client.get(f"/cases/{seeded['case']}/packet.json")
    assert json.loads(await response.text())["support"] == "Write to safety@example.org"


# ----- lists, banks, settings, users --------------------------------------------------------


async def test_lists_add_disable_and_import(client: Client, app: App) -> None:
    await login(client, "mo")
    added = await post(
        client,
        "/lists/add",
        {"list": "my-server", "rule": "bad-fakes.example", "tier": ""},
        page="/lists",
    )
    assert added.status == 303 and added.headers["Location"] == "/lists/my-server"
    assert app.link_scanner.scan("see bad-fakes.example").verdict == "block"
    await post(
        client,
        "/lists/my-server/toggle",
        {"rule": "bad-fakes.example", "enabled": "0"},
        page="/lists",
    )
    assert app.link_scanner.scan("see bad-fakes.example").verdict == "allow"
    form = {"csrf": await csrf(client, "/lists"), "list": "feed", "tier": "review", "format": "auto",
            "file": io.BytesIO(b"0.0.0.0 one.example\n0.0.0.0 two.example\n")}  # fmt: skip
    response = await client.post("/lists/import", data=form, allow_redirects=False)
    assert response.status == 303
    assert "2 added" in await (await client.get("/lists")).text()
    assert {"list.add", "list.rule-disable", "list.import"} <= set(actions(app))


async def test_banks_add_disable_and_import(client: Client, app: App) -> None:
    await login(client, "mo")
    await post(
        client,
        "/banks/add",
        {"bank": "known", "signal": "md5", "value": "B" * 32, "tier": ""},
        page="/banks",
    )
    entry = app.banks.find("b" * 32)[0]
    await post(
        client, "/banks/known/toggle", {"entry": str(entry.id), "enabled": "0"}, page="/banks"
    )
    assert not app.banks.find(entry.id)[0].enabled
    bad = await post(
        client, "/banks/add", {"bank": "known", "signal": "md5", "value": "xyz"}, page="/banks"
    )
    assert bad.status == 400 and "md5 hash must be" in await bad.text()
    form = {"csrf": await csrf(client, "/banks"), "bank": "feed", "tier": "", "format": "pdq",
            "file": io.BytesIO((PDQ + "\n").encode())}  # fmt: skip
    assert (await client.post("/banks/import", data=form, allow_redirects=False)).status == 303
    assert app.banks.get("feed").entries == 1  # type: ignore[union-attr]
    assert {"bank.add", "bank.entry-disable", "bank.import"} <= set(actions(app))


async def test_admins_change_community_settings_and_each_change_is_audited(
    client: Client, app: App
) -> None:
    await login(client, "ada")
    await post(
        client,
        "/settings/discord:111",
        {"dry_run": "true", "timeout_minutes": "10"},
        page="/settings/discord:111",
    )
    assert app.communities.get("discord:111", "dry_run") is True
    changed = [e for e in app.audit.recent(20) if e.action == "community.set"]
    assert [(e.target, e.community) for e in changed] == [("dry_run", "discord:111")]
    bad = await post(
        client, "/settings/discord:111", {"timeout_minutes": "0"}, page="/settings/discord:111"
    )
    assert bad.status == 400 and "timeout_minutes" in await bad.text()


async def test_admins_manage_users_but_not_themselves(client: Client, app: App) -> None:
    await login(client, "ada")
    await post(
        client, "/users", {"op": "add", "name": "discord:55", "role": "viewer"}, page="/users"
    )
    await post(
        client, "/users", {"op": "role", "name": "discord:55", "role": "moderator"}, page="/users"
    )
    assert UserRepo(app.db).get("discord:55").role == "moderator"  # type: ignore[union-attr]
    link = await post(client, "/users", {"op": "link", "name": "discord:55"}, page="/users")
    assert "/login/link?t=" in await link.text()
    response = await post(client, "/users", {"op": "disable", "name": "ada"}, page="/users")
    assert response.status == 400 and not UserRepo(app.db).get("ada").disabled  # type: ignore[union-attr]


async def test_disabling_a_user_ends_their_session(
    client: Client, web_app: web.Application, app: App
) -> None:
    await login(client, "mo")
    admin = await new_client(web_app)
    try:
        await login(admin, "ada")
        await post(admin, "/users", {"op": "disable", "name": "mo"}, page="/users")
    finally:
        await admin.close()
    assert (await client.get("/", allow_redirects=False)).status == 303


# ----- command line -------------------------------------------------------------------------


def test_set_password_reads_stdin_and_login_link_prints_a_url(shield: Shield) -> None:
    """Not on a terminal, the password is one line of standard input; errors are one line."""
    done = shield("admin", "set-password", "alice", stdin=PASSWORD + "\n")
    assert done.code == 0 and "created dashboard user alice (admin)" in done.out
    short = shield("admin", "set-password", "bob", stdin="short\n")
    assert short.code == 1 and short.err.startswith("shield: error: the password must have")
    link = shield("admin", "login-link", "discord:77", "--role", "viewer")
    assert link.code == 0 and link.out.startswith("http://127.0.0.1:8080/login/link?t=")
    listed = shield("admin", "users", "--json")
    assert {u["name"]: u["role"] for u in json.loads(listed.out)} == {
        "alice": "admin",
        "discord:77": "viewer",
    }


def test_shield_dashboard_serves_until_interrupted(tmp_path: Path) -> None:
    """`shield dashboard --port 0` prints where it listens, serves the login page, stops on Ctrl+C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIELD_")}
    env["SHIELD_VAULT_KEY"] = base64.b64encode(KEY).decode()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--db", str(tmp_path / "shield.db"), "dashboard", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stderr is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        found = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline() if ready else "")
        assert found, "the dashboard did not say where it listens"
        with urllib.request.urlopen(found.group(0) + "/login", timeout=10) as response:
            assert response.status == 200 and response.headers["X-Frame-Options"] == "DENY"
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "no dashboard users yet" in err and "dashboard stopped" in err
