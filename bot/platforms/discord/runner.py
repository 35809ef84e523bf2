"""Start-up for `shield run`: seed server settings, build the fetcher, pool and moderator once,
run the bot until SIGINT or SIGTERM, and close everything in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import AsyncIterator

import discord
import yarl

from bot.app import App
from bot.errors import ShieldError
from bot.media.fetch import AddressPolicy, SafeFetcher
from bot.media.pool import HashPool
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


@contextlib.asynccontextmanager
async def services(app: App) -> AsyncIterator[Moderator]:
    """The moderator with its fetcher and hashing pool (none when scan_media is off)."""
    settings = app.settings
    per_message = settings.discord.media_per_message
    if not settings.discord.scan_media:
        yield Moderator(app, media_per_message=per_message)
        return
    async with (
        SafeFetcher(settings.fetch, policy=fetch_policy(settings)) as fetcher,
        HashPool(settings.media) as pool,
    ):
        yield Moderator(app, fetcher=fetcher, pool=pool, media_per_message=per_message)


async def serve(app: App, token: str, *, sync_commands: bool = True) -> None:
    """Run Shield on Discord until SIGINT/SIGTERM or a fatal error, then close cleanly."""
    seeded = seed_guilds(app)
    if seeded:
        log.info("stored %d server settings from [[discord.guilds]]", seeded)
    point_at(app.settings.discord)  # for the whole process: nothing else talks to Discord
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with (
            services(app) as moderator,
            ShieldBot(app, moderator, sync_commands=sync_commands) as bot,
        ):
            runner = asyncio.create_task(bot.start(token))
            stopper = asyncio.create_task(stop.wait())
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
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
