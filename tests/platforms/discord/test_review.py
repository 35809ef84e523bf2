"""Alert buttons: they work after a restart, check the clicker, audit, and edit the alert."""

from __future__ import annotations

import json
from typing import Any

from bot.core.verdict import Tier
from bot.lists import add_rule
from bot.media.banking import add_files
from bot.sandbox.discord import Default
from bot.storage.cases import CaseRepo
from tests.images import encoded, picture
from tests.platforms.discord.conftest import Harness

D = Default
EPHEMERAL = 1 << 6


async def post_and_alert(
    harness: Harness, text: str = "clothoff.io", **options: Any
) -> dict[str, Any]:
    message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, text, **options)
    await harness.sandbox.wait_for_request(
        "DELETE", f"/channels/{D.GENERAL}/messages/{message['id']}", timeout=60
    )
    return await harness.alert()


async def test_ban_button_after_a_restart(harness: Harness) -> None:
    """A new ShieldBot over the same database answers a click on an old alert: ban, audit, edit."""
    async with harness.run():
        alert = await post_and_alert(harness)
    async with harness.run():  # a restart: a new client, new state, the same SQLite file
        click = await harness.sandbox.click(
            D.ALERTS, int(alert["id"]), "shield:case:1:ban", user_id=D.MOD
        )
        ban = await harness.sandbox.wait_for_request("PUT", f"/guilds/{D.GUILD}/bans/{D.MEMBER}")
        edit = await harness.sandbox.wait_for_request(
            "PATCH", f"/webhooks/{D.BOT}/{click.token}/messages/@original"
        )
    assert ban.status == 204 and int(ban.query["delete_message_seconds"]) > 0
    assert ban.reason is not None and "case 1" in ban.reason and str(D.MOD) in ban.reason
    assert D.MEMBER in harness.sandbox.world.guilds[D.GUILD].bans
    decision = {f["name"]: f["value"] for f in edit.json["embeds"][0]["fields"]}["Decision"]
    assert f"<@{D.MOD}>" in decision and "author banned" in decision
    assert edit.json["components"] == []
    case = CaseRepo(harness.app.db).get(1)
    assert case is not None and case.state == "confirmed" and case.decided_by == f"discord:{D.MOD}"
    audit = harness.app.audit.recent(5, action="case.confirm")
    assert audit and audit[0].actor == f"discord:{D.MOD}" and audit[0].detail["action"] == "ban"


async def test_non_moderator_click_is_refused(harness: Harness) -> None:
    """A member without the role or permissions gets a private refusal; nothing happens."""
    async with harness.run():
        alert = await post_and_alert(harness)
        # A member cannot see #alerts: the click stands for a forged request.
        click = await harness.sandbox.click(
            D.ALERTS, int(alert["id"]), "shield:case:1:ban", user_id=D.MEMBER
        )
        response = await click.wait_response()
    assert response["data"]["flags"] & EPHEMERAL
    assert "moderators" in response["data"]["content"]
    assert not harness.sandbox.find_requests("PUT", f"/guilds/{D.GUILD}/bans/{D.MEMBER}")
    case = CaseRepo(harness.app.db).get(1)
    assert case is not None and case.state == "open"


async def test_moderator_role_without_permissions_may_decide(make_harness: Any) -> None:
    """The configured moderator role is enough, even without Ban or Moderate Members."""
    harness: Harness = await make_harness()
    guild = harness.sandbox.world.guilds[D.GUILD]
    role = guild.role(D.MOD_ROLE)
    assert role is not None
    role.permissions = 0
    async with harness.run():
        alert = await post_and_alert(harness)
        await harness.sandbox.click(
            D.ALERTS, int(alert["id"]), "shield:case:1:timeout", user_id=D.MOD
        )
        await harness.sandbox.wait_for_request(
            "PATCH",
            f"/webhooks/{D.BOT}/" + harness.sandbox.interactions[-1].token + "/messages/@original",
        )
    assert CaseRepo(harness.app.db).get(1).state == "confirmed"  # type: ignore[union-attr]
    patches = harness.sandbox.find_requests("PATCH", f"/guilds/{D.GUILD}/members/{D.MEMBER}")
    assert len(patches) == 2  # the automatic first-offence timeout, then the moderator's


async def test_second_click_is_told_the_case_is_decided(harness: Harness) -> None:
    """Two moderators clicking: the second is told who decided first; one ban only."""
    async with harness.run():
        alert = await post_and_alert(harness)
        first = await harness.sandbox.click(
            D.ALERTS, int(alert["id"]), "shield:case:1:ban", user_id=D.MOD
        )
        await first.wait_response()
        second = await harness.sandbox.click(
            D.ALERTS, int(alert["id"]), "shield:case:1:dismiss", user_id=D.OWNER
        )
        response = await second.wait_response()
    assert "already confirmed" in response["data"]["content"]
    assert len(harness.sandbox.find_requests("PUT", f"/guilds/{D.GUILD}/bans/{D.MEMBER}")) == 1


async def test_dismiss_allow_lists_the_domain(harness: Harness) -> None:
    """Dismissing a link case puts the host on the false-positives allow list; it then passes."""
    add_rule(harness.app, "custom", "example.org", tier=Tier.BLOCK, actor="test")
    async with harness.run():
        alert = await post_and_alert(harness, "see https://shop.example.org/x")
        click = await harness.sandbox.click(
            D.ALERTS, int(alert["id"]), "shield:case:1:dismiss", user_id=D.MOD
        )
        edit = await harness.sandbox.wait_for_request(
            "PATCH", f"/webhooks/{D.BOT}/{click.token}/messages/@original"
        )
        again = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "see https://shop.example.org/y"
        )
        marker = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "undress.app")
        await harness.sandbox.wait_for_request(
            "DELETE", f"/channels/{D.GENERAL}/messages/{marker['id']}"
        )
    assert "false-positives" in json.dumps(edit.json["embeds"])
    assert harness.untouched(D.GENERAL, again)
    info = harness.app.lists.get("false-positives")
    assert info is not None and info.tier is Tier.ALLOW
    assert harness.app.audit.recent(5, action="case.dismiss")[0].actor == f"discord:{D.MOD}"


async def test_dismiss_allow_lists_the_image(harness: Harness) -> None:
    """Dismissing a bank case adds the picture's hashes to the false-positives allow bank."""
    path = harness.tmp_path / "vault.png"
    image = encoded(picture(3))
    path.write_bytes(image)
    app = harness.app
    add_files(
        app.banks, app.audit, [path], bank="vault", tier=None, actor="test", settings=app.settings
    )
    async with harness.run():
        alert = await post_and_alert(harness, "", attachments=[("a.png", image, "image/png")])
        click = await harness.sandbox.click(
            D.ALERTS, int(alert["id"]), "shield:case:1:dismiss", user_id=D.MOD
        )
        await harness.sandbox.wait_for_request(
            "PATCH", f"/webhooks/{D.BOT}/{click.token}/messages/@original"
        )
        again = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "", attachments=[("b.png", image, "image/png")]
        )
        marker = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "undress.app")
        await harness.sandbox.wait_for_request(
            "DELETE", f"/channels/{D.GENERAL}/messages/{marker['id']}", timeout=30
        )
    bank = app.banks.get("false-positives")
    assert bank is not None and bank.tier is Tier.ALLOW and bank.entries >= 3
    assert harness.untouched(D.GENERAL, again)
