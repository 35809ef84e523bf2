"""One Discord message through Shield: translate, moderate, enforce, alert. Cogs call this.

Evidence first (the case is recorded by `Moderator.handle`), then the action, then the alert;
a replayed event (the case was already on file) changes nothing and alerts nobody.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

import discord

from bot.moderation import Handled
from bot.platforms.discord.alerts import describe_finding
from bot.platforms.discord.translate import Translator, community_of
from bot.review.workflow import support_text

if TYPE_CHECKING:
    from bot.platforms.discord.client import ShieldBot
    from bot.storage.cases import Case

log = logging.getLogger(__name__)

MUTUAL_LOOKUPS: Final = 25  # servers asked "is this user a member?" per DM case, at the most
REPORT_POINTERS: Final = (
    "If intimate images of you, real or AI-made, are being shared:\n"
    "• report the message to Discord: <https://discord.com/report>\n"
    "• adults: create hashes of your images at StopNCII.org <https://stopncii.org> so partner "
    "platforms block copies (the images never leave your device)\n"
    "• images taken when under 18: use Take It Down <https://takeitdown.ncmec.org>"
)


def findings_summary(handled: Handled) -> str:
    """What was found, for the person who sent or reported it (no links, no media)."""
    findings = [f.to_dict() for f in handled.outcome.verdict.findings]
    if findings:
        return "Shield found:\n" + "\n".join(describe_finding(f) for f in findings[:6])
    if handled.outcome.unscannable:
        return "Shield could not scan the media in that message."
    return "Shield found nothing it knows in that message."


class Guard:
    """The message pipeline for one bot; built in `ShieldBot.__init__`, used by the cogs."""

    def __init__(self, bot: ShieldBot, translator: Translator) -> None:
        self.bot = bot
        self.translator = translator
        self._inflight: set[asyncio.Task[object]] = set()  # handlers running now

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout` s) for messages being handled, so a shutdown finishes them."""
        current = asyncio.current_task()
        pending = {t for t in self._inflight if t is not current and not t.done()}
        if pending:
            log.info("finishing %d messages before stopping", len(pending))
            await asyncio.wait(pending, timeout=timeout)

    def moderator_role(self, guild: discord.Guild | None) -> int | None:
        return self.bot.reviews.moderator_role(guild.id) if guild else None

    async def message(self, message: discord.Message, *, is_edit: bool = False) -> Handled | None:
        """Scan a server message (new or edited) and act on what is found, once."""
        if self._ignored(message):
            return None
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            return await self._message(message, is_edit)
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def _message(self, message: discord.Message, is_edit: bool) -> Handled | None:
        if message.guild is None:
            return await self.direct_message(message, is_edit=is_edit)
        # One read of the server's settings per message: the moderator role, then the policy.
        settings = self.bot.app.communities.all(community_of(message.guild.id) or "")
        role = settings["moderator_role"]
        ctx = self.translator.context(
            message, moderator_role=int(role) if role is not None else None, is_edit=is_edit
        )
        handled = await self.bot.moderator.handle(ctx, settings)
        if handled.case is None or not handled.first_time:
            return handled
        enforced = await self.bot.enforcer.carry_out(message, handled)
        done = enforced.describe(handled.plan)
        log.info(
            "case %d in server %s: %s; %s",
            handled.case.id,
            message.guild.id,
            handled.plan.reason or handled.case.tier,
            done.replace("\n", "; "),
        )
        await self.bot.alerts.post(message.guild, handled.case, done)
        return handled

    async def direct_message(self, message: discord.Message, *, is_edit: bool = False) -> Handled:
        """A DM to the bot: scan it, say what was found and where to report, tell the servers'
        moderators (metadata only). The bot cannot delete a user's DM, so nothing is removed."""
        ctx = self.translator.context(message, is_edit=is_edit)
        handled = await self.bot.moderator.handle(ctx)
        if not handled.first_time or (is_edit and handled.case is None):
            return handled
        pointers = support_text(self.bot.app.settings, REPORT_POINTERS)
        text = f"{findings_summary(handled)}\n\n{pointers}"
        if handled.case is not None:
            text += "\n\nThe moderators of the servers you share with Shield have been told."
        try:
            await message.channel.send(text, suppress_embeds=True)
        except discord.HTTPException as exc:
            log.info("could not answer a DM: HTTP %s", exc.status)
        if handled.case is not None:
            await self.alert_mutual_guilds(message.author.id, handled.case, "nothing (a DM)")
        return handled

    async def alert_mutual_guilds(self, user_id: int, case: Case, done: str) -> int:
        """Alert every server with an alert channel that `user_id` belongs to; how many."""
        sent = 0
        for guild in await self.mutual_guilds(user_id):
            if await self.bot.alerts.post(guild, case, done) is not None:
                sent += 1
        return sent

    async def mutual_guilds(self, user_id: int) -> list[discord.Guild]:
        """Servers with an alert channel that the user is in (asked of Discord when not cached:
        without the privileged members intent the member cache is nearly empty)."""
        found: list[discord.Guild] = []
        lookups = 0
        for guild in self.bot.guilds:
            if self.bot.alerts.alert_channel_id(guild.id) is None:
                continue
            if guild.get_member(user_id) is not None:
                found.append(guild)
                continue
            if lookups >= MUTUAL_LOOKUPS:
                continue
            lookups += 1
            try:
                await guild.fetch_member(user_id)
            except discord.HTTPException:
                continue
            found.append(guild)
        return found

    def _ignored(self, message: discord.Message) -> bool:
        """Shield's own messages and system messages (joins, pins) are not scanned."""
        me = self.bot.user
        if me is not None and message.author.id == me.id:
            return True
        return message.type not in (discord.MessageType.default, discord.MessageType.reply)
