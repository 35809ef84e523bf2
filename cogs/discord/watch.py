"""Every message Shield can see, new or edited, in servers and in DMs, goes to the guard."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.platforms.discord.client import ShieldBot

log = logging.getLogger(__name__)


class WatchCog(commands.Cog):
    """Listens for messages and edits; the guard decides and acts."""

    def __init__(self, bot: ShieldBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        await self.bot.guard.message(message)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Re-scan an edit (raw: the message may be older than the cache)."""
        await self.bot.guard.message(payload.message, is_edit=True)


async def setup(bot: commands.Bot) -> None:
    assert isinstance(bot, ShieldBot)
    await bot.add_cog(WatchCog(bot))
