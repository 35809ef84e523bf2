"""Open the SQLite database: create it if needed, WAL mode, foreign keys, pending migrations."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from bot.errors import InputError, ShieldError
from bot.storage.migrations import migrations

BUSY_TIMEOUT_MS = 5000  # wait this long for another process's write before failing


def now() -> str:
    """The current time as an ISO 8601 UTC string, the one time format in the database."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_database(path: str | os.PathLike[str]) -> Database:
    """A ready database at `path` (created with its folder's permissions if missing)."""
    target = Path(path)
    if target.is_dir():
        raise ShieldError(f"database path {target} is a folder: give a file name, e.g. shield.db")
    if not target.parent.exists():
        raise ShieldError(f"cannot create database {target}: folder {target.parent} does not exist")
    try:
        conn = sqlite3.connect(target, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db = Database(conn, execute_plugins=False)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA secure_delete = ON")
        # With WAL, NORMAL syncs at checkpoints, not at every commit: a power cut can lose the
        # last moments, never corrupt the file; every case no longer waits for the disk.
        db.execute("PRAGMA synchronous = NORMAL")  # deleted data is zeroed, not left in free pages
        if db.journal_mode != "wal":
            db.enable_wal()
        migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise ShieldError(
            f"cannot use database {target}: {exc} (is it a Shield database? is the disk full?)"
        ) from None
    return db


def get_meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def set_meta(db: Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])


def check_name(name: str, what: str, example: str) -> str:
    """A list or bank name without surrounding space, or InputError saying what is usable."""
    clean = name.strip()
    if not clean or len(clean) > 64 or any(c.isspace() or not c.isprintable() for c in clean):
        raise InputError(
            f"{what} name {name!r} is not usable: 1 to 64 characters, no spaces (e.g. {example})"
        )
    return clean
