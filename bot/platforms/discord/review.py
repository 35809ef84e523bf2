"""The alert buttons: confirm and ban, confirm and time out, or dismiss as a false positive.
The decision and what it teaches Shield are `ReviewService`'s; this carries out the rest."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.core.actions import Enforced
from bot.platforms.discord.access import is_moderator
from bot.platforms.discord.alerts import case_embed, with_decision
from bot.platforms.discord.enforce import audit_reason
from bot.platforms.discord.translate import community_of, user_key
from bot.review.workflow import ReviewService
from bot.storage.cases import Case, CaseRepo

if TYPE_CHECKING:
    from bot.platforms.discord.client import ShieldBot

log = logging.getLogger(__name__)

PLATFORM = "discord"
DM_CHARS = 1800  # of a moderator's note to a member (Discord allows 2000 with the heading)


class Reviews:
    """The decisions behind the alert buttons, and who may make them."""

    def __init__(self, bot: ShieldBot, cases: CaseRepo) -> None:
        self.bot = bot
        self.cases = cases

    def moderator_role(self, guild_id: int) -> int | None:
        value = self.bot.app.communities.get(f"discord:{guild_id}", "moderator_role")
        return int(value) if value is not None else None

    def may_review(self, interaction: discord.Interaction[Any]) -> bool:
        """The clicker holds the moderator role, or Ban Members or Moderate Members, here."""
        if interaction.guild is None:
            return False
        role = self.moderator_role(interaction.guild.id)
        return is_moderator(interaction.user, role, interaction.permissions)

    async def decide(
        self, interaction: discord.Interaction[Any], case_id: int, action: str
    ) -> None:
        """Record the decision (once, whoever clicks first), carry it out, audit, edit the alert."""
        guild = interaction.guild
        case = self.cases.get(case_id)
        if case is None or guild is None:
            await interaction.response.send_message(f"No case {case_id} on file.", ephemeral=True)
            return
        if case.community not in (None, community_of(guild.id)):
            await interaction.response.send_message(
                "That case belongs to another server.", ephemeral=True
            )
            return
        if action != "dismiss" and case.community is None:
            await interaction.response.send_message(
                "A case from a direct message can only be dismissed.", ephemeral=True
            )
            return
        actor = user_key(interaction.user.id)
        service = ReviewService(self.bot.app)
        if action == "dismiss":
            made = service.dismiss(case.id, by=actor, note="dismissed in Discord")
        else:
            made = service.confirm(case.id, by=actor, note="confirmed in Discord", action=action)
        if not made.changed:
            current = made.case
            await interaction.response.send_message(
                f"Case {case.id} was already {current.state} by <@{_uid(current.decided_by)}>.",
                ephemeral=True,
            )
            return
        await interaction.response.defer()
        result, decision = await self._carry_out(
            guild, case, action, interaction.user, made.learned
        )
        if action != "dismiss":
            self.bot.app.audit.record(
                actor,
                "case.enforce",
                f"case:{case.id}",
                subject=case.author_id,
                community=case.community or community_of(guild.id),
                detail={"action": action, "done": result.done, "failed": result.failed},
            )
        await self._edit_alert(interaction, case, decision)

    async def _carry_out(
        self,
        guild: discord.Guild,
        case: Case,
        action: str,
        moderator: discord.abc.User,
        learned: list[str],
    ) -> tuple[Enforced, str]:
        result = Enforced()
        reason = audit_reason(case.id, f"confirmed by {moderator} ({moderator.id})")
        author = discord.Object(int(case.author_id.split(":", 1)[-1]))
        enforcer = self.bot.enforcer
        if action == "ban":
            await enforcer.ban(guild, author, reason, result)
            verb = "confirmed"
        elif action == "timeout":
            minutes = int(self.bot.app.communities.get(f"discord:{guild.id}", "timeout_minutes"))
            await enforcer.timeout(author, guild, minutes * 60, reason, result)
            verb = "confirmed"
        else:
            verb = "dismissed as a false positive"
        result.done.extend(learned)
        lines = [f"{verb.capitalize()} by <@{moderator.id}>"]
        lines += result.done + [f"FAILED: {why}" for why in result.failed]
        return result, "\n".join(lines)

    def _target(self, case: Case) -> tuple[discord.Guild, discord.Object] | str:
        """The server and the author of a Discord case, or why there is nobody to act on.
        Only Discord ids are ever used: a case from another platform is refused."""
        if case.platform != PLATFORM:
            return f"case {case.id} is from {case.platform}, not Discord: nothing done on Discord"
        guild_id = _discord_id(case.community)
        author_id = _discord_id(case.author_id)
        if case.community is None or guild_id is None:
            return "the case is from a direct message: there is no server to act in"
        if author_id is None:
            return "the case has no Discord author id"
        guild = self.bot.get_guild(guild_id)
        if guild is None:
            return f"Shield is not connected to server {guild_id}"
        return guild, discord.Object(author_id)

    async def enforce(self, case: Case, action: str, actor: str) -> Enforced:
        """Ban or time out a case's author for a decision made elsewhere (the dashboard): the
        registered Discord `PlatformAction` of `shield run`."""
        if action not in ("ban", "timeout"):
            return Enforced(failed=[f"unknown action {action!r}"])
        target = self._target(case)
        if isinstance(target, str):
            return Enforced(failed=[target])
        guild, author = target
        result = Enforced()
        reason = audit_reason(case.id, f"confirmed by {actor} on the Shield dashboard")
        if action == "ban":
            await self.bot.enforcer.ban(guild, author, reason, result)
        else:
            minutes = int(self.bot.app.communities.get(f"discord:{guild.id}", "timeout_minutes"))
            await self.bot.enforcer.timeout(author, guild, minutes * 60, reason, result)
        return result

    async def notify(self, case: Case, text: str, actor: str) -> Enforced:
        """DM a moderator's note (text only) to a Discord case's author: the registered Discord
        `PlatformNotify` of `shield run`."""
        if case.platform != PLATFORM:
            return Enforced(failed=[f"case {case.id} is from {case.platform}, not Discord"])
        author_id = _discord_id(case.author_id)
        if author_id is None:
            return Enforced(failed=["the case has no Discord author id"])
        guild_id = _discord_id(case.community)
        guild = self.bot.get_guild(guild_id) if guild_id is not None else None
        where = f"**{guild.name}**" if guild is not None else "a server Shield guards"
        body = (
            f"A message from the moderators of {where} about your message "
            f"(Shield case {case.id}):\n{text[:DM_CHARS]}"
        )
        try:
            user = await self.bot.fetch_user(author_id)
            await user.send(body, suppress_embeds=True)
        except discord.HTTPException as exc:
            return Enforced(failed=[f"could not DM the member (HTTP {exc.status}: DMs closed?)"])
        return Enforced(done=["the member was sent your message by DM"])

    async def _edit_alert(
        self, interaction: discord.Interaction[Any], case: Case, decision: str
    ) -> None:
        message = interaction.message
        if message is not None and message.embeds:
            embed = with_decision(message.embeds[0], decision)
        else:
            embed = with_decision(case_embed(case, case.action), decision)
        try:
            await interaction.edit_original_response(embed=embed, view=None)
        except discord.HTTPException as exc:
            log.warning("could not update the alert of case %d: HTTP %s", case.id, exc.status)


def _discord_id(key: str | None) -> int | None:
    """The number in `discord:<id>`; None for anything else (another platform's id above all)."""
    prefix, _, number = (key or "").partition(":")
    return int(number) if prefix == PLATFORM and number.isdigit() and len(number) < 21 else None


def _uid(actor: str | None) -> str:
    return (actor or "?").split(":", 1)[-1]
