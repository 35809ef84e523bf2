"""Read-only queries the dashboard pages need beyond the repositories: filters, pages, counts.

Candidates to move into CaseRepo, AuditRepo and ListRepo once another user needs them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.errors import InputError
from bot.storage.audit import AuditEntry
from bot.storage.cases import Case, CaseRepo
from bot.storage.communities import check_community

LINK_SIGNALS = frozenset({"domain", "path", "ip", "lookalike", "keyword"})
HASH_SIGNALS = frozenset({"pdq", "phash", "md5", "sha256"})
SOURCES = ("media", "links", "unscannable", "reports")  # chart series, strongest first


@dataclass(frozen=True, slots=True)
class CaseFilter:
    platform: str = ""
    state: str = ""
    source: str = ""  # a list or bank name found in the case's findings

    def where(self, *, with_state: bool = True) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.platform:
            clauses.append("platform = ?")
            params.append(self.platform)
        if self.state and with_state:
            clauses.append("state = ?")
            params.append(self.state)
        if self.source:
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(cases.findings) AS f WHERE"
                " json_extract(f.value, '$.list') = ? OR json_extract(f.value, '$.bank') = ?)"
            )
            params += [self.source, self.source]
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def search_cases(
    db: Database, flt: CaseFilter, *, limit: int, offset: int
) -> tuple[list[Case], int]:
    """One page of cases matching the filter, newest first, and how many match in all."""
    where, params = flt.where()
    total = int(db.execute(f"SELECT COUNT(*) FROM cases{where}", params).fetchone()[0])
    ids = db.execute(
        f"SELECT id FROM cases{where} ORDER BY id DESC LIMIT ? OFFSET ?", [*params, limit, offset]
    ).fetchall()
    repo = CaseRepo(db)
    return [c for (cid,) in ids if (c := repo.get(cid)) is not None], total


def state_counts(db: Database, flt: CaseFilter) -> dict[str, int]:
    """Cases per state under the other filters (for the queue's tabs)."""
    where, params = flt.where(with_state=False)
    rows = db.execute(f"SELECT state, COUNT(*) FROM cases{where} GROUP BY state", params)
    return {state: int(n) for state, n in rows.fetchall()}


def platforms(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT platform FROM cases ORDER BY 1").fetchall()]


def audit_page(
    db: Database, *, before: int | None, action: str | None, limit: int
) -> list[AuditEntry]:
    """Audit entries older than `before` (an entry id), newest first."""
    sql = "SELECT id, at, actor, action, target, subject, community, detail FROM audit_log"
    clauses: list[str] = []
    params: list[Any] = []
    if before is not None:
        clauses.append("id < ?")
        params.append(before)
    if action:
        clauses.append("action = ?")
        params.append(action)
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY id DESC LIMIT ?"
    rows = db.execute(sql, [*params, limit]).fetchall()
    return [
        AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7] or "{}")) for r in rows
    ]


def audit_actions(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT action FROM audit_log ORDER BY 1")]


def case_source(tier: str, findings: list[dict[str, Any]]) -> str:
    """What found a case, by its strongest evidence: a hash match, a link, unscannable media,
    or else a member's report (reports arrive with no findings)."""
    signals = {str(f.get("signal")) for f in findings}
    if signals & HASH_SIGNALS:
        return "media"
    if signals & LINK_SIGNALS:
        return "links"
    return "unscannable" if tier == "unscannable" else "reports"


def daily_detections(
    db: Database, *, days: int, today: date | None = None
) -> list[tuple[date, Counter[str]]]:
    """Cases opened per day and source over the last `days` days, oldest first, empty days kept."""
    last = today or datetime.now(UTC).date()
    first = last - timedelta(days=days - 1)
    per_day: dict[date, Counter[str]] = {first + timedelta(d): Counter() for d in range(days)}
    rows = db.execute(
        "SELECT substr(created_at, 1, 10), tier, findings FROM cases WHERE created_at >= ?",
        [first.isoformat()],
    )
    for day, tier, findings in rows.fetchall():
        try:
            bucket = per_day[date.fromisoformat(day)]
        except (KeyError, ValueError):
            continue  # a clock in the future, or a malformed stamp: not on this chart
        bucket[case_source(tier, json.loads(findings or "[]"))] += 1
    return sorted(per_day.items())


def known_communities(db: Database, configured: list[str]) -> list[str]:
    """Communities with cases or settings, and those in the config file, without duplicates."""
    found = [
        r[0]
        for r in db.execute(
            "SELECT community FROM cases WHERE community IS NOT NULL"
            " UNION SELECT community FROM community_settings ORDER BY 1"
        ).fetchall()
    ]
    valid = []
    for community in dict.fromkeys([*configured, *found]):
        try:
            valid.append(check_community(community))
        except InputError:
            continue  # e.g. a community name from an older version
    return valid


def list_entries(
    db: Database, list_id: int, *, q: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of a list's rules (optionally those containing `q`), and how many match."""
    where = "WHERE e.list_id = ?"
    params: list[Any] = [list_id]
    if q:
        where += " AND instr(e.value, ?) > 0"
        params.append(q.strip().lower())
    total = int(db.execute(f"SELECT COUNT(*) FROM list_entries e {where}", params).fetchone()[0])
    cursor = db.execute(
        "SELECT e.kind, e.value, COALESCE(e.tier, l.tier) AS tier, e.enabled, e.category,"
        " e.source, e.added_by, e.added_at, e.note FROM list_entries e"
        f" JOIN lists l ON l.id = e.list_id {where} ORDER BY e.kind, e.value LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()], total


def bank_entries(
    db: Database, bank_id: int, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of a bank's entries in the order added, and how many it has."""
    total = int(
        db.execute("SELECT COUNT(*) FROM bank_entries WHERE bank_id = ?", [bank_id]).fetchone()[0]
    )
    cursor = db.execute(
        "SELECT id, signal_type, signal_value, quality, item, frame, source, added_by, added_at,"
        " note, enabled FROM bank_entries WHERE bank_id = ? ORDER BY id LIMIT ? OFFSET ?",
        [bank_id, limit, offset],
    )
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()], total
