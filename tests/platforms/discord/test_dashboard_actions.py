"""Decisions on the web dashboard carried out on Discord by the running ShieldBot."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.review.web.accounts import login_link
from bot.review.web.app import make_app
from bot.runtime import register_discord, unregister_platforms
from bot.sandbox.discord import Default
from bot.storage.cases import CaseRepo
from tests.platforms.discord.conftest import Harness

D = Default
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
Client = TestClient[web.Request, web.Application]


async def signed_in(harness: Harness, client: Client) -> None:
    """Sign in the way a moderator does: the one-time link from /shield dashboard, then its form."""
    link = login_link(harness.app, f"discord:{D.MOD}", by=f"discord:{D.MOD}")
    page = await (await client.get(link[link.index("/login/link") :])).text()
    fields = dict(re.findall(r'name="(csrf|token)" value="([^"]+)"', page))
    answer = await client.post("/login/link", data=fields)
    assert answer.status == 200 and f"discord:{D.MOD}" in await answer.text()


async def decide(client: Client, case_id: int, verb: str, **form: str) -> str:
    """Post the decision form of a case page; the page after it (with the flashed results)."""
    page = f"/cases/{case_id}"
    found = CSRF.search(await (await client.get(page)).text())
    assert found
    await client.post(
        f"{page}/{verb}", data={"csrf": found.group(1), **form}, allow_redirects=False
    )
    return await (await client.get(page)).text()


def open_case(harness: Harness, mid: str, **fields: Any) -> int:
    values: dict[str, Any] = {
        "platform": "discord", "community": f"discord:{D.GUILD}", "channel_id": str(D.GENERAL),
        "message_id": mid, "author_id": f"discord:{D.MEMBER}", "author_name": "member",
        "jump_url": None, "tier": "review", "action": "held", "dry_run": False, "hashes": [],
        "findings": [],
    } | fields  # fmt: skip
    case, _ = CaseRepo(harness.app.db).open(**values)
    return case.id


async def test_dashboard_confirm_bans_on_discord_and_dismiss_dms_the_member(
    harness: Harness,
) -> None:
    """With Shield's Discord bot running, the dashboard's confirm + ban bans the author in the
    case's server (audited), and a dismiss with a note DMs it to the author, text only."""
    banned = open_case(harness, "9001")
    dismissed = open_case(harness, "9002")
    async with harness.run() as bot, TestClient(TestServer(make_app(harness.app, None))) as client:
        register_discord(harness.app, bot)
        try:
            await signed_in(harness, client)
            after_ban = await decide(client, banned, "confirm", platform_action="ban")
            ban = await harness.sandbox.wait_for_request(
                "PUT", f"/guilds/{D.GUILD}/bans/{D.MEMBER}"
            )
            after_dismiss = await decide(
                client, dismissed, "dismiss", member_note="Sorry: held by mistake, all fine."
            )
        finally:
            unregister_platforms(harness.app)
    assert ban.status == 204 and ban.reason is not None
    assert f"case {banned}" in ban.reason and f"discord:{D.MOD}" in ban.reason
    assert D.MEMBER in harness.sandbox.world.guilds[D.GUILD].bans
    assert "Discord: author banned" in after_ban
    enforced = harness.app.audit.recent(5, action="case.enforce")
    assert enforced and enforced[0].detail["action"] == "ban"
    assert enforced[0].detail["done"] == ["author banned"]
    dm = harness.sandbox.world.dm_channel(D.MEMBER).id
    sent = [
        r.json
        for r in harness.sandbox.find_requests("POST", f"/channels/{dm}/messages")
        if "held by mistake" in (r.json or {}).get("content", "")
    ]
    assert len(sent) == 1 and f"case {dismissed}" in sent[0]["content"]
    assert "sent your message by DM" in after_dismiss
    notified = harness.app.audit.recent(5, action="case.notify")
    assert notified and notified[0].detail["done"] and not notified[0].detail["failed"]
    assert not harness.app.platform_actions  # removed when the bot stops


async def test_discord_never_acts_on_another_platforms_user(harness: Harness) -> None:
    """A Twitch case's author id is a Twitch id: the Discord action refuses it, bans nobody."""
    twitch = open_case(
        harness, "t-1", platform="twitch", community="twitch:streamer",
        author_id=f"twitch:{D.MEMBER}", channel_id="4242",
    )  # fmt: skip
    case = CaseRepo(harness.app.db).get(twitch)
    assert case is not None
    async with harness.run() as bot:
        result = await bot.reviews.enforce(case, "ban", "web:mo")
        note = await bot.reviews.notify(case, "hello", "web:mo")
    assert result.failed and not result.done and "not Discord" in note.failed[0]
    assert not harness.sandbox.find_requests("PUT", re.compile(r"/guilds/\d+/bans/"))
    assert not harness.app.audit.recent(5, action="case.enforce")
