"""Chat end to end: the real twitchio client in Shield against the local Twitch, real SQLite."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.sandbox.twitch import BOT_ID, STREAMER_ID, VIEWER_IDS, emote_fragment, text_fragment
from bot.sandbox.twitch.model import now_utc
from tests.platforms.twitch.conftest import BANS, DELETE, LISTED, Start, only


async def test_listed_link_is_deleted_by_id_and_author_timed_out(start: Start) -> None:
    """A listed link: DELETE with that message_id, a timeout with a reason, one case recorded."""
    shield = await start()
    sent = await shield.twitch.chat_message(text=LISTED)
    delete = await shield.twitch.wait_for_request(*DELETE)
    assert delete.query["message_id"] == sent.message_id
    assert delete.query["broadcaster_id"] == STREAMER_ID
    assert delete.query["moderator_id"] == BOT_ID and delete.status == 204
    ban = await shield.twitch.wait_for_request(*BANS)
    assert ban.json["data"]["user_id"] == VIEWER_IDS[0]
    assert ban.json["data"]["duration"] == 600
    assert "clothoff.io" in ban.json["data"]["reason"]
    assert shield.twitch.deleted(sent.message_id)
    case = only(shield.cases)
    assert case.platform == "twitch" and case.community == "twitch:streamer"
    assert case.message_id == sent.message_id and case.author_id == f"twitch:{VIEWER_IDS[0]}"
    assert case.tier == "block" and not case.dry_run
    handled, ctx = await shield.next_alert()
    assert handled.case is not None and handled.case.id == case.id
    assert "message deleted" in handled.notes and ctx.community == "twitch:streamer"


async def test_second_offence_is_a_ban(start: Start) -> None:
    """The same author again: the community's repeat-offence policy (a ban, no duration)."""
    shield = await start()
    await shield.twitch.chat_message(text=LISTED)
    await shield.twitch.wait_for_request(*BANS)
    await shield.twitch.chat_message(text="again clothoff.io")
    second = await shield.twitch.wait_for_request(*BANS)
    assert "duration" not in second.json["data"]


@pytest.mark.parametrize(
    "text",
    [
        "clothoff[.]io",
        "cloth\u200boff.io/free",
        "hxxps://CLOTHOFF (dot) io",
        "ｃｌｏｔｈｏｆｆ。ｉｏ",
    ],
)
async def test_obfuscated_link_is_deleted(start: Start, text: str) -> None:
    """Defanged, invisible-character and full-width spellings of a listed domain are caught."""
    shield = await start()
    sent = await shield.twitch.chat_message(text=text)
    delete = await shield.twitch.wait_for_request(*DELETE)
    assert delete.query["message_id"] == sent.message_id


async def test_link_split_by_an_emote_fragment(start: Start) -> None:
    """Text fragments are scanned without the emotes mixed between them."""
    shield = await start()
    fragments = [text_fragment("clothoff"), emote_fragment("Kappa"), text_fragment(".io")]
    sent = await shield.twitch.chat_message(fragments=fragments)
    delete = await shield.twitch.wait_for_request(*DELETE)
    assert delete.query["message_id"] == sent.message_id


async def test_clean_chat_is_untouched(start: Start) -> None:
    """Ordinary chat and allowed links: no delete, no ban, no case."""
    shield = await start()
    clean = [
        "gg everyone, that clutch was unreal",
        "vod is at https://www.twitch.tv/videos/123 and clips on twitch.tv",
        "cloth off the table lol",
    ]
    for text in clean:
        await shield.twitch.chat_message(text=text)
    sentinel = await shield.sentinel()
    assert [r.query["message_id"] for r in shield.requests(*DELETE)] == [sentinel]
    assert [c.message_id for c in shield.cases] == [sentinel]


@pytest.mark.parametrize("chatter", ["streamer", "mod1"])
async def test_broadcaster_and_moderator_get_an_alert_only(start: Start, chatter: str) -> None:
    """A listed link from the broadcaster or a moderator: alert and case, no delete, no ban."""
    shield = await start()
    sent = await shield.twitch.chat_message(chatter=chatter, text=LISTED)
    handled, ctx = await shield.next_alert()
    assert ctx.message_id == sent.message_id and ctx.author_is_moderator
    assert handled.plan.alert and not handled.plan.delete
    assert any("moderator" in note for note in handled.notes)
    await shield.sentinel()
    assert sent.message_id not in [r.query["message_id"] for r in shield.requests(*DELETE)]
    assert len(shield.requests(*BANS)) == 1  # the sentinel's author only


async def test_message_older_than_six_hours_is_not_deleted(start: Start) -> None:
    """Past Twitch's 6-hour window nothing can be deleted: an alert says so instead."""
    shield = await start()
    old = now_utc() - timedelta(hours=6, minutes=5)
    sent = await shield.twitch.chat_message(text=LISTED, sent_at=old)
    handled, _ = await shield.next_alert()
    assert handled.case is not None and handled.case.message_id == sent.message_id
    assert not handled.plan.delete
    assert any("6 hours" in note for note in handled.notes)
    await shield.sentinel()
    assert sent.message_id not in [r.query["message_id"] for r in shield.requests(*DELETE)]


async def test_duplicate_delivery_is_handled_once(start: Start) -> None:
    """Twitch delivers at least once: the same notification twice gives one DELETE, one case."""
    shield = await start()
    sent = await shield.twitch.chat_message(text=LISTED)
    await shield.twitch.redeliver(sent)  # at once, racing the first
    await shield.twitch.wait_for_request(*DELETE)
    await shield.twitch.redeliver(sent)  # and again after it was handled
    await shield.sentinel()
    deletes = [r.query["message_id"] for r in shield.requests(*DELETE)]
    assert deletes.count(sent.message_id) == 1
    assert [c.message_id for c in shield.cases].count(sent.message_id) == 1
    assert len(shield.requests(*BANS)) == 2  # this author once, the sentinel's once


async def test_same_message_id_in_a_new_delivery_is_not_acted_on_twice(start: Start) -> None:
    """A repeat with a NEW metadata id but the same message_id is still recognised."""
    shield = await start()
    sent = await shield.twitch.chat_message(text=LISTED)
    await shield.twitch.wait_for_request(*DELETE)
    await shield.twitch.chat_message(text=LISTED, message_id=sent.message_id)
    await shield.sentinel()
    assert [r.query["message_id"] for r in shield.requests(*DELETE)].count(sent.message_id) == 1


async def test_dry_run_channel_deletes_nothing(start: Start) -> None:
    """A community in dry-run: the case says what would have happened; Twitch sees no action."""
    shield = await start(
        before=lambda app: app.communities.set("twitch:streamer", "dry_run", "true", updated_by="t")
    )
    sent = await shield.twitch.chat_message(text=LISTED)
    handled, _ = await shield.next_alert()
    assert handled.case is not None and handled.case.dry_run
    assert handled.case.action.startswith("dry run: would have message deleted")
    await asyncio.sleep(0.3)
    assert shield.requests(*DELETE) == [] and shield.requests(*BANS) == []
    assert not shield.twitch.deleted(sent.message_id)


async def test_chat_notice_is_posted_when_configured(start: Start) -> None:
    """With chat notices on, the bot says a message was removed; its own echo is ignored."""
    shield = await start(extra="chat_notice = true")
    await shield.twitch.chat_message(text=LISTED)
    notice = await shield.twitch.wait_for_request("POST", "/helix/chat/messages")
    assert notice.json["sender_id"] == BOT_ID and "clothoff" not in notice.json["message"]
    await shield.sentinel()
    assert len(shield.cases) == 2  # the bot's echoed notice opened no case


async def test_twitch_only_channel_logs_the_case(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a linked Discord server, no alert hook runs; the case is logged and stored."""
    shield = await start(guild=None)
    with caplog.at_level("INFO", logger="bot.platforms.twitch"):
        await shield.twitch.chat_message(text=LISTED)
        await shield.twitch.wait_for_request(*BANS)
        await asyncio.sleep(0.1)
    assert shield.alerts == []
    case = only(shield.cases)
    assert f"Twitch case {case.id} in twitch:streamer" in caplog.text


async def test_author_is_told_when_the_community_asks(start: Start) -> None:
    """With notify_author on, the author of a removed message gets a whisper saying why."""
    shield = await start(
        before=lambda app: app.communities.set(
            "twitch:streamer", "notify_author", "true", updated_by="t"
        )
    )
    await shield.twitch.chat_message(text=LISTED)
    told = await shield.twitch.wait_for_request("POST", "/helix/whispers")
    assert told.query["to_user_id"] == VIEWER_IDS[0]
    assert "removed by Shield" in told.json["message"] and "streamer" in told.json["message"]
