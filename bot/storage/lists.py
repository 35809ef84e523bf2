"""Link lists and their rules, with provenance; the link index is built from `index_rows`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlite_utils import Database

from bot.core.rules import LinkRule
from bot.core.verdict import Tier
from bot.storage.database import check_name, now

BATCH_ROWS = 5000  # rows per INSERT batch: large imports stay fast without one huge statement


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A rule to add, with what is known of where it came from."""

    rule: LinkRule
    tier: Tier | None = None  # None: the list's tier
    category: str | None = None
    confidence: str | None = None
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ListInfo:
    id: int
    name: str
    tier: Tier
    enabled: bool
    entries: int
    enabled_entries: int
    description: str | None
    source: str | None
    created_by: str | None
    created_at: str


class ListRepo:
    """Reads and writes the `lists` and `list_entries` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, name: str) -> ListInfo | None:
        rows = self._infos("WHERE l.name = ?", [name])
        return rows[0] if rows else None

    def all(self) -> list[ListInfo]:
        return self._infos("", [])

    def _infos(self, where: str, params: list[Any]) -> list[ListInfo]:
        sql = f"""
            SELECT l.id, l.name, l.tier, l.enabled, l.description, l.source, l.created_by,
                   l.created_at, COUNT(e.id), COALESCE(SUM(e.enabled), 0)
            FROM lists l LEFT JOIN list_entries e ON e.list_id = l.id
            {where} GROUP BY l.id ORDER BY l.name"""
        return [
            ListInfo(
                id=r[0],
                name=r[1],
                tier=Tier(r[2]),
                enabled=bool(r[3]),
                description=r[4],
                source=r[5],
                created_by=r[6],
                created_at=r[7],
                entries=r[8],
                enabled_entries=r[9],
            )
            for r in self.db.execute(sql, params).fetchall()
        ]

    def ensure(
        self,
        name: str,
        tier: Tier,
        *,
        created_by: str,
        description: str | None = None,
        source: str | None = None,
    ) -> ListInfo:
        """The list called `name`, created with `tier` if it does not exist yet."""
        clean = check_name(name, "list", "my-list")
        existing = self.get(clean)
        if existing is not None:
            return existing
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO lists (name, tier, description, source, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [clean, tier.value, description, source, created_by, now()],
            )
        info = self.get(clean)
        assert info is not None
        return info

    def add_entries(
        self, list_id: int, entries: Iterable[NewEntry], *, added_by: str
    ) -> tuple[int, int]:
        """Insert rules not already in the list; returns (added, already present)."""
        added = total = 0
        stamp = now()
        iterator = iter(entries)
        with self.db.atomic():
            while batch := list(islice(iterator, BATCH_ROWS)):
                before = self.db.conn.total_changes
                self.db.conn.executemany(
                    "INSERT OR IGNORE INTO list_entries (list_id, kind, value, tier, category,"
                    " confidence, source, added_by, added_at, note)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            list_id,
                            e.rule.kind.value,
                            e.rule.value,
                            e.tier.value if e.tier else None,
                            e.category,
                            e.confidence,
                            e.source,
                            added_by,
                            stamp,
                            e.note,
                        )
                        for e in batch
                    ],
                )
                added += self.db.conn.total_changes - before
                total += len(batch)
        return added, total - added

    def remove_entry(self, list_id: int, rule: LinkRule) -> bool:
        with self.db.atomic():
            cursor = self.db.execute(
                "DELETE FROM list_entries WHERE list_id = ? AND kind = ? AND value = ?",
                [list_id, rule.kind.value, rule.value],
            )
        return bool(cursor.rowcount)

    def set_entry_enabled(self, list_id: int, rule: LinkRule, enabled: bool) -> bool:
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE list_entries SET enabled = ? WHERE list_id = ? AND kind = ? AND value = ?",
                [int(enabled), list_id, rule.kind.value, rule.value],
            )
        return bool(cursor.rowcount)

    def set_enabled(self, list_id: int, enabled: bool) -> None:
        with self.db.atomic():
            self.db.execute("UPDATE lists SET enabled = ? WHERE id = ?", [int(enabled), list_id])

    def delete(self, list_id: int) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM lists WHERE id = ?", [list_id])

    def entries(self, list_id: int, *, limit: int | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT e.kind, e.value, COALESCE(e.tier, l.tier) AS tier, e.enabled, e.category,"
            " e.confidence, e.source, e.added_by, e.added_at, e.note"
            " FROM list_entries e JOIN lists l ON l.id = e.list_id"
            " WHERE e.list_id = ? ORDER BY e.kind, e.value"
        )
        params: list[Any] = [list_id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        cursor = self.db.execute(sql, params)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def find(self, rule: LinkRule) -> list[tuple[str, Tier]]:
        """The lists (and effective tiers) that hold this exact rule."""
        rows = self.db.execute(
            "SELECT l.name, COALESCE(e.tier, l.tier) FROM list_entries e"
            " JOIN lists l ON l.id = e.list_id WHERE e.kind = ? AND e.value = ?",
            [rule.kind.value, rule.value],
        ).fetchall()
        return [(r[0], Tier(r[1])) for r in rows]

    def index_rows(self) -> Iterator[tuple[str, str, str, str]]:
        """(kind, value, list, effective tier) of every enabled rule of every enabled list."""
        cursor = self.db.execute(
            "SELECT e.kind, e.value, l.name, COALESCE(e.tier, l.tier)"
            " FROM list_entries e JOIN lists l ON l.id = e.list_id"
            " WHERE e.enabled = 1 AND l.enabled = 1"
        )
        while rows := cursor.fetchmany(10_000):
            yield from rows
