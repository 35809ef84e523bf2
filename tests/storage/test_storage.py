"""Storage on real SQLite files: migrations, lists with provenance, the audit log, erasure."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.app import App
from bot.core.rules import parse_rule
from bot.core.verdict import Tier
from bot.errors import InputError, ShieldError
from bot.storage import open_database
from bot.storage.lists import NewEntry
from bot.storage.migrations import migrations
from bot.storage.userdata import delete_user_data


def test_new_database_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    """A fresh file gets every named migration, WAL journaling and foreign keys."""
    db = open_database(tmp_path / "new.db")
    applied = [m.name for m in migrations.applied(db)]
    assert applied[:3] == ["0001_lists", "0002_banks", "0003_audit_log"]
    assert applied == sorted(applied) and migrations.pending(db) == []
    assert db.journal_mode == "wal"
    db.close()
    again = open_database(tmp_path / "new.db")  # reopening applies nothing twice
    assert [m.name for m in migrations.applied(again)] == applied
    again.close()


@pytest.mark.parametrize("make", ["folder", "missing-parent", "not-sqlite"])
def test_unusable_database_paths_are_clear_errors(tmp_path: Path, make: str) -> None:
    """A folder, a missing folder or a non-database file gives a ShieldError naming the path."""
    if make == "folder":
        path = tmp_path
    elif make == "missing-parent":
        path = tmp_path / "nope" / "x.db"
    else:
        path = tmp_path / "text.db"
        path.write_text("this is not a database " * 100)
    with pytest.raises(ShieldError, match=str(path.name) if make != "folder" else "folder"):
        open_database(path)


def test_new_database_knows_the_starter_list(app: App) -> None:
    """The shipped deepfake-sites list is loaded with its tiers and provenance."""
    info = app.lists.get("deepfake-sites")
    assert info is not None and info.tier is Tier.BLOCK and info.entries >= 30
    rows = {r["value"]: r for r in app.lists.entries(info.id)}
    assert rows["clothoff.io"]["tier"] == "block"
    assert rows["pornpen.ai"]["tier"] == "review"  # "flag" in the file
    assert rows["crushai"]["kind"] == "keyword"
    assert "Meta" in rows["crushai"]["source"]
    assert rows["clothoff.io"]["added_by"] == "shield:seed"
    assert app.link_scanner.scan("clothoff.io").verdict == "block"


def test_adding_twice_changes_nothing_and_tiers_override(app: App) -> None:
    """Entries are unique per list; an entry may carry its own tier."""
    info = app.lists.ensure("mine", Tier.BLOCK, created_by="cli:test")
    entries = [
        NewEntry(parse_rule("a-bad-site.com")),
        NewEntry(parse_rule("maybe.com"), tier=Tier.REVIEW),
    ]
    assert app.lists.add_entries(info.id, entries, added_by="cli:test") == (2, 0)
    assert app.lists.add_entries(info.id, entries, added_by="cli:test") == (0, 2)
    tiers = {r["value"]: r["tier"] for r in app.lists.entries(info.id)}
    assert tiers == {"a-bad-site.com": "block", "maybe.com": "review"}


def test_disabled_entries_and_lists_leave_the_index(app: App) -> None:
    """Disabling keeps the row but stops matching; enabling brings it back."""
    info = app.lists.ensure("mine", Tier.BLOCK, created_by="cli:test")
    app.lists.add_entries(info.id, [NewEntry(parse_rule("a-bad-site.com"))], added_by="cli:test")
    rows = lambda: {v for _, v, name, _ in app.lists.index_rows() if name == "mine"}  # noqa: E731
    assert rows() == {"a-bad-site.com"}
    app.lists.set_entry_enabled(info.id, parse_rule("a-bad-site.com"), False)
    assert rows() == set()
    app.lists.set_entry_enabled(info.id, parse_rule("a-bad-site.com"), True)
    app.lists.set_enabled(info.id, False)
    assert rows() == set()


def test_bad_list_names_are_refused(app: App) -> None:
    """A list name with spaces or control characters is an InputError."""
    with pytest.raises(InputError, match="not usable"):
        app.lists.ensure("my list", Tier.BLOCK, created_by="x")


def test_audit_log_is_append_only(app: App) -> None:
    """Rows of the audit log cannot be changed or deleted, not even with raw SQL."""
    entry = app.audit.record("discord:1", "case.confirm", "case:1", subject="discord:2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        app.db.execute("DELETE FROM audit_log WHERE id = ?", [entry])
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        app.db.execute("UPDATE audit_log SET action = 'x' WHERE id = ?", [entry])


def test_delete_user_data_redacts_everywhere(app: App) -> None:
    """Erasure replaces the user's identifier in lists and the audit log and logs itself anonymously."""
    info = app.lists.ensure("mine", Tier.BLOCK, created_by="discord:42")
    app.lists.add_entries(info.id, [NewEntry(parse_rule("x-site.com"))], added_by="discord:42")
    app.audit.record("discord:42", "list.add", "mine")
    app.audit.record("discord:7", "case.confirm", "case:1", subject="discord:42")
    app.communities.set("discord:111", "dry_run", "true", updated_by="discord:42")

    counts = delete_user_data(app.db, "discord:42", requested_by="cli:admin")

    assert counts["audit_log"] == 2
    dump = "\n".join(
        str(row)
        for table in ("lists", "list_entries", "audit_log", "community_settings")
        for row in app.db.execute(f"SELECT * FROM {table}").fetchall()
    )
    assert "discord:42" not in dump
    last = app.audit.recent(1)[0]
    assert last.action == "user-data.delete" and "discord:42" not in str(last)
    assert delete_user_data(app.db, "discord:42", requested_by="cli:admin") == {}


def test_community_settings_have_registered_keys(app: App) -> None:
    """Unknown keys, bad values and bad community names are errors; defaults apply until set."""
    assert app.communities.get("twitch:streamer", "dry_run") is False
    assert app.communities.set("twitch:streamer", "dry_run", "yes", updated_by="x") is True
    assert app.communities.get("twitch:streamer", "dry_run") is True
    with pytest.raises(InputError, match="unknown community setting"):
        app.communities.set("twitch:streamer", "dryrun", "yes", updated_by="x")
    with pytest.raises(InputError, match="bad value"):
        app.communities.set("twitch:streamer", "unscannable", "maybe", updated_by="x")
    with pytest.raises(InputError, match="not valid"):
        app.communities.get("streamer", "dry_run")
