"""`shield case ...` and `shield vault ...` through the real command."""

from __future__ import annotations

from pathlib import Path

from bot.storage import open_database
from bot.storage.cases import CaseRepo
from tests.conftest import Shield


def seed_case(db_path: Path) -> int:
    db = open_database(db_path)
    case, _ = CaseRepo(db).open(
        platform="twitch", community="twitch:streamer", channel_id="1001", message_id="m-1",
        author_id="twitch:5005", author_name="troll", jump_url=None, tier="review",
        findings=[{"signal": "lookalike", "value": "cl0thoff.io", "matched": "clothoff.io",
                   "list": "deepfake-sites", "tier": "review"}],
        hashes=[], action="preview hidden, held for review", dry_run=False,
    )  # fmt: skip
    db.close()
    return case.id


def test_case_list_dismiss_and_export(shield: Shield, tmp_path: Path) -> None:
    """A held case is listed, dismissed once (the seen host is allowed), and exported without media."""
    db = tmp_path / "shield.db"
    shield("lists", "show")  # creates the database
    case = seed_case(db)
    listed = shield("case", "list", "--json").json()
    assert [c["id"] for c in listed] == [case]  # type: ignore[union-attr,index]
    result = shield("case", "dismiss", str(case), "--note", "a fan site")
    assert result.code == 0 and "dismissed" in result.out and "allow-list" in result.out
    again = shield("case", "confirm", str(case))
    assert again.code == 0 and "already dismissed" in again.out
    assert shield("check", "--json", "cl0thoff.io").json()["verdict"] == "allow"  # type: ignore[index]
    assert shield("check", "--json", "clothoff.io").json()["verdict"] == "block"  # type: ignore[index]
    page = tmp_path / "packet.html"
    assert shield("case", "export", str(case), "--html", "-o", str(page)).code == 0
    assert "Evidence packet" in page.read_text() and "No media" in page.read_text()


def test_vault_purge_needs_no_key_and_missing_case_is_an_error(
    shield: Shield, tmp_path: Path
) -> None:
    """Purging works before any key exists (and creates none); an unknown case is a one-line error."""
    result = shield("vault", "purge", "--json")
    assert result.code == 0 and result.json() == {"purged": 0}
    assert not (tmp_path / "shield-vault.key").exists()
    missing = shield("case", "show", "99")
    assert missing.code == 1 and missing.err.strip() == "shield: error: there is no case 99"
