"""The local Twitch against the real, unmodified twitchio 3 client over 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from bot.sandbox.twitch import (
    BOT_ID,
    MOD_ID,
    STREAMER_ID,
    VIEWER_IDS,
    LocalTwitch,
    mention_fragment,
    text_fragment,
)
from bot.sandbox.twitch.model import now_utc

with warnings.catch_warnings():
    # twitchio 3.3's web adapter subclasses aiohttp's Application, which aiohttp deprecates.
    warnings.filterwarnings("ignore", "Inheritance class AiohttpAdapter", DeprecationWarning)
    import twitchio
    import twitchio.eventsub.websockets
    import twitchio.http
    from twitchio import eventsub

VIEWER = VIEWER_IDS[0]
START = {"with_adapter": False, "load_tokens": False, "save_tokens": False}


class Events:
    """Queues of what the client dispatched, by event name (`message`, `message_whisper`, ...)."""

    NAMES = (
        "message",
        "message_whisper",
        "automod_message_hold",
        "automod_message_update",
        "message_delete",
    )

    def __init__(self, client: twitchio.Client) -> None:
        self.queues: defaultdict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        for name in self.NAMES:
            client.add_listener(self._listener(name), event=f"event_{name}")

    def _listener(self, name: str) -> Any:
        async def put(payload: Any) -> None:
            await self.queues[name].put(payload)

        return put

    async def next(self, name: str, timeout: float = 5.0) -> Any:
        return await asyncio.wait_for(self.queues[name].get(), timeout)

    def empty(self, name: str) -> bool:
        return self.queues[name].empty()


@pytest.fixture
async def twitch() -> AsyncIterator[LocalTwitch]:
    async with LocalTwitch(keepalive_seconds=0.5) as server:
        with server.patch_twitchio():
            yield server


@pytest.fixture
async def client(twitch: LocalTwitch) -> AsyncIterator[twitchio.Client]:
    """A started twitchio.Client with the bot's user token added."""
    bot = twitchio.Client(
        client_id=twitch.client_id, client_secret=twitch.client_secret, bot_id=BOT_ID
    )
    runner = asyncio.create_task(bot.start(**START))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        token = twitch.token_for("shieldbot")
        assert token.refresh_token is not None
        await bot.add_token(token.access_token, token.refresh_token)
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(runner, 5)


@pytest.fixture
def events(client: twitchio.Client) -> Events:
    return Events(client)


async def subscribe_chat(client: twitchio.Client) -> str:
    resp = await client.subscribe_websocket(
        eventsub.ChatMessageSubscription(broadcaster_user_id=STREAMER_ID, user_id=BOT_ID),
        as_bot=True,
    )
    assert resp is not None
    return str(resp["data"][0]["id"])


# -- login and subscriptions ----------------------------------------------------------------------


async def test_login_and_chat_subscription(twitch: LocalTwitch, client: twitchio.Client) -> None:
    app_token = await twitch.wait_for_request("POST", "/oauth2/token")
    assert app_token.query["grant_type"] == "client_credentials"
    assert app_token.status == 200
    users = await twitch.wait_for_request("GET", "/helix/users")
    assert users.query["id"] == BOT_ID and users.token_is_app
    assert client.user is not None and client.user.name == "shieldbot"
    validate = await twitch.wait_for_request(
        "GET", "/oauth2/validate", where=lambda r: r.response.get("user_id") == BOT_ID
    )
    assert "moderator:manage:chat_messages" in validate.response["scopes"]
    assert validate.response["expires_in"] > 3600

    sub_id = await subscribe_chat(client)
    created = await twitch.wait_for_request("POST", "/helix/eventsub/subscriptions")
    assert created.status == 202 and created.token_user_id == BOT_ID
    assert created.json["transport"]["method"] == "websocket"
    assert created.response_headers["Ratelimit-Limit"] == "800"
    assert int(created.response_headers["Ratelimit-Remaining"]) < 800
    sub = await twitch.wait_for_subscription("channel.chat.message")
    assert sub.id == sub_id and sub.enabled
    assert sub.session_id in {s.id for s in twitch.sessions}
    assert sub_id in client.websocket_subscriptions()


async def test_subscribing_twice_is_a_conflict_twitchio_ignores(
    twitch: LocalTwitch, client: twitchio.Client
) -> None:
    await subscribe_chat(client)
    again = await client.subscribe_websocket(
        eventsub.ChatMessageSubscription(broadcaster_user_id=STREAMER_ID, user_id=BOT_ID),
        as_bot=True,
    )
    assert again is None
    conflict = twitch.find_requests("POST", "/helix/eventsub/subscriptions")[-1]
    assert conflict.status == 409


async def test_subscription_without_scope_is_refused(
    twitch: LocalTwitch, client: twitchio.Client
) -> None:
    """A token missing user:read:chat cannot read chat: 403, and twitchio raises it."""
    weak = twitch.issue_token("mod1", ["moderator:manage:chat_messages"])
    assert weak.refresh_token is not None
    await client.add_token(weak.access_token, weak.refresh_token)
    with pytest.raises(twitchio.HTTPException) as caught:
        await client.subscribe_websocket(
            eventsub.ChatMessageSubscription(broadcaster_user_id=STREAMER_ID, user_id=MOD_ID),
            token_for=MOD_ID,
        )
    assert caught.value.status == 403
    assert caught.value.extra["message"] == "subscription missing proper authorization"


async def test_subscriptions_can_be_listed_and_deleted(
    twitch: LocalTwitch, client: twitchio.Client
) -> None:
    sub_id = await subscribe_chat(client)
    listed = await client.fetch_eventsub_subscriptions(token_for=BOT_ID)
    assert listed.total == 1
    subs = [s async for s in listed.subscriptions]
    assert [(s.id, s.type, s.status) for s in subs] == [(sub_id, "channel.chat.message", "enabled")]
    assert subs[0].transport.session_id == twitch.sessions[0].id

    await client.delete_websocket_subscription(sub_id)
    delete = await twitch.wait_for_request("DELETE", "/helix/eventsub/subscriptions")
    assert delete.status == 204 and delete.query["id"] == sub_id
    assert twitch.subscriptions == []


# -- chat, delete, moderation ---------------------------------------------------------------------


async def test_event_message_carries_text_and_fragments(
    twitch: LocalTwitch, client: twitchio.Client, events: Events
) -> None:
    await subscribe_chat(client)
    bot_user = twitch.user("shieldbot")
    fragments = [
        text_fragment("hey "),
        mention_fragment(bot_user),
        text_fragment(" look https://clothoff.io/x"),
    ]
    sent = await twitch.chat_message("streamer", "viewer1", fragments=fragments)
    assert len(sent.notifications) == 1

    message: twitchio.ChatMessage = await events.next("message")
    assert message.id == sent.message_id
    assert message.text == "hey @ShieldBot look https://clothoff.io/x"
    assert [f.type for f in message.fragments] == ["text", "mention", "text"]
    assert message.mentions[0].id == BOT_ID
    assert message.chatter.id == VIEWER and message.chatter.name == "viewer1"
    assert message.broadcaster.id == STREAMER_ID
    assert message.metadata is not None
    assert message.metadata.message_id == sent.notifications[0].message_id

    await twitch.chat_message("streamer", "mod1", "I moderate here")
    from_mod: twitchio.ChatMessage = await events.next("message")
    assert from_mod.chatter.moderator


async def test_chat_message_delete_sends_message_id(
    twitch: LocalTwitch, client: twitchio.Client
) -> None:
    await subscribe_chat(client)

    async def delete_it(message: twitchio.ChatMessage) -> None:
        await message.delete(moderator=BOT_ID)

    client.add_listener(delete_it, event="event_message")
    sent = await twitch.chat_message("streamer", "viewer1", "https://clothoff.io/abc")

    delete = await twitch.wait_for_request("DELETE", "/helix/moderation/chat")
    assert delete.status == 204
    assert delete.query == {
        "broadcaster_id": STREAMER_ID,
        "moderator_id": BOT_ID,
        "message_id": sent.message_id,
    }
    assert delete.token_user_id == BOT_ID
    latency = twitch.delete_latency(sent)  # notification to DELETE, what the bench measures
    assert latency is not None and 0 < latency < 5
    assert twitch.deleted(sent.message_id)
    assert [d.message_id for d in twitch.deletions] == [sent.message_id]
    assert twitch.chat_clears == []


async def test_delete_without_message_id_is_recorded_as_a_chat_clear(
    twitch: LocalTwitch, client: twitchio.Client
) -> None:
    """The dangerous call: Twitch clears the whole chat. The sandbox notices it happened."""
    await twitch.chat_message("streamer", "viewer1", "hello")
    channel = client.create_partialuser(STREAMER_ID)
    await channel.delete_chat_messages(moderator=BOT_ID)
    assert len(twitch.chat_clears) == 1
    assert twitch.chat_clears[0].moderator_id == BOT_ID
    assert "message_id" not in twitch.chat_clears[0].request.query


@pytest.mark.parametrize(
    ("chatter", "age", "message"),
    [
        ("streamer", timedelta(0), "You cannot delete the broadcaster's messages."),
        ("mod1", timedelta(0), "You cannot delete another moderator's messages."),
        ("viewer1", timedelta(hours=6, minutes=1), "more than 6 hours old"),
    ],
)
async def test_undeletable_messages_answer_400(
    twitch: LocalTwitch, client: twitchio.Client, chatter: str, age: timedelta, message: str
) -> None:
    sent = await twitch.chat_message("streamer", chatter, "hi", sent_at=now_utc() - age)
    channel = client.create_partialuser(STREAMER_ID)
    with pytest.raises(twitchio.HTTPException) as caught:
        await channel.delete_chat_messages(moderator=BOT_ID, message_id=sent.message_id)
    assert caught.value.status == 400
    assert message in caught.value.extra["message"]
    request = await twitch.wait_for_request("DELETE", "/helix/moderation/chat")
    assert request.status == 400 and request.query["message_id"] == sent.message_id
    assert not twitch.deleted(sent.message_id)
    assert twitch.deletions == []


async def test_delete_needs_the_scope(twitch: LocalTwitch, client: twitchio.Client) -> None:
    """A moderator token without moderator:manage:chat_messages gets Twitch's 401 with the scope
    named, which twitchio does not mistake for an expired token."""
    weak = twitch.issue_token("mod1", ["user:read:chat"])
    assert weak.refresh_token is not None
    await client.add_token(weak.access_token, weak.refresh_token)
    sent = await twitch.chat_message("streamer", "viewer1", "spam")
    channel = client.create_partialuser(STREAMER_ID)
    with pytest.raises(twitchio.HTTPException) as caught:
        await channel.delete_chat_messages(moderator=MOD_ID, message_id=sent.message_id)
    assert caught.value.status == 401
    assert caught.value.extra["message"] == "Missing scope: moderator:manage:chat_messages"
    assert twitch.refreshes == []


async def test_timeout_ban_and_warn_are_recorded(
    twitch: LocalTwitch, client: twitchio.Client
) -> None:
    channel = client.create_partialuser(STREAMER_ID)
    timeout = await channel.timeout_user(
        moderator=BOT_ID, user=VIEWER, duration=600, reason="deepfake link"
    )
    assert timeout.user.id == VIEWER and timeout.end_time is not None
    ban = await channel.ban_user(moderator=BOT_ID, user=VIEWER_IDS[1], reason="repeat")
    assert ban.user.id == VIEWER_IDS[1]
    await channel.warn_user(moderator=BOT_ID, user_id=VIEWER, reason="no links like that")

    assert [(b.user_id, b.duration, b.reason) for b in twitch.bans] == [
        (VIEWER, 600, "deepfake link"),
        (VIEWER_IDS[1], None, "repeat"),
    ]
    assert twitch.bans[0].is_timeout and not twitch.bans[1].is_timeout
    request = twitch.find_requests("POST", "/helix/moderation/bans")[0]
    assert request.json == {"data": {"user_id": VIEWER, "duration": 600, "reason": "deepfake link"}}
    assert [(w.user_id, w.reason) for w in twitch.warnings] == [(VIEWER, "no links like that")]

    with pytest.raises(twitchio.HTTPException) as caught:
        await channel.ban_user(moderator=BOT_ID, user=MOD_ID, reason="no")
    assert caught.value.status == 400


async def test_sent_chat_message_is_recorded_and_echoed(
    twitch: LocalTwitch, client: twitchio.Client, events: Events
) -> None:
    await subscribe_chat(client)
    channel = client.create_partialuser(STREAMER_ID)
    sent = await channel.send_message("Removed a link.", sender=BOT_ID, token_for=BOT_ID)
    assert sent.sent
    assert [(m.sender_id, m.text) for m in twitch.sent_messages] == [(BOT_ID, "Removed a link.")]
    echo: twitchio.ChatMessage = await events.next("message")
    assert echo.id == sent.id and echo.chatter.id == BOT_ID


# -- whispers and AutoMod -------------------------------------------------------------------------


async def test_whisper_reaches_the_bot(
    twitch: LocalTwitch, client: twitchio.Client, events: Events
) -> None:
    await client.subscribe_websocket(
        eventsub.WhisperReceivedSubscription(user_id=BOT_ID), as_bot=True
    )
    sent = await twitch.whisper("viewer1", "shieldbot", "is this you? https://x.example/a.jpg")
    assert len(sent.notifications) == 1
    whisper = await events.next("message_whisper")
    assert isinstance(whisper, twitchio.Whisper)
    assert whisper.sender.id == VIEWER and whisper.recipient.id == BOT_ID
    assert whisper.text == "is this you? https://x.example/a.jpg"
    assert whisper.id == sent.message_id


@pytest.mark.parametrize(
    ("hold", "update"),
    [
        (eventsub.AutomodMessageHoldSubscription, eventsub.AutomodMessageUpdateSubscription),
        (eventsub.AutomodMessageHoldV2Subscription, eventsub.AutomodMessageUpdateV2Subscription),
    ],
)
async def test_automod_hold_is_denied(
    twitch: LocalTwitch,
    client: twitchio.Client,
    events: Events,
    hold: Any,
    update: Any,
) -> None:
    condition = {"broadcaster_user_id": STREAMER_ID, "moderator_user_id": BOT_ID}
    await client.subscribe_websocket(hold(**condition), as_bot=True)
    await client.subscribe_websocket(update(**condition), as_bot=True)
    sent = await twitch.automod_hold("streamer", "viewer1", "nudes at clothoff dot io")

    held = await events.next("automod_message_hold")
    assert held.message_id == sent.message_id and held.text == "nudes at clothoff dot io"
    assert held.user.id == VIEWER and held.level == 4
    assert client.user is not None
    await client.user.deny_automod_messages(held.message_id)

    request = await twitch.wait_for_request("POST", "/helix/moderation/automod/message")
    assert request.status == 204
    assert request.json == {"user_id": BOT_ID, "msg_id": sent.message_id, "action": "DENY"}
    assert [(r.msg_id, r.action) for r in twitch.automod_resolutions] == [(sent.message_id, "DENY")]
    assert twitch.held[sent.message_id].status == "Denied"
    updated = await events.next("automod_message_update")
    assert updated.status == "Denied" and updated.moderator.id == BOT_ID

    with pytest.raises(twitchio.HTTPException) as caught:
        await client.user.deny_automod_messages(held.message_id)
    assert caught.value.status == 400


# -- delivery: duplicates, reconnects -------------------------------------------------------------


async def test_a_notification_can_arrive_twice(
    twitch: LocalTwitch, client: twitchio.Client, events: Events
) -> None:
    await subscribe_chat(client)
    sent = await twitch.chat_message("streamer", "viewer1", "once")
    again = await twitch.redeliver(sent)
    assert [n.message_id for n in again] == [n.message_id for n in sent.notifications]
    assert again[0].redelivery

    first: twitchio.ChatMessage = await events.next("message")
    second: twitchio.ChatMessage = await events.next("message")
    assert first.id == second.id == sent.message_id
    assert first.metadata is not None and second.metadata is not None
    assert first.metadata.message_id == second.metadata.message_id


async def test_session_reconnect_keeps_events_flowing(
    twitch: LocalTwitch, client: twitchio.Client, events: Events
) -> None:
    sub_id = await subscribe_chat(client)
    (old,) = twitch.sessions
    posts = len(twitch.find_requests("POST", "/helix/eventsub/subscriptions"))

    (new_id,) = await twitch.session_reconnect()
    assert new_id != old.id
    assert [s.id for s in twitch.sessions] == [new_id]
    assert old.close_code is None  # the client closed the old socket itself
    assert twitch.eventsub.subscriptions[sub_id].session_id == new_id
    assert len(twitch.find_requests("POST", "/helix/eventsub/subscriptions")) == posts
    assert sub_id in client.websocket_subscriptions()

    sent = await twitch.chat_message("streamer", "viewer1", "still here")
    assert [n.session_id for n in sent.notifications] == [new_id]
    message: twitchio.ChatMessage = await events.next("message")
    assert message.id == sent.message_id


async def test_dropped_session_is_resubscribed(
    twitch: LocalTwitch, client: twitchio.Client, events: Events
) -> None:
    """Close 4000: the old subscription is disabled; twitchio reconnects and subscribes again."""
    sub_id = await subscribe_chat(client)
    first = await twitch.wait_for_subscription("channel.chat.message")
    assert first.id == sub_id
    await twitch.close_session(code=4000)
    assert first.status == "websocket_internal_error"
    again = await twitch.wait_for_subscription("channel.chat.message", timeout=15)
    assert again.id != sub_id and again.enabled
    sent = await twitch.chat_message("streamer", "viewer1", "back")
    assert len(sent.notifications) == 1
    message: twitchio.ChatMessage = await events.next("message")
    assert message.id == sent.message_id


# -- tokens ---------------------------------------------------------------------------------------


async def test_expired_token_is_refreshed_and_the_call_retried(
    twitch: LocalTwitch, client: twitchio.Client
) -> None:
    old = twitch.token_for("shieldbot")
    twitch.expire_token(old)
    channel = client.create_partialuser(STREAMER_ID)
    await channel.timeout_user(moderator=BOT_ID, user=VIEWER, duration=60)

    first, retried = twitch.find_requests("POST", "/helix/moderation/bans")
    assert first.status == 401 and first.response["message"] == "Invalid OAuth token"
    assert retried.status == 200
    refresh = twitch.find_requests("POST", "/oauth2/token")[-1]
    assert refresh.query["grant_type"] == "refresh_token"
    assert refresh.query["refresh_token"] == old.refresh_token
    assert len(twitch.refreshes) == 1
    assert retried.header("Authorization") == f"Bearer {twitch.refreshes[0].access_token}"
    assert client.tokens[BOT_ID]["token"] == twitch.refreshes[0].access_token


async def test_token_close_to_expiry_is_refreshed_when_added(
    twitch: LocalTwitch, client: twitchio.Client
) -> None:
    short = twitch.issue_token("mod1", ["user:read:chat"], expires_in=600)
    assert short.refresh_token is not None
    await client.add_token(short.access_token, short.refresh_token)
    assert len(twitch.refreshes) == 1
    assert client.tokens[MOD_ID]["token"] == twitch.refreshes[0].access_token


# -- the raw protocol, without twitchio -----------------------------------------------------------


async def test_welcome_keepalive_and_4001_on_inbound_traffic() -> None:
    async with LocalTwitch(keepalive_seconds=0.2) as twitch, aiohttp.ClientSession() as http:
        async with http.ws_connect(twitch.eventsub_url) as ws:
            welcome = json.loads((await ws.receive(timeout=2)).data)
            assert welcome["metadata"]["message_type"] == "session_welcome"
            session = welcome["payload"]["session"]
            assert session["status"] == "connected" and session["keepalive_timeout_seconds"] == 1
            keepalive = json.loads((await ws.receive(timeout=2)).data)
            assert keepalive["metadata"]["message_type"] == "session_keepalive"
            await ws.send_str("hello?")
            while (await ws.receive(timeout=2)).type == aiohttp.WSMsgType.TEXT:
                pass
            assert ws.close_code == 4001
        assert twitch.eventsub.inbound[0].data == "hello?"


async def test_unused_session_is_closed_with_4003() -> None:
    async with (
        LocalTwitch(unused_timeout=0.2) as twitch,
        aiohttp.ClientSession() as http,
        http.ws_connect(twitch.eventsub_url) as ws,
    ):
        while (await ws.receive(timeout=2)).type == aiohttp.WSMsgType.TEXT:
            pass
        assert ws.close_code == 4003


async def test_rate_limit_headers_and_429() -> None:
    async with LocalTwitch(rate_limit=2) as twitch, aiohttp.ClientSession() as http:
        token = twitch.token_for("shieldbot").access_token
        headers = {"Authorization": f"Bearer {token}", "Client-Id": twitch.client_id}
        statuses = []
        for _ in range(3):
            async with http.get(f"{twitch.api_base}users", headers=headers) as resp:
                statuses.append(resp.status)
                remaining = resp.headers["Ratelimit-Remaining"]
        assert statuses == [200, 200, 429]
        assert remaining == "0"
        async with http.get(f"{twitch.api_base}users", headers={"Client-Id": "x"}) as resp:
            assert resp.status == 401
            assert (await resp.json())["message"] == "OAuth token is missing"


async def test_reconnect_moves_subscriptions_and_retires_the_old_socket() -> None:
    """Without twitchio: the new socket inherits the subscription; the old one, left open past the
    grace time, is closed with 4004; a made-up reconnect id gets 4007."""
    async with (
        LocalTwitch(reconnect_grace=0.2) as twitch,
        aiohttp.ClientSession() as http,
        http.ws_connect(twitch.eventsub_url) as old,
    ):
        welcome = json.loads((await old.receive(timeout=2)).data)
        session_id = welcome["payload"]["session"]["id"]
        token = twitch.token_for("shieldbot").access_token
        headers = {"Authorization": f"Bearer {token}", "Client-Id": twitch.client_id}
        body = {
            "type": "channel.chat.message",
            "version": "1",
            "condition": {"broadcaster_user_id": STREAMER_ID, "user_id": BOT_ID},
            "transport": {"method": "websocket", "session_id": session_id},
        }
        async with http.post(
            f"{twitch.api_base}eventsub/subscriptions", json=body, headers=headers
        ) as resp:
            assert resp.status == 202
            sub_id = (await resp.json())["data"][0]["id"]

        await twitch.session_reconnect(wait=None)
        notice = json.loads((await old.receive(timeout=2)).data)
        assert notice["metadata"]["message_type"] == "session_reconnect"
        url = notice["payload"]["session"]["reconnect_url"]
        async with http.ws_connect(url) as new:
            welcome = json.loads((await new.receive(timeout=2)).data)
            new_id = welcome["payload"]["session"]["id"]
            assert new_id != session_id
            assert twitch.eventsub.subscriptions[sub_id].session_id == new_id
            sent = await twitch.chat_message("streamer", "viewer1", "moved")
            frame = json.loads((await new.receive(timeout=2)).data)
            assert frame["payload"]["event"]["message_id"] == sent.message_id
            assert frame["payload"]["subscription"]["transport"]["session_id"] == new_id
            while (await old.receive(timeout=2)).type == aiohttp.WSMsgType.TEXT:
                pass
            assert old.close_code == 4004
        async with http.ws_connect(f"{twitch.eventsub_url}?reconnect_id=nope") as bogus:
            await bogus.receive(timeout=2)
            assert bogus.close_code == 4007


async def test_faults_can_be_injected(twitch: LocalTwitch, client: twitchio.Client) -> None:
    twitch.fail_next(500, method="DELETE", path="/helix/moderation/chat")
    sent = await twitch.chat_message("streamer", "viewer1", "x")
    channel = client.create_partialuser(STREAMER_ID)
    with pytest.raises(twitchio.HTTPException) as caught:
        await channel.delete_chat_messages(moderator=BOT_ID, message_id=sent.message_id)
    assert caught.value.status == 500
    await channel.delete_chat_messages(moderator=BOT_ID, message_id=sent.message_id)
    assert twitch.deleted(sent.message_id)


async def test_moderator_lists(twitch: LocalTwitch, client: twitchio.Client) -> None:
    """The bot sees it moderates `streamer`; the broadcaster's token lists the moderators."""
    assert client.user is not None
    channels = [c async for c in client.user.fetch_moderated_channels()]
    assert [c.id for c in channels] == [STREAMER_ID]
    streamer = twitch.token_for("streamer")
    assert streamer.refresh_token is not None
    await client.add_token(streamer.access_token, streamer.refresh_token)
    mods = [m async for m in client.create_partialuser(STREAMER_ID).fetch_moderators()]
    assert sorted(m.id for m in mods) == [BOT_ID, MOD_ID]


async def test_patch_twitchio_restores_the_real_endpoints() -> None:
    before = (
        twitchio.http.Route.BASE,
        twitchio.http.Route.ID_BASE,
        twitchio.eventsub.websockets.WSS,
    )
    async with LocalTwitch() as twitch:
        with twitch.patch_twitchio():
            assert twitch.api_base == twitchio.http.Route.BASE
            assert twitch.id_base == twitchio.http.Route.ID_BASE
            assert twitch.eventsub_url == twitchio.eventsub.websockets.WSS
            assert twitch.api_base.startswith("http://127.0.0.1:")
    after = (
        twitchio.http.Route.BASE,
        twitchio.http.Route.ID_BASE,
        twitchio.eventsub.websockets.WSS,
    )
    assert after == before
