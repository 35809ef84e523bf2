"""The policy and the merge law: what Shield does for each verdict, offence and setting."""

from __future__ import annotations

import pytest

from bot.core.actions import Escalation, Plan, Policy, decide
from bot.core.verdict import Tier


@pytest.mark.parametrize(
    ("tier", "offences", "delete", "hide", "escalation"),
    [
        (Tier.BLOCK, 0, True, False, Escalation.TIMEOUT),
        (Tier.BLOCK, 1, True, False, Escalation.BAN),
        (Tier.REVIEW, 0, False, True, Escalation.NONE),
        (Tier.ALLOW, 0, False, False, Escalation.NONE),
    ],
)
def test_default_policy(
    tier: Tier, offences: int, delete: bool, hide: bool, escalation: Escalation
) -> None:
    """Block deletes and escalates (timeout first, ban on repeat); review only hides and holds."""
    plan = decide(tier, unscannable=False, policy=Policy(), offences=offences)
    assert (plan.delete, plan.hide_preview, plan.escalation) == (delete, hide, escalation)
    assert plan.alert is (tier is not Tier.ALLOW)


def test_dry_run_keeps_the_plan_for_the_alert() -> None:
    """In dry-run the plan says what would have happened and is marked as not to be carried out."""
    plan = decide(Tier.BLOCK, unscannable=False, policy=Policy(dry_run=True), offences=0)
    assert plan.dry_run and plan.delete
    assert plan.describe().startswith("dry run: would have message deleted")


@pytest.mark.parametrize("hold", [True, False])
def test_unscannable_media_follows_the_fail_policy(hold: bool) -> None:
    """Fail-closed holds unscannable media for review; fail-open lets it through."""
    plan = decide(Tier.ALLOW, unscannable=True, policy=Policy(unscannable_hold=hold), offences=0)
    assert plan.hide_preview is hold and plan.alert is hold


@pytest.mark.parametrize("kind", ["moderator", "dm"])
def test_protected_authors_and_dms_only_alert(kind: str) -> None:
    """Moderators' messages and DMs are never actioned automatically: they become alerts."""
    plan = decide(
        Tier.BLOCK,
        unscannable=False,
        policy=Policy(),
        offences=3,
        protected_author=kind == "moderator",
        is_dm=kind == "dm",
    )
    assert plan.alert and not plan.acts


def test_merge_law() -> None:
    """Merging keeps the strongest removal and escalation; a delete makes hiding pointless."""
    hide = Plan(hide_preview=True, alert=True)
    delete = Plan(delete=True, escalation=Escalation.TIMEOUT, timeout_seconds=600, alert=True)
    ban = Plan(escalation=Escalation.BAN)
    merged = hide.merged(delete).merged(ban)
    assert merged.delete and not merged.hide_preview
    assert merged.escalation is Escalation.BAN and merged.alert
    assert hide.merged(delete) == delete.merged(hide)
