"""List subscriptions: published blocklists that Shield fetches on a schedule into a list.

Each subscription remembers the rules of its last good feed (`subscription_rules`) and owns the
list entries it added (their `added_by` is `subscription:<id>`). When a rule leaves the feed, the
entry is removed only if the subscription owns it; if another subscription of the same list
still carries the rule, that one takes the entry over instead. Rules that moderators added
themselves are never owned by a subscription, so a refresh never removes them. Subscription ids
are never reused (AUTOINCREMENT), so rules kept after an unsubscribe stay unowned for good.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, Final

from sqlite_utils import Database

from bot.core.verdict import Tier
from bot.storage.database import now

BATCH_ROWS: Final = 5000
RETRY_HOURS: Final = 1  # a failed refresh is tried again after 1, 2, 4... hours (up to every)

_COLUMNS: Final = (
    "s.id, s.url, s.list_id, l.name, s.tier, s.format, s.every_hours, s.created_by,"
    " s.created_at, s.last_attempt_at, s.last_success_at, s.last_added, s.last_removed,"
    " s.last_bad_lines, s.last_format, s.last_rules, s.last_error, s.failures"
)


def owner_key(subscription_id: int) -> str:
    """The `added_by` of the list entries a subscription owns."""
    return f"subscription:{subscription_id}"


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A subscription and what its last refresh did."""

    id: int
    url: str
    list_id: int
    list_name: str
    tier: Tier
    format: str
    every_hours: int
    created_by: str | None
    created_at: str
    last_attempt_at: str | None
    last_success_at: str | None
    last_added: int | None
    last_removed: int | None
    last_bad_lines: int | None
    last_format: str | None
    last_rules: int | None
    last_error: str | None  # None after a good refresh
    failures: int  # failed refreshes in a row

    @property
    def owner(self) -> str:
        return owner_key(self.id)

    def due_at(self) -> datetime:
        """When the next refresh is due: `every_hours` after the last try; sooner after failures
        (1, 2, 4... hours, never later than `every_hours`)."""
        if self.last_attempt_at is None:
            return datetime.min.replace(tzinfo=UTC)
        wait = self.every_hours
        if self.failures:
            wait = min(wait, RETRY_HOURS * 2 ** min(self.failures - 1, 16))
        return _parse_time(self.last_attempt_at) + timedelta(hours=wait)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "list": self.list_name,
            "tier": self.tier.value,
            "format": self.format,
            "every_hours": self.every_hours,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "last_attempt_at": self.last_attempt_at,
            "last_success_at": self.last_success_at,
            "last_added": self.last_added,
            "last_removed": self.last_removed,
            "last_bad_lines": self.last_bad_lines,
            "last_format": self.last_format,
            "rules": self.last_rules,
            "last_error": self.last_error,
            "failures": self.failures,
            "next_refresh_at": self.due_at().isoformat(timespec="seconds")
            if self.last_attempt_at
            else None,
        }


class SubscriptionRepo:
    """Reads and writes `list_subscriptions` and `subscription_rules` (and, for the rules a
    subscription owns, `list_entries`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _select(self, where: str = "", params: Iterable[Any] = ()) -> list[Subscription]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM list_subscriptions s JOIN lists l ON l.id = s.list_id"
            f" {where} ORDER BY s.id",
            list(params),
        ).fetchall()
        return [
            Subscription(
                id=r[0],
                url=r[1],
                list_id=r[2],
                list_name=r[3],
                tier=Tier(r[4]),
                format=r[5],
                every_hours=r[6],
                created_by=r[7],
                created_at=r[8],
                last_attempt_at=r[9],
                last_success_at=r[10],
                last_added=r[11],
                last_removed=r[12],
                last_bad_lines=r[13],
                last_format=r[14],
                last_rules=r[15],
                last_error=r[16],
                failures=r[17],
            )
            for r in rows
        ]

    def all(self) -> list[Subscription]:
        return self._select()

    def get(self, subscription_id: int) -> Subscription | None:
        found = self._select("WHERE s.id = ?", [subscription_id])
        return found[0] if found else None

    def by_url(self, url: str) -> Subscription | None:
        found = self._select("WHERE s.url = ?", [url])
        return found[0] if found else None

    def for_list(self, list_id: int) -> list[Subscription]:
        return self._select("WHERE s.list_id = ?", [list_id])

    def due(self, at: datetime | None = None) -> list[Subscription]:
        """Subscriptions whose next refresh is due at `at` (default: now), oldest first."""
        moment = at or datetime.now(UTC)
        return [s for s in self.all() if s.due_at() <= moment]

    def create(
        self,
        url: str,
        list_id: int,
        tier: Tier,
        *,
        fmt: str,
        every_hours: int,
        created_by: str,
    ) -> Subscription:
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO list_subscriptions"
                " (url, list_id, tier, format, every_hours, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [url, list_id, tier.value, fmt, every_hours, created_by, now()],
            )
        made = self.get(int(cursor.lastrowid or 0))
        assert made is not None
        return made

    def delete(self, subscription_id: int) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM list_subscriptions WHERE id = ?", [subscription_id])

    def record_success(
        self,
        subscription_id: int,
        *,
        added: int,
        removed: int,
        bad_lines: int,
        fmt: str,
        rules: int,
    ) -> None:
        stamp = now()
        with self.db.atomic():
            self.db.execute(
                "UPDATE list_subscriptions SET last_attempt_at = ?, last_success_at = ?,"
                " last_added = ?, last_removed = ?, last_bad_lines = ?, last_format = ?,"
                " last_rules = ?, last_error = NULL, failures = 0 WHERE id = ?",
                [stamp, stamp, added, removed, bad_lines, fmt, rules, subscription_id],
            )

    def record_failure(self, subscription_id: int, error: str) -> None:
        """A failed refresh: the error and time are kept; the rules and counts stay as they were."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE list_subscriptions SET last_attempt_at = ?, last_error = ?,"
                " failures = failures + 1 WHERE id = ?",
                [now(), error, subscription_id],
            )

    def sync_rules(self, sub: Subscription, feed: Iterable[tuple[str, str]]) -> int:
        """Make `feed` (kind, value) the subscription's rules; remove the entries it owns that
        left the feed (or hand them to another subscription of the list that still has them).
        Returns the number of entries removed from the list."""
        with self.db.atomic():
            self.db.execute("DELETE FROM subscription_rules WHERE subscription_id = ?", [sub.id])
            iterator = iter(feed)
            while batch := list(islice(iterator, BATCH_ROWS)):
                self.db.conn.executemany(
                    "INSERT OR IGNORE INTO subscription_rules (subscription_id, kind, value)"
                    " VALUES (?, ?, ?)",
                    [(sub.id, kind, value) for kind, value in batch],
                )
            gone = self.db.execute(
                "SELECT e.id, e.kind, e.value FROM list_entries e"
                " WHERE e.list_id = ? AND e.added_by = ? AND NOT EXISTS ("
                "  SELECT 1 FROM subscription_rules r WHERE r.subscription_id = ?"
                "  AND r.kind = e.kind AND r.value = e.value)",
                [sub.list_id, sub.owner, sub.id],
            ).fetchall()
            return self._release(sub, gone)

    def release(self, sub: Subscription) -> int:
        """Before unsubscribing: remove the entries `sub` owns (or hand them over, as above)."""
        with self.db.atomic():
            owned = self.db.execute(
                "SELECT id, kind, value FROM list_entries WHERE list_id = ? AND added_by = ?",
                [sub.list_id, sub.owner],
            ).fetchall()
            self.db.execute("DELETE FROM subscription_rules WHERE subscription_id = ?", [sub.id])
            return self._release(sub, owned)

    def _release(self, sub: Subscription, entries: list[tuple[int, str, str]]) -> int:
        removed = 0
        for entry_id, kind, value in entries:
            heir = self.db.execute(
                "SELECT r.subscription_id FROM subscription_rules r"
                " JOIN list_subscriptions s ON s.id = r.subscription_id"
                " WHERE s.list_id = ? AND s.id != ? AND r.kind = ? AND r.value = ?"
                " ORDER BY s.id LIMIT 1",
                [sub.list_id, sub.id, kind, value],
            ).fetchone()
            if heir is not None:
                self.db.execute(
                    "UPDATE list_entries SET added_by = ? WHERE id = ?",
                    [owner_key(heir[0]), entry_id],
                )
            else:
                self.db.execute("DELETE FROM list_entries WHERE id = ?", [entry_id])
                removed += 1
        return removed

    def rule_count(self, subscription_id: int) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM subscription_rules WHERE subscription_id = ?", [subscription_id]
        ).fetchone()
        return int(row[0])
