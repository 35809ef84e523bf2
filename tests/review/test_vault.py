"""The evidence vault: encrypted at rest, blurred previews, audited reveals, shredding that works."""

from __future__ import annotations

import io
import os
import stat
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import numpy as np
import pytest
from PIL import Image

from bot.app import App
from bot.errors import ShieldError
from bot.review.vault import EvidenceVault, VaultKeyError, load_master_key, strip_metadata
from bot.settings import Settings


def photo_with_gps(seed: int = 1) -> bytes:
    """A JPEG with EXIF that includes a camera model and GPS position."""
    rng = np.random.default_rng(seed)
    image = Image.fromarray((rng.random((60, 80, 3)) * 255).astype("uint8")).resize((400, 300))
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone 12"  # camera model
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS info
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def settings_with_key_file(app: App, tmp_path: Path) -> Settings:
    vault = msgspec.structs.replace(app.settings.vault, key_file=str(tmp_path / "vault.key"))
    return msgspec.structs.replace(app.settings, vault=vault)


@pytest.fixture
def vault(app: App, tmp_path: Path) -> EvidenceVault:
    settings = settings_with_key_file(app, tmp_path)
    return EvidenceVault(app.db, load_master_key(settings), settings)


def database_bytes(app: App) -> bytes:
    """Everything SQLite has on disk for this database: the file, the WAL and the shared memory."""
    base = Path(app.settings.storage.database)
    return b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*"))


def test_key_file_is_created_owner_only(app: App, tmp_path: Path) -> None:
    """The master key file is made on first use with mode 0600, and reused after."""
    settings = settings_with_key_file(app, tmp_path)
    key = load_master_key(settings)
    mode = stat.S_IMODE((tmp_path / "vault.key").stat().st_mode)
    assert mode == 0o600 and len(key) == 32
    assert load_master_key(settings) == key


def test_key_readable_by_others_is_refused(app: App, tmp_path: Path) -> None:
    """A key file others can read is an error that says how to fix it."""
    settings = settings_with_key_file(app, tmp_path)
    load_master_key(settings)
    os.chmod(tmp_path / "vault.key", 0o644)
    with pytest.raises(VaultKeyError, match="chmod 600"):
        load_master_key(settings)


def test_round_trip_strips_metadata_and_never_writes_plaintext(
    app: App, vault: EvidenceVault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored bytes come back without EXIF; neither the original nor the kept bytes are on disk."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    data = photo_with_gps()
    evidence = vault.store(data, case_id=None, reason="review-tier match", actor="rule:test")
    on_disk = database_bytes(app)
    kept = strip_metadata(data)
    for secret in (data[200:264], kept[200:264], b"SecretPhone"):
        assert secret not in on_disk
    assert list(scratch.iterdir()) == []
    revealed = vault.reveal(evidence, actor="discord:9", reason="checking a close match")
    assert revealed == kept
    with Image.open(io.BytesIO(revealed)) as image:
        assert not image.getexif()
    audit = app.audit.recent(5)
    assert audit[0].action == "evidence.reveal" and audit[0].detail["reason"].startswith("checking")


def test_preview_is_small_and_blurred(vault: EvidenceVault) -> None:
    """The preview is a small JPEG whose detail is gone (low variance between neighbours)."""
    data = photo_with_gps()
    evidence = vault.store(data, case_id=None, reason="report", actor="discord:5")
    preview = vault.preview(evidence, actor="discord:9")
    assert preview is not None
    with Image.open(io.BytesIO(preview)) as image:
        assert max(image.size) <= 160
        pixels = np.asarray(image.convert("L"), dtype=np.float64)
    with Image.open(io.BytesIO(data)) as original:
        sharp = np.asarray(original.convert("L").resize(image.size), dtype=np.float64)
    assert np.abs(np.diff(pixels, axis=1)).mean() < np.abs(np.diff(sharp, axis=1)).mean() / 2


def test_reveal_needs_a_reason(vault: EvidenceVault) -> None:
    """An original is shown only with a stated reason."""
    evidence = vault.store(photo_with_gps(), case_id=None, reason="report", actor="x")
    with pytest.raises(ShieldError, match="reason"):
        vault.reveal(evidence, actor="discord:9", reason=" ")


def test_wrong_key_fails_cleanly(app: App, vault: EvidenceVault) -> None:
    """Another master key cannot open the evidence and says why."""
    evidence = vault.store(photo_with_gps(), case_id=None, reason="report", actor="x")
    other = EvidenceVault(app.db, os.urandom(32), app.settings)
    with pytest.raises(VaultKeyError, match="does not match"):
        other.reveal(evidence, actor="discord:9", reason="testing the key")


def test_purge_makes_bytes_unrecoverable_but_respects_holds(app: App, vault: EvidenceVault) -> None:
    """After retention the key and ciphertext are gone from the file; a legal hold keeps an item."""
    kept_id = vault.store(photo_with_gps(1), case_id=None, reason="report", actor="x")
    gone_id = vault.store(photo_with_gps(2), case_id=None, reason="report", actor="x")
    sealed = app.db.execute("SELECT ciphertext FROM evidence WHERE id = ?", [gone_id]).fetchone()[0]
    vault.set_hold(kept_id, True, actor="discord:9", reason="takedown request pending")
    later = datetime.now(UTC) + timedelta(days=31)
    assert vault.purge_expired(actor="shield:retention", at=later) == 1
    with pytest.raises(ShieldError, match="deleted"):
        vault.reveal(gone_id, actor="discord:9", reason="too late")
    assert sealed[1000:1064] not in database_bytes(app)
    assert vault.reveal(kept_id, actor="discord:9", reason="evidence for takedown")
    info = vault.info(gone_id)
    assert info is not None and info.purged


def test_shred_for_author(app: App, vault: EvidenceVault) -> None:
    """A person's deletion request shreds the evidence of the cases about them."""
    case, _ = app_case(app, "discord:42")
    evidence = vault.store(photo_with_gps(), case_id=case, reason="report", actor="x")
    assert vault.shred_for_author("discord:42", actor="cli:admin") == 1
    with pytest.raises(ShieldError, match="deleted"):
        vault.reveal(evidence, actor="y", reason="after deletion")


def app_case(app: App, author: str) -> tuple[int, bool]:
    from bot.storage.cases import CaseRepo

    case, created = CaseRepo(app.db).open(
        platform="discord", community="discord:1", channel_id="2", message_id="3",
        author_id=author, author_name="a", jump_url=None, tier="review", findings=[],
        hashes=[], action="held", dry_run=False,
    )  # fmt: skip
    return case.id, created


def test_delete_user_data_shreds_their_evidence(app: App, vault: EvidenceVault) -> None:
    """`delete-user-data` removes the person's evidence along with their identifiers."""
    from bot.storage.userdata import delete_user_data

    case, _ = app_case(app, "discord:77")
    evidence = vault.store(photo_with_gps(), case_id=case, reason="report", actor="x")
    counts = delete_user_data(app.db, "discord:77", requested_by="cli:admin")
    assert counts["evidence"] == 1 and counts["cases.author_id"] == 1
    with pytest.raises(ShieldError, match="deleted"):
        vault.reveal(evidence, actor="y", reason="after deletion")
