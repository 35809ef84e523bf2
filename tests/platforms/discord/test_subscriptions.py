"""/shield list subscribe and unsubscribe: the real ShieldBot against the local Discord, the
published list served by a local aiohttp server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import test_utils, web

from bot.sandbox.discord import Default
from bot.storage.subscriptions import SubscriptionRepo
from tests.platforms.discord.conftest import Harness

D = Default
EPHEMERAL = 1 << 6
HOSTS = "# feed\n0.0.0.0 feed-bad-one.com\n0.0.0.0 feed-bad-two.com\n0.0.0.0 bad..line\n"


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    """http://127.0.0.1:PORT/hosts.txt serving HOSTS (anything else: 404)."""

    async def hosts(request: web.Request) -> web.Response:
        return web.Response(text=HOSTS)

    application = web.Application()
    application.router.add_get("/hosts.txt", hosts)
    server = test_utils.TestServer(application, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/hosts.txt"))
    finally:
        await server.close()


def list_command(name: str, **options: str) -> list[dict[str, Any]]:
    inner = [{"name": k, "type": 3, "value": v} for k, v in options.items()]
    return [{"name": "list", "type": 2, "options": [{"name": name, "type": 1, "options": inner}]}]


async def run_list_command(harness: Harness, user_id: int, name: str, **options: str) -> str:
    """Run /shield list NAME ...; the text of the private answer (deferred or not)."""
    record = await harness.sandbox.slash_command(
        "shield", channel_id=D.GENERAL, user_id=user_id, options=list_command(name, **options)
    )
    response = await record.wait_response()
    assert (response.get("data") or {}).get("flags", 0) & EPHEMERAL
    if response["type"] == 5:  # deferred: the answer comes as a follow-up
        followup = await harness.sandbox.wait_for_request(
            "POST", f"/webhooks/{D.BOT}/{record.token}", timeout=30
        )
        assert followup.json["flags"] & EPHEMERAL
        return str(followup.json["content"])
    return str(response["data"]["content"])


async def test_subscribe_blocks_the_feed_at_once_and_unsubscribe_removes_it(
    harness: Harness, feed_url: str
) -> None:
    """A moderator subscribes the server's list to a published hosts file: its domains are
    deleted from chat at once; the action is audited; a member may not subscribe; unsubscribing
    removes the feed's rules but not the server's own."""
    app = harness.app
    async with harness.run():
        refused = await run_list_command(harness, D.MEMBER, "subscribe", url=feed_url)
        assert "Only this server's moderators" in refused

        own = await run_list_command(harness, D.MOD, "add", rule="mods-own-rule.com")
        assert "Added" in own
        answer = await run_list_command(harness, D.MOD, "subscribe", url=feed_url, tier="block")
        message = await harness.sandbox.send_message(
            D.GENERAL, D.MEMBER, "new pics at https://www.feed-bad-two.com/x"
        )
        await harness.deleted(D.GENERAL, message["id"])

        missing = await run_list_command(
            harness, D.MOD, "subscribe", url=feed_url.replace("hosts.txt", "gone.txt")
        )
        again = await run_list_command(harness, D.MOD, "subscribe", url=feed_url)

        gone = await run_list_command(harness, D.MOD, "unsubscribe", url=feed_url)
        kept = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "feed-bad-one.com")
        marker = await harness.sandbox.send_message(D.GENERAL, D.MEMBER, "mods-own-rule.com")
        await harness.deleted(D.GENERAL, marker["id"])

    name = f"discord-{D.GUILD}"
    assert f"Subscribed list `{name}`" in answer and "2 new" in answer
    assert "1 bad lines skipped" in answer and "line 4" in answer
    assert "HTTP 404" in missing
    assert "already subscribed" in again
    assert f"Unsubscribed list `{name}`" in gone and "2 rules" in gone
    assert harness.untouched(D.GENERAL, kept)
    assert SubscriptionRepo(app.db).all() == []

    (subscribed,) = app.audit.recent(5, action="list.subscribe")
    assert subscribed.actor == f"discord:{D.MOD}" and subscribed.community == f"discord:{D.GUILD}"
    assert subscribed.detail["url"] == feed_url and subscribed.detail["added"] == 2
    (unsubscribed,) = app.audit.recent(5, action="list.unsubscribe")
    assert unsubscribed.actor == f"discord:{D.MOD}" and unsubscribed.detail["removed"] == 2
