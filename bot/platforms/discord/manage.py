"""What the /shield slash commands do: set-up, dry-run, the server's list and the published
lists it follows, check, case, stats.

Each method takes plain values and returns the reply, so the cog only declares parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.core.context import MediaRef, ScanContext
from bot.core.verdict import Tier
from bot.errors import InputError
from bot.lists import add_rule, remove_rule, subscribe, unsubscribe
from bot.platforms.discord.alerts import case_embed, describe_finding
from bot.platforms.discord.translate import PLATFORM, community_of

if TYPE_CHECKING:
    from bot.platforms.discord.client import ShieldBot

SETUP_KEYS = (
    "alert_channel",
    "moderator_role",
    "first_offence",
    "repeat_offence",
    "timeout_minutes",
    "unscannable",
    "notify_author",
)


def server_list(guild_id: int) -> str:
    """The list a server's moderators add domains to from Discord."""
    return f"discord-{guild_id}"


class Manage:
    """The moderator commands' behaviour, over the bot's App."""

    def __init__(self, bot: ShieldBot) -> None:
        self.bot = bot

    def _set(self, guild_id: int, actor: str, key: str, value: object) -> Any:
        app = self.bot.app
        community = f"discord:{guild_id}"
        text = str(value).lower() if isinstance(value, bool) else str(value)
        stored = app.communities.set(community, key, text, updated_by=actor)
        app.audit.record(actor, "community.set", key, community=community, detail={"value": stored})
        return stored

    def setup(self, guild_id: int, actor: str, values: dict[str, object | None]) -> str:
        """Store the settings given (None: unchanged) and show the server's whole set-up."""
        for key in SETUP_KEYS:
            if values.get(key) is not None:
                self._set(guild_id, actor, key, values[key])
        return self.show(guild_id)

    def show(self, guild_id: int) -> str:
        settings = self.bot.app.communities.all(f"discord:{guild_id}")
        channel = settings["alert_channel"]
        role = settings["moderator_role"]
        lines = [
            f"alert channel: {f'<#{channel}>' if channel else 'not set (alerts go nowhere)'}",
            f"moderator role: {f'<@&{role}>' if role else 'not set (Ban/Moderate Members only)'}",
            f"first offence: {settings['first_offence']}, repeat offence: "
            f"{settings['repeat_offence']}, timeout: {settings['timeout_minutes']} min",
            f"media that cannot be scanned: {settings['unscannable']}",
            f"tell authors by DM: {'yes' if settings['notify_author'] else 'no'}",
            f"dry run: {'ON (nothing is changed)' if settings['dry_run'] else 'off'}",
        ]
        return "Shield set-up for this server:\n" + "\n".join(f"• {line}" for line in lines)

    def dry_run(self, guild_id: int, actor: str, on: bool) -> str:
        self._set(guild_id, actor, "dry_run", on)
        if on:
            return "Dry run is ON: Shield alerts what it would do and changes nothing."
        return "Dry run is off: Shield deletes, hides and escalates as set up."

    def list_add(self, guild_id: int, actor: str, rule: str, tier: str) -> str:
        name = server_list(guild_id)
        added, new = add_rule(self.bot.app, name, rule, tier=Tier.parse(tier), actor=actor)
        if not new:
            return f"`{added.value}` is already in list `{name}`."
        self.bot.app.reload()
        return f"Added `{added.value}` ({added.kind.value}, {tier}) to list `{name}`."

    def list_remove(self, guild_id: int, actor: str, rule: str) -> str:
        name = server_list(guild_id)
        removed = remove_rule(self.bot.app, name, rule, actor=actor)
        self.bot.app.reload()
        return f"Removed `{removed.value}` from list `{name}`."

    async def list_subscribe(self, guild_id: int, actor: str, url: str, tier: str) -> str:
        """Follow a published list into this server's list: fetched now, then every 12 hours."""
        name = server_list(guild_id)
        report = await subscribe(
            self.bot.app,
            url,
            list_name=name,
            tier=Tier.parse(tier),
            actor=actor,
            community=community_of(guild_id),
        )
        imported = report.imported
        assert imported is not None
        lines = [
            f"Subscribed list `{name}` to <{report.subscription.url}> ({tier}, format "
            f"{imported.format}): {report.rules} rules, {imported.added} new, "
            f"{imported.existing} already there. It is fetched again every "
            f"{report.subscription.every_hours} hours; rules that leave it are removed, "
            "the ones you added yourself never are."
        ]
        if report.bad_lines:
            lines.append(f"{report.bad_lines} bad lines skipped, for example:")
            lines += [f"• line {b.line}: `{b.text}`: {b.reason}" for b in imported.bad[:5]]
        return "\n".join(lines)

    def list_unsubscribe(self, guild_id: int, actor: str, url: str) -> str:
        name = server_list(guild_id)
        sub, removed = unsubscribe(
            self.bot.app, url, actor=actor, community=community_of(guild_id), list_name=name
        )
        return f"Unsubscribed list `{name}` from <{sub.url}>: {removed} rules it had added removed."

    async def check(
        self, guild_id: int | None, text: str | None, attachment: discord.Attachment | None
    ) -> str:
        """The verdict on a link or text (and the file, if one is given), without acting."""
        if not text and attachment is None:
            raise InputError("give a link or text to check, or attach a file")
        media: tuple[MediaRef, ...] = ()
        if attachment is not None:
            media = (MediaRef(attachment.url, "attachment", attachment.filename, attachment.size),)
        ctx = ScanContext(
            platform=PLATFORM,
            community=community_of(guild_id),
            channel_id="0",
            message_id="check",
            author_id="discord:0",
            author_name="check",
            text=text or "",
            media=media,
        )
        outcome = await self.bot.moderator.scan(ctx)
        lines = [f"**{outcome.label.upper()}**"]
        lines += [describe_finding(f.to_dict()) for f in outcome.verdict.findings[:10]]
        lines += [f"allowed: {describe_finding(f.to_dict())}" for f in outcome.verdict.allowed[:5]]
        for item in outcome.media:
            if item.reason:
                name = item.ref.filename or item.ref.source
                lines.append(f"could not scan {name}: {item.reason}")
        if len(lines) == 1:
            lines.append("nothing listed found")
        return "\n".join(lines)

    def case(self, guild_id: int, case_id: int) -> discord.Embed | str:
        case = self.bot.reviews.cases.get(case_id)
        if case is None or case.community not in (None, community_of(guild_id)):
            return f"There is no case {case_id} for this server."
        embed = case_embed(case, case.action)
        state = case.state
        if case.decided_by:
            state += f" by <@{case.decided_by.split(':', 1)[-1]}> at {case.decided_at}"
        embed.add_field(name="State", value=state, inline=False)
        return embed

    def stats(self, guild_id: int) -> str:
        counts = self.bot.reviews.cases.stats(community_of(guild_id))
        if not counts:
            return "No cases in this server yet."
        recent = self.bot.reviews.cases.recent(community=community_of(guild_id), limit=5)
        lines = [f"• {key.replace(':', ' / ')}: {n}" for key, n in sorted(counts.items())]
        lines.append("Latest: " + ", ".join(f"#{c.id} {c.tier} ({c.state})" for c in recent))
        return "Cases by tier / state:\n" + "\n".join(lines)
