"""The Discord client: discord.py's Bot, built from the App and the Moderator made in `main`.

It needs the message content intent (privileged) and, in each server, the permissions below;
both are checked when it connects and when it joins a server, with one clear log line each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.app import App
from bot.errors import ShieldError
from bot.moderation import Moderator
from bot.platforms.discord.alerts import AlertPoster, CaseButton
from bot.platforms.discord.enforce import Enforcer
from bot.platforms.discord.guard import Guard
from bot.platforms.discord.manage import Manage
from bot.platforms.discord.reports import Reports
from bot.platforms.discord.review import Reviews
from bot.platforms.discord.translate import DISCORD_CDN, Translator
from bot.settings import DiscordSettings

log = logging.getLogger(__name__)

DEFAULT_API_BASE: Final = "https://discord.com/api/v10"
DEFAULT_GATEWAY: Final = "wss://gateway.discord.gg/"
DRAIN_SECONDS: Final = 10.0  # at shutdown, time given to messages being handled
MESSAGE_CHARS: Final = 2000  # Discord's limit for a message's text
COGS: Final = ("cogs.discord.watch", "cogs.discord.commands")
# (discord.py attribute, name in Discord's settings, what Shield cannot do without it)
REQUIRED_PERMISSIONS: Final = (
    ("view_channel", "View Channel", "see channels"),
    ("read_message_history", "Read Message History", "read messages it catches up on"),
    ("manage_messages", "Manage Messages", "delete messages or hide previews"),
    ("moderate_members", "Moderate Members", "time members out"),
    ("ban_members", "Ban Members", "ban members"),
    ("embed_links", "Embed Links", "post alerts"),
)


def point_at(settings: DiscordSettings) -> Callable[[], None]:
    """Point discord.py at `settings.api_base` and `settings.gateway` (class attributes, the
    only way it offers); returns a function that puts back what was there, for tests."""
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    if settings.api_base.rstrip("/") != DEFAULT_API_BASE:
        discord.http.Route.BASE = settings.api_base.rstrip("/")
        log.warning("using the Discord API at %s (not Discord's own)", settings.api_base)
    if settings.gateway != DEFAULT_GATEWAY:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway)
        log.warning("using the Discord gateway at %s (not Discord's own)", settings.gateway)

    def restore() -> None:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved

    return restore


def cdn_base(settings: DiscordSettings) -> str:
    """Where sticker images come from: Discord's media host, or the configured API host."""
    if settings.api_base.rstrip("/") == DEFAULT_API_BASE:
        return DISCORD_CDN
    return str(yarl.URL(settings.api_base).origin())


def intents() -> discord.Intents:
    """Servers, their messages and DMs, with message content (privileged: without it guild
    messages arrive empty and Shield sees nothing)."""
    wanted = discord.Intents.default()
    wanted.message_content = True
    wanted.members = False
    wanted.presences = False
    return wanted


async def reply(interaction: discord.Interaction[Any], answer: str | discord.Embed) -> None:
    """Answer privately, whether or not the interaction was deferred."""
    if isinstance(answer, discord.Embed):
        kwargs: dict[str, Any] = {"embed": answer}
    else:
        kwargs = {"content": answer[:MESSAGE_CHARS], "suppress_embeds": True}
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=True, **kwargs)


class ShieldTree(app_commands.CommandTree["ShieldBot"]):
    """Turns a refused check or a user mistake into a private one-line answer, not a traceback."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        cause = getattr(error, "original", error)
        if isinstance(error, app_commands.CheckFailure):
            text = (
                "Only this server's moderators can use that (the moderator role, or Ban or "
                "Moderate Members; set-up and dry-run need Manage Server)."
            )
        elif isinstance(cause, ShieldError | ValueError):
            text = str(cause)
        else:
            log.error("command %s failed", interaction.command, exc_info=cause)
            text = f"That failed ({type(cause).__name__}); the bot's log has the details."
        try:
            await reply(interaction, text)
        except discord.HTTPException:
            log.info("could not answer a failed command")


def missing_permissions(guild: discord.Guild) -> list[tuple[str, str]]:
    """(permission, consequence) pairs Shield lacks server-wide in `guild`."""
    me = guild.me
    if me is None:
        return [(name, why) for _, name, why in REQUIRED_PERMISSIONS]
    have = me.guild_permissions
    return [(name, why) for attr, name, why in REQUIRED_PERMISSIONS if not getattr(have, attr)]


class ShieldBot(commands.Bot):
    """Shield on Discord; every dependency comes in through the constructor (no globals)."""

    def __init__(
        self,
        app: App,
        moderator: Moderator,
        *,
        cogs: Sequence[str] = COGS,
        sync_commands: bool = True,
        **options: object,
    ) -> None:
        # Shield never joins voice: discord.py's warnings about voice libraries are noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            help_command=None,
            tree_cls=ShieldTree,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,  # type: ignore[arg-type]
        )
        self.app = app
        self.moderator = moderator
        self.cog_modules = tuple(cogs)
        self.sync_commands = sync_commands
        self.enforcer = Enforcer(self.http)
        self.reviews = Reviews(self, moderator.cases)
        self.alerts = AlertPoster(self)
        self.guard = Guard(self, Translator(cdn_base(app.settings.discord)))
        self.reports = Reports(self)
        self.manage = Manage(self)

    async def setup_hook(self) -> None:
        """Review buttons first (they must answer clicks on alerts posted before a restart)."""
        self.add_dynamic_items(CaseButton)
        for module in self.cog_modules:
            await self.load_extension(module)
        if self.sync_commands:
            synced = await self.tree.sync()
            log.info("published %d application commands", len(synced))

    async def close(self) -> None:
        """Finish the messages being handled (a deletion half done helps nobody), then close."""
        await self.guard.drain(DRAIN_SECONDS)
        await super().close()

    async def on_ready(self) -> None:
        flags = self.application_flags
        if not (flags.gateway_message_content or flags.gateway_message_content_limited):
            log.warning(
                "the Message Content intent is not enabled for this application: messages in "
                "servers arrive empty and Shield cannot scan them. Turn on 'Message Content "
                "Intent' under Bot in the Discord Developer Portal."
            )
        log.info("connected as %s to %d servers", self.user, len(self.guilds))
        for guild in self.guilds:
            self.check_guild(guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        log.info("joined server %s (%s)", guild.name, guild.id)
        self.check_guild(guild)

    def check_guild(self, guild: discord.Guild) -> list[str]:
        """Log one line naming every permission Shield lacks in `guild`; returns their names."""
        missing = missing_permissions(guild)
        if missing:
            log.warning(
                "server %s (%s) lacks permissions: %s. Without them Shield cannot %s. Grant them "
                "to Shield's role in Server Settings > Roles.",
                guild.name,
                guild.id,
                ", ".join(name for name, _ in missing),
                "; ".join(why for _, why in missing),
            )
        if self.alerts.alert_channel_id(guild.id) is None:
            log.warning(
                "server %s (%s) has no alert channel: run /shield setup there", guild.name, guild.id
            )
        return [name for name, _ in missing]
