"""The append-only audit log: who did what, to what, and why. Rows are never changed or deleted,
except that a user's identifiers can be redacted on a data-deletion request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.storage.database import now

REDACTED = "[redacted]"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    target: str | None
    subject: str | None
    community: str | None
    detail: dict[str, Any]


class AuditRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        *,
        subject: str | None = None,
        community: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry; `actor` is the moderator, user or rule that caused the action."""
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO audit_log (at, actor, action, target, subject, community, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [now(), actor, action, target, subject, community, json.dumps(detail or {})],
            )
        return int(cursor.lastrowid or 0)

    def recent(self, limit: int = 50, *, action: str | None = None) -> list[AuditEntry]:
        sql = "SELECT id, at, actor, action, target, subject, community, detail FROM audit_log"
        params: list[Any] = []
        if action:
            sql += " WHERE action = ?"
            params.append(action)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [
            AuditEntry(
                id=row[0],
                at=row[1],
                actor=row[2],
                action=row[3],
                target=row[4],
                subject=row[5],
                community=row[6],
                detail=json.loads(row[7] or "{}"),
            )
            for row in self.db.execute(sql, params).fetchall()
        ]

    def redact_user(self, user: str) -> int:
        """Replace a user's identifiers in every entry that names them; returns entries changed."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE audit_log SET redacted = 1,"
                " actor = CASE WHEN actor = :u THEN :r ELSE actor END,"
                " subject = CASE WHEN subject = :u THEN :r ELSE subject END,"
                " target = CASE WHEN target = :u THEN :r ELSE target END,"
                " detail = '{\"redacted\": true}'"
                " WHERE redacted = 0 AND (actor = :u OR subject = :u OR target = :u)",
                {"u": user, "r": REDACTED},
            )
        return cursor.rowcount
