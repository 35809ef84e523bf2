"""MediaMatcher against a real SQLite bank: tiers, thresholds, variants, allow banks, changes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.core.verdict import Tier
from bot.media.hashing import DIHEDRAL_NAMES, FrameHash, MediaHashes
from bot.media.matcher import MediaMatcher, entry_tier
from bot.settings import MatchingSettings
from bot.storage import open_database
from bot.storage.banks import BankInfo, BankRepo, NewBankEntry

SETTINGS = MatchingSettings()  # block 31, review 48, min quality 50, pHash review 8
MD5 = "9e107d9d372bb6826bd81d3542a419d6"
SHA256 = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"


def rand_hex(rng: random.Random, bits: int) -> str:
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def flip(value: str, n: int, rng: random.Random) -> str:
    """`value` with exactly n of its bits flipped."""
    bits = len(value) * 4
    mask = sum(1 << i for i in rng.sample(range(bits), n))
    return f"{int(value, 16) ^ mask:0{bits // 4}x}"


def frame(
    rng: random.Random,
    pdq: str | None = None,
    *,
    phash: str | None = None,
    quality: int = 100,
    index: int = 0,
    variant: str = "raw",
    timestamp: float | None = None,
) -> FrameHash:
    """A frame whose dihedral variants are random hashes far from everything else."""
    first = pdq or rand_hex(rng, 256)
    dihedral = (first, *(rand_hex(rng, 256) for _ in range(7)))
    return FrameHash(
        pdq=first,
        pdq_quality=quality,
        phash=phash or rand_hex(rng, 64),
        dihedral=dihedral,
        variant=variant,
        index=index,
        timestamp=timestamp,
    )


def media(*frames: FrameHash, md5: str = "0" * 32, sha256: str = "0" * 64) -> MediaHashes:
    return MediaHashes(kind="jpeg", md5=md5, sha256=sha256, size=100, frames=frames)


@pytest.fixture
def repo(tmp_path: Path) -> BankRepo:
    return BankRepo(open_database(tmp_path / "shield.db"))


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)


def bank(
    repo: BankRepo,
    name: str,
    tier: Tier,
    *entries: tuple[str, str],
    pdq_distance: int | None = None,
    phash_distance: int | None = None,
) -> BankInfo:
    info, _ = repo.ensure(
        name, tier, created_by="test", pdq_distance=pdq_distance, phash_distance=phash_distance
    )
    repo.add_entries(
        info.id, [NewBankEntry(k, v, item=f"{name}.jpg") for k, v in entries], added_by="t"
    )
    return info


def matcher(repo: BankRepo, settings: MatchingSettings = SETTINGS) -> MediaMatcher:
    return MediaMatcher.from_repo(repo, settings)


def test_pdq_within_block_distance_takes_the_bank_tier(repo: BankRepo, rng: random.Random) -> None:
    """A PDQ entry 20 bits away blocks, and the finding names query, entry, bank and distance."""
    stored = rand_hex(rng, 256)
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    query = flip(stored, 20, rng)
    verdict = matcher(repo).match(media(frame(rng, query)))
    assert verdict.verdict == "block"
    (finding,) = verdict.findings
    assert finding.to_dict() | {"note": None} == {
        "signal": "pdq",
        "value": query,
        "matched": stored,
        "bank": "vault",
        "tier": "block",
        "distance": 20,
        "note": None,
    }


@pytest.mark.parametrize(
    ("distance", "expected"),
    [(0, "block"), (31, "block"), (32, "review"), (48, "review"), (49, "allow")],
)
def test_pdq_bands(repo: BankRepo, rng: random.Random, distance: int, expected: str) -> None:
    """<= 31 takes the bank's tier, up to pdq_review_distance is review, beyond is nothing."""
    stored = rand_hex(rng, 256)
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    verdict = matcher(repo).match(media(frame(rng, flip(stored, distance, rng))))
    assert verdict.verdict == expected
    assert [f.distance for f in verdict.findings] == ([] if expected == "allow" else [distance])


def test_review_bank_stays_review_in_both_bands(repo: BankRepo, rng: random.Random) -> None:
    """A review bank never blocks, however close the match."""
    stored = rand_hex(rng, 256)
    bank(repo, "maybe", Tier.REVIEW, ("pdq", stored))
    assert matcher(repo).match(media(frame(rng, stored))).verdict == "review"


def test_bank_pdq_distance_overrides_the_default(repo: BankRepo, rng: random.Random) -> None:
    """A bank's own pdq_distance widens (or narrows) where its tier applies."""
    stored = rand_hex(rng, 256)
    bank(repo, "wide", Tier.BLOCK, ("pdq", stored), pdq_distance=40)
    m = matcher(repo)
    assert m.match(media(frame(rng, flip(stored, 40, rng)))).verdict == "block"
    assert m.match(media(frame(rng, flip(stored, 45, rng)))).verdict == "review"


def test_dihedral_variant_matches_and_is_named(repo: BankRepo, rng: random.Random) -> None:
    """A mirrored or rotated copy matches through one of the 8 dihedral query hashes."""
    query = frame(rng)
    stored = query.dihedral[4]
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    (finding,) = matcher(repo).match(media(query)).findings
    assert (finding.value, finding.distance) == (stored, 0)
    assert finding.note is not None and DIHEDRAL_NAMES[4] in finding.note


def test_trimmed_variant_matches(repo: BankRepo, rng: random.Random) -> None:
    """A letterboxed copy matches through the hash of its border-trimmed picture."""
    stored = rand_hex(rng, 256)
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    frames = (frame(rng), frame(rng, flip(stored, 3, rng), variant="trimmed"))
    (finding,) = matcher(repo).match(media(*frames)).findings
    assert finding.distance == 3
    assert finding.note is not None and "trimmed" in finding.note


def test_low_quality_frames_are_not_matched(repo: BankRepo, rng: random.Random) -> None:
    """A flat frame (PDQ quality below pdq_min_quality) is skipped: its hashes mean little."""
    stored = rand_hex(rng, 256)
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    assert matcher(repo).match(media(frame(rng, stored, quality=49))).findings == ()
    assert matcher(repo).match(media(frame(rng, stored, quality=50))).verdict == "block"


def test_phash_is_review_only_unless_the_bank_sets_a_distance(
    repo: BankRepo, rng: random.Random
) -> None:
    """pHash corroborates (review) by default; a bank's phash_distance gives it the bank's tier."""
    stored = rand_hex(rng, 64)
    bank(repo, "vault", Tier.BLOCK, ("phash", stored))
    bank(repo, "strict", Tier.BLOCK, ("phash", flip(stored, 1, rng)), phash_distance=6)
    query = flip(stored, 4, rng)  # 4 from vault's entry, 3 or 5 from strict's
    verdict = matcher(repo).match(media(frame(rng, phash=query)))
    tiers = {f.source: f.tier for f in verdict.findings}
    assert tiers == {"vault": Tier.REVIEW, "strict": Tier.BLOCK}
    assert verdict.verdict == "block"
    far = flip(stored, 9, rng)
    assert matcher(repo).match(media(frame(rng, phash=far))).findings == ()


def test_exact_file_hashes_take_the_bank_tier(repo: BankRepo, rng: random.Random) -> None:
    """MD5 and SHA-256 of the file match exactly, even when no picture could be decoded."""
    bank(repo, "videos", Tier.BLOCK, ("md5", MD5), ("sha256", SHA256))
    unscannable = MediaHashes(
        kind=None, md5=MD5, sha256=SHA256, size=5, unscannable=True, reason="bad"
    )
    verdict = matcher(repo).match(unscannable)
    assert sorted((f.signal, f.distance, f.tier.value) for f in verdict.findings) == [
        ("md5", 0, "block"),
        ("sha256", 0, "block"),
    ]


def test_allow_bank_suppresses_the_same_picture(repo: BankRepo, rng: random.Random) -> None:
    """A close allow-bank match moves the block finding to `allowed`, naming the allow bank."""
    stored = rand_hex(rng, 256)
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    bank(repo, "known-good", Tier.ALLOW, ("pdq", flip(stored, 2, rng)))
    verdict = matcher(repo).match(media(frame(rng, stored)))
    assert verdict.verdict == "allow"
    assert verdict.findings == ()
    (allowed,) = verdict.allowed
    assert allowed.source == "vault"
    assert allowed.note is not None and "known-good" in allowed.note


def test_allow_covers_only_its_own_frame(repo: BankRepo, rng: random.Random) -> None:
    """An allowed intro frame does not launder the rest of a video."""
    bad, good = rand_hex(rng, 256), rand_hex(rng, 256)
    bank(repo, "vault", Tier.BLOCK, ("pdq", bad))
    bank(repo, "known-good", Tier.ALLOW, ("pdq", good))
    video = media(
        frame(rng, good, index=0, timestamp=0.0), frame(rng, bad, index=30, timestamp=1.0)
    )
    verdict = matcher(repo).match(video)
    assert verdict.verdict == "block"
    assert verdict.findings[0].note is not None and "at 1 s" in verdict.findings[0].note


def test_allow_needs_a_close_match(repo: BankRepo, rng: random.Random) -> None:
    """An allow entry in the review band (40 bits) suppresses nothing: allow has no loose band."""
    stored = rand_hex(rng, 256)
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    bank(repo, "known-good", Tier.ALLOW, ("pdq", flip(stored, 40, rng)))
    assert matcher(repo).match(media(frame(rng, stored))).verdict == "block"


def test_exact_allow_covers_the_whole_file(repo: BankRepo, rng: random.Random) -> None:
    """An allow-listed file (by SHA-256) suppresses every finding about it."""
    stored = rand_hex(rng, 256)
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored), ("md5", MD5))
    bank(repo, "known-good", Tier.ALLOW, ("sha256", SHA256))
    verdict = matcher(repo).match(media(frame(rng, stored), md5=MD5, sha256=SHA256))
    assert verdict.verdict == "allow"
    assert {f.signal for f in verdict.allowed} == {"pdq", "md5"}


def test_disabled_entry_stops_matching(repo: BankRepo, rng: random.Random) -> None:
    """Disabling keeps the entry but stops matches, even before the index hears of it."""
    stored = rand_hex(rng, 256)
    info = bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    m = matcher(repo)
    (entry,) = repo.find(stored)
    repo.set_entries_enabled([entry.id], False)
    assert m.match(media(frame(rng, stored))).findings == ()  # stale index, storage says no
    m.remove([entry])
    assert len(m) == 0
    repo.set_entries_enabled([entry.id], True)
    m.add(repo.index_rows(ids=[entry.id]))
    assert m.match(media(frame(rng, stored))).verdict == "block"
    now = repo.get(info.name)
    assert now is not None and (now.entries, now.enabled_entries) == (1, 1)


def test_added_entries_match_without_a_rebuild(repo: BankRepo, rng: random.Random) -> None:
    """`add(index_rows(after=...))` indexes just what was added."""
    m = matcher(repo)
    stored = rand_hex(rng, 256)
    after = repo.max_entry_id()
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored), ("md5", MD5))
    m.add(repo.index_rows(after=after))
    assert len(m) == 2
    assert m.match(media(frame(rng, stored))).verdict == "block"


def test_disabled_bank_is_left_out(repo: BankRepo, rng: random.Random) -> None:
    """A disabled bank's entries are not indexed; refresh_banks notices the change."""
    stored = rand_hex(rng, 256)
    info = bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    m = matcher(repo)
    repo.set_enabled(info.id, False)
    m.refresh_banks()
    assert len(m) == 0
    assert m.match(media(frame(rng, stored))).findings == ()


def test_nearest_reports_the_closest_entry_however_far(repo: BankRepo, rng: random.Random) -> None:
    """For tuning thresholds: the closest PDQ and pHash entries, and their distances."""
    stored, stored_phash = rand_hex(rng, 256), rand_hex(rng, 64)
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored), ("phash", stored_phash))
    query = media(frame(rng, flip(stored, 90, rng), phash=flip(stored_phash, 20, rng)))
    found = {n.signal: n for n in matcher(repo).nearest(query)}
    assert found["pdq"].distance <= 90
    assert found["pdq"].matched == stored
    assert (found["phash"].distance, found["phash"].bank) == (20, "vault")
    assert matcher(repo).match(query).findings == ()


def test_several_frames_give_one_finding_per_entry(repo: BankRepo, rng: random.Random) -> None:
    """A video whose frames all match one entry reports it once, at the smallest distance."""
    stored = rand_hex(rng, 256)
    bank(repo, "vault", Tier.BLOCK, ("pdq", stored))
    frames = [frame(rng, flip(stored, d, rng), index=i) for i, d in enumerate((12, 5, 20))]
    (finding,) = matcher(repo).match(media(*frames)).findings
    assert finding.distance == 5


@pytest.mark.parametrize(
    ("tier", "signal", "distance", "bank_pdq", "bank_phash", "expected"),
    [
        (Tier.BLOCK, "pdq", 31, None, None, Tier.BLOCK),
        (Tier.BLOCK, "pdq", 32, None, None, Tier.REVIEW),
        (Tier.BLOCK, "pdq", 20, 10, None, Tier.REVIEW),
        (Tier.ALLOW, "pdq", 32, None, None, None),
        (Tier.BLOCK, "phash", 8, None, None, Tier.REVIEW),
        (Tier.BLOCK, "phash", 9, None, None, None),
        (Tier.BLOCK, "phash", 6, None, 6, Tier.BLOCK),
        (Tier.ALLOW, "phash", 2, None, None, None),
        (Tier.REVIEW, "md5", 0, None, None, Tier.REVIEW),
        (Tier.BLOCK, "unknown", 0, None, None, None),
    ],
)
def test_entry_tier(
    tier: Tier,
    signal: str,
    distance: int,
    bank_pdq: int | None,
    bank_phash: int | None,
    expected: Tier | None,
) -> None:
    """The tier law, one row per band."""
    info = BankInfo(1, "b", tier, True, bank_pdq, bank_phash, None, None, "now")
    assert entry_tier(info, signal, distance, SETTINGS) == expected
