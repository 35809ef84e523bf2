"""Alerts for moderators: an embed saying who, where, what matched and what was done, with
buttons that survive restarts. The media itself is never attached, embedded or linked:
re-posting it to a moderator channel would be one more copy of the abuse."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Final, cast

import discord

from bot.storage.cases import Case

if TYPE_CHECKING:
    from bot.platforms.discord.client import ShieldBot

log = logging.getLogger(__name__)

FIELD_CHARS: Final = 1000  # under Discord's 1024 characters per embed field
FINDINGS_SHOWN: Final = 6
COLOURS: Final = {
    "block": discord.Colour.red(),
    "review": discord.Colour.orange(),
    "unscannable": discord.Colour.gold(),
}
TITLES: Final = {
    "block": "Blocked: a known non-consensual image or deepfake source",
    "review": "Held for review",
    "unscannable": "Media that could not be scanned, held for review",
}
ACTIONS: Final = {"ban": "Confirm & ban", "timeout": "Confirm & timeout", "dismiss": "Dismiss"}
_STYLES: Final = {
    "ban": discord.ButtonStyle.danger,
    "timeout": discord.ButtonStyle.primary,
    "dismiss": discord.ButtonStyle.secondary,
}


def code(text: object) -> str:
    """Text in a code span: shown literally and never turned into a clickable link."""
    clean = str(text).replace("`", "ˋ").replace("\n", " ")
    return f"`{clean[:200]}`"


def describe_finding(finding: dict[str, Any]) -> str:
    """One line per finding: the signal, the list or bank, the distance; never a live link."""
    tier = finding.get("tier", "?")
    signal = finding.get("signal", "?")
    if "bank" in finding:
        line = f"**{tier}** · {signal} match in bank {code(finding['bank'])}"
        if finding.get("distance") is not None:
            line += f" · distance {finding['distance']}"
    else:
        line = f"**{tier}** · {signal} {code(finding.get('value', ''))}"
        if finding.get("matched") and finding.get("matched") != finding.get("value"):
            line += f" matched {code(finding['matched'])}"
        line += f" in list {code(finding.get('list', '?'))}"
    if finding.get("note"):
        line += f" ({discord.utils.escape_markdown(str(finding['note']))[:120]})"
    return line


def describe_media(hashes: list[dict[str, Any]]) -> str:
    """Which files were hashed (name and kind only): the hashes are on file, the media is not."""
    lines = []
    for item in hashes[:5]:
        name = item.get("filename") or item.get("source") or "file"
        lines.append(f"{item.get('source', 'file')} {code(name)} ({item.get('kind') or '?'})")
    return "\n".join(lines)


def _clip(text: str) -> str:
    return text if len(text) <= FIELD_CHARS else text[: FIELD_CHARS - 1] + "…"


def case_embed(case: Case, done: str, *, reported_by: int | None = None) -> discord.Embed:
    """The alert for `case`; `done` says what Shield did (or, in a dry run, would have done)."""
    title = TITLES.get(case.tier, "Held for review")
    if reported_by is not None and not case.findings:
        title = "Reported by a member (nothing known matched)"
    if case.dry_run:
        title = f"[DRY RUN] {title}"
    embed = discord.Embed(title=title, colour=COLOURS.get(case.tier, discord.Colour.blurple()))
    uid = case.author_id.split(":", 1)[-1]
    name = discord.utils.escape_markdown(case.author_name or "unknown")
    embed.add_field(name="Who", value=f"<@{uid}> ({name}, id {uid})", inline=False)
    if case.community is None:
        where = "a direct message to Shield"
    else:
        where = f"<#{case.channel_id}>"
        if case.jump_url:
            where += f" · [jump to the message]({case.jump_url})"
    embed.add_field(name="Where", value=where, inline=False)
    findings = [describe_finding(f) for f in case.findings[:FINDINGS_SHOWN]]
    if len(case.findings) > FINDINGS_SHOWN:
        findings.append(f"… and {len(case.findings) - FINDINGS_SHOWN} more")
    if reported_by is not None:
        findings.insert(0, f"reported by <@{reported_by}>")
    embed.add_field(
        name="What matched", value=_clip("\n".join(findings) or "nothing known"), inline=False
    )
    media = describe_media(case.hashes)
    if media:
        embed.add_field(name="Media (hashes only, never stored)", value=_clip(media), inline=False)
    done_text = done if not case.dry_run else f"{done}\nDry run: nothing was changed."
    embed.add_field(name="What was done", value=_clip(done_text), inline=False)
    embed.set_footer(text=f"Shield case {case.id} · media is never attached or linked here")
    return embed


def with_decision(embed: discord.Embed, decision: str) -> discord.Embed:
    """The alert's embed with the moderators' decision added (or replaced)."""
    fields = [f for f in embed.fields if f.name != "Decision"]
    new = embed.copy()
    new.clear_fields()
    for f in fields:
        new.add_field(name=f.name or "", value=f.value or "", inline=bool(f.inline))
    new.add_field(name="Decision", value=_clip(decision), inline=False)
    new.colour = discord.Colour.dark_grey()
    return new


class CaseButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"shield:case:(?P<case>\d+):(?P<action>ban|timeout|dismiss)",
):
    """A review button whose case and action live in its custom_id, so it works after a restart."""

    def __init__(self, case_id: int, action: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=ACTIONS[action],
                style=_STYLES[action],
                custom_id=f"shield:case:{case_id}:{action}",
            )
        )
        self.case_id = case_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> CaseButton:
        return cls(int(match["case"]), match["action"])

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        bot = cast("ShieldBot", interaction.client)
        if bot.reviews.may_review(interaction):
            return True
        await interaction.response.send_message(
            "Only this server's moderators can decide Shield cases (the moderator role set with "
            "/shield setup, or Ban Members or Moderate Members).",
            ephemeral=True,
        )
        who = interaction.user.id
        log.info("refused a %s click on case %d by %s", self.action, self.case_id, who)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = cast("ShieldBot", interaction.client)
        await bot.reviews.decide(interaction, self.case_id, self.action)


def case_view(case: Case) -> discord.ui.View | None:
    """The buttons for an open case: a DM case (no server of its own) can only be dismissed."""
    if case.state != "open":
        return None
    view = discord.ui.View(timeout=None)
    actions = ("dismiss",) if case.community is None else ("ban", "timeout", "dismiss")
    for action in actions:
        view.add_item(CaseButton(case.id, action))
    return view


class AlertPoster:
    """Posts case alerts to a server's alert channel and remembers where, for later edits."""

    def __init__(self, bot: ShieldBot) -> None:
        self.bot = bot

    def alert_channel_id(self, guild_id: int) -> int | None:
        value = self.bot.app.communities.get(f"discord:{guild_id}", "alert_channel")
        return int(value) if value is not None else None

    async def post(
        self, guild: discord.Guild, case: Case, done: str, *, reported_by: int | None = None
    ) -> discord.Message | None:
        """Send the alert; a missing or unusable alert channel is logged, never raised."""
        channel_id = self.alert_channel_id(guild.id)
        if channel_id is None:
            log.warning(
                "server %s (%s) has no alert channel: case %d was not announced "
                "(set one with /shield setup or [[discord.guilds]] alert_channel)",
                guild.name,
                guild.id,
                case.id,
            )
            return None
        channel = guild.get_channel_or_thread(channel_id)
        if channel is None:
            try:
                fetched = await self.bot.fetch_channel(channel_id)
            except discord.HTTPException:
                fetched = None
            channel = fetched if isinstance(fetched, discord.abc.Messageable) else None
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("server %s: alert channel %s not found", guild.id, channel_id)
            return None
        embed = case_embed(case, done, reported_by=reported_by)
        view = case_view(case)
        try:
            if view is None:
                sent = await channel.send(embed=embed)
            else:
                sent = await channel.send(embed=embed, view=view)
        except discord.Forbidden:
            log.warning(
                "server %s (%s): cannot post alerts in channel %s: Shield lacks View Channel, "
                "Send Messages or Embed Links there",
                guild.name,
                guild.id,
                channel_id,
            )
            return None
        except discord.HTTPException as exc:
            log.warning("server %s: alert for case %d: HTTP %s", guild.id, case.id, exc.status)
            return None
        if case.alert_message_id is None:
            self.bot.reviews.cases.set_alert(case.id, str(sent.channel.id), str(sent.id))
        return sent
