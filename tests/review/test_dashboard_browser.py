"""The dashboard end to end: the real `shield dashboard` process, Debian's Chromium, Playwright.

Screenshots of the main pages go to test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import base64
import io
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.app import open_app
from bot.review.vault import EvidenceVault
from bot.settings import load_settings, with_database
from bot.storage.cases import CaseRepo

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
KEY = base64.b64encode(bytes(range(32))).decode()
ADMIN, MODERATOR, PASSWORD = "ada", "mo", "correct horse battery staple"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
START_SECONDS = 30  # for the dashboard process to print its address


@dataclass(frozen=True)
class Server:
    url: str
    db: Path
    cases: dict[str, int]


def picture(seed: int) -> bytes:
    """A generated stand-in picture (coloured noise): never real media."""
    rng = np.random.default_rng(seed)
    image = Image.fromarray((rng.random((30, 40, 3)) * 255).astype("uint8")).resize((480, 360))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIELD_")}
    env.update(SHIELD_VAULT_KEY=KEY, SHIELD_DB=str(folder / "shield.db"))
    return env


def shield(folder: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
        env=environment(folder), cwd=folder, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def seed(folder: Path) -> dict[str, int]:
    """Cases from chat on both platforms over a few days, two with media kept for review."""
    settings = with_database(load_settings(env={"SHIELD_VAULT_KEY": KEY}), folder / "shield.db")
    app = open_app(settings)
    try:
        vault = EvidenceVault(app.db, base64.b64decode(KEY), settings)
        repo = CaseRepo(app.db)
        link = {
            "signal": "domain",
            "value": "clothoff.io",
            "matched": "clothoff.io",
            "list": "deepfake-sites",
            "tier": "block",
        }
        near = {
            "signal": "pdq",
            "value": "f" * 16 + "0" * 48,
            "matched": "f" * 15 + "e" + "0" * 48,
            "bank": "shared-deepfakes",
            "tier": "review",
            "distance": 37,
        }
        cases: dict[str, int] = {}
        specs = [
            ("confirm", "discord", "discord:111", "raider#1", "review", [near], True),
            ("dismiss", "twitch", "twitch:streamer", "fan_artist", "review", [near], True),
            ("reveal", "discord", "discord:111", "raider#1", "review", [near], True),
            ("csrf", "discord", "discord:111", "spammer", "block", [link], False),
            ("older", "twitch", "twitch:streamer", "raider#1", "block", [link], False),
        ]
        for n, (key, platform, community, author, tier, findings, media) in enumerate(specs):
            case, _ = repo.open(
                platform=platform, community=community, channel_id="42", message_id=f"m{n}",
                author_id=f"{platform}:9{n % 3}", author_name=author,
                jump_url=f"https://discord.com/channels/111/42/{n}" if platform == "discord" else None,
                tier=tier, findings=findings, hashes=[], action="held for review" if media else "deleted",
                dry_run=False,
            )  # fmt: skip
            cases[key] = case.id
            if media:
                vault.store(
                    picture(n), case_id=case.id, reason="review-tier match", actor="shield:rule"
                )
        for days, case_id in ((1, cases["older"]), (3, cases["csrf"])):
            when = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
            app.db.execute("UPDATE cases SET created_at = ? WHERE id = ?", [when, case_id])
        app.db.conn.commit()
        return cases
    finally:
        app.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`shield dashboard` on a free port, over a database seeded with cases and two users."""
    folder = tmp_path_factory.mktemp("dashboard")
    cases = seed(folder)
    shield(folder, "admin", "set-password", ADMIN, stdin=PASSWORD + "\n")
    shield(folder, "admin", "set-password", MODERATOR, "--role", "moderator", stdin=PASSWORD + "\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "dashboard", "--port", "0"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=environment(folder), cwd=folder,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_SECONDS)
        line = process.stdout.readline() if ready else ""
        found = re.search(r"http://[\d.]+:\d+", line)
        assert found, (
            f"the dashboard did not start: {line!r} {process.stderr.read() if process.poll() is not None else ''}"
        )  # type: ignore[union-attr]
        yield Server(found.group(0), folder / "shield.db", cases)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def page(server: Server) -> Iterator[sync_api.Page]:
    """A fresh Chromium (its own profile folder); fails the test on any CSP violation."""
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        browser_page = context.pages[0] if context.pages else context.new_page()
        browser_page.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        browser_page.set_default_timeout(15_000)
        try:
            yield browser_page
        finally:
            context.close()
    assert problems == [], problems


def shot(page: sync_api.Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: sync_api.Page, server: Server, name: str, *, next_path: str = "/") -> None:
    page.goto(server.url + next_path)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(server.url + next_path) + "$"))


def audit_actions(server: Server) -> list[tuple[str, str, str]]:
    settings = with_database(load_settings(env={}), server.db)
    app = open_app(settings)
    try:
        return [(e.actor, e.action, str(e.detail.get("reason", ""))) for e in app.audit.recent(200)]
    finally:
        app.close()


def test_login_with_a_password(page: sync_api.Page, server: Server) -> None:
    """A wrong password gets the generic message; the right one opens the queue."""
    page.goto(server.url + "/")
    assert page.url.startswith(server.url + "/login")
    shot(page, "01-login")
    page.get_by_label("Name").fill(ADMIN)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert "Wrong name or password" in page.locator(".flash.error").inner_text()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")
    assert page.get_by_role("heading", name="Cases").is_visible()
    shot(page, "02-queue")


def test_a_review_from_queue_to_decision(page: sync_api.Page, server: Server) -> None:
    """A moderator opens a case from the queue, sees the blurred preview, confirms; another is dismissed."""
    log_in(page, server, MODERATOR)
    page.get_by_role("link", name=f"#{server.cases['confirm']}", exact=True).click()
    page.wait_for_url(f"{server.url}/cases/{server.cases['confirm']}")
    preview = page.locator("img.preview")
    preview.wait_for()
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "37" in page.locator("table").first.inner_text()  # the match distance
    shot(page, "03-case")
    page.locator("form[action$='/confirm'] input[name=note]").fill("known deepfake of the streamer")
    page.get_by_role("button", name="Confirm").click()
    assert "confirmed" in page.locator(".flash").first.inner_text()
    assert "web:mo" in page.locator("aside").inner_text()

    page.goto(server.url + "/?state=open&platform=twitch")
    page.get_by_role("link", name=f"#{server.cases['dismiss']}", exact=True).click()
    page.locator("form[action$='/dismiss'] input[name=note]").fill("fan art, not a match")
    page.get_by_role("button", name="Dismiss as a false positive").click()
    assert "dismissed" in page.locator(".flash").first.inner_text()
    page.goto(server.url + "/?state=open")
    for decided in (server.cases["confirm"], server.cases["dismiss"]):
        assert page.locator(f"table.cases a[href='/cases/{decided}']").count() == 0


def test_reveal_with_a_reason_is_in_the_audit_log(page: sync_api.Page, server: Server) -> None:
    """The original appears only after a reason is given, once, and the audit page shows why."""
    log_in(page, server, MODERATOR, next_path=f"/cases/{server.cases['reveal']}")
    page.get_by_label("Why do you need to see the original?").fill("checking a borderline match")
    page.get_by_role("button", name="Reveal original").click()
    original = page.locator("figure.original img")
    original.wait_for()
    page.wait_for_function("() => document.querySelector('figure.original img').complete")
    assert original.evaluate("img => img.naturalWidth") == 480
    shot(page, "04-reveal")
    page.reload()  # the ticket was spent: reloading shows nothing more, and reveals nothing
    assert original.count() == 0 and "was used or has expired" in page.content()
    page.goto(server.url + "/audit?action=evidence.reveal")
    log_text = page.locator("table.audit").inner_text()
    assert "checking a borderline match" in log_text and "web:mo" in log_text
    assert log_text.count("evidence.reveal") == 1
    shot(page, "05-audit")
    assert ("web:mo", "evidence.reveal", "checking a borderline match") in audit_actions(server)


def test_a_post_without_the_csrf_token_is_refused(page: sync_api.Page, server: Server) -> None:
    """With a valid session, a POST lacking the token, or a form on another site, changes nothing."""
    log_in(page, server, MODERATOR)
    target = f"{server.url}/cases/{server.cases['csrf']}/confirm"
    response = page.request.post(target, form={"note": "forged"}, max_redirects=0)
    assert response.status == 403
    page.set_content(
        f'<form method="post" action="{target}"><input name="note" value="forged">'
        '<button type="submit">Win a prize</button></form>'
    )
    page.get_by_role("button", name="Win a prize").click()
    page.wait_for_load_state()
    assert page.url == target and "Confirm" not in page.content()
    page.goto(f"{server.url}/cases/{server.cases['csrf']}")
    assert page.locator("h1 .state").inner_text() == "open"


def test_screenshots_of_the_main_pages(page: sync_api.Page, server: Server) -> None:
    """Every main page renders in a real browser (and under its CSP); pictures for people."""
    log_in(page, server, ADMIN)
    for name, path, heading in (
        ("06-lists", "/lists", "Link lists"),
        ("07-list", "/lists/deepfake-sites", "List deepfake-sites"),
        ("08-banks", "/banks", "Hash banks"),
        ("09-stats", "/stats", "Statistics"),
        ("10-settings", "/settings/discord:111", "Settings per community"),
        ("11-users", "/users", "Dashboard users"),
        ("12-queue-all", "/?state=all", "Cases"),
    ):
        page.goto(server.url + path)
        assert page.get_by_role("heading", name=heading).first.is_visible(), path
        shot(page, name)
    page.goto(server.url + "/stats")
    assert page.locator("svg rect.bar").count() >= 2
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(server.url + "/login")
    page.goto(server.url + "/audit")
    assert page.url.startswith(server.url + "/login")
