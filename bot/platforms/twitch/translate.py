"""Twitch events to the neutral `ScanContext`: chat messages, AutoMod holds and whispers.

Twitch chat has no uploads, so the text is the whole attack surface: links (and links to images
and videos, which the moderation service fetches and hashes) arrive in text fragments. The plain
text is scanned, plus the text fragments alone when emotes, mentions or cheermotes were mixed in.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from twitchio import AutomodMessageHold, ChatMessage, ChatMessageFragment, Whisper

from bot.core.context import MediaRef, ScanContext

PLATFORM: Final = "twitch"
# Twitch deletes only messages under six hours old; a minute of margin for clocks and queues.
DELETE_WINDOW: Final = datetime.timedelta(hours=6) - datetime.timedelta(minutes=1)
# Badges whose holders Twitch never lets a moderator delete or time out (alerts only).
PROTECTED_BADGES: Final = frozenset({"broadcaster", "moderator", "lead_moderator"})


@dataclass(frozen=True, slots=True)
class Channel:
    """A guarded channel: its ids, and the Discord server that gets its alerts (if any)."""

    id: str
    login: str
    discord_guild: int | None = None

    @property
    def community(self) -> str:
        return community_of(self.login)


def community_of(login: str) -> str:
    """The community name of a channel, shared with its settings and cases."""
    return f"{PLATFORM}:{login.lower()}"


def viewer_card(channel_login: str, user_login: str | None) -> str:
    """A link that opens the author's viewer card (their recent messages) in the channel."""
    if not user_login:
        return f"https://www.twitch.tv/{channel_login}"
    return f"https://www.twitch.tv/popout/{channel_login}/viewercard/{user_login}"


def fragment_text(fragments: Iterable[ChatMessageFragment], text: str) -> tuple[str, ...]:
    """The text fragments alone, when they differ from the full text (emotes split a link)."""
    plain = "".join(f.text for f in fragments if f.type == "text")
    return (plain,) if plain and plain != text else ()


def fragment_media(fragments: Iterable[ChatMessageFragment]) -> tuple[MediaRef, ...]:
    """GIFs posted through Twitch's picker arrive as fragments with a URL: hash them too."""
    return tuple(
        MediaRef(url=f.gif.url, source="gif", filename=f.text or None)
        for f in fragments
        if f.type == "gif" and f.gif is not None
    )


def is_protected(message: ChatMessage) -> bool:
    """True for the broadcaster and moderators: Twitch lets no one delete their messages."""
    if message.chatter.id == message.broadcaster.id:
        return True
    return any(badge.set_id in PROTECTED_BADGES for badge in message.badges)


def age(sent: datetime.datetime | None, now: datetime.datetime | None = None) -> datetime.timedelta:
    """How long ago Twitch sent the event (zero when it did not say)."""
    if sent is None:
        return datetime.timedelta(0)
    now = now or datetime.datetime.now(datetime.UTC)
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=datetime.UTC)
    return max(now - sent, datetime.timedelta(0))


def too_old(sent: datetime.datetime | None, now: datetime.datetime | None = None) -> bool:
    """True when the message is past Twitch's six-hour delete window."""
    return age(sent, now) >= DELETE_WINDOW


def chat_context(
    message: ChatMessage, channel: Channel, *, now: datetime.datetime | None = None
) -> ScanContext:
    """A chat message in neutral terms.

    The broadcaster's and moderators' messages, and any past the six-hour window, cannot be
    deleted on Twitch: the core alerts on them and never acts.
    """
    login = message.chatter.name
    return ScanContext(
        platform=PLATFORM,
        community=channel.community,
        channel_id=channel.id,
        message_id=message.id,
        author_id=f"{PLATFORM}:{message.chatter.id}",
        author_name=message.chatter.display_name or login or message.chatter.id,
        text=message.text,
        media=fragment_media(message.fragments),
        extra_texts=fragment_text(message.fragments, message.text),
        jump_url=viewer_card(channel.login, login),
        author_is_moderator=is_protected(message),
        removable=not too_old(message.timestamp, now),
    )


def held_context(held: AutomodMessageHold, channel: Channel) -> ScanContext:
    """A message AutoMod is holding for review: nobody has seen it yet."""
    login = held.user.name
    return ScanContext(
        platform=PLATFORM,
        community=channel.community,
        channel_id=channel.id,
        message_id=held.message_id,
        author_id=f"{PLATFORM}:{held.user.id}",
        author_name=held.user.display_name or login or held.user.id,
        text=held.text,
        media=fragment_media(held.fragments),
        extra_texts=fragment_text(held.fragments, held.text),
        jump_url=viewer_card(channel.login, login),
    )


def whisper_context(whisper: Whisper) -> ScanContext:
    """A whisper to the bot: a private message, so it alerts and is never acted on."""
    return ScanContext(
        platform=PLATFORM,
        community=None,
        channel_id=f"whisper:{whisper.recipient.id}",
        message_id=f"whisper:{whisper.id}",
        author_id=f"{PLATFORM}:{whisper.sender.id}",
        author_name=whisper.sender.display_name or whisper.sender.name or whisper.sender.id,
        text=whisper.text,
        is_dm=True,
    )
