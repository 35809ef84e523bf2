"""The evidence vault: media kept only when a rule says so, encrypted, blurred, and shredded.

Each item gets its own random AES-256-GCM key; that key is stored only wrapped (encrypted) by
the master key, which lives outside the database (SHIELD_VAULT_KEY or an owner-only key file).
Deleting an item's wrapped key and ciphertext makes it unrecoverable (crypto-shredding).
Plaintext never touches the disk: metadata stripping, previews and encryption run in memory.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image, ImageFilter, ImageOps
from sqlite_utils import Database

from bot.core.sniff import sniff
from bot.errors import SettingsError, ShieldError
from bot.settings import MediaSettings, Settings, VaultSettings
from bot.storage.audit import AuditRepo
from bot.storage.database import now

log = logging.getLogger(__name__)

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM standard nonce
_WRAP_AAD = b"shield-vault-item-key-v1"
_STILL_IMAGES = ("jpeg", "png", "webp", "avif", "heic")


class VaultKeyError(ShieldError):
    """The master key is missing, malformed or not the one the evidence was sealed with."""


def load_master_key(settings: Settings, *, create: bool = True) -> bytes:
    """The master key from SHIELD_VAULT_KEY, or the key file (created owner-only if missing)."""
    if settings.secrets.vault_key:
        try:
            key = base64.b64decode(settings.secrets.vault_key, validate=True)
        except ValueError:
            raise SettingsError("SHIELD_VAULT_KEY is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise SettingsError(
                f"SHIELD_VAULT_KEY must be {KEY_BYTES} bytes (base64), not {len(key)}"
            )
        return key
    path = Path(settings.vault.key_file)
    if not path.exists():
        if not create:
            raise VaultKeyError(
                f"no vault key: {path} does not exist and SHIELD_VAULT_KEY is unset"
            )
        key = secrets.token_bytes(KEY_BYTES)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(descriptor, "w", encoding="ascii") as fh:
            fh.write(base64.b64encode(key).decode() + "\n")
        log.warning("created vault key %s: back it up; without it the evidence is unreadable", path)
        return key
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise VaultKeyError(f"vault key {path} can be read by others: run chmod 600 {path}")
    try:
        key = base64.b64decode(path.read_text("ascii").strip(), validate=True)
    except (ValueError, UnicodeDecodeError):
        raise VaultKeyError(f"vault key {path} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise VaultKeyError(f"vault key {path} must hold {KEY_BYTES} bytes, not {len(key)}")
    return key


@dataclass(frozen=True, slots=True)
class EvidenceInfo:
    id: int
    case_id: int | None
    kind: str | None
    size: int
    sha256: str
    reason: str
    created_at: str
    expires_at: str
    legal_hold: bool
    purged: bool
    has_preview: bool


def strip_metadata(data: bytes) -> bytes:
    """A still image re-encoded without EXIF, GPS or comments; anything else unchanged."""
    kind = sniff(data)
    if kind not in _STILL_IMAGES:
        return data
    try:
        with Image.open(io.BytesIO(data), formats=None) as image:
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return data
    out = io.BytesIO()
    upright.save(out, "PNG")
    return out.getvalue()


def blurred_preview(data: bytes, media: MediaSettings, pixels: int) -> bytes | None:
    """A small, heavily blurred JPEG of the first frame, or None if it cannot be decoded."""
    from bot.media.decode import decode

    frames: list[Image.Image] = []

    def keep_first(frame: object) -> None:
        if not frames:
            frames.append(frame.image.copy())  # type: ignore[attr-defined]

    try:
        decode(data, media, keep_first)
    except Exception:  # an undecodable file simply has no preview
        return None
    if not frames:
        return None
    image = frames[0]
    image.thumbnail((pixels, pixels))
    blurred = image.filter(ImageFilter.GaussianBlur(radius=max(4, pixels // 10)))
    out = io.BytesIO()
    blurred.save(out, "JPEG", quality=60)
    return out.getvalue()


class EvidenceVault:
    """Stores, reveals and shreds evidence; every access that shows media is audited."""

    def __init__(self, db: Database, key: bytes | None, settings: Settings) -> None:
        """Without a key the vault can still list and shred (retention), not seal or open."""
        self.db = db
        self._master = AESGCM(key) if key is not None else None
        self.settings: VaultSettings = settings.vault
        self.media = settings.media
        self.audit = AuditRepo(db)

    @property
    def has_key(self) -> bool:
        """True when the master key is loaded (sealing and opening work)."""
        return self._master is not None

    def _key(self) -> AESGCM:
        if self._master is None:
            raise VaultKeyError("the vault key is needed to seal or open evidence")
        return self._master

    def _wrap(self, item_key: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._key().encrypt(nonce, item_key, _WRAP_AAD)

    def _unwrap(self, wrapped: bytes) -> bytes:
        try:
            return self._key().decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _WRAP_AAD)
        except InvalidTag:
            raise VaultKeyError(
                "the vault key does not match this evidence (was SHIELD_VAULT_KEY or the key "
                "file changed?)"
            ) from None

    def store(self, data: bytes, *, case_id: int | None, reason: str, actor: str) -> int:
        """Seal `data` (metadata stripped) and a blurred preview; returns the evidence id."""
        digest = hashlib.sha256(data).hexdigest()
        kept = strip_metadata(data)
        preview = blurred_preview(kept, self.media, self.settings.preview_pixels)
        item_key = AESGCM.generate_key(bit_length=256)
        cipher = AESGCM(item_key)
        nonce = secrets.token_bytes(NONCE_BYTES)
        aad = digest.encode()
        sealed = cipher.encrypt(nonce, kept, aad)
        preview_nonce = secrets.token_bytes(NONCE_BYTES) if preview else None
        sealed_preview = (
            cipher.encrypt(preview_nonce, preview, aad) if preview and preview_nonce else None
        )
        created = datetime.now(UTC)
        expires = created + timedelta(days=self.settings.retention_days)
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO evidence (case_id, kind, size, sha256, reason, created_at,"
                " expires_at, wrapped_key, nonce, ciphertext, preview_nonce, preview)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    case_id, sniff(data), len(data), digest, reason,
                    created.isoformat(timespec="seconds"), expires.isoformat(timespec="seconds"),
                    self._wrap(item_key), nonce, sealed, preview_nonce, sealed_preview,
                ],
            )  # fmt: skip
            evidence_id = int(cursor.lastrowid or 0)
            self.audit.record(
                actor,
                "evidence.store",
                f"evidence:{evidence_id}",
                detail={"case": case_id, "reason": reason, "bytes": len(data)},
            )
        return evidence_id

    def info(self, evidence_id: int) -> EvidenceInfo | None:
        row = self.db.execute(
            "SELECT id, case_id, kind, size, sha256, reason, created_at, expires_at, legal_hold,"
            " purged_at IS NOT NULL, preview IS NOT NULL FROM evidence WHERE id = ?",
            [evidence_id],
        ).fetchone()
        if row is None:
            return None
        fields = dict(zip(("id", "case_id", "kind", "size", "sha256", "reason"), row, strict=False))
        return EvidenceInfo(
            **fields,
            created_at=row[6],
            expires_at=row[7],
            legal_hold=bool(row[8]),
            purged=bool(row[9]),
            has_preview=bool(row[10]),
        )

    def for_case(self, case_id: int) -> list[EvidenceInfo]:
        rows = self.db.execute("SELECT id FROM evidence WHERE case_id = ? ORDER BY id", [case_id])
        return [i for (eid,) in rows.fetchall() if (i := self.info(eid)) is not None]

    def _open(self, evidence_id: int, column: str, nonce_column: str) -> bytes | None:
        row = self.db.execute(
            f"SELECT wrapped_key, {nonce_column}, {column}, sha256 FROM evidence WHERE id = ?",
            [evidence_id],
        ).fetchone()
        if row is None:
            raise ShieldError(f"there is no evidence {evidence_id}")
        wrapped, nonce, sealed, digest = row
        if wrapped is None:
            raise ShieldError(f"evidence {evidence_id} was deleted (retention or request)")
        if sealed is None:
            return None
        item_key = self._unwrap(wrapped)
        try:
            return AESGCM(item_key).decrypt(nonce, sealed, digest.encode())
        except InvalidTag:
            raise ShieldError(f"evidence {evidence_id} is damaged and cannot be opened") from None

    def preview(self, evidence_id: int, *, actor: str) -> bytes | None:
        """The blurred preview (the default view for moderators); logged as a view."""
        data = self._open(evidence_id, "preview", "preview_nonce")
        self.audit.record(actor, "evidence.preview", f"evidence:{evidence_id}")
        return data

    def reveal(self, evidence_id: int, *, actor: str, reason: str) -> bytes:
        """The original (metadata stripped), only with a stated reason, always audited."""
        if len(reason.strip()) < 3:
            raise ShieldError("say why you need to see the original (a reason is required)")
        data = self._open(evidence_id, "ciphertext", "nonce")
        assert data is not None
        self.audit.record(
            actor, "evidence.reveal", f"evidence:{evidence_id}", detail={"reason": reason.strip()}
        )
        return data

    def set_hold(self, evidence_id: int, hold: bool, *, actor: str, reason: str = "") -> None:
        """A legal hold keeps the item past its retention date until it is lifted."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE evidence SET legal_hold = ? WHERE id = ?", [int(hold), evidence_id]
            )
            self.audit.record(
                actor,
                "evidence.hold" if hold else "evidence.release",
                f"evidence:{evidence_id}",
                detail={"reason": reason},
            )

    def shred(self, where: str, params: list[object], *, actor: str, why: str) -> int:
        """Delete keys and ciphertext of the matching items; returns how many were shredded."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE evidence SET wrapped_key = NULL, nonce = NULL, ciphertext = NULL,"
                " preview_nonce = NULL, preview = NULL, purged_at = ?"
                f" WHERE purged_at IS NULL AND ({where})",
                [now(), *params],
            )
            count = cursor.rowcount
            if count:
                self.audit.record(
                    actor, "evidence.purge", None, detail={"items": count, "why": why}
                )
        if count:
            # secure_delete (set when the database opens) zeroes the freed space; the
            # checkpoint moves that into the main file and empties the write-ahead log.
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    def purge_expired(self, *, actor: str, at: datetime | None = None) -> int:
        """Shred every item past its retention date that is not under a legal hold."""
        moment = (at or datetime.now(UTC)).isoformat(timespec="seconds")
        return self.shred(
            "legal_hold = 0 AND expires_at <= ?", [moment], actor=actor, why="retention"
        )

    def shred_for_author(self, author_id: str, *, actor: str) -> int:
        """Shred the evidence of every case about one person (their deletion request)."""
        return self.shred(
            "case_id IN (SELECT id FROM cases WHERE author_id = ?)",
            [author_id],
            actor=actor,
            why="user data deletion",
        )
