"""Named schema migrations, applied in order inside transactions; never edit one that shipped."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("shield")


@migrations(name="0001_lists")
def create_lists(db: Database) -> None:
    """Link lists (block, review, allow) and their rules, each rule with its provenance."""
    db.execute(
        """
        CREATE TABLE lists (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            tier TEXT NOT NULL CHECK (tier IN ('block', 'review', 'allow')),
            enabled INTEGER NOT NULL DEFAULT 1,
            description TEXT,
            source TEXT,
            created_by TEXT,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE list_entries (
            id INTEGER PRIMARY KEY,
            list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('domain', 'path', 'keyword', 'ip')),
            value TEXT NOT NULL,
            tier TEXT CHECK (tier IS NULL OR tier IN ('block', 'review', 'allow')),
            category TEXT,
            confidence TEXT,
            source TEXT,
            added_by TEXT,
            added_at TEXT NOT NULL,
            note TEXT,
            enabled INTEGER NOT NULL DEFAULT 1,
            UNIQUE (list_id, kind, value)
        )"""
    )
    db.execute("CREATE INDEX list_entries_value ON list_entries(value)")


@migrations(name="0002_banks")
def create_banks(db: Database) -> None:
    """Hash banks (PDQ, pHash, MD5, SHA-256) and their entries: hashes and metadata, no media."""
    db.execute(
        """
        CREATE TABLE banks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            tier TEXT NOT NULL CHECK (tier IN ('block', 'review', 'allow')),
            enabled INTEGER NOT NULL DEFAULT 1,
            pdq_distance INTEGER,
            phash_distance INTEGER,
            description TEXT,
            created_by TEXT,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE bank_entries (
            id INTEGER PRIMARY KEY,
            bank_id INTEGER NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
            signal_type TEXT NOT NULL,
            signal_value TEXT NOT NULL,
            quality INTEGER,
            item TEXT,
            frame INTEGER,
            source TEXT,
            added_by TEXT,
            added_at TEXT NOT NULL,
            note TEXT,
            enabled INTEGER NOT NULL DEFAULT 1,
            UNIQUE (bank_id, signal_type, signal_value)
        )"""
    )


@migrations(name="0003_audit_log")
def create_audit_log(db: Database) -> None:
    """An append-only audit log; the only change allowed is redaction of a user's data."""
    db.execute(
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT,
            subject TEXT,
            community TEXT,
            detail TEXT,
            redacted INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"""
    )
    db.execute(
        """
        CREATE TRIGGER audit_log_redact_only BEFORE UPDATE ON audit_log
        WHEN NOT (OLD.redacted = 0 AND NEW.redacted = 1 AND NEW.id = OLD.id
                  AND NEW.at = OLD.at AND NEW.action = OLD.action)
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"""
    )


@migrations(name="0004_communities")
def create_communities(db: Database) -> None:
    """Per-community (Discord server, Twitch channel) settings that moderators can change."""
    db.execute(
        """
        CREATE TABLE community_settings (
            community TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_by TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (community, key)
        )"""
    )
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migrations(name="0005_cases")
def create_cases(db: Database) -> None:
    """Cases: one per actioned or held message, with what matched and what was done; no media."""
    db.execute(
        """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            community TEXT,
            channel_id TEXT NOT NULL,
            message_id TEXT NOT NULL,
            author_id TEXT NOT NULL,
            author_name TEXT,
            jump_url TEXT,
            tier TEXT NOT NULL CHECK (tier IN ('block', 'review', 'allow', 'unscannable')),
            findings TEXT NOT NULL,
            hashes TEXT,
            action TEXT NOT NULL,
            dry_run INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL DEFAULT 'open'
                CHECK (state IN ('open', 'confirmed', 'dismissed', 'expired')),
            created_at TEXT NOT NULL,
            decided_by TEXT,
            decided_at TEXT,
            decision_note TEXT,
            alert_channel_id TEXT,
            alert_message_id TEXT,
            UNIQUE (platform, message_id)
        )"""
    )
    db.execute("CREATE INDEX cases_author ON cases(author_id)")
    db.execute("CREATE INDEX cases_state ON cases(community, state)")


@migrations(name="0006_evidence")
def create_evidence(db: Database) -> None:
    """Encrypted evidence: media kept only when a rule says so, each item under its own key."""
    db.execute(
        """
        CREATE TABLE evidence (
            id INTEGER PRIMARY KEY,
            case_id INTEGER REFERENCES cases(id),
            kind TEXT,
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            reason TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            legal_hold INTEGER NOT NULL DEFAULT 0,
            wrapped_key BLOB,
            nonce BLOB,
            ciphertext BLOB,
            preview_nonce BLOB,
            preview BLOB,
            purged_at TEXT
        )"""
    )
    db.execute("CREATE INDEX evidence_case ON evidence(case_id)")


@migrations(name="0007_dashboard_users")
def create_dashboard_users(db: Database) -> None:
    """Dashboard accounts with a role, one-time login links and revocable sessions (all hashed)."""
    db.execute(
        """
        CREATE TABLE dashboard_users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('viewer', 'moderator', 'admin')),
            password_hash TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_by TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE dashboard_login_tokens (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            user_id INTEGER NOT NULL REFERENCES dashboard_users(id) ON DELETE CASCADE,
            created_by TEXT,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        )"""
    )
    db.execute(
        """
        CREATE TABLE dashboard_sessions (
            id INTEGER PRIMARY KEY,
            session_hash TEXT NOT NULL UNIQUE,
            user_id INTEGER NOT NULL REFERENCES dashboard_users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX dashboard_sessions_user ON dashboard_sessions(user_id)")


@migrations(name="0008_subscriptions")
def create_subscriptions(db: Database) -> None:
    """List subscriptions (published blocklists fetched on a schedule into a list) and the rules
    of each one's last good feed, so that rules leaving the feed can be removed, and only those."""
    db.execute(
        """
        CREATE TABLE list_subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url TEXT NOT NULL UNIQUE,
            list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
            tier TEXT NOT NULL CHECK (tier IN ('block', 'review', 'allow')),
            format TEXT NOT NULL DEFAULT 'auto',
            every_hours INTEGER NOT NULL,
            created_by TEXT,
            created_at TEXT NOT NULL,
            last_attempt_at TEXT,
            last_success_at TEXT,
            last_added INTEGER,
            last_removed INTEGER,
            last_bad_lines INTEGER,
            last_format TEXT,
            last_rules INTEGER,
            last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute(
        """
        CREATE TABLE subscription_rules (
            subscription_id INTEGER NOT NULL
                REFERENCES list_subscriptions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (subscription_id, kind, value)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX subscription_rules_rule ON subscription_rules(kind, value)")
