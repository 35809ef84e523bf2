"""Delete what Shield stores about one person, on their request (GDPR-style erasure)."""

from __future__ import annotations

from sqlite_utils import Database

from bot.storage.audit import REDACTED, AuditRepo

# (table, column) pairs that can hold a user identifier; a new table with user data adds a row.
USER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("lists", "created_by"),
    ("list_entries", "added_by"),
    ("banks", "created_by"),
    ("bank_entries", "added_by"),
    ("community_settings", "updated_by"),
    ("dashboard_users", "created_by"),
    ("list_subscriptions", "created_by"),
    ("dashboard_login_tokens", "created_by"),
    ("cases", "author_id"),
    ("cases", "author_name"),
    ("cases", "decided_by"),
)


def delete_user_data(db: Database, user: str, *, requested_by: str) -> dict[str, int]:
    """Redact `user` everywhere; returns the number of rows changed per table."""
    counts: dict[str, int] = {}
    with db.atomic():
        # Evidence about them first (while their cases still name them): crypto-shredded.
        shredded = db.execute(
            "UPDATE evidence SET wrapped_key = NULL, nonce = NULL, ciphertext = NULL,"
            " preview_nonce = NULL, preview = NULL, purged_at = datetime('now')"
            " WHERE purged_at IS NULL AND case_id IN (SELECT id FROM cases WHERE author_id = ?)",
            [user],
        ).rowcount
        if shredded:
            counts["evidence"] = shredded
        # Their own dashboard account, if any (login links and sessions go with it).
        gone = db.execute("DELETE FROM dashboard_users WHERE name = ?", [user]).rowcount
        if gone:
            counts["dashboard_users"] = gone
        for table, column in USER_COLUMNS:
            cursor = db.execute(
                f"UPDATE {table} SET {column} = ? WHERE {column} = ?",
                [REDACTED, user],
            )
            if cursor.rowcount:
                counts[f"{table}.{column}"] = cursor.rowcount
        audit = AuditRepo(db)
        changed = audit.redact_user(user)
        if changed:
            counts["audit_log"] = changed
        # The record of the deletion names no one: it says that it happened and how much.
        audit.record(requested_by, "user-data.delete", detail={"rows": sum(counts.values())})
    return counts
