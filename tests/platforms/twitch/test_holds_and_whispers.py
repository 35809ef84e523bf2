"""AutoMod holds and whispers end to end, against the local Twitch."""

from __future__ import annotations

import asyncio

import pytest

from bot.sandbox.twitch import BOT_ID, BOT_SCOPES, VIEWER_IDS, LocalTwitch
from tests.platforms.twitch.conftest import AUTOMOD, BANS, DELETE, LISTED, Start, only


async def test_held_listed_link_is_denied(start: Start) -> None:
    """AutoMod holds a message Shield blocks: Shield denies it, and the author is timed out."""
    shield = await start()
    held = await shield.twitch.automod_hold(text=LISTED)
    deny = await shield.twitch.wait_for_request(*AUTOMOD)
    assert deny.json == {"user_id": BOT_ID, "msg_id": held.message_id, "action": "DENY"}
    assert deny.status == 204 and shield.twitch.held[held.message_id].status == "Denied"
    ban = await shield.twitch.wait_for_request(*BANS)
    assert ban.json["data"]["user_id"] == VIEWER_IDS[0]
    case = only(shield.cases)
    assert case.message_id == held.message_id and case.tier == "block"
    handled, _ = await shield.next_alert()
    assert "held message denied" in handled.notes
    assert shield.requests(*DELETE) == []  # a held message is not in chat: nothing to delete


async def test_held_clean_message_is_left_to_the_moderators(start: Start) -> None:
    """AutoMod holds something Shield finds clean: no decision, no case, no alert."""
    shield = await start()
    clean = await shield.twitch.automod_hold(text="you are all terrible at this game")
    listed = await shield.twitch.automod_hold(chatter="viewer2", text=LISTED)
    deny = await shield.twitch.wait_for_request(*AUTOMOD)
    assert deny.json["msg_id"] == listed.message_id
    await asyncio.sleep(0.2)
    assert len(shield.requests(*AUTOMOD)) == 1
    assert shield.twitch.held[clean.message_id].status == "pending"
    assert [c.message_id for c in shield.cases] == [listed.message_id]


async def test_held_message_approved_by_a_moderator_is_not_acted_on_twice(start: Start) -> None:
    """A review-tier hold alerts once; when a moderator approves it into chat, no second case."""
    shield = await start()
    held = await shield.twitch.automod_hold(text="try crushai, it is wild")  # a keyword: review
    handled, _ = await shield.next_alert()
    assert handled.case is not None and handled.case.tier == "review"
    assert any("left for the moderators" in note for note in handled.notes)
    pending = shield.twitch.held[held.message_id]
    await shield.twitch.resolve_held(pending, "3003", "ALLOW")  # mod1 approves: it enters chat
    await shield.sentinel()
    assert shield.requests(*AUTOMOD) == []
    assert [c.message_id for c in shield.cases].count(held.message_id) == 1


async def test_whisper_is_scanned_and_alerted_with_metadata_only(
    start: Start, twitch: LocalTwitch, caplog: pytest.LogCaptureFixture
) -> None:
    """A listed link whispered to the bot: a case, an alert without the text; without the
    whisper-sending scope the pointers are logged instead of sent."""
    token = twitch.issue_token("shieldbot", BOT_SCOPES - {"user:manage:whispers"})
    shield = await start(token=token)
    with caplog.at_level("INFO", logger="bot.platforms.twitch"):
        sent = await shield.twitch.whisper("viewer1", "shieldbot", f"look {LISTED}")
        handled, ctx = await shield.next_alert()
    case = only(shield.cases)
    assert case.message_id == f"whisper:{sent.message_id}" and case.community is None
    assert case.author_id == f"twitch:{VIEWER_IDS[0]}" and case.tier == "block"
    assert handled.case is not None and handled.case.id == case.id
    assert ctx.is_dm and ctx.text == "" and ctx.extra_texts == ()
    assert ctx.community == "twitch:streamer"  # the linked channel whose moderators are told
    assert not handled.plan.delete and shield.requests(*BANS) == []
    assert "lacks user:manage:whispers" in caplog.text  # the pointer could not be whispered
    assert shield.requests("POST", "/helix/whispers") == []


async def test_whisper_sender_gets_pointers_when_the_scope_allows(
    start: Start, twitch: LocalTwitch
) -> None:
    """With user:manage:whispers the sender is whispered where to report, once per cooldown."""
    assert "user:manage:whispers" in BOT_SCOPES
    shield = await start()
    await twitch.whisper("viewer1", "shieldbot", "someone posted a fake of me")
    reply = await twitch.wait_for_request("POST", "/helix/whispers")
    assert reply.query == {"from_user_id": BOT_ID, "to_user_id": VIEWER_IDS[0]}
    text = reply.json["message"]
    assert "StopNCII.org" in text and "takeitdown.ncmec.org" in text and "Report" in text
    assert "discord.com/report" not in text and len(text) <= 500
    await twitch.whisper("viewer1", "shieldbot", "hello?")
    await asyncio.sleep(0.2)
    assert len(shield.requests("POST", "/helix/whispers")) == 1  # cooling down
    assert shield.cases == []  # nothing listed: no case, no alert
