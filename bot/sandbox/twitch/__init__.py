"""A local Twitch (OAuth, Helix, EventSub websocket) that the real twitchio 3 client talks to.

Start `LocalTwitch()` as an async context manager, point twitchio at it inside
`twitch.patch_twitchio()`, make events with `chat_message`, `whisper`, `automod_hold`, and await
what the client did with `wait_for_request("DELETE", "/helix/moderation/chat")`.
`twitch.chat_clears` must stay empty: a delete without message_id wipes the whole chat.
"""

from bot.sandbox.twitch.events import (
    chat_message_event,
    cheermote_fragment,
    emote_fragment,
    mention_fragment,
    reply_to,
    text_fragment,
    whisper_event,
)
from bot.sandbox.twitch.eventsub import EventSub, Session
from bot.sandbox.twitch.model import (
    BOT_ID,
    BOT_SCOPES,
    CLIENT_ID,
    CLIENT_SECRET,
    MOD_ID,
    STREAMER_ID,
    STREAMER_SCOPES,
    VIEWER_IDS,
    Token,
    User,
    World,
    default_world,
)
from bot.sandbox.twitch.records import (
    Ban,
    ChatClear,
    ChatLine,
    Deletion,
    Delivery,
    HeldMessage,
    Notification,
    Request,
    Subscription,
)
from bot.sandbox.twitch.server import LocalTwitch

__all__ = [
    "BOT_ID",
    "BOT_SCOPES",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "MOD_ID",
    "STREAMER_ID",
    "STREAMER_SCOPES",
    "VIEWER_IDS",
    "Ban",
    "ChatClear",
    "ChatLine",
    "Deletion",
    "Delivery",
    "EventSub",
    "HeldMessage",
    "LocalTwitch",
    "Notification",
    "Request",
    "Session",
    "Subscription",
    "Token",
    "User",
    "World",
    "chat_message_event",
    "cheermote_fragment",
    "default_world",
    "emote_fragment",
    "mention_fragment",
    "reply_to",
    "text_fragment",
    "whisper_event",
]
