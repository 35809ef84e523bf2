"""Who counts as a moderator of a Discord server: the configured role, or the right permissions."""

from __future__ import annotations

import discord

# Discord permissions that make someone a moderator for Shield, whatever the role setting.
MODERATOR_PERMISSIONS = ("administrator", "ban_members", "moderate_members")


def has_moderator_permissions(permissions: discord.Permissions) -> bool:
    """True for Administrator, Ban Members or Moderate Members."""
    return any(getattr(permissions, name) for name in MODERATOR_PERMISSIONS)


def is_moderator(
    user: discord.abc.User,
    moderator_role: int | None,
    permissions: discord.Permissions | None = None,
) -> bool:
    """True if `user` holds the server's moderator role or moderator permissions.

    `permissions` are the ones Discord resolved for an interaction (preferred: always sent);
    without them the member's server-wide permissions are computed from the cached roles.
    """
    if not isinstance(user, discord.Member):
        return False
    if moderator_role is not None and any(role.id == moderator_role for role in user.roles):
        return True
    if user.guild.owner_id == user.id:
        return True
    return has_moderator_permissions(permissions or user.guild_permissions)
