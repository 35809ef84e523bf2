"""When Discord pushes back: missing permissions, 429 storms, reconnects that replay events."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest

from bot.sandbox.discord import SHIELD_PERMISSIONS, Default, Perm, default_world
from bot.storage.cases import CaseRepo
from tests.platforms.discord.conftest import Harness

D = Default


async def test_missing_manage_messages_is_logged_and_alerted(
    make_harness: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Without Manage Messages: one clear log line at start, and the alert says the delete failed."""
    world = default_world(bot_permissions=SHIELD_PERMISSIONS & ~Perm.MANAGE_MESSAGES)
    harness: Harness = await make_harness(world)
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "clothoff.io")
        alert = await harness.alert()
    lines = [r.getMessage() for r in caplog.records if "lacks permissions" in r.getMessage()]
    assert len(lines) == 1
    assert "Manage Messages" in lines[0] and str(D.GUILD) in lines[0]
    assert "Ban Members" not in lines[0]
    done = {f["name"]: f["value"] for f in alert["embeds"][0]["fields"]}["What was done"]
    assert "FAILED" in done and "could not delete" in done and "Manage Messages" in done
    assert harness.sandbox.message(D.GENERAL, int(message["id"])) is not None


async def test_missing_message_content_intent_is_warned(
    make_harness: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """An application without the Message Content flag gets a clear warning at start."""
    world = default_world()
    world.application.flags = 0
    harness: Harness = await make_harness(world)
    async with harness.run():
        pass
    assert any("Message Content intent" in r.getMessage() for r in caplog.records)


async def test_a_429_storm_still_deletes(harness: Harness) -> None:
    """Discord answers the delete with 429 several times: discord.py waits and retries."""
    pattern = re.compile(rf"/channels/{D.GENERAL}/messages/\d+")
    rule = harness.sandbox.rate_limit(4, method="DELETE", path=pattern, retry_after=0.05)
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "clothoff.io")
        path = f"/channels/{D.GENERAL}/messages/{message['id']}"
        for _ in range(5):
            last = await harness.sandbox.wait_for_request("DELETE", path)
        await harness.alert()
    assert rule.hits == 4 and last.status == 204
    assert harness.sandbox.message(D.GENERAL, int(message["id"])) is None


async def test_replayed_message_is_not_acted_on_twice(make_harness: Any) -> None:
    """A reconnect replays MESSAGE_CREATE: one DELETE, one case, one alert."""
    harness: Harness = await make_harness()
    harness.sandbox.replay_on_resume = 10
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "clothoff.io")
        await harness.deleted(D.GENERAL, message["id"])
        await harness.alert()
        await harness.sandbox.force_reconnect()
        await harness.sandbox.wait_for_event("RESUMED", timeout=10)
        replayed = [
            d for d in harness.sandbox.events.items if d.replayed and d.event == "MESSAGE_CREATE"
        ]
        assert replayed
        marker = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "undress.app")
        await harness.deleted(D.GENERAL, marker["id"])
    deletes = harness.sandbox.find_requests(
        "DELETE", f"/channels/{D.GENERAL}/messages/{message['id']}"
    )
    assert len(deletes) == 1
    cases = [c for c in CaseRepo(harness.app.db).recent() if c.message_id == message["id"]]
    assert len(cases) == 1
    alerts = harness.sandbox.find_requests("POST", f"/channels/{D.ALERTS}/messages")
    assert len(alerts) == 2  # the first message and the marker


async def test_concurrent_duplicates_act_once(harness: Harness) -> None:
    """The same MESSAGE_CREATE twice at once (at-least-once delivery): still one delete."""
    async with harness.run():
        message = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "clothoff.io")
        await harness.sandbox.dispatch("MESSAGE_CREATE", json.loads(json.dumps(message)))
        await harness.deleted(D.GENERAL, message["id"])
        marker = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "undress.app")
        await harness.deleted(D.GENERAL, marker["id"])
    path = f"/channels/{D.GENERAL}/messages/{message['id']}"
    assert len(harness.sandbox.find_requests("DELETE", path)) == 1


async def test_attachments_from_the_api_host_are_fetched_without_private_mode(
    make_harness: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """With private addresses refused, the configured API host still serves attachments (like
    Discord's CDN); a link to another local port stays refused."""
    from bot.media.banking import add_files
    from tests.images import encoded, picture

    harness: Harness = await make_harness(allow_private=False)
    image = encoded(picture(5))
    path = harness.tmp_path / "v.png"
    path.write_bytes(image)
    app = harness.app
    add_files(
        app.banks, app.audit, [path], bank="vault", tier=None, actor="test", settings=app.settings
    )
    caplog.set_level(logging.INFO, logger="bot.media.fetch")
    async with harness.run():
        message = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "", attachments=[("p.png", image, "image/png")]
        )
        await harness.deleted(D.GENERAL, message["id"], timeout=60)
        other = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "http://127.0.0.1:9/x.png")
        marker = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "undress.app")
        await harness.deleted(D.GENERAL, marker["id"])
    assert harness.untouched(D.GENERAL, other)
    assert any("private network" in r.getMessage() for r in caplog.records)
