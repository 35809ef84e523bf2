"""EventSub event bodies with every key twitchio's parsers read, and the frames that carry them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.sandbox.twitch.model import Json, User, new_id, rfc3339

ROLE_BADGES = {
    "broadcaster": {"set_id": "broadcaster", "id": "1", "info": ""},
    "moderator": {"set_id": "moderator", "id": "1", "info": ""},
    "vip": {"set_id": "vip", "id": "1", "info": ""},
}


# -- chat message fragments -----------------------------------------------------------------------


def text_fragment(text: str) -> Json:
    return {"type": "text", "text": text, "cheermote": None, "emote": None, "mention": None}


def mention_fragment(user: User) -> Json:
    return {
        "type": "mention",
        "text": f"@{user.display_name}",
        "cheermote": None,
        "emote": None,
        "mention": {"user_id": user.id, "user_login": user.login, "user_name": user.display_name},
    }


def emote_fragment(name: str, emote_id: str = "25", owner_id: str = "0") -> Json:
    return {
        "type": "emote",
        "text": name,
        "cheermote": None,
        "emote": {"id": emote_id, "emote_set_id": "0", "owner_id": owner_id, "format": ["static"]},
        "mention": None,
    }


def cheermote_fragment(prefix: str, bits: int, tier: int = 1) -> Json:
    return {
        "type": "cheermote",
        "text": f"{prefix}{bits}",
        "cheermote": {"prefix": prefix.lower(), "bits": bits, "tier": tier},
        "emote": None,
        "mention": None,
    }


def fragments_text(fragments: Sequence[Json]) -> str:
    return "".join(str(f["text"]) for f in fragments)


# -- events ---------------------------------------------------------------------------------------


def chat_message_event(
    broadcaster: User,
    chatter: User,
    text: str | None = None,
    *,
    fragments: Sequence[Json] | None = None,
    message_id: str | None = None,
    role: str = "viewer",
    color: str = "#1E90FF",
    badges: Sequence[Json] | None = None,
    message_type: str = "text",
    reply: Json | None = None,
    cheer: Json | None = None,
    source: tuple[User, str] | None = None,
) -> Json:
    """`channel.chat.message` v1. `text` defaults to the fragments joined; fragments default to
    one text fragment; badges default from `role`. `source` is (source broadcaster, source message
    id) for a shared-chat message."""
    if fragments is None:
        fragments = [text_fragment(text or "")]
    if text is None:
        text = fragments_text(fragments)
    if badges is None:
        badges = [ROLE_BADGES[role]] if role in ROLE_BADGES else []
    event: Json = {
        **broadcaster.prefixed("broadcaster"),
        **chatter.prefixed("chatter"),
        "message_id": message_id or new_id(),
        "message": {"text": text, "fragments": [dict(f) for f in fragments]},
        "message_type": message_type,
        "badges": [dict(b) for b in badges],
        "cheer": cheer,
        "color": color,
        "reply": reply,
        "channel_points_custom_reward_id": None,
        "channel_points_animation_id": None,
        "source_broadcaster_user_id": None,
        "source_broadcaster_user_login": None,
        "source_broadcaster_user_name": None,
        "source_message_id": None,
        "source_badges": None,
        "is_source_only": None,
    }
    if source is not None:
        source_user, source_message_id = source
        event.update(source_user.prefixed("source_broadcaster"))
        event["source_message_id"] = source_message_id
        event["source_badges"] = [dict(b) for b in badges]
        event["is_source_only"] = False
    return event


def reply_to(parent: Json) -> Json:
    """The `reply` object for a message answering the chat message event `parent`."""
    return {
        "parent_message_id": parent["message_id"],
        "parent_message_body": parent["message"]["text"],
        "parent_user_id": parent["chatter_user_id"],
        "parent_user_login": parent["chatter_user_login"],
        "parent_user_name": parent["chatter_user_name"],
        "thread_message_id": parent["message_id"],
        "thread_user_id": parent["chatter_user_id"],
        "thread_user_login": parent["chatter_user_login"],
        "thread_user_name": parent["chatter_user_name"],
    }


def whisper_event(sender: User, recipient: User, text: str, whisper_id: str | None = None) -> Json:
    """`user.whisper.message` v1."""
    return {
        **sender.prefixed("from"),
        **recipient.prefixed("to"),
        "whisper_id": whisper_id or new_id(),
        "whisper": {"text": text},
    }


def automod_fragment(text: str) -> Json:
    return {"type": "text", "text": text, "cheermote": None, "emote": None}


def automod_hold_event(
    broadcaster: User,
    chatter: User,
    text: str,
    *,
    version: str = "2",
    message_id: str | None = None,
    held_at: datetime | None = None,
    category: str = "sexwords",
    level: int = 4,
    reason: str = "automod",
    blocked_term: str | None = None,
) -> Json:
    """`automod.message.hold` v1 (category and level at the top) or v2 (reason, automod or
    blocked_term)."""
    event: Json = {
        **broadcaster.prefixed("broadcaster"),
        "user_id": chatter.id,
        "user_login": chatter.login,
        "user_name": chatter.display_name,
        "message_id": message_id or new_id(),
        "message": {"text": text, "fragments": [automod_fragment(text)]},
        "held_at": rfc3339(held_at),
    }
    if version == "1":
        event["category"] = category
        event["level"] = level
        return event
    if reason == "blocked_term":
        term = blocked_term or text
        start = max(0, text.find(term))
        event["reason"] = "blocked_term"
        event["automod"] = None
        event["blocked_term"] = {
            "terms_found": [
                {
                    "term_id": new_id(),
                    "boundary": {"start_pos": start, "end_pos": start + len(term) - 1},
                    **broadcaster.prefixed("owner_broadcaster"),
                }
            ]
        }
    else:
        event["reason"] = "automod"
        event["automod"] = {
            "category": category,
            "level": level,
            "boundaries": [{"start_pos": 0, "end_pos": max(0, len(text) - 1)}],
        }
        event["blocked_term"] = None
    return event


def automod_update_event(hold: Json, moderator: User, status: str) -> Json:
    """`automod.message.update` for a held message: the hold's body plus moderator and status."""
    return {**hold, **moderator.prefixed("moderator"), "status": status}


def message_delete_event(broadcaster: User, target: User, message_id: str) -> Json:
    """`channel.chat.message_delete` v1."""
    return {
        **broadcaster.prefixed("broadcaster"),
        **target.prefixed("target"),
        "message_id": message_id,
    }


def chat_clear_event(broadcaster: User) -> Json:
    """`channel.chat.clear` v1."""
    return broadcaster.prefixed("broadcaster")


def clear_user_messages_event(broadcaster: User, target: User) -> Json:
    """`channel.chat.clear_user_messages` v1."""
    return {**broadcaster.prefixed("broadcaster"), **target.prefixed("target")}


def ban_event(
    broadcaster: User,
    user: User,
    moderator: User,
    reason: str,
    banned_at: datetime,
    ends_at: datetime | None,
) -> Json:
    """`channel.ban` v1."""
    return {
        **broadcaster.prefixed("broadcaster"),
        **user.prefixed("user"),
        **moderator.prefixed("moderator"),
        "reason": reason,
        "banned_at": rfc3339(banned_at),
        "ends_at": rfc3339(ends_at) if ends_at else None,
        "is_permanent": ends_at is None,
    }


# -- websocket frames -----------------------------------------------------------------------------


def metadata(
    message_type: str, message_id: str | None = None, when: datetime | None = None
) -> Json:
    return {
        "message_id": message_id or new_id(),
        "message_type": message_type,
        "message_timestamp": rfc3339(when),
    }


def session_object(
    session_id: str,
    status: str,
    keepalive: int | None,
    connected_at: datetime,
    reconnect_url: str | None = None,
) -> Json:
    return {
        "id": session_id,
        "status": status,
        "keepalive_timeout_seconds": keepalive,
        "reconnect_url": reconnect_url,
        "connected_at": rfc3339(connected_at),
        "recovery_url": None,
    }


def welcome_frame(session_id: str, keepalive: int, connected_at: datetime) -> Json:
    return {
        "metadata": metadata("session_welcome"),
        "payload": {"session": session_object(session_id, "connected", keepalive, connected_at)},
    }


def keepalive_frame() -> Json:
    return {"metadata": metadata("session_keepalive"), "payload": {}}


def reconnect_frame(session_id: str, connected_at: datetime, url: str) -> Json:
    return {
        "metadata": metadata("session_reconnect"),
        "payload": {"session": session_object(session_id, "reconnecting", None, connected_at, url)},
    }


def notification_frame(
    subscription: Json, event: Json, message_id: str, when: datetime | None = None
) -> Json:
    meta = metadata("notification", message_id, when)
    meta["subscription_type"] = subscription["type"]
    meta["subscription_version"] = subscription["version"]
    return {"metadata": meta, "payload": {"subscription": subscription, "event": event}}


def revocation_frame(subscription: Json) -> Json:
    meta = metadata("revocation")
    meta["subscription_type"] = subscription["type"]
    meta["subscription_version"] = subscription["version"]
    return {"metadata": meta, "payload": {"subscription": subscription}}
