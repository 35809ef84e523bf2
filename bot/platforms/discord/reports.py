"""The message context menus: "Report to moderators" (members, also in private DMs through the
user-installed app) and "Add to Shield bank" (moderators; hashes only, never the media)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.core.verdict import Tier
from bot.errors import InputError
from bot.media.banking import ensure_bank, entries_for
from bot.platforms.discord.guard import REPORT_POINTERS, findings_summary
from bot.platforms.discord.translate import community_of, user_key
from bot.review.workflow import support_text

if TYPE_CHECKING:
    from bot.platforms.discord.client import ShieldBot

log = logging.getLogger(__name__)

BANK_SOURCE: Final = "discord: Add to Shield bank"


def server_bank(guild_id: int) -> str:
    """The bank a server's moderators add to from Discord."""
    return f"discord-{guild_id}"


class Reports:
    """What the context menus do; the cog only declares them."""

    def __init__(self, bot: ShieldBot) -> None:
        self.bot = bot

    async def report(self, interaction: discord.Interaction[Any], message: discord.Message) -> str:
        """Scan the reported message, act on it like any message, and tell the moderators even
        when nothing known matched (a person saw something the lists do not know yet)."""
        guard = self.bot.guard
        reporter = interaction.user.id
        # A user-installed app can be used where Shield is not: that is a private report too.
        guild = self.bot.get_guild(interaction.guild_id) if interaction.guild_id else None
        if guild is None or message.guild is None:
            return await self._report_private(interaction, message)
        ctx = guard.translator.context(message, moderator_role=guard.moderator_role(guild))
        handled = await self.bot.moderator.report(ctx, reporter=user_key(reporter))
        case = handled.case
        assert case is not None  # a report always has a case
        if not handled.first_time:
            return f"Thank you. Shield already has case {case.id} for that message."
        if handled.plan.alert:
            done = (await self.bot.enforcer.carry_out(message, handled)).describe(handled.plan)
        else:
            done = "nothing yet: a member reported it"
        await self.bot.alerts.post(guild, case, done, reported_by=reporter)
        return f"Thank you: the moderators have been told.\n{findings_summary(handled)}"

    async def _report_private(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> str:
        """A report from a private DM or group DM (user-installed app): say what was found and
        where to report; tell shared servers' moderators about the author if anything matched."""
        # Shield cannot act where it is not: treated like a DM (alert only, nothing removed).
        ctx = dataclasses.replace(
            self.bot.guard.translator.context(message), community=None, is_dm=True
        )
        handled = await self.bot.moderator.handle(ctx)
        pointers = support_text(self.bot.app.settings, REPORT_POINTERS)
        text = f"{findings_summary(handled)}\n\n{pointers}"
        if handled.case is not None and handled.first_time:
            self.bot.app.audit.record(
                user_key(interaction.user.id),
                "case.report",
                f"case:{handled.case.id}",
                subject=handled.case.author_id,
            )
            sent = await self.bot.guard.alert_mutual_guilds(
                message.author.id, handled.case, "nothing (a private message)"
            )
            if sent:
                text += "\n\nThe moderators of servers the sender shares with Shield were told."
        return text

    async def add_to_bank(
        self, interaction: discord.Interaction[Any], message: discord.Message
    ) -> str:
        """Hash the message's pictures and videos into this server's bank; nothing else kept."""
        guild = interaction.guild
        moderator = self.bot.moderator
        if guild is None:
            return "Use this in a server."
        if moderator.fetcher is None or moderator.pool is None:
            return "Media scanning is turned off ([discord] scan_media), so nothing can be hashed."
        ctx = self.bot.guard.translator.context(message)
        refs = list(ctx.media)[: moderator.media_per_message]
        if not refs:
            return "That message has no pictures or videos Shield can hash."
        app = self.bot.app
        actor = user_key(interaction.user.id)
        try:
            info = ensure_bank(app.banks, app.audit, server_bank(guild.id), tier=None, actor=actor)
        except InputError as exc:
            return str(exc)
        fetched = await asyncio.gather(*(moderator.fetcher.fetch(ref.url) for ref in refs))
        before = app.banks.max_entry_id()
        added = existing = 0
        problems = []
        for ref, result in zip(refs, fetched, strict=True):
            name = ref.filename or ref.source
            if not result.ok or result.data is None:
                problems.append(f"{name}: {result.reason}")
                continue
            hashes = await moderator.pool.hash(result.data)
            if hashes.unscannable:
                problems.append(f"{name}: {hashes.reason}")
            entries, _ = entries_for(hashes, name, app.settings.matching.pdq_min_quality)
            entries = [dataclasses.replace(e, source=BANK_SOURCE) for e in entries]
            new, old = app.banks.add_entries(info.id, entries, added_by=actor)
            added, existing = added + new, existing + old
        app.media_matcher.add(app.banks.index_rows(after=before))
        app.audit.record(
            actor,
            "bank.add",
            info.name,
            community=community_of(guild.id),
            detail={"added": added, "existing": existing, "message": str(message.id)},
        )
        text = (
            f"Added {added} hashes to bank `{info.name}` ({info.tier.value}); {existing} were "
            "already there. Only hashes were kept, never the media."
        )
        if info.tier is not Tier.BLOCK:
            text += f" Note: the bank is a {info.tier.value} bank."
        if problems:
            text += "\nCould not hash: " + "; ".join(problems[:5])
        return text
