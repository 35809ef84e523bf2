"""The moderation service: one neutral message in, a verdict, a plan and a case out.

Platforms translate their events into a `ScanContext`, call `Moderator.handle`, and carry out
the returned plan (delete, hide, timeout, ban, alert). Nothing here knows Discord or Twitch.
Evidence first: the case (hashes and metadata, never media) is recorded before any action.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core.actions import Escalation, Plan, Policy, decide
from bot.core.context import MEDIA_SUFFIXES, MediaRef, ScanContext
from bot.core.hosts import ParsedURL, parse_url
from bot.core.verdict import Tier, Verdict
from bot.storage.cases import Case, CaseRepo

if TYPE_CHECKING:
    from bot.app import App
    from bot.media.fetch import SafeFetcher
    from bot.media.pool import HashPool
    from bot.review.vault import EvidenceVault

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MediaResult:
    ref: MediaRef
    verdict: Verdict
    hashes: dict[str, Any] | None  # md5, sha256, pdq per frame: metadata for the case
    reason: str | None  # why it could not be scanned
    data: bytes | None = field(default=None, repr=False)  # in memory only, for the vault


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything found in one message."""

    verdict: Verdict
    media: tuple[MediaResult, ...] = ()

    @property
    def unscannable(self) -> tuple[MediaResult, ...]:
        return tuple(m for m in self.media if m.reason is not None and not m.verdict.findings)

    @property
    def label(self) -> str:
        """block, review, allow, or unscannable when nothing matched and media could not be read."""
        if self.verdict.tier is Tier.ALLOW and self.unscannable:
            return "unscannable"
        return self.verdict.verdict


@dataclass(frozen=True, slots=True)
class Handled:
    """What the platform must carry out, and the case it belongs to (None when nothing found)."""

    outcome: Outcome
    plan: Plan
    case: Case | None = None
    first_time: bool = True  # False for a replayed event: the platform must not act again
    notes: list[str] = field(default_factory=list)


# Image hosts whose links name a picture without a file extension: (host, path prefix) -> how to
# reach the file. Only direct file URLs are fetched; a page would tell its owner it was opened
# for nothing.
_IMGUR_ID = re.compile(r"^/([A-Za-z0-9]{5,10})$")


def _media_url(parsed: ParsedURL, original: str) -> str | None:
    """The URL of the picture or video a link points at, or None if it is not one."""
    if parsed.path.endswith(MEDIA_SUFFIXES):
        return parsed.href
    host, path = parsed.host, parsed.path
    if host in ("pbs.twimg.com", "media.tenor.com") or host.endswith(".redd.it"):
        return parsed.href  # picture CDNs: the format is in the query string, if anywhere
    if host in ("imgur.com", "www.imgur.com", "m.imgur.com", "i.imgur.com"):
        match = _IMGUR_ID.match(original.split(host, 1)[-1].split("?", 1)[0].rstrip("/"))
        if match:  # imgur.com/ID is a page; i.imgur.com/ID.jpg is the picture (any real type)
            return f"https://i.imgur.com/{match.group(1)}.jpg"
    if host in ("cdn.discordapp.com", "media.discordapp.net") and path.startswith("/attachments/"):
        return parsed.href
    return None


def linked_media(text: str) -> list[MediaRef]:
    """Links in chat that point at a picture or video file, as written (paths and signed query
    strings are case-sensitive, so the lower-cased scanner view will not do)."""
    refs = []
    for token in text.split():
        token = token.strip("<>()[]|*`'\"")
        if not token.lower().startswith(("http://", "https://")):
            continue
        parsed = parse_url(token)
        url = _media_url(parsed, token) if parsed is not None else None
        if url is not None:
            refs.append(MediaRef(url=url, source="link"))
    return refs


class Moderator:
    """Scans messages with the link scanner and the media matcher, and decides by policy."""

    def __init__(
        self,
        app: App,
        *,
        fetcher: SafeFetcher | None = None,
        pool: HashPool | None = None,
        vault: EvidenceVault | None = None,
        media_per_message: int = 8,
    ) -> None:
        self.app = app
        self.cases = CaseRepo(app.db)
        self.fetcher = fetcher
        self.pool = pool
        self.vault = vault
        self.media_per_message = media_per_message

    def policy(
        self,
        community: str | None,
        channel_id: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Policy:
        """The community's choices; a channel listed in hold_channels always fails closed."""
        if community is None:
            return Policy()
        get = settings if settings is not None else self.app.communities.all(community)
        hold = get["unscannable"] == "hold" or (channel_id or "") in get["hold_channels"]
        return Policy(
            dry_run=bool(get["dry_run"]),
            unscannable_hold=hold,
            first_offence=Escalation(get["first_offence"]),
            repeat_offence=Escalation(get["repeat_offence"]),
            timeout_seconds=int(get["timeout_minutes"]) * 60,
            notify_author=bool(get["notify_author"]),
        )

    async def scan(self, ctx: ScanContext, settings: dict[str, Any] | None = None) -> Outcome:
        """The verdict on the text and on every picture or video that came with it."""
        if settings is None and ctx.community is not None:
            settings = self.app.communities.all(ctx.community)
        verdict = self._without_switched_off(self.app.link_scanner.scan(ctx.all_text), settings)
        refs = list(dict.fromkeys([*ctx.media, *linked_media(ctx.all_text)]))
        refs = refs[: self.media_per_message]
        media: tuple[MediaResult, ...] = ()
        if refs and self.fetcher is not None and self.pool is not None:
            media = tuple(await asyncio.gather(*(self._scan_media(ref) for ref in refs)))
            for item in media:
                verdict = verdict.merged(item.verdict)
        return Outcome(verdict=verdict, media=media)

    def _without_switched_off(self, verdict: Verdict, settings: dict[str, Any] | None) -> Verdict:
        """Drop look-alike or keyword findings where the community switched them off."""
        if settings is None or not verdict.findings:
            return verdict
        off = {s for s in ("lookalike", "keyword") if not settings[s + "s"]}
        if not off:
            return verdict
        return Verdict(tuple(f for f in verdict.findings if f.signal not in off), verdict.allowed)

    async def _scan_media(self, ref: MediaRef) -> MediaResult:
        assert self.fetcher is not None and self.pool is not None
        try:
            fetched = await self.fetcher.fetch(ref.url)
            if not fetched.ok or fetched.data is None:
                return MediaResult(ref, Verdict(), None, fetched.reason or "could not download")
            hashes = await self.pool.hash(fetched.data)
        except Exception as exc:  # one bad item never stops the scan of the rest
            log.exception("media scan failed for %s", ref.source)
            return MediaResult(ref, Verdict(), None, f"scan failed: {type(exc).__name__}")
        summary = {
            "source": ref.source,
            "filename": ref.filename,
            "kind": hashes.kind,
            "md5": hashes.md5,
            "sha256": hashes.sha256,
            "pdq": sorted({f.pdq for f in hashes.frames}),
        }
        verdict = self.app.media_matcher.match(hashes)
        reason = hashes.reason if hashes.unscannable else None
        return MediaResult(ref, verdict, summary, reason, fetched.data)

    async def handle(self, ctx: ScanContext, settings: dict[str, Any] | None = None) -> Handled:
        """Scan, decide, and record a case when anything is to be done or shown. `settings`:
        the community's, when the platform has already read them for this message."""
        if settings is None and ctx.community:
            settings = self.app.communities.all(ctx.community)
        outcome = await self.scan(ctx, settings)
        tier = outcome.verdict.tier
        unscannable = bool(outcome.unscannable)
        reason = _reason(outcome)
        plan = decide(
            tier,
            unscannable=unscannable,
            policy=self.policy(ctx.community, ctx.channel_id, settings),
            offences=self.cases.offences(ctx.author_id) if tier is Tier.BLOCK else 0,
            protected_author=ctx.author_is_moderator or not ctx.removable,
            is_dm=ctx.is_dm,
            reason=reason,
        )
        if not plan.alert:
            return Handled(outcome, plan)
        case, created = self.cases.open(
            platform=ctx.platform,
            community=ctx.community,
            channel_id=ctx.channel_id,
            message_id=ctx.message_id,
            author_id=ctx.author_id,
            author_name=ctx.author_name,
            jump_url=ctx.jump_url,
            tier=outcome.label,
            findings=[f.to_dict() for f in outcome.verdict.findings],
            hashes=[m.hashes for m in outcome.media if m.hashes],
            action=plan.describe(),
            dry_run=plan.dry_run,
        )
        if created:
            self._keep_evidence(case, outcome, plan)
            self.app.audit.record(
                f"rule:{reason[:80]}",
                "case.open",
                f"case:{case.id}",
                subject=ctx.author_id,
                community=ctx.community,
                detail={"tier": case.tier, "action": case.action, "channel": ctx.channel_id},
            )
        return Handled(outcome, plan, case, first_time=created)

    def _keep_evidence(self, case: Case, outcome: Outcome, plan: Plan) -> None:
        """Seal the media a moderator must look at: review-tier matches and held unscannables.
        Blocked items keep hashes only: strong matches need no human eyes."""
        if self.vault is None or not plan.hide_preview:
            return
        rules = self.app.settings.vault
        for item in outcome.media:
            if item.data is None:
                continue
            review = item.verdict.tier is Tier.REVIEW and rules.keep_review_media
            held = item.reason is not None and not item.verdict.findings and rules.keep_unscannable
            if review or held:
                why = "review-tier match" if review else f"held unscannable: {item.reason}"
                self.vault.store(item.data, case_id=case.id, reason=why, actor="shield:rule")

    async def report(self, ctx: ScanContext, *, reporter: str) -> Handled:
        """A member reported this message: handle it like any message, and when nothing known
        matched, still open a review case (a person saw something the lists do not know yet).
        The reported media is sealed in the vault when [vault] keep_reports is on."""
        handled = await self.handle(ctx)
        if handled.case is not None and not handled.first_time:
            return handled
        case, created = handled.case, handled.first_time
        if case is None:
            case, created = self.cases.open(
                platform=ctx.platform,
                community=ctx.community,
                channel_id=ctx.channel_id,
                message_id=ctx.message_id,
                author_id=ctx.author_id,
                author_name=ctx.author_name,
                jump_url=ctx.jump_url,
                tier="review",
                findings=[],
                hashes=[m.hashes for m in handled.outcome.media if m.hashes],
                action="reported by a member",
                dry_run=handled.plan.dry_run,
            )
        if created:
            self.app.audit.record(
                reporter, "case.report", f"case:{case.id}", subject=ctx.author_id,
                community=ctx.community,
            )  # fmt: skip
            if self.vault is not None and self.app.settings.vault.keep_reports:
                for item in handled.outcome.media:
                    if item.data is not None:
                        why = f"reported by {reporter}"
                        self.vault.store(item.data, case_id=case.id, reason=why, actor=reporter)
        return Handled(handled.outcome, handled.plan, case, first_time=created)


def _reason(outcome: Outcome) -> str:
    """One line saying what matched, for alerts, the audit log and the platform's audit reason."""
    parts = []
    for f in outcome.verdict.findings[:3]:
        where = f"{f.source_kind} {f.source}"
        distance = f", distance {f.distance}" if f.distance is not None else ""
        parts.append(f"{f.signal} {f.matched} ({where}{distance})")
    if not parts and outcome.unscannable:
        parts.append(f"media could not be scanned: {outcome.unscannable[0].reason}")
    return "; ".join(parts)
