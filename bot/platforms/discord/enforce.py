"""Carry out a moderation plan on Discord: delete or hide, tell the author, time out or ban.

Order matters: the message goes first (the harm is in the channel), the author is told before a
ban (a banned user shares no server with the bot, so the DM would fail), and every step that
fails is reported, not raised, so the alert says exactly what Shield could not do.
"""

from __future__ import annotations

import datetime
import logging
from typing import Final

import discord

from bot.core.actions import Enforced, Escalation, Plan
from bot.core.actions import audit_reason as _audit_reason
from bot.moderation import Handled

log = logging.getLogger(__name__)

UNKNOWN_MESSAGE: Final = 10008  # Discord error code: the message is already gone
BAN_DELETE_SECONDS: Final = 24 * 3600  # a ban also removes the author's last day of messages
REASON_CHARS: Final = 512  # Discord's limit for X-Audit-Log-Reason


def audit_reason(case_id: int | None, text: str) -> str:
    """The reason Discord shows in the server's audit log, within its length limit."""
    return _audit_reason(case_id, text, limit=REASON_CHARS)


def _forbidden(what: str, permission: str, where: str = "", *, rank: bool = False) -> str:
    """Why a 403 happened, naming the permission to grant."""
    text = f"could not {what}: Shield lacks {permission}" + (f" {where}" if where else "")
    return text + (" or ranks below the author" if rank else "")


class Enforcer:
    """Turns a `Handled` into Discord calls; one instance per bot, given its HTTP client."""

    def __init__(
        self, http: discord.http.HTTPClient, *, ban_delete_seconds: int = BAN_DELETE_SECONDS
    ) -> None:
        self._http = http
        self.ban_delete_seconds = ban_delete_seconds

    async def carry_out(self, message: discord.Message, handled: Handled) -> Enforced:
        """Act on `message` as `handled.plan` says, once: a replayed event does nothing."""
        plan = handled.plan
        if not handled.first_time:
            return Enforced(skipped=True)
        if plan.dry_run:
            return Enforced(dry_run=True)
        result = Enforced()
        reason = audit_reason(handled.case.id if handled.case else None, plan.reason)
        if plan.delete:
            await self.delete(message, reason, result)
        elif plan.hide_preview:
            await self.hide_preview(message, result)
        if plan.notify_author and plan.acts and message.webhook_id is None:
            await self.notify_author(message, plan, result)
        if plan.escalation is not Escalation.NONE and message.webhook_id is not None:
            result.done.append("posted by a webhook: nobody to time out or ban")
        elif plan.escalation is Escalation.TIMEOUT:
            await self.timeout(message.author, message.guild, plan.timeout_seconds, reason, result)
        elif plan.escalation is Escalation.BAN and message.guild is not None:
            await self.ban(message.guild, message.author, reason, result)
        if result.failed:
            log.warning("case %s: %s", handled.case.id if handled.case else "-", result.failed)
        return result

    async def delete(self, message: discord.Message, reason: str, result: Enforced) -> None:
        """Delete the message; "unknown message" means someone was faster, which is success."""
        try:
            await self._http.delete_message(message.channel.id, message.id, reason=reason)
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_MESSAGE:
                result.failed.append(f"could not delete the message ({exc.text or exc.status})")
                return
            result.done.append("message deleted (it was already gone)")
            return
        except discord.Forbidden:
            where = f"in <#{message.channel.id}>"
            result.failed.append(_forbidden("delete the message", "Manage Messages", where))
            return
        except discord.HTTPException as exc:
            result.failed.append(f"could not delete the message (HTTP {exc.status})")
            return
        result.done.append("message deleted")

    async def hide_preview(self, message: discord.Message, result: Enforced) -> None:
        """Suppress the link preview, keeping the message for the moderators to judge."""
        try:
            await message.edit(suppress=True)
        except discord.NotFound:
            result.done.append("message already deleted")
            return
        except discord.Forbidden:
            where = f"in <#{message.channel.id}>"
            result.failed.append(_forbidden("hide the preview", "Manage Messages", where))
            return
        except discord.HTTPException as exc:
            result.failed.append(f"could not hide the preview (HTTP {exc.status})")
            return
        result.done.append("preview hidden, held for review")

    async def notify_author(self, message: discord.Message, plan: Plan, result: Enforced) -> None:
        """Tell the author why, without repeating what they posted."""
        where = message.guild.name if message.guild else "a server"
        what = "removed" if plan.delete else "hidden for review"
        text = (
            f"Your message in **{where}** was {what} by Shield because it matched a list of "
            "known non-consensual intimate imagery or the sites that make it. If you think "
            "this is a mistake, contact the server's moderators."
        )
        try:
            await message.author.send(text)
        except discord.HTTPException:
            result.failed.append("could not tell the author by DM (their DMs are closed)")
            return
        result.done.append("author told by DM")

    async def timeout(
        self,
        author: discord.abc.Snowflake,
        guild: discord.Guild | None,
        seconds: int,
        reason: str,
        result: Enforced,
    ) -> None:
        """Time the author out (Moderate Members); a user who left cannot be timed out."""
        member = author if isinstance(author, discord.Member) else None
        if member is None and guild is not None:
            try:
                member = await guild.fetch_member(author.id)
            except discord.HTTPException:
                member = None
        if member is None:
            result.failed.append("could not time the author out: they are not in the server")
            return
        try:
            await member.timeout(datetime.timedelta(seconds=seconds), reason=reason)
        except discord.Forbidden:
            result.failed.append(_forbidden("time the author out", "Moderate Members", rank=True))
            return
        except discord.HTTPException as exc:
            result.failed.append(f"could not time the author out (HTTP {exc.status})")
            return
        result.done.append(f"author timed out for {max(1, seconds // 60)} min")

    async def ban(
        self, guild: discord.Guild, author: discord.abc.Snowflake, reason: str, result: Enforced
    ) -> None:
        """Ban the author and remove their recent messages (Ban Members)."""
        try:
            await guild.ban(
                discord.Object(author.id),
                delete_message_seconds=self.ban_delete_seconds,
                reason=reason,
            )
        except discord.Forbidden:
            result.failed.append(_forbidden("ban the author", "Ban Members", rank=True))
            return
        except discord.HTTPException as exc:
            result.failed.append(f"could not ban the author (HTTP {exc.status})")
            return
        result.done.append("author banned")
