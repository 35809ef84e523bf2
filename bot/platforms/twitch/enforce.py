"""Carry out a moderation plan on Twitch: delete the one message, time out or ban, tell the chat.

Twitch's rules shape every call here (platform-facts.md): a delete without `message_id` clears
the WHOLE chat, so `delete_message` refuses to send one; only messages under six hours old can
be deleted, and never the broadcaster's or a moderator's (the translation turns those into
alerts before a plan is made). The message goes first, the author second, the notice last; a
step that fails is reported in the result, not raised, so the alert says what Shield could not do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Final

import twitchio
from twitchio import HTTPException

from bot.core.actions import Enforced, Escalation, Plan
from bot.core.actions import audit_reason as _audit_reason
from bot.moderation import Handled

log = logging.getLogger(__name__)

REASON_CHARS: Final = 500  # Twitch's limit for a ban or timeout reason
TIMEOUT_MAX: Final = 1_209_600  # seconds (two weeks): Twitch's longest timeout
WHISPER_CHARS: Final = 500  # the limit for a whisper to someone who never whispered the bot
NOTICE: Final = "A message was removed by Shield: it linked to content on a block list."
AUTHOR_NOTICE: Final = (
    "Your message in {channel}'s chat was removed by Shield: it linked to content on a block "
    "list. If you think this is a mistake, contact the channel's moderators."
)


class ChatWipeRefusedError(ValueError):
    """A delete without a message id was about to be sent: Twitch would clear the whole chat."""


def audit_reason(case_id: int | None, text: str) -> str:
    """The reason Twitch shows moderators for a ban or timeout, within its length limit."""
    return _audit_reason(case_id, text, limit=REASON_CHARS)


def _why(exc: HTTPException) -> str:
    message = str(exc.extra.get("message") or "") if isinstance(exc.extra, dict) else ""
    return f"HTTP {exc.status}" + (f" ({message})" if message else "")


class TwitchEnforcer:
    """Turns a plan into Helix calls made with the bot account's token (it is the moderator)."""

    def __init__(
        self,
        client: twitchio.Client,
        *,
        bot_id: str,
        chat_notice: bool = False,
        whisper_replies: bool = False,
    ) -> None:
        self._client = client
        self.bot_id = bot_id
        self.chat_notice = chat_notice
        self.whisper_replies = whisper_replies

    async def carry_out(
        self, handled: Handled, *, broadcaster_id: str, channel_login: str, message_id: str,
        user_id: str,
    ) -> Enforced:  # fmt: skip
        """Act on one chat message as `handled.plan` says, once: a replayed event does nothing."""
        plan = handled.plan
        if not handled.first_time:
            return Enforced(skipped=True)
        if plan.dry_run:
            return Enforced(dry_run=True)
        result = Enforced()
        if plan.delete:
            await self._step(
                result, "message deleted", self.delete_message(broadcaster_id, message_id)
            )
        reason = audit_reason(handled.case.id if handled.case else None, plan.reason)
        await self.escalate(
            plan, broadcaster_id=broadcaster_id, user_id=user_id, reason=reason, result=result
        )
        if plan.delete and self.chat_notice:
            await self._step(result, "notice posted in chat", self.notice(broadcaster_id, NOTICE))
        if plan.delete and plan.notify_author:
            await self.tell(user_id, AUTHOR_NOTICE.format(channel=channel_login), result)
        return result

    async def resolve_held(
        self, handled: Handled, *, broadcaster_id: str, message_id: str, user_id: str
    ) -> Enforced:
        """An AutoMod-held message Shield blocks is denied (it never shows); others stay held."""
        plan = handled.plan
        if not handled.first_time:
            return Enforced(skipped=True)
        if plan.dry_run:
            return Enforced(dry_run=True)
        result = Enforced()
        if plan.delete:
            await self._step(result, "held message denied", self.deny_held(message_id))
            reason = audit_reason(handled.case.id if handled.case else None, plan.reason)
            await self.escalate(
                plan, broadcaster_id=broadcaster_id, user_id=user_id, reason=reason, result=result
            )
        return result

    async def delete_message(self, broadcaster_id: str, message_id: str) -> None:
        """Delete exactly one message. Without an id Twitch would clear the chat: refused here."""
        if not isinstance(message_id, str) or not message_id.strip():
            raise ChatWipeRefusedError("refusing a chat delete without a message_id")
        assert message_id, "a delete without message_id clears the whole chat"
        broadcaster = self._client.create_partialuser(broadcaster_id)
        await broadcaster.delete_chat_messages(moderator=self.bot_id, message_id=message_id)

    async def deny_held(self, message_id: str) -> None:
        """Deny one AutoMod-held message, as the bot account (a moderator of the channel)."""
        if not message_id:
            raise ValueError("an AutoMod decision needs the held message's id")
        bot = self._client.create_partialuser(self.bot_id)
        await bot.deny_automod_messages(message_id)

    async def escalate(
        self, plan: Plan, *, broadcaster_id: str, user_id: str, reason: str, result: Enforced
    ) -> None:
        """Time out or ban the author, as the plan says."""
        broadcaster = self._client.create_partialuser(broadcaster_id)
        if plan.escalation is Escalation.TIMEOUT:
            seconds = max(1, min(plan.timeout_seconds or 600, TIMEOUT_MAX))
            timing_out = broadcaster.timeout_user(
                moderator=self.bot_id, user=user_id, duration=seconds, reason=reason
            )
            await self._step(result, f"author timed out for {seconds // 60} min", timing_out)
        elif plan.escalation is Escalation.BAN:
            banning = broadcaster.ban_user(moderator=self.bot_id, user=user_id, reason=reason)
            await self._step(result, "author banned", banning)

    async def notice(self, broadcaster_id: str, text: str) -> None:
        """Post a short line in the channel's chat as the bot."""
        broadcaster = self._client.create_partialuser(broadcaster_id)
        await broadcaster.send_message(text, sender=self.bot_id, token_for=self.bot_id)

    async def tell(self, user_id: str, text: str, result: Enforced | None = None) -> bool:
        """Whisper `text` to a user when the token allows it; otherwise log that it was not sent."""
        if not self.whisper_replies:
            log.info("not whispering user %s: the bot token lacks user:manage:whispers", user_id)
            return False
        bot = self._client.create_partialuser(self.bot_id)
        return await self._step(
            result or Enforced(),
            "author told by whisper",
            bot.send_whisper(to_user=user_id, message=text[:WHISPER_CHARS]),
        )

    async def _step(self, result: Enforced, done: str, call: Awaitable[object]) -> bool:
        """Await one Helix call; record success or a readable failure, never raise."""
        try:
            await call
        except ChatWipeRefusedError as exc:
            log.error("%s", exc)
            result.failed.append(str(exc))
            return False
        except HTTPException as exc:
            if exc.status == 400 and "already banned" in _why(exc):
                result.done.append(f"{done} (the author was already banned)")
                return True
            log.warning("Twitch refused (%s): %s", done, _why(exc))
            result.failed.append(f"{done}: Twitch answered {_why(exc)}")
            return False
        except Exception as exc:
            log.exception("Twitch call failed: %s", done)
            result.failed.append(f"{done}: {type(exc).__name__}")
            return False
        result.done.append(done)
        return True
