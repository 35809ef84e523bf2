"""Whisper listener: whispers to the bot are scanned; senders are pointed to reporting tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

import twitchio
from twitchio.ext import commands

from cogs.twitch import listener

if TYPE_CHECKING:
    from bot.platforms.twitch.client import ShieldTwitchBot
    from bot.platforms.twitch.guard import TwitchGuard


class WhisperComponent(commands.Component):
    """Listens to whispers sent to the bot account."""

    def __init__(self, guard: TwitchGuard) -> None:
        self.shield = guard

    @listener()
    async def event_message_whisper(self, payload: twitchio.Whisper) -> None:
        """A whisper: scanned; moderators see metadata only, the sender gets pointers."""
        await self.shield.on_whisper(payload)


async def setup(bot: ShieldTwitchBot) -> None:
    """twitchio's entry point: add the component with the bot's guard."""
    await bot.add_component(WhisperComponent(bot.guard))
