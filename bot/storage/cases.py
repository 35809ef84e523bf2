"""Cases: what Shield found in a message, what it did, and the moderators' decision."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.storage.database import now

STATES = ("open", "confirmed", "dismissed", "expired")


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    platform: str
    community: str | None
    channel_id: str
    message_id: str
    author_id: str
    author_name: str | None
    jump_url: str | None
    tier: str
    findings: list[dict[str, Any]]
    hashes: list[dict[str, Any]]
    action: str
    dry_run: bool
    state: str
    created_at: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None
    alert_channel_id: str | None
    alert_message_id: str | None


_COLUMNS = ", ".join(Case.__dataclass_fields__)


class CaseRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open(
        self,
        *,
        platform: str,
        community: str | None,
        channel_id: str,
        message_id: str,
        author_id: str,
        author_name: str | None,
        jump_url: str | None,
        tier: str,
        findings: list[dict[str, Any]],
        hashes: list[dict[str, Any]],
        action: str,
        dry_run: bool,
    ) -> tuple[Case, bool]:
        """Record a case; a message already on file (a replayed event) returns the first one."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO cases (platform, community, channel_id, message_id,"
                " author_id, author_name, jump_url, tier, findings, hashes, action, dry_run,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    platform, community, channel_id, message_id, author_id, author_name,
                    jump_url, tier, json.dumps(findings), json.dumps(hashes), action,
                    int(dry_run), now(),
                ],
            )  # fmt: skip
        created = bool(cursor.rowcount)
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM cases WHERE platform = ? AND message_id = ?",
            [platform, message_id],
        ).fetchone()
        return _case(row), created

    def get(self, case_id: int) -> Case | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM cases WHERE id = ?",
            [case_id],
        ).fetchone()
        return None if row is None else _case(row)

    def recent(self, *, community: str | None = None, limit: int = 20) -> list[Case]:
        sql = f"SELECT {_COLUMNS} FROM cases"
        params: list[Any] = []
        if community:
            sql += " WHERE community = ?"
            params.append(community)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [_case(r) for r in self.db.execute(sql, params).fetchall()]

    def set_alert(self, case_id: int, channel_id: str, message_id: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE cases SET alert_channel_id = ?, alert_message_id = ? WHERE id = ?",
                [channel_id, message_id, case_id],
            )

    def decide(self, case_id: int, state: str, *, by: str, note: str | None = None) -> bool:
        """Close an open case; False if it was already decided (two moderators clicking)."""
        if state not in STATES:
            raise ValueError(f"unknown case state {state!r}")
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE cases SET state = ?, decided_by = ?, decided_at = ?, decision_note = ?"
                " WHERE id = ? AND state = 'open'",
                [state, by, now(), note, case_id],
            )
        return bool(cursor.rowcount)

    def expire_open(self, *, before: str, by: str = "shield:retention") -> int:
        """Close cases nobody decided before `before` (ISO time) as expired; returns how many."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE cases SET state = 'expired', decided_by = ?, decided_at = ?"
                " WHERE state = 'open' AND created_at < ?",
                [by, now(), before],
            )
        return cursor.rowcount

    def offences(self, author_id: str) -> int:
        """Earlier block cases of this author that moderators did not dismiss (any community)."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM cases WHERE author_id = ? AND tier = 'block'"
            " AND state != 'dismissed' AND dry_run = 0",
            [author_id],
        ).fetchone()
        return int(row[0])

    def stats(self, community: str | None = None) -> dict[str, int]:
        sql = "SELECT tier || ':' || state, COUNT(*) FROM cases"
        params: list[Any] = []
        if community:
            sql += " WHERE community = ?"
            params.append(community)
        sql += " GROUP BY tier, state"
        return {k: int(v) for k, v in self.db.execute(sql, params).fetchall()}


def _case(row: tuple[Any, ...]) -> Case:
    values = dict(zip(Case.__dataclass_fields__, row, strict=True))
    values["findings"] = json.loads(values["findings"] or "[]")
    values["hashes"] = json.loads(values["hashes"] or "[]")
    values["dry_run"] = bool(values["dry_run"])
    return Case(**values)
