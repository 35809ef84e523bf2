"""Discord's part of `shield run`: seed server settings, trust the configured API host's
attachments, run the bot until told to stop (see bot/runtime.py for the whole process)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

import discord
import yarl

from bot.app import App
from bot.errors import ShieldError
from bot.media.fetch import AddressPolicy
from bot.moderation import Moderator
from bot.platforms.discord.client import DEFAULT_API_BASE, ShieldBot, point_at
from bot.settings import Settings

log = logging.getLogger(__name__)

SEED_ACTOR = "config:discord.guilds"


def seed_guilds(app: App) -> int:
    """Copy [[discord.guilds]] settings into the database where a moderator has not set them
    (the database wins: /shield setup must survive a restart); returns how many were stored."""
    stored = 0
    for guild in app.settings.discord.guilds:
        community = f"discord:{guild.id}"
        for key in ("alert_channel", "moderator_role", "dry_run"):
            value = getattr(guild, key)
            if value is None or app.communities.is_set(community, key):
                continue
            text = str(value).lower() if isinstance(value, bool) else str(value)
            app.communities.set(community, key, text, updated_by=SEED_ACTOR)
            app.audit.record(SEED_ACTOR, "community.set", key, community=community)
            stored += 1
    return stored


def fetch_policy(settings: Settings) -> AddressPolicy | None:
    """When the API is not Discord's, its host serves the attachments: trust exactly that host
    and port like Discord's CDN (even on a private address), and nothing else extra."""
    if settings.discord.api_base.rstrip("/") == DEFAULT_API_BASE:
        return None
    url = yarl.URL(settings.discord.api_base)
    host, port = url.host or "", url.port or (443 if url.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ShieldError(f"cannot resolve the Discord API host {host}: {exc}") from None
    pairs = sorted({(str(info[4][0]).split("%", 1)[0], port) for info in found})
    log.info(
        "attachments on %s:%d (the configured Discord API) are fetched like Discord's", host, port
    )
    return AddressPolicy(allow_private=settings.fetch.allow_private_addresses, allow=pairs)


async def run_discord(
    app: App,
    moderator: Moderator,
    token: str,
    *,
    stop: asyncio.Event,
    sync_commands: bool = True,
    on_bot: Callable[[ShieldBot], None] | None = None,
) -> None:
    """Run the Discord bot until `stop` is set; a refused token or intent is one-line error."""
    seeded = seed_guilds(app)
    if seeded:
        log.info("stored %d server settings from [[discord.guilds]]", seeded)
    point_at(app.settings.discord)  # for the whole process: nothing else talks to Discord
    try:
        async with ShieldBot(app, moderator, sync_commands=sync_commands) as bot:
            if on_bot is not None:
                on_bot(bot)
            runner = asyncio.create_task(bot.start(token), name="shield-discord")
            stopper = asyncio.create_task(stop.wait(), name="shield-discord-stop")
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if runner.done():
                runner.result()  # a fatal error: raised below as one line
            else:
                log.info("stopping: closing the Discord connection")
                await bot.close()
                await runner
    except discord.LoginFailure:
        raise ShieldError("Discord refused DISCORD_TOKEN: check the bot token") from None
    except discord.PrivilegedIntentsRequired:
        raise ShieldError(
            "Discord refused the Message Content intent: turn on 'Message Content Intent' under "
            "Bot in the Discord Developer Portal"
        ) from None
