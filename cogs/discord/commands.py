"""Moderator slash commands (/shield ...) and the message context menus, permission-checked.

Declarations only: each command calls bot.manage or bot.reports and shows the answer privately.
"""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.platforms.discord.access import is_moderator
from bot.platforms.discord.client import ShieldBot, reply
from bot.platforms.discord.translate import user_key

Escalation = Literal["none", "timeout", "ban"]
Tiers = Literal["block", "review", "allow"]


def _actor(interaction: discord.Interaction[Any]) -> str:
    return user_key(interaction.user.id)


def _guild_id(interaction: discord.Interaction[Any]) -> int:
    assert interaction.guild_id is not None  # the group is guild-only
    return interaction.guild_id


class ShieldCommands(commands.Cog):
    """/shield: set-up, dry-run, the server's list, check, case, stats."""

    shield = app_commands.Group(
        name="shield",
        description="Shield: keeps non-consensual intimate imagery and deepfakes out",
        guild_only=True,
        default_permissions=discord.Permissions(manage_messages=True),
    )
    lists = app_commands.Group(name="list", description="This server's own list", parent=shield)

    def __init__(self, bot: ShieldBot) -> None:
        self.bot = bot
        self.report_menu = app_commands.ContextMenu(
            name="Report to moderators",
            callback=self.report,
            allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=True, private_channel=True
            ),
        )
        self.bank_menu = app_commands.ContextMenu(name="Add to Shield bank", callback=self.bank)
        self.bank_menu.guild_only = True
        self.bank_menu.default_permissions = discord.Permissions(manage_messages=True)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.report_menu)
        self.bot.tree.add_command(self.bank_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.report_menu.name, type=self.report_menu.type)
        self.bot.tree.remove_command(self.bank_menu.name, type=self.bank_menu.type)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Every /shield command: the moderator role, or Ban or Moderate Members; set-up and
        dry-run also need Manage Server."""
        if interaction.guild is None:
            return False
        command = interaction.command.name if interaction.command else ""
        if command in ("setup", "dryrun"):
            perms = interaction.permissions
            return perms.manage_guild or perms.administrator
        role = self.bot.reviews.moderator_role(interaction.guild.id)
        return is_moderator(interaction.user, role, interaction.permissions)

    @shield.command(name="setup", description="Alert channel, moderator role and what to do")
    @app_commands.describe(
        alert_channel="Where Shield posts alerts (moderators only should see it)",
        moderator_role="Who may decide cases, besides Ban/Moderate Members",
        first_offence="What happens to the author of a blocked item the first time",
        repeat_offence="What happens when they do it again",
        timeout_minutes="Length of a timeout",
        unscannable="Media Shield cannot scan: allow it, or hold it for review",
        notify_author="Tell authors by DM why their message was removed",
    )
    async def setup(
        self,
        interaction: discord.Interaction[Any],
        alert_channel: discord.TextChannel | None = None,
        moderator_role: discord.Role | None = None,
        first_offence: Escalation | None = None,
        repeat_offence: Escalation | None = None,
        timeout_minutes: app_commands.Range[int, 1, 40320] | None = None,
        unscannable: Literal["allow", "hold"] | None = None,
        notify_author: bool | None = None,
    ) -> None:
        values: dict[str, object | None] = {
            "alert_channel": alert_channel.id if alert_channel else None,
            "moderator_role": moderator_role.id if moderator_role else None,
            "first_offence": first_offence,
            "repeat_offence": repeat_offence,
            "timeout_minutes": timeout_minutes,
            "unscannable": unscannable,
            "notify_author": notify_author,
        }
        text = self.bot.manage.setup(_guild_id(interaction), _actor(interaction), values)
        await reply(interaction, text)

    @shield.command(name="dryrun", description="Dry run: alert what would be done, change nothing")
    async def dryrun(self, interaction: discord.Interaction[Any], on: bool) -> None:
        text = self.bot.manage.dry_run(_guild_id(interaction), _actor(interaction), on)
        await reply(interaction, text)

    @lists.command(name="add", description="Add a domain, t.me/NAME path or keyword:brand")
    async def list_add(
        self, interaction: discord.Interaction[Any], rule: str, tier: Tiers = "block"
    ) -> None:
        text = self.bot.manage.list_add(_guild_id(interaction), _actor(interaction), rule, tier)
        await reply(interaction, text)

    @lists.command(name="remove", description="Remove a rule from this server's list")
    async def list_remove(self, interaction: discord.Interaction[Any], rule: str) -> None:
        text = self.bot.manage.list_remove(_guild_id(interaction), _actor(interaction), rule)
        await reply(interaction, text)

    @lists.command(name="subscribe", description="Follow a published blocklist (http/https)")
    @app_commands.describe(
        url="Address of a hosts, Adblock, plain, wildcard, dnsmasq or Shield TSV list file",
        tier="block: delete; review: hold for moderators; allow: never act",
    )
    async def list_subscribe(
        self, interaction: discord.Interaction[Any], url: str, tier: Tiers = "block"
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        manage = self.bot.manage
        text = await manage.list_subscribe(_guild_id(interaction), _actor(interaction), url, tier)
        await reply(interaction, text)

    @lists.command(name="unsubscribe", description="Stop following a published blocklist")
    async def list_unsubscribe(self, interaction: discord.Interaction[Any], url: str) -> None:
        text = self.bot.manage.list_unsubscribe(_guild_id(interaction), _actor(interaction), url)
        await reply(interaction, text)

    @shield.command(name="check", description="What Shield would do with a link, text or file")
    async def check(
        self,
        interaction: discord.Interaction[Any],
        text: str | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, await self.bot.manage.check(interaction.guild_id, text, file))

    @shield.command(name="case", description="Show a case")
    async def case(self, interaction: discord.Interaction[Any], case_id: int) -> None:
        await reply(interaction, self.bot.manage.case(_guild_id(interaction), case_id))

    @shield.command(name="dashboard", description="A one-time link to the review dashboard")
    async def dashboard(self, interaction: discord.Interaction[Any]) -> None:
        """A private, single-use login link for this moderator (valid 15 minutes)."""
        from bot.review.web.accounts import login_link

        actor = _actor(interaction)
        link = login_link(self.bot.app, actor, by=actor)
        await reply(
            interaction,
            f"Your one-time login link (valid 15 minutes, works once; do not share it):\n{link}",
        )

    @shield.command(name="stats", description="Cases in this server")
    async def stats(self, interaction: discord.Interaction[Any]) -> None:
        await reply(interaction, self.bot.manage.stats(_guild_id(interaction)))

    async def report(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """Any member (or a user who installed Shield, in their DMs) reports a message."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, await self.bot.reports.report(interaction, message))

    async def bank(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """Moderators hash a message's media into the server's bank (hashes only)."""
        role = self.bot.reviews.moderator_role(interaction.guild_id or 0)
        if not is_moderator(interaction.user, role, interaction.permissions):
            await reply(interaction, "Only moderators can add to Shield's bank.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply(interaction, await self.bot.reports.add_to_bank(interaction, message))


async def setup(bot: commands.Bot) -> None:
    assert isinstance(bot, ShieldBot)
    await bot.add_cog(ShieldCommands(bot))
