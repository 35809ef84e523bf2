"""Staying connected and authorized: reconnects, token refresh and storage, set-up errors."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from pathlib import Path

import pytest

from bot.app import App
from bot.moderation import Moderator
from bot.platforms.twitch import MissingScopeError, TwitchSetupError, run_twitch
from bot.sandbox.twitch import BOT_ID, BOT_SCOPES, LocalTwitch
from tests.platforms.twitch.conftest import DELETE, LISTED, Start

SUBSCRIBED = {
    "channel.chat.message",
    "automod.message.hold",
    "automod.message.update",
    "user.whisper.message",
}


def stored(tmp_path: Path) -> dict[str, dict[str, str]]:
    path = tmp_path / "private" / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return json.loads(path.read_text())  # type: ignore[no-any-return]


async def test_subscribes_to_chat_automod_and_whispers(start: Start, twitch: LocalTwitch) -> None:
    """One websocket session, the four subscriptions, all with the bot's user token."""
    await start()
    assert {s.type for s in twitch.subscriptions} == SUBSCRIBED
    creates = twitch.find_requests("POST", "/helix/eventsub/subscriptions")
    assert {r.token_user_id for r in creates} == {BOT_ID}
    assert len(twitch.sessions) == 1


async def test_session_reconnect_keeps_chat_guarded(start: Start, twitch: LocalTwitch) -> None:
    """After Twitch's session_reconnect the next message is still handled."""
    shield = await start()
    old = {s.id for s in twitch.sessions}
    new = await twitch.session_reconnect()
    assert new and not set(new) & old
    sent = await twitch.chat_message(text=LISTED)
    delete = await twitch.wait_for_request(*DELETE)
    assert delete.query["message_id"] == sent.message_id
    assert len(shield.cases) == 1


async def test_dropped_session_is_reopened_and_resubscribed(
    start: Start, twitch: LocalTwitch
) -> None:
    """A websocket Twitch closes: twitchio reconnects and subscribes again; chat is guarded."""
    await start()
    await twitch.close_session()
    await twitch.wait_for_session(timeout=10)  # the first welcome is used up by start()
    await twitch.wait_for_subscription("channel.chat.message", timeout=10)
    await twitch.wait_for_subscription("channel.chat.message", timeout=10)
    sent = await twitch.chat_message(text=LISTED)
    delete = await twitch.wait_for_request(*DELETE, timeout=10)
    assert delete.query["message_id"] == sent.message_id


async def test_expired_token_is_refreshed_and_stored(
    start: Start, twitch: LocalTwitch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot's token expires while running: the delete is retried with a refreshed token,
    which lands in the owner-only token store; no token is ever logged."""
    caplog.set_level(logging.DEBUG)
    first = twitch.token_for("shieldbot")
    shield = await start(token=first)
    assert stored(tmp_path)[BOT_ID]["token"] == first.access_token
    twitch.expire_token(twitch.user("shieldbot"))
    sent = await twitch.chat_message(text=LISTED)
    delete = await twitch.wait_for_request(*DELETE, where=lambda r: r.status == 204)
    assert delete.query["message_id"] == sent.message_id
    fresh = twitch.token_for("shieldbot")
    assert fresh.access_token != first.access_token
    await twitch.wait_for_request("POST", "/oauth2/token", where=lambda r: r.status == 200)
    for _ in range(100):  # twitchio dispatches the refresh event in its own task
        if stored(tmp_path)[BOT_ID]["token"] == fresh.access_token:
            break
        await asyncio.sleep(0.02)
    assert shield.task is not None and not shield.task.done()
    assert stored(tmp_path)[BOT_ID] == {
        "token": fresh.access_token,
        "refresh": fresh.refresh_token,
    }
    for secret in (
        first.access_token,
        fresh.access_token,
        first.refresh_token,
        "shield-test-secret",
    ):
        assert secret and secret not in caplog.text


async def test_expired_token_at_start_is_refreshed(
    start: Start, twitch: LocalTwitch, tmp_path: Path
) -> None:
    """A token that expired before start-up is refreshed through its refresh token."""
    old = twitch.token_for("shieldbot")
    twitch.expire_token(old)
    await start(token=old)
    assert stored(tmp_path)[BOT_ID]["token"] == twitch.token_for("shieldbot").access_token
    assert stored(tmp_path)[BOT_ID]["token"] != old.access_token


async def test_stored_token_wins_over_the_environment(
    start: Start, twitch: LocalTwitch, tmp_path: Path
) -> None:
    """On restart the token store's (refreshed) pair is used, not the stale environment one."""
    good = twitch.token_for("shieldbot")
    store = tmp_path / "private" / "tokens.json"
    store.parent.mkdir()
    store.write_text(
        json.dumps({BOT_ID: {"token": good.access_token, "refresh": good.refresh_token}})
    )
    store.chmod(0o600)
    stale = twitch.issue_token("shieldbot", BOT_SCOPES)
    twitch.expire_token(stale)
    stale.refresh_token = None  # type: ignore[assignment]
    await start(token=stale)
    validates = twitch.find_requests("GET", "/oauth2/validate")
    assert any(r.header("Authorization").endswith(good.access_token) for r in validates)


async def test_missing_scope_is_a_clear_error(
    start: Start, twitch: LocalTwitch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bot token without moderator:manage:chat_messages: start-up fails naming that scope."""
    token = twitch.issue_token("shieldbot", BOT_SCOPES - {"moderator:manage:chat_messages"})
    with caplog.at_level(logging.ERROR), pytest.raises(MissingScopeError) as raised:
        await start(token=token)
    assert "moderator:manage:chat_messages (to delete a message)" in str(raised.value)
    assert "moderator:manage:chat_messages" in caplog.text
    assert twitch.subscriptions == []


async def test_chat_notices_need_the_write_scope(start: Start, twitch: LocalTwitch) -> None:
    """With chat notices on, a token without user:write:chat is refused at start-up."""
    token = twitch.issue_token("shieldbot", BOT_SCOPES - {"user:write:chat"})
    with pytest.raises(MissingScopeError, match="user:write:chat"):
        await start(token=token, extra="chat_notice = true")


async def test_token_of_another_account_is_refused(start: Start, twitch: LocalTwitch) -> None:
    """TWITCH_BOT_TOKEN must belong to TWITCH_BOT_ID."""
    token = twitch.issue_token("mod1", BOT_SCOPES)
    with pytest.raises(TwitchSetupError, match="belongs to Twitch user mod1"):
        await start(token=token)


async def test_unknown_channel_is_an_error(start: Start, tmp_path: Path) -> None:
    """A configured login Twitch does not know is named in the error."""
    with pytest.raises(TwitchSetupError, match="no channel named nosuchstreamer"):
        await start(extra='[[twitch.channels]]\nlogin = "nosuchstreamer"')


async def test_bot_not_moderator_is_explained(start: Start, twitch: LocalTwitch) -> None:
    """If the bot account does not moderate the channel, the AutoMod subscription says why."""
    twitch.world.channels["1001"].moderators.discard(BOT_ID)
    with pytest.raises(TwitchSetupError, match="moderator"):
        await start()


async def test_missing_app_credentials_name_the_variables(app: App) -> None:
    """Without TWITCH_CLIENT_ID / SECRET / BOT_ID, run_twitch says which variables to set."""
    with pytest.raises(TwitchSetupError, match="TWITCH_CLIENT_ID, TWITCH_CLIENT_SECRET"):
        await run_twitch(app, Moderator(app), stop=asyncio.Event())


async def test_stop_during_start_up_ends_quietly(start: Start) -> None:
    """`stop` set while the client is still logging in: run_twitch returns without an error."""
    shield = await start(wait=False)
    assert shield.task is not None
    await asyncio.sleep(0)  # let it begin connecting
    shield.stop.set()
    await asyncio.wait_for(shield.task, 10)
