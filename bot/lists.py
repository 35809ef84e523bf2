"""Link lists as the commands use them: import files, add and remove rules, build the index.

Every change is written to the audit log with the person or rule that made it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

import ada_url

from bot.core.linkindex import LinkIndex, LinkIndexBuilder
from bot.core.listformats import BadLine, ParseReport, parse_lines, parse_one
from bot.core.rules import LinkRule
from bot.core.sniff import SNIFF_BYTES, describe
from bot.core.verdict import Tier
from bot.errors import InputError
from bot.storage.lists import ListRepo, NewEntry
from bot.storage.subscriptions import Subscription, SubscriptionRepo

if TYPE_CHECKING:
    from bot.app import App
    from bot.media.fetch import AddressPolicy, SafeFetcher

log = logging.getLogger(__name__)

Progress = Callable[[int], None]  # called with the number of bytes read so far


@dataclass
class ImportReport:
    list_name: str
    format: str
    added: int = 0
    existing: int = 0
    comments: int = 0
    duplicates: int = 0
    unsupported: int = 0
    bad: list[BadLine] = field(default_factory=list)


def build_link_index(repo: ListRepo) -> LinkIndex:
    builder = LinkIndexBuilder()
    builder.add_many(repo.index_rows())
    return builder.build()


def _read_lines(path: Path, progress: Progress | None) -> Iterator[str]:
    """The file's lines as text; undecodable bytes become U+FFFD so that line is reported bad."""
    done = 0
    with path.open("r", encoding="utf-8-sig", errors="replace", newline=None) as fh:
        for line in fh:
            yield line
            if progress is not None:
                done += len(line.encode("utf-8", "replace"))
                progress(done)


def import_file(
    app: App,
    path: str | os.PathLike[str],
    *,
    list_name: str,
    tier: Tier | str,
    fmt: str = "auto",
    actor: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a list file into `list_name`; importing the same file again changes nothing."""
    file = Path(path)
    if not file.is_file():
        what = "is a folder" if file.is_dir() else "does not exist"
        raise InputError(f"cannot import {file}: it {what}")
    if not os.access(file, os.R_OK):
        raise InputError(f"cannot import {file}: permission denied")
    tier = Tier.parse(tier) if isinstance(tier, str) else tier
    try:
        parsed = parse_lines(_read_lines(file, progress), fmt)
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"cannot import {file}: {exc}") from None
    report = _store(
        app,
        parsed,
        list_name=list_name,
        tier=tier,
        actor=actor,
        added_by=actor,
        list_source=file.name,
        entry_source=f"imported from {file.name}",
    )
    app.audit.record(
        actor,
        "list.import",
        report.list_name,
        detail={
            "file": file.name,
            "format": parsed.format,
            "added": report.added,
            "existing": report.existing,
            "bad_lines": len(parsed.bad),
        },
    )
    return report


def _store(
    app: App,
    parsed: ParseReport,
    *,
    list_name: str,
    tier: Tier,
    actor: str,
    added_by: str,
    list_source: str,
    entry_source: str,
) -> ImportReport:
    """Add parsed entries to `list_name` (created with `tier` if new): the importer behind
    `shield lists import` and list subscriptions."""
    info = app.lists.ensure(list_name, tier, created_by=actor, source=list_source)
    # An entry keeps its own tier when the file gives one (TSV); otherwise the tier asked for
    # here, recorded on the entry only when it differs from the list's.
    entries = (
        NewEntry(
            rule=e.rule,
            tier=_entry_tier(e.tier or tier, info.tier),
            category=e.category,
            confidence=e.confidence,
            source=e.source or entry_source,
        )
        for e in parsed.entries
    )
    added, existing = app.lists.add_entries(info.id, entries, added_by=added_by)
    return ImportReport(
        list_name=info.name,
        format=parsed.format,
        added=added,
        existing=existing,
        comments=parsed.comments,
        duplicates=parsed.duplicates,
        unsupported=parsed.unsupported,
        bad=list(parsed.bad),
    )


def _entry_tier(wanted: Tier, list_tier: Tier) -> Tier | None:
    return None if wanted == list_tier else wanted


def parse_user_rule(text: str) -> LinkRule:
    """A rule as typed by a moderator, in any list syntax; InputError says what is wrong."""
    try:
        return parse_one(text).rule
    except ValueError as exc:
        raise InputError(str(exc)) from None


def add_rule(
    app: App,
    list_name: str,
    text: str,
    *,
    tier: Tier | None,
    actor: str,
    note: str | None = None,
) -> tuple[LinkRule, bool]:
    """Add one rule; returns it in canonical form and whether it was new."""
    rule = parse_user_rule(text)
    info = app.lists.ensure(list_name, tier or Tier.BLOCK, created_by=actor)
    entry = NewEntry(rule=rule, tier=_entry_tier(tier or info.tier, info.tier), note=note)
    added, _ = app.lists.add_entries(info.id, [entry], added_by=actor)
    if added:
        app.audit.record(
            actor,
            "list.add",
            info.name,
            detail={"rule": rule.value, "kind": rule.kind.value, "tier": (tier or info.tier).value},
        )
    return rule, bool(added)


def remove_rule(app: App, list_name: str, text: str, *, actor: str) -> LinkRule:
    """Remove one rule from a list; InputError if the list or the rule is not there."""
    info = app.lists.get(list_name)
    if info is None:
        raise InputError(f"there is no list called {list_name!r} (see: shield lists show)")
    rule = parse_user_rule(text)
    if not app.lists.remove_entry(info.id, rule):
        raise InputError(f"{rule.value} is not in list {info.name}")
    app.audit.record(actor, "list.remove", info.name, detail={"rule": rule.value})
    return rule


# ---------------------------------------------------------------- subscriptions
#
# A subscription fetches a published list (hosts, Adblock, plain, wildcard, dnsmasq or TSV) at
# an http(s) URL through the SSRF-safe fetcher, imports it with the importer above, and removes
# the rules it had added that have left the feed. See bot/storage/subscriptions.py for who owns
# which rule.

SUBSCRIPTION_MAX_BYTES: Final = 20 * 1024 * 1024  # a list larger than this is refused
SUBSCRIPTION_TIMEOUT_SECONDS: Final = 60.0  # the whole download, redirects included
SUBSCRIPTION_EVERY_HOURS: Final = 12
SUBSCRIPTION_MAX_EVERY_HOURS: Final = 24 * 30
SUBSCRIPTION_ACTOR: Final = "shield:subscriptions"  # the scheduled refresh, in the audit log
MAX_URL_CHARS: Final = 2048
FETCH_OFF: Final = (
    "fetching is turned off ([fetch] enabled = false in your settings): list subscriptions "
    "cannot be fetched or refreshed until it is turned on"
)
_SEVERITY: Final = {Tier.ALLOW: 0, Tier.REVIEW: 1, Tier.BLOCK: 2}


@dataclass
class RefreshReport:
    """What one fetch of a subscription did, or why it failed (then nothing changed)."""

    subscription: Subscription
    imported: ImportReport | None = None  # None when the refresh failed
    removed: int = 0
    rules: int = 0  # valid rules in the feed
    bad_lines: int = 0  # all of them (imported.bad keeps the first 1,000)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def changed(self) -> bool:
        return self.imported is not None and bool(self.imported.added or self.removed)

    def to_dict(self) -> dict[str, object]:
        imported = self.imported
        return {
            "url": self.subscription.url,
            "list": self.subscription.list_name,
            "tier": self.subscription.tier.value,
            "ok": self.ok,
            "error": self.error,
            "format": imported.format if imported else None,
            "rules": self.rules,
            "added": imported.added if imported else 0,
            "existing": imported.existing if imported else 0,
            "removed": self.removed,
            "duplicates": imported.duplicates if imported else 0,
            "unsupported": imported.unsupported if imported else 0,
            "bad_line_count": self.bad_lines,
            "bad_lines": [
                {"line": b.line, "text": b.text, "reason": b.reason}
                for b in (imported.bad if imported else [])
            ],
        }


def subscription_url(text: str) -> str:
    """The canonical form of a list's address (WHATWG parsing, no fragment); InputError if it
    cannot be subscribed to. The fetcher checks it again, hop by hop, when it is fetched."""
    clean = text.strip()
    if len(clean) > MAX_URL_CHARS:
        raise InputError(f"that link is longer than {MAX_URL_CHARS} characters")
    try:
        parts = ada_url.parse_url(clean)
    except ValueError:
        raise InputError(
            f"{clean[:100]!r} is not a link: give the http(s) address of a list file"
        ) from None
    if parts["protocol"] not in ("http:", "https:"):
        raise InputError("only http and https links can be subscribed to")
    if parts["username"] or parts["password"]:
        raise InputError("links with a user name or password cannot be subscribed to")
    href = str(parts["href"])
    fragment = str(parts["hash"])
    return href[: len(href) - len(fragment)] if fragment else href


def _shown_url(url: str) -> str:
    """The address without its query (which may hold a token): for provenance and logs."""
    try:
        parts = ada_url.parse_url(url)
    except ValueError:
        return "?"
    return f"{parts['protocol']}//{parts['host']}{parts['pathname']}"


def _check_every(every_hours: int) -> None:
    if not 1 <= every_hours <= SUBSCRIPTION_MAX_EVERY_HOURS:
        raise InputError(
            f"refresh interval must be 1 to {SUBSCRIPTION_MAX_EVERY_HOURS} hours, not {every_hours}"
        )


def find_subscription(app: App, text: str) -> Subscription | None:
    """The subscription to an address (as given or canonical), or with id `N` / `#N`."""
    repo = SubscriptionRepo(app.db)
    clean = text.strip()
    if clean.lstrip("#").isdigit():
        return repo.get(int(clean.lstrip("#")))
    found = repo.by_url(clean)
    if found is None:
        try:
            found = repo.by_url(subscription_url(clean))
        except InputError:
            return None
    return found


def _parse_feed(text: str, fmt: str, tier: Tier) -> ParseReport:
    """Parse a fetched list. A row's own tier (TSV) may only lower severity below the
    subscription's, and a feed can never allow-list unless it was subscribed as an allow-list."""
    parsed = parse_lines(io.StringIO(text, newline=None), fmt)
    kept = []
    for entry in parsed.entries:
        own = entry.tier
        if own is Tier.ALLOW and tier is not Tier.ALLOW:
            parsed.add_bad(
                BadLine(
                    entry.line,
                    entry.rule.value[:80],
                    "a subscribed list cannot allow-list a rule (subscribe with --tier allow "
                    "to follow an allow-list)",
                )
            )
            continue
        if own is not None and _SEVERITY[own] > _SEVERITY[tier]:
            entry = replace(entry, tier=tier)
        kept.append(entry)
    parsed.entries = kept
    parsed.bad.sort(key=lambda bad: bad.line)
    return parsed


def _feed_problem(text: str, parsed: ParseReport) -> str | None:
    """Why a fetched list must not replace the rules it had, or None. A feed that suddenly has
    no rules (an error page, an emptied file) keeps the previous rules instead of wiping them."""
    if describe(text[:SNIFF_BYTES].encode("utf-8", "replace")) == "HTML":
        return "the link gives a web page (HTML), not a list file: use the link to the raw file"
    if parsed.entries:
        return None
    if not text.strip():
        return "the list is empty"
    first = f"; line {parsed.bad[0].line}: {parsed.bad[0].reason}" if parsed.bad else ""
    return f"no usable rules in the list ({parsed.bad_count} bad lines{first})"


async def _download(fetcher: SafeFetcher, url: str) -> tuple[str | None, str | None]:
    """(text, None) or (None, why not)."""
    result = await fetcher.fetch_text(
        url, max_bytes=SUBSCRIPTION_MAX_BYTES, timeout_seconds=SUBSCRIPTION_TIMEOUT_SECONDS
    )
    return (result.text, None) if result.ok else (None, result.reason or "the download failed")


def _fetcher(app: App, policy: AddressPolicy | None) -> SafeFetcher:
    from bot.media.fetch import SafeFetcher  # aiohttp loads only for commands that fetch

    return SafeFetcher(app.settings.fetch, policy=policy)


def _apply(app: App, sub: Subscription, parsed: ParseReport, *, actor: str) -> RefreshReport:
    """Import a parsed feed into the subscription's list and drop the rules that left it
    (call inside a transaction)."""
    repo = SubscriptionRepo(app.db)
    shown = _shown_url(sub.url)
    imported = _store(
        app,
        parsed,
        list_name=sub.list_name,
        tier=sub.tier,
        actor=actor,
        added_by=sub.owner,
        list_source=shown,
        entry_source=f"subscribed from {shown}",
    )
    removed = repo.sync_rules(sub, ((e.rule.kind.value, e.rule.value) for e in parsed.entries))
    rules = len(parsed.entries)
    repo.record_success(
        sub.id,
        added=imported.added,
        removed=removed,
        bad_lines=parsed.bad_count,
        fmt=parsed.format,
        rules=rules,
    )
    current = repo.get(sub.id) or sub
    return RefreshReport(current, imported, removed, rules, parsed.bad_count)


def _refresh_detail(report: RefreshReport) -> dict[str, object]:
    detail: dict[str, object] = {"url": report.subscription.url}
    if report.error is not None:
        detail["error"] = report.error
        return detail
    assert report.imported is not None
    detail.update(
        format=report.imported.format,
        rules=report.rules,
        added=report.imported.added,
        existing=report.imported.existing,
        removed=report.removed,
        bad_lines=report.bad_lines,
    )
    return detail


async def subscribe(
    app: App,
    url: str,
    *,
    list_name: str,
    tier: Tier | None = None,
    every_hours: int = SUBSCRIPTION_EVERY_HOURS,
    fmt: str = "auto",
    actor: str,
    community: str | None = None,
    policy: AddressPolicy | None = None,
) -> RefreshReport:
    """Subscribe `list_name` to the list at `url` and import it now. Nothing is stored unless
    the first fetch gives a usable list (InputError says why not)."""
    clean = subscription_url(url)
    _check_every(every_hours)
    repo = SubscriptionRepo(app.db)
    existing = repo.by_url(clean)
    if existing is not None:
        raise InputError(
            f"already subscribed to {clean} (list {existing.list_name}, refreshed every "
            f"{existing.every_hours} h)"
        )
    if not app.settings.fetch.enabled:
        raise InputError(FETCH_OFF)
    known = app.lists.get(list_name.strip())
    wanted = tier or (known.tier if known else Tier.BLOCK)
    async with _fetcher(app, policy) as fetcher:
        text, error = await _download(fetcher, clean)
    if text is None:
        raise InputError(f"cannot subscribe to {clean}: {error}")
    parsed = await asyncio.to_thread(_parse_feed, text, fmt, wanted)
    problem = _feed_problem(text, parsed)
    if problem is not None:
        raise InputError(f"cannot subscribe to {clean}: {problem}")
    try:
        with app.db.atomic():
            info = app.lists.ensure(list_name, wanted, created_by=actor, source=_shown_url(clean))
            sub = repo.create(
                clean, info.id, wanted, fmt=fmt, every_hours=every_hours, created_by=actor
            )
            report = _apply(app, sub, parsed, actor=actor)
            app.audit.record(
                actor,
                "list.subscribe",
                sub.list_name,
                community=community,
                detail={
                    **_refresh_detail(report),
                    "tier": wanted.value,
                    "every_hours": every_hours,
                },
            )
    except sqlite3.IntegrityError:  # subscribed by someone else meanwhile
        raise InputError(f"already subscribed to {clean}") from None
    log.info(
        "subscribed list %s to %s: %d rules, %d new",
        report.subscription.list_name,
        _shown_url(clean),
        report.rules,
        report.imported.added if report.imported else 0,
    )
    if report.changed:
        app.reload()
    return report


async def refresh_subscription(
    app: App, sub: Subscription, *, fetcher: SafeFetcher, actor: str
) -> RefreshReport:
    """Fetch one subscription again and apply it. A failure is recorded on the subscription,
    audited and logged, and leaves its rules as they were."""
    if not app.settings.fetch.enabled:
        raise InputError(FETCH_OFF)
    repo = SubscriptionRepo(app.db)
    text, error = await _download(fetcher, sub.url)
    parsed: ParseReport | None = None
    if text is not None:
        parsed = await asyncio.to_thread(_parse_feed, text, sub.format, sub.tier)
        error = _feed_problem(text, parsed)
    current = repo.get(sub.id)
    if current is None:  # unsubscribed while it was being fetched
        return RefreshReport(sub, error="unsubscribed while it was being fetched")
    if error is not None or parsed is None:
        reason = error or "the download failed"
        repo.record_failure(sub.id, reason)
        report = RefreshReport(repo.get(sub.id) or current, error=reason)
        app.audit.record(
            actor, "list.subscription-refresh", sub.list_name, detail=_refresh_detail(report)
        )
        log.warning(
            "list subscription %d (%s) could not be refreshed, its rules are kept: %s",
            sub.id,
            _shown_url(sub.url),
            reason,
        )
        return report
    with app.db.atomic():
        report = _apply(app, current, parsed, actor=actor)
        app.audit.record(
            actor, "list.subscription-refresh", sub.list_name, detail=_refresh_detail(report)
        )
    log.info(
        "refreshed list subscription %d (%s): %d rules, %d new, %d removed",
        sub.id,
        _shown_url(sub.url),
        report.rules,
        report.imported.added if report.imported else 0,
        report.removed,
    )
    if report.changed:
        app.reload()
    return report


async def refresh_subscriptions(
    app: App,
    url: str | None = None,
    *,
    due_only: bool = False,
    actor: str,
    policy: AddressPolicy | None = None,
) -> list[RefreshReport]:
    """Refresh the subscription to `url`, or every one (only those due, with `due_only`)."""
    if not app.settings.fetch.enabled:
        raise InputError(FETCH_OFF)
    repo = SubscriptionRepo(app.db)
    if url is not None:
        found = find_subscription(app, url)
        if found is None:
            raise InputError(f"not subscribed to {url} (see: shield lists subscriptions)")
        subs = [found]
    else:
        subs = repo.due() if due_only else repo.all()
    if not subs:
        return []
    async with _fetcher(app, policy) as fetcher:
        return [await refresh_subscription(app, s, fetcher=fetcher, actor=actor) for s in subs]


def unsubscribe(
    app: App,
    url: str,
    *,
    keep_rules: bool = False,
    actor: str,
    community: str | None = None,
    list_name: str | None = None,
) -> tuple[Subscription, int]:
    """Stop following a list; its rules go too unless `keep_rules` (rules that moderators added
    themselves always stay). `list_name` limits it to one list's subscriptions. Returns the
    subscription and the number of rules removed."""
    sub = find_subscription(app, url)
    if sub is None or (list_name is not None and sub.list_name != list_name):
        where = f" in list {list_name}" if list_name else " (see: shield lists subscriptions)"
        raise InputError(f"not subscribed to {url.strip()[:200]}{where}")
    repo = SubscriptionRepo(app.db)
    with app.db.atomic():
        if keep_rules:
            removed = 0
            kept = app.db.execute(
                "SELECT COUNT(*) FROM list_entries WHERE list_id = ? AND added_by = ?",
                [sub.list_id, sub.owner],
            ).fetchone()[0]
        else:
            removed, kept = repo.release(sub), 0
        repo.delete(sub.id)
        app.audit.record(
            actor,
            "list.unsubscribe",
            sub.list_name,
            community=community,
            detail={"url": sub.url, "removed": removed, "kept": kept},
        )
    log.info("unsubscribed list %s from %s", sub.list_name, _shown_url(sub.url))
    if removed:
        app.reload()
    return sub, removed
