"""Hash banks and their entries, with provenance; the media matcher is built from `index_rows`.

Entries hold hashes and metadata only, never media. Values are stored in canonical form
(lowercase hex): callers validate them first (bot.core.signals), the repository does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple

from sqlite_utils import Database

from bot.core.verdict import Tier
from bot.storage.database import check_name, now

BATCH_ROWS = 5000  # rows per INSERT batch: large imports stay fast without one huge statement
LOOKUP_IDS = 500  # ids per `IN (...)` lookup, under SQLite's parameter limit


@dataclass(frozen=True, slots=True)
class BankInfo:
    """One bank: its tier, whether it is used, its own distance thresholds, and entry counts."""

    id: int
    name: str
    tier: Tier
    enabled: bool
    pdq_distance: int | None  # None: matching.pdq_block_distance
    phash_distance: int | None  # None: pHash only corroborates (review), never the bank's tier
    description: str | None
    created_by: str | None
    created_at: str
    entries: int = 0
    enabled_entries: int = 0


@dataclass(frozen=True, slots=True)
class NewBankEntry:
    """A hash to add (canonical lowercase hex), with what is known of where it came from."""

    signal_type: str
    signal_value: str
    quality: int | None = None
    item: str | None = None  # e.g. the file name it was hashed from
    frame: int | None = None  # frame number, for video and animations
    source: str | None = None
    note: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class BankEntry:
    """A stored entry, with its bank's name and tier."""

    id: int
    bank_id: int
    bank: str
    tier: Tier
    signal_type: str
    signal_value: str
    quality: int | None
    item: str | None
    frame: int | None
    source: str | None
    added_by: str | None
    added_at: str
    note: str | None
    enabled: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "bank": self.bank,
            "tier": self.tier.value,
            "signal_type": self.signal_type,
            "signal_value": self.signal_value,
            "quality": self.quality,
            "item": self.item,
            "frame": self.frame,
            "source": self.source,
            "added_by": self.added_by,
            "added_at": self.added_at,
            "note": self.note,
            "enabled": self.enabled,
        }


class IndexRow(NamedTuple):
    """What the matcher indexes for one enabled entry: the rest is looked up on a hit."""

    id: int
    bank_id: int
    signal_type: str
    signal_value: str


_ENTRY_SQL = (
    "SELECT e.id, e.bank_id, b.name, b.tier, e.signal_type, e.signal_value, e.quality, e.item,"
    " e.frame, e.source, e.added_by, e.added_at, e.note, e.enabled"
    " FROM bank_entries e JOIN banks b ON b.id = e.bank_id"
)


def _entry(row: Sequence[Any]) -> BankEntry:
    return BankEntry(
        id=row[0],
        bank_id=row[1],
        bank=row[2],
        tier=Tier(row[3]),
        signal_type=row[4],
        signal_value=row[5],
        quality=row[6],
        item=row[7],
        frame=row[8],
        source=row[9],
        added_by=row[10],
        added_at=row[11],
        note=row[12],
        enabled=bool(row[13]),
    )


def check_bank_name(name: str) -> str:
    return check_name(name, "bank", "my-vault")


class BankRepo:
    """Reads and writes the `banks` and `bank_entries` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ----- banks -------------------------------------------------------------------------

    def get(self, name: str) -> BankInfo | None:
        rows = self._infos("WHERE b.name = ?", [name.strip()])
        return rows[0] if rows else None

    def all(self) -> list[BankInfo]:
        return self._infos("", [])

    def _infos(self, where: str, params: list[Any]) -> list[BankInfo]:
        sql = f"""
            SELECT b.id, b.name, b.tier, b.enabled, b.pdq_distance, b.phash_distance,
                   b.description, b.created_by, b.created_at, COUNT(e.id),
                   COALESCE(SUM(e.enabled), 0)
            FROM banks b LEFT JOIN bank_entries e ON e.bank_id = b.id
            {where} GROUP BY b.id ORDER BY b.name"""
        return [
            BankInfo(
                id=r[0],
                name=r[1],
                tier=Tier(r[2]),
                enabled=bool(r[3]),
                pdq_distance=r[4],
                phash_distance=r[5],
                description=r[6],
                created_by=r[7],
                created_at=r[8],
                entries=r[9],
                enabled_entries=r[10],
            )
            for r in self.db.execute(sql, params).fetchall()
        ]

    def ensure(
        self,
        name: str,
        tier: Tier,
        *,
        created_by: str,
        pdq_distance: int | None = None,
        phash_distance: int | None = None,
        description: str | None = None,
    ) -> tuple[BankInfo, bool]:
        """The bank called `name` and whether it is new; created with these settings if missing."""
        clean = check_bank_name(name)
        existing = self.get(clean)
        if existing is not None:
            return existing, False
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO banks (name, tier, pdq_distance, phash_distance, description,"
                " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [clean, tier.value, pdq_distance, phash_distance, description, created_by, now()],
            )
        info = self.get(clean)
        assert info is not None
        return info, True

    def set_thresholds(
        self, bank_id: int, *, pdq_distance: int | None, phash_distance: int | None
    ) -> None:
        """Set the bank's own distances (None: keep the current value)."""
        with self.db.atomic():
            if pdq_distance is not None:
                self.db.execute(
                    "UPDATE banks SET pdq_distance = ? WHERE id = ?", [pdq_distance, bank_id]
                )
            if phash_distance is not None:
                self.db.execute(
                    "UPDATE banks SET phash_distance = ? WHERE id = ?", [phash_distance, bank_id]
                )

    def set_enabled(self, bank_id: int, enabled: bool) -> None:
        with self.db.atomic():
            self.db.execute("UPDATE banks SET enabled = ? WHERE id = ?", [int(enabled), bank_id])

    def counts(self, bank_id: int) -> dict[str, int]:
        """Entries per signal type, disabled ones included."""
        rows = self.db.execute(
            "SELECT signal_type, COUNT(*) FROM bank_entries WHERE bank_id = ?"
            " GROUP BY signal_type ORDER BY signal_type",
            [bank_id],
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    # ----- entries -----------------------------------------------------------------------

    def add_entries(
        self, bank_id: int, entries: Iterable[NewBankEntry], *, added_by: str
    ) -> tuple[int, int]:
        """Insert hashes not already in the bank; returns (added, already present)."""
        added = total = 0
        stamp = now()
        iterator = iter(entries)
        with self.db.atomic():
            while batch := list(islice(iterator, BATCH_ROWS)):
                before = self.db.conn.total_changes
                self.db.conn.executemany(
                    "INSERT OR IGNORE INTO bank_entries (bank_id, signal_type, signal_value,"
                    " quality, item, frame, source, added_by, added_at, note, enabled)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            bank_id,
                            e.signal_type,
                            e.signal_value,
                            e.quality,
                            e.item,
                            e.frame,
                            e.source,
                            added_by,
                            stamp,
                            e.note,
                            int(e.enabled),
                        )
                        for e in batch
                    ],
                )
                added += self.db.conn.total_changes - before
                total += len(batch)
        return added, total - added

    def find(self, ref: int | str, *, bank_id: int | None = None) -> list[BankEntry]:
        """Entries by id (an int) or by hash value (canonical hex), optionally in one bank."""
        where = " WHERE e.id = ?" if isinstance(ref, int) else " WHERE e.signal_value = ?"
        params: list[Any] = [ref]
        if bank_id is not None:
            where += " AND e.bank_id = ?"
            params.append(bank_id)
        rows = self.db.execute(_ENTRY_SQL + where + " ORDER BY e.id", params).fetchall()
        return [_entry(r) for r in rows]

    def set_entries_enabled(self, ids: Iterable[int], enabled: bool) -> int:
        """Turn entries on or off without deleting them; returns how many changed."""
        changed = 0
        iterator = iter(ids)
        with self.db.atomic():
            while chunk := list(islice(iterator, LOOKUP_IDS)):
                marks = ",".join("?" * len(chunk))
                cursor = self.db.execute(
                    f"UPDATE bank_entries SET enabled = ? WHERE enabled != ? AND id IN ({marks})",
                    [int(enabled), int(enabled), *chunk],
                )
                changed += cursor.rowcount
        return changed

    def entries(
        self, bank_id: int | None = None, *, limit: int | None = None
    ) -> Iterator[BankEntry]:
        """Entries of one bank (or of all banks), disabled ones included, in the order added."""
        sql = _ENTRY_SQL
        params: list[Any] = []
        if bank_id is not None:
            sql += " WHERE e.bank_id = ?"
            params.append(bank_id)
        sql += " ORDER BY b.name, e.id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        cursor = self.db.execute(sql, params)
        while rows := cursor.fetchmany(10_000):
            yield from (_entry(r) for r in rows)

    def resolve(self, ids: Iterable[int]) -> dict[int, BankEntry]:
        """The enabled entries of enabled banks among `ids`, by id (a stale id is left out)."""
        found: dict[int, BankEntry] = {}
        iterator = iter(sorted(set(ids)))
        while chunk := list(islice(iterator, LOOKUP_IDS)):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                _ENTRY_SQL + f" WHERE e.id IN ({marks}) AND e.enabled = 1 AND b.enabled = 1",
                chunk,
            ).fetchall()
            found.update((r[0], _entry(r)) for r in rows)
        return found

    def index_rows(self, *, ids: Iterable[int] | None = None, after: int = 0) -> Iterator[IndexRow]:
        """Every enabled entry of every enabled bank, for the index: all, those among `ids`, or
        those with an id above `after` (what an add just inserted)."""
        sql = (
            "SELECT e.id, e.bank_id, e.signal_type, e.signal_value FROM bank_entries e"
            " JOIN banks b ON b.id = e.bank_id WHERE e.enabled = 1 AND b.enabled = 1"
        )
        if ids is None:
            cursor = self.db.execute(sql + " AND e.id > ? ORDER BY e.id", [after])
            while rows := cursor.fetchmany(10_000):
                yield from (IndexRow(*r) for r in rows)
            return
        iterator = iter(sorted(set(ids)))
        while chunk := list(islice(iterator, LOOKUP_IDS)):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(sql + f" AND e.id IN ({marks})", chunk).fetchall()
            yield from (IndexRow(*r) for r in rows)

    def max_entry_id(self) -> int:
        """The largest entry id so far (0 when empty): entries added later have larger ids."""
        row = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM bank_entries").fetchone()
        return int(row[0])
