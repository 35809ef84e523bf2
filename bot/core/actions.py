"""What to do about a verdict: small actions, merged by a stated law, decided by a policy.

Merge law: a plan is a set of actions; the strongest removal wins (ban > timeout > none, and
a delete makes hiding the preview pointless); alerting is always on when anything happens.
Dry-run keeps the plan for the alert ("would have ...") and carries out nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.core.verdict import Tier


class Escalation(StrEnum):
    NONE = "none"
    TIMEOUT = "timeout"
    BAN = "ban"


@dataclass(frozen=True, slots=True)
class Policy:
    """A community's choices, from its settings."""

    dry_run: bool = False
    unscannable_hold: bool = False  # hold media that cannot be scanned (fail closed)
    first_offence: Escalation = Escalation.TIMEOUT
    repeat_offence: Escalation = Escalation.BAN
    timeout_seconds: int = 600
    notify_author: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """The actions for one message. Empty when nothing was found."""

    delete: bool = False
    hide_preview: bool = False  # suppress embeds, keep the message for moderators
    escalation: Escalation = Escalation.NONE
    timeout_seconds: int = 0
    alert: bool = False
    notify_author: bool = False
    dry_run: bool = False
    reason: str = ""

    @property
    def acts(self) -> bool:
        return self.delete or self.hide_preview or self.escalation is not Escalation.NONE

    def describe(self) -> str:
        """What was (or, in dry-run, would have been) done, for alerts and the audit log."""
        parts = []
        if self.delete:
            parts.append("message deleted")
        elif self.hide_preview:
            parts.append("preview hidden, held for review")
        if self.escalation is Escalation.TIMEOUT:
            parts.append(f"author timed out for {self.timeout_seconds // 60} min")
        elif self.escalation is Escalation.BAN:
            parts.append("author banned")
        text = ", ".join(parts) or (
            "moderators alerted, nothing removed" if self.alert else "nothing done"
        )
        return f"dry run: would have {text}" if self.dry_run and parts else text

    def merged(self, other: Plan) -> Plan:
        order = list(Escalation)
        escalation = max(self.escalation, other.escalation, key=order.index)
        delete = self.delete or other.delete
        return Plan(
            delete=delete,
            hide_preview=(self.hide_preview or other.hide_preview) and not delete,
            escalation=escalation,
            timeout_seconds=max(self.timeout_seconds, other.timeout_seconds),
            alert=self.alert or other.alert,
            notify_author=self.notify_author or other.notify_author,
            dry_run=self.dry_run or other.dry_run,
            reason="; ".join(r for r in (self.reason, other.reason) if r),
        )


def decide(
    tier: Tier,
    *,
    unscannable: bool,
    policy: Policy,
    offences: int,
    protected_author: bool = False,
    is_dm: bool = False,
    reason: str = "",
) -> Plan:
    """The plan for a message whose verdict is `tier`; `offences` counts earlier confirmed ones.

    Moderators and broadcasters are never actioned automatically (alert only). In a DM the bot
    can delete nothing but its own messages, so a DM only alerts.
    """
    if tier is Tier.BLOCK:
        escalation = policy.first_offence if offences == 0 else policy.repeat_offence
        plan = Plan(
            delete=True,
            escalation=escalation,
            timeout_seconds=policy.timeout_seconds if escalation is Escalation.TIMEOUT else 0,
            alert=True,
            notify_author=policy.notify_author,
            reason=reason,
        )
    elif tier is Tier.REVIEW or (unscannable and policy.unscannable_hold):
        plan = Plan(hide_preview=True, alert=True, reason=reason)
    else:
        return Plan()
    if protected_author or is_dm:
        plan = Plan(alert=True, reason=reason)
    return replace(plan, dry_run=True) if policy.dry_run else plan


@dataclass(slots=True)
class Enforced:
    """What a platform did and what failed, in words a moderator reads in the alert."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dry_run: bool = False
    skipped: bool = False  # a replayed event: nothing was (re)done

    def summary(self) -> str:
        """Everything done and failed, on one line."""
        return "; ".join([*self.done, *(f"FAILED: {why}" for why in self.failed)]) or (
            "nothing done"
        )

    def describe(self, plan: Plan) -> str:
        if self.skipped:
            return "already handled"
        if self.dry_run:
            return plan.describe() if plan.acts else "dry run: nothing would have been done"
        lines = list(self.done) or ["nothing done"]
        lines += [f"FAILED: {why}" for why in self.failed]
        return "\n".join(lines)


def audit_reason(case_id: int | None, text: str, *, limit: int) -> str:
    """The reason a platform shows in its moderation log, cut to the platform's `limit`."""
    prefix = f"Shield case {case_id}: " if case_id is not None else "Shield: "
    return (prefix + (text or "matched a list or bank"))[:limit]
