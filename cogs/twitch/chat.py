"""Chat and AutoMod listeners: every message and every held message goes to the guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

import twitchio
from twitchio.ext import commands

from cogs.twitch import listener

if TYPE_CHECKING:
    from bot.platforms.twitch.client import ShieldTwitchBot
    from bot.platforms.twitch.guard import TwitchGuard


class ChatComponent(commands.Component):
    """Listens to chat in the guarded channels and to AutoMod's queue there."""

    def __init__(self, guard: TwitchGuard) -> None:
        self.shield = guard

    @listener()
    async def event_message(self, payload: twitchio.ChatMessage) -> None:
        """A chat message: scanned, and acted on if it carries a listed link or image."""
        await self.shield.on_chat(payload)

    @listener()
    async def event_automod_message_hold(self, payload: twitchio.AutomodMessageHold) -> None:
        """A message AutoMod holds: denied if Shield blocks it, else left to the moderators."""
        await self.shield.on_held(payload)

    @listener()
    async def event_automod_message_update(self, payload: twitchio.AutomodMessageUpdate) -> None:
        """A held message was resolved: logged."""
        await self.shield.on_held_update(payload)


async def setup(bot: ShieldTwitchBot) -> None:
    """twitchio's entry point: add the component with the bot's guard."""
    await bot.add_component(ChatComponent(bot.guard))
