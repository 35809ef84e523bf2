"""A local Discord (REST v10, gateway v10, attachment CDN) that the real discord.py talks to.

async with LocalDiscord(heartbeat_interval_ms=500) as discord, discord.patch_discord_py():
    client = discord_py.Client(intents=..., guild_ready_timeout=0.05)
    ...
    await discord.send_message(Default.GENERAL, Default.MEMBER, "hello")
    request = await discord.wait_for_request("DELETE", "/channels/333/messages/...")
"""

from bot.sandbox.discord.model import (
    ALL_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    MODERATOR_PERMISSIONS,
    PRIVILEGED_INTENTS,
    SHIELD_PERMISSIONS,
    ApplicationSpec,
    ChannelSpec,
    ChannelType,
    Default,
    DMChannel,
    GuildSpec,
    Intent,
    MemberSpec,
    Overwrite,
    Perm,
    RoleSpec,
    UserSpec,
    World,
    default_world,
)
from bot.sandbox.discord.records import (
    Dispatch,
    Frame,
    InteractionRecord,
    RateLimitRule,
    Request,
    UploadedFile,
)
from bot.sandbox.discord.server import LocalDiscord, patch_discord_py

__all__ = [
    "ALL_PERMISSIONS",
    "EVERYONE_PERMISSIONS",
    "MODERATOR_PERMISSIONS",
    "PRIVILEGED_INTENTS",
    "SHIELD_PERMISSIONS",
    "ApplicationSpec",
    "ChannelSpec",
    "ChannelType",
    "DMChannel",
    "Default",
    "Dispatch",
    "Frame",
    "GuildSpec",
    "Intent",
    "InteractionRecord",
    "LocalDiscord",
    "MemberSpec",
    "Overwrite",
    "Perm",
    "RateLimitRule",
    "Request",
    "RoleSpec",
    "UploadedFile",
    "UserSpec",
    "World",
    "default_world",
    "patch_discord_py",
]
