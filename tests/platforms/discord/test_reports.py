"""DMs to the bot, the context menus and the /shield commands."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.discord import Default
from bot.storage.cases import CaseRepo
from tests.images import encoded, picture
from tests.platforms.discord.conftest import Harness

D = Default
EPHEMERAL = 1 << 6


def pointers(text: str) -> bool:
    return all(p in text for p in ("discord.com/report", "stopncii.org", "takeitdown.ncmec.org"))


async def test_dm_gets_report_pointers_and_alerts_shared_servers(harness: Harness) -> None:
    """A DM with a listed link: a reply with the findings and where to report; the moderators
    of the server the sender shares with Shield get a metadata-only alert (dismiss only)."""
    async with harness.run():
        dm = await harness.sandbox.dm(D.MEMBER, "someone posted clothoff.io/me of me, help")
        reply = await harness.sandbox.wait_for_request(
            "POST", f"/channels/{dm['channel_id']}/messages"
        )
        alert = await harness.alert()
    assert pointers(reply.json["content"]) and "clothoff.io" in reply.json["content"]
    assert not harness.sandbox.find_requests("DELETE")
    assert "direct message" in json.dumps(alert["embeds"])
    assert "someone posted" not in json.dumps(alert)
    ids = [c["custom_id"] for row in alert["components"] for c in row["components"]]
    assert ids == ["shield:case:1:dismiss"]


async def test_clean_dm_still_gets_pointers(harness: Harness) -> None:
    """A DM with nothing known in it: the pointers, and no alert anywhere."""
    async with harness.run():
        dm = await harness.sandbox.dm(D.MEMBER, "how do I get a deepfake of me taken down?")
        reply = await harness.sandbox.wait_for_request(
            "POST", f"/channels/{dm['channel_id']}/messages"
        )
    assert pointers(reply.json["content"]) and "nothing" in reply.json["content"]
    assert not harness.sandbox.find_requests("POST", f"/channels/{D.ALERTS}/messages")


async def test_report_to_moderators_on_an_unknown_message(harness: Harness) -> None:
    """A member reports a message no list knows: a case, an alert naming the reporter."""
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "look at this one")
        record = await harness.sandbox.message_command(
            "Report to moderators",
            channel_id=D.GENERAL,
            message_id=int(message["id"]),
            user_id=D.OWNER,
        )
        alert = await harness.alert()
        await record.wait_response()
        followup = await harness.sandbox.wait_for_request(
            "POST", f"/webhooks/{D.BOT}/{record.token}"
        )
    assert f"reported by <@{D.OWNER}>" in json.dumps(alert["embeds"])
    assert (
        followup.json["flags"] & EPHEMERAL
        and "moderators have been told" in followup.json["content"]
    )
    case = CaseRepo(harness.app.db).get(1)
    assert case is not None and case.tier == "review" and case.state == "open"
    assert alert["embeds"][0]["title"].startswith("Reported by a member")
    assert harness.app.audit.recent(3, action="case.report")[0].actor == f"discord:{D.OWNER}"


async def test_report_of_a_listed_link_deletes_it(harness: Harness) -> None:
    """A report of a message Shield missed at first (say, the list changed since) acts on it."""
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "ok")
        harness.sandbox.world.message(D.GENERAL, int(message["id"]))["content"] = "clothoff.io"  # type: ignore[index]
        await harness.sandbox.message_command(
            "Report to moderators",
            channel_id=D.GENERAL,
            message_id=int(message["id"]),
            user_id=D.OWNER,
        )
        await harness.deleted(D.GENERAL, message["id"])
        await harness.alert()


async def test_add_to_shield_bank_then_a_copy_is_deleted(harness: Harness) -> None:
    """A moderator adds a message's picture to the server's bank; a re-post is then deleted."""
    image = encoded(picture(11))
    async with harness.run():
        message = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "", attachments=[("x.png", image, "image/png")]
        )
        record = await harness.sandbox.message_command(
            "Add to Shield bank", channel_id=D.GENERAL, message_id=int(message["id"]), user_id=D.MOD
        )
        followup = await harness.sandbox.wait_for_request(
            "POST", f"/webhooks/{D.BOT}/{record.token}", timeout=60
        )
        repost = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "", attachments=[("y.png", image, "image/png")]
        )
        await harness.deleted(D.GENERAL, repost["id"], timeout=60)
    assert (
        "discord-111" in followup.json["content"] and "never the media" in followup.json["content"]
    )
    bank = harness.app.banks.get(f"discord-{D.GUILD}")
    assert bank is not None and bank.entries >= 3


async def test_add_to_bank_is_refused_to_members(harness: Harness) -> None:
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.OWNER, "hi")
        record = await harness.sandbox.message_command(
            "Add to Shield bank",
            channel_id=D.GENERAL,
            message_id=int(message["id"]),
            user_id=D.MEMBER,
        )
        response = await record.wait_response()
    assert (
        response["data"]["flags"] & EPHEMERAL and "Only moderators" in response["data"]["content"]
    )
    assert harness.app.banks.get(f"discord-{D.GUILD}") is None


def subcommand(name: str, options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    kinds = {bool: 5, int: 4, str: 3}
    inner = [{"name": k, "type": kinds[type(v)], "value": v} for k, v in (options or {}).items()]
    return [{"name": name, "type": 1, "options": inner}]


async def test_setup_dryrun_and_stats_from_discord(harness: Harness) -> None:
    """/shield setup, /shield dryrun and /shield stats, by the owner; a member is refused."""
    async with harness.run():
        published = harness.sandbox.find_requests("PUT", f"/applications/{D.BOT}/commands")[0].json
        by_name = {c["name"]: c for c in published}
        assert {"shield", "Report to moderators", "Add to Shield bank"} <= set(by_name)
        report = by_name["Report to moderators"]
        assert report["integration_types"] == [0, 1] and set(report["contexts"]) == {0, 1, 2}
        record = await harness.sandbox.slash_command(
            "shield",
            channel_id=D.GENERAL,
            user_id=D.OWNER,
            options=subcommand("setup", {"timeout_minutes": 30, "first_offence": "none"}),
        )
        setup = await record.wait_response()
        record = await harness.sandbox.slash_command(
            "shield",
            channel_id=D.GENERAL,
            user_id=D.OWNER,
            options=subcommand("dryrun", {"on": True}),
        )
        dry = await record.wait_response()
        record = await harness.sandbox.slash_command(
            "shield",
            channel_id=D.GENERAL,
            user_id=D.MEMBER,
            options=subcommand("dryrun", {"on": False}),
        )
        refused = await record.wait_response()
        record = await harness.sandbox.slash_command(
            "shield", channel_id=D.GENERAL, user_id=D.MOD, options=subcommand("stats")
        )
        stats = await record.wait_response()
    assert (
        "timeout: 30 min" in setup["data"]["content"]
        and "first offence: none" in setup["data"]["content"]
    )
    assert "Dry run is ON" in dry["data"]["content"]
    assert "Only this server's moderators" in refused["data"]["content"]
    assert "No cases" in stats["data"]["content"]
    settings = harness.app.communities.all(f"discord:{D.GUILD}")
    assert settings["dry_run"] is True and settings["timeout_minutes"] == 30
    assert harness.app.audit.recent(10, action="community.set")[0].actor == f"discord:{D.OWNER}"


async def test_list_add_and_check_from_discord(harness: Harness) -> None:
    """/shield list add blocks a new domain at once; /shield check shows the verdict."""
    async with harness.run():
        record = await harness.sandbox.slash_command(
            "shield",
            channel_id=D.GENERAL,
            user_id=D.MOD,
            options=[
                {
                    "name": "list",
                    "type": 2,
                    "options": subcommand("add", {"rule": "badsite.example"}),
                }
            ],
        )
        added = await record.wait_response()
        record = await harness.sandbox.slash_command(
            "shield",
            channel_id=D.GENERAL,
            user_id=D.MOD,
            options=subcommand("check", {"text": "see badsite[.]example"}),
        )
        await record.wait_response()
        checked = await harness.sandbox.wait_for_request(
            "POST", f"/webhooks/{D.BOT}/{record.token}"
        )
        message = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "https://www.badsite.example"
        )
        await harness.deleted(D.GENERAL, message["id"])
    assert "Added `badsite.example`" in added["data"]["content"]
    assert checked.json["content"].startswith("**BLOCK**")


async def test_report_from_a_dm_gets_pointers(harness: Harness) -> None:
    """ "Report to moderators" used in a DM (the user-installed app): a private answer with the
    findings and where to report; nothing is deleted."""
    async with harness.run():
        dm = await harness.sandbox.dm(D.MEMBER, "they sent me undress.app/pics")
        await harness.sandbox.wait_for_request("POST", f"/channels/{dm['channel_id']}/messages")
        record = await harness.sandbox.message_command(
            "Report to moderators",
            channel_id=int(dm["channel_id"]),
            message_id=int(dm["id"]),
            user_id=D.MEMBER,
        )
        followup = await harness.sandbox.wait_for_request(
            "POST", f"/webhooks/{D.BOT}/{record.token}"
        )
    assert followup.json["flags"] & EPHEMERAL
    assert pointers(followup.json["content"]) and "undress.app" in followup.json["content"]
    assert not harness.sandbox.find_requests("DELETE")


async def test_dashboard_login_link_from_discord(harness: Harness) -> None:
    """/shield dashboard gives a moderator a private one-time link that signs them in."""
    import re

    from aiohttp.test_utils import TestClient, TestServer

    from bot.review.web.app import make_app

    async with harness.run():
        record = await harness.sandbox.slash_command(
            "shield", channel_id=D.GENERAL, user_id=D.MOD, options=subcommand("dashboard")
        )
        answer = await record.wait_response()
        refused_record = await harness.sandbox.slash_command(
            "shield", channel_id=D.GENERAL, user_id=D.MEMBER, options=subcommand("dashboard")
        )
        refused = await refused_record.wait_response()
    assert answer["data"]["flags"] & 64  # ephemeral: only the moderator sees it
    link = next(w for w in answer["data"]["content"].split() if "/login/link?t=" in w)
    assert "Only this server's moderators" in refused["data"]["content"]
    path = link[link.index("/login/link") :]
    server = TestServer(make_app(harness.app, None))
    async with TestClient(server) as client:
        page = await (await client.get(path)).text()
        fields = dict(re.findall(r'name="(csrf|token)" value="([^"]+)"', page))
        signed_in = await client.post("/login/link", data=fields)
        assert signed_in.status == 200 and "discord:501" in await signed_in.text()
    async with TestClient(TestServer(make_app(harness.app, None))) as other:
        page = await (await other.get(path)).text()  # the same link, another browser
        fields = dict(re.findall(r'name="(csrf|token)" value="([^"]+)"', page))
        reused = await other.post("/login/link", data=fields)
        assert "discord:501" not in await reused.text()  # it worked once only
