"""Dashboard accounts: a role, an optional scrypt password hash, one-time login links, sessions.

Secrets are never stored as given: passwords as salted scrypt hashes, login tokens and session
ids as SHA-256 digests (they are 256 random bits, so a fast hash is enough), so a copy of the
database lets no one log in. Login tokens are single use and expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.errors import InputError
from bot.storage.database import now

ROLES = ("viewer", "moderator", "admin")  # each role can do everything the ones before it can
MIN_PASSWORD = 10  # characters
MAX_PASSWORD = 1024  # characters; longer is refused rather than hashed
TOKEN_BYTES = 32  # login tokens and session ids: 256 random bits
# scrypt cost: 2**15 x 8 x 128 bytes = 32 MiB and about 0.1 s per check on one core.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024  # bytes
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:@-]{0,63}$")


@dataclass(frozen=True, slots=True)
class DashboardUser:
    id: int
    name: str
    role: str
    has_password: bool
    disabled: bool
    created_by: str | None
    created_at: str

    def can(self, role: str) -> bool:
        """Whether this user's role is at least `role` (viewer < moderator < admin)."""
        return not self.disabled and ROLES.index(self.role) >= ROLES.index(role)


def check_name(name: str) -> str:
    """A user name in canonical form (lower case), or InputError saying what is allowed."""
    clean = name.strip().lower()
    if not _NAME.match(clean):
        raise InputError(
            f"user name {name!r} is not usable: 1 to 64 of a-z 0-9 _ . : @ - "
            "(e.g. alice, or discord:1234 for a Discord account)"
        )
    return clean


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}: use {', '.join(ROLES)}")
    return role


def check_password_rules(password: str) -> str:
    """The password if it is long enough (and not absurdly long), else InputError."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputError(
            f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters "
            "(a few random words are easy to type and hard to guess)"
        )
    return password


def hash_password(password: str) -> str:
    """A salted scrypt hash in the form scrypt$N$r$p$salt$hash (base64)."""
    check_password_rules(password)
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`, compared in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password[:MAX_PASSWORD], base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# Checked when a name is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = "$".join(
    ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(b"\0" * 16), _b64(b"\0" * 32)]
)
_USER_SQL = (
    "SELECT id, name, role, password_hash IS NOT NULL, disabled, created_by, created_at"
    " FROM dashboard_users"
)


def _user(row: Any) -> DashboardUser:
    return DashboardUser(
        id=row[0],
        name=row[1],
        role=row[2],
        has_password=bool(row[3]),
        disabled=bool(row[4]),
        created_by=row[5],
        created_at=row[6],
    )


class UserRepo:
    """Reads and writes the dashboard_users, dashboard_login_tokens and dashboard_sessions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ----- users ---------------------------------------------------------------------------

    def get(self, name: str) -> DashboardUser | None:
        row = self.db.execute(_USER_SQL + " WHERE name = ?", [name.strip().lower()]).fetchone()
        return None if row is None else _user(row)

    def by_id(self, user_id: int) -> DashboardUser | None:
        row = self.db.execute(_USER_SQL + " WHERE id = ?", [user_id]).fetchone()
        return None if row is None else _user(row)

    def all(self) -> list[DashboardUser]:
        return [_user(r) for r in self.db.execute(_USER_SQL + " ORDER BY name").fetchall()]

    def ensure(self, name: str, role: str, *, by: str) -> tuple[DashboardUser, bool]:
        """The user called `name` and whether it is new (created with `role` if missing)."""
        clean, role = check_name(name), check_role(role)
        existing = self.get(clean)
        if existing is not None:
            return existing, False
        stamp = now()
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO dashboard_users (name, role, created_by, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [clean, role, by, stamp, stamp],
            )
        user = self.get(clean)
        assert user is not None
        return user, True

    def set_role(self, user_id: int, role: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE dashboard_users SET role = ?, updated_at = ? WHERE id = ?",
                [check_role(role), now(), user_id],
            )

    def set_disabled(self, user_id: int, disabled: bool) -> None:
        """Disable (or re-enable) an account; disabling also ends its sessions and links."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE dashboard_users SET disabled = ?, updated_at = ? WHERE id = ?",
                [int(disabled), now(), user_id],
            )
            if disabled:
                self.end_sessions(user_id)

    def set_password(self, user_id: int, password: str) -> None:
        """Store a new password hash and end the user's sessions (a changed password logs out)."""
        hashed = hash_password(password)
        with self.db.atomic():
            self.db.execute(
                "UPDATE dashboard_users SET password_hash = ?, updated_at = ? WHERE id = ?",
                [hashed, now(), user_id],
            )
            self.end_sessions(user_id)

    def login_record(self, name: str) -> tuple[int | None, str]:
        """(the user id if this enabled account has a password, the hash to check against).

        An unknown name gets a dummy hash, so checking it costs as much as a real one. Split
        from the check so the slow hashing can run off the event loop, away from the database.
        """
        try:
            clean = check_name(name)
        except InputError:
            clean = ""
        row = self.db.execute(
            "SELECT id, password_hash, disabled FROM dashboard_users WHERE name = ?", [clean]
        ).fetchone()
        if row is None or not row[1] or row[2]:
            return None, _DUMMY_HASH
        return int(row[0]), str(row[1])

    def check_password(self, name: str, password: str) -> DashboardUser | None:
        """The user if the name and password match an enabled account; slow on purpose."""
        user_id, stored = self.login_record(name)
        matched = verify_password(password, stored)  # always run: no timing hint of the name
        return self.by_id(user_id) if matched and user_id is not None else None

    # ----- one-time login links ------------------------------------------------------------

    def new_login_token(self, user_id: int, *, by: str, minutes: int) -> str:
        """A random single-use token valid for `minutes`; only its digest is stored."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        created = datetime.now(UTC)
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO dashboard_login_tokens (token_hash, user_id, created_by, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?)",
                [_digest(token), user_id, by, _stamp(created),
                 _stamp(created + timedelta(minutes=minutes))],
            )  # fmt: skip
        return token

    def redeem_login_token(self, token: str) -> DashboardUser | None:
        """The token's user, marking it used; None if unknown, used, expired or disabled."""
        if not token or len(token) > 200:
            return None
        stamp = now()
        with self.db.atomic():
            # One UPDATE both checks and spends the token, so two tabs cannot both use it.
            cursor = self.db.execute(
                "UPDATE dashboard_login_tokens SET used_at = ?"
                " WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
                [stamp, _digest(token), stamp],
            )
            if not cursor.rowcount:
                return None
            row = self.db.execute(
                "SELECT user_id FROM dashboard_login_tokens WHERE token_hash = ?", [_digest(token)]
            ).fetchone()
        user = self.by_id(row[0])
        return None if user is None or user.disabled else user

    # ----- sessions ------------------------------------------------------------------------

    def new_session(self, user_id: int, *, hours: int) -> str:
        """A new session id for the user (kept only as a digest), valid for `hours`."""
        session_id = secrets.token_urlsafe(TOKEN_BYTES)
        created = datetime.now(UTC)
        with self.db.atomic():
            self.db.execute(
                "DELETE FROM dashboard_sessions WHERE expires_at <= ?", [_stamp(created)]
            )
            self.db.execute(
                "INSERT INTO dashboard_sessions (session_hash, user_id, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                [_digest(session_id), user_id, _stamp(created),
                 _stamp(created + timedelta(hours=hours))],
            )  # fmt: skip
        return session_id

    def session_user(self, session_id: str) -> DashboardUser | None:
        """The enabled user of a live session, or None (ended, expired, unknown, disabled)."""
        row = self.db.execute(
            "SELECT user_id FROM dashboard_sessions WHERE session_hash = ? AND expires_at > ?",
            [_digest(session_id), now()],
        ).fetchone()
        user = None if row is None else self.by_id(row[0])
        return None if user is None or user.disabled else user

    def end_session(self, session_id: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "DELETE FROM dashboard_sessions WHERE session_hash = ?", [_digest(session_id)]
            )

    def end_sessions(self, user_id: int) -> int:
        """End every session of a user and spend their open login links; returns sessions ended."""
        with self.db.atomic():
            cursor = self.db.execute("DELETE FROM dashboard_sessions WHERE user_id = ?", [user_id])
            self.db.execute(
                "UPDATE dashboard_login_tokens SET used_at = ?"
                " WHERE user_id = ? AND used_at IS NULL",
                [now(), user_id],
            )
        return cursor.rowcount
