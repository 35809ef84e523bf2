"""Hash banks as the commands use them: hash files, bank them, import and export hash lists, scan.

Only hashes and metadata are stored, never media. Every change is written to the audit log with
the person who made it. Reports carry `after_id` so a long-lived MediaMatcher can pick up new
entries with `matcher.add(repo.index_rows(after=report.after_id))` instead of a rebuild.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from bot.core.listformats import BadLine
from bot.core.signals import SIGNAL_TYPES
from bot.core.sniff import SNIFF_BYTES, sniff
from bot.core.verdict import Tier, Verdict
from bot.errors import InputError
from bot.media.hashlists import parse_lines, write_csv
from bot.settings import FetchSettings, Settings
from bot.storage.audit import AuditRepo
from bot.storage.banks import BankEntry, BankInfo, BankRepo, NewBankEntry

if TYPE_CHECKING:  # decoders and aiohttp load only in the functions that use them: bank
    # import, export and disable stay quick to start
    from bot.media.hashing import MediaHashes
    from bot.media.matcher import MediaMatcher

SOURCE_ADD: Final = "shield bank add"
READ_CHUNK: Final = 1 << 20  # bytes per read when streaming a file's exact hashes
_URL: Final = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_HASH_LENGTHS: Final = frozenset(s.hex_chars() for s in SIGNAL_TYPES)
_HEX: Final = re.compile(r"[0-9a-f]+")


def _no_bank(name: str) -> InputError:
    return InputError(f"there is no bank called {name!r} (see: shield bank show)")


# ----- reading and hashing files -------------------------------------------------------------


def check_readable(path: Path) -> None:
    """InputError (one line, no traceback) unless `path` is a file this process can read."""
    if not path.exists():
        raise InputError(f"cannot read {path}: it does not exist")
    if not path.is_file():
        raise InputError(f"cannot read {path}: it is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise InputError(f"cannot read {path}: permission denied")


def _too_large(path: Path, size: int, cap: int) -> MediaHashes:
    """Exact hashes of a file too large to decode, streamed so it never sits in memory."""
    from bot.media.hashing import MediaHashes

    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
        chunk = head
        while chunk:
            md5.update(chunk)
            sha256.update(chunk)
            chunk = fh.read(READ_CHUNK)
    return MediaHashes(
        kind=sniff(head),
        md5=md5.hexdigest(),
        sha256=sha256.hexdigest(),
        size=size,
        unscannable=True,
        reason=f"too large to decode ({size} bytes, over fetch.max_bytes = {cap}): "
        "only its MD5 and SHA-256 are checked",
    )


def hash_file(path: str | os.PathLike[str], settings: Settings) -> MediaHashes:
    """Every hash of a local file, hashed in this process; files over fetch.max_bytes get their
    exact hashes only."""
    from bot.media.hashing import hash_media

    file = Path(path)
    check_readable(file)
    try:
        size = file.stat().st_size
        cap = settings.fetch.max_bytes
        if size > cap:
            return _too_large(file, size, cap)
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    return hash_media(data, settings.media)


# ----- banks and entries ---------------------------------------------------------------------


def ensure_bank(
    repo: BankRepo,
    audit: AuditRepo,
    name: str,
    *,
    tier: Tier | None,
    actor: str,
    pdq_distance: int | None = None,
    phash_distance: int | None = None,
) -> BankInfo:
    """The bank, created (tier block unless given) if new; distances given are applied."""
    existing = repo.get(name)
    if existing is not None and tier is not None and tier is not existing.tier:
        raise InputError(
            f"bank {existing.name} is a {existing.tier.value} bank, not {tier.value}: "
            "use another bank for another tier"
        )
    info, created = repo.ensure(
        name,
        tier or Tier.BLOCK,
        created_by=actor,
        pdq_distance=pdq_distance,
        phash_distance=phash_distance,
    )
    if created:
        audit.record(actor, "bank.create", info.name, detail={"tier": info.tier.value})
    elif pdq_distance is not None or phash_distance is not None:
        repo.set_thresholds(info.id, pdq_distance=pdq_distance, phash_distance=phash_distance)
        audit.record(
            actor,
            "bank.thresholds",
            info.name,
            detail={"pdq_distance": pdq_distance, "phash_distance": phash_distance},
        )
        info = repo.get(info.name) or info
    return info


@dataclass(frozen=True, slots=True)
class BankedFile:
    """What `bank add` kept of one file."""

    name: str
    kind: str | None
    frames: int  # distinct frames whose hashes were stored
    added: int
    existing: int
    low_quality: int  # frame hashes skipped: too flat for PDQ to be trusted
    reason: str | None  # why no picture hashes were stored, if none were

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "kind": self.kind,
            "frames": self.frames,
            "added": self.added,
            "existing": self.existing,
            "low_quality": self.low_quality,
            "reason": self.reason,
        }


@dataclass(slots=True)
class AddReport:
    bank: str
    tier: str
    after_id: int
    files: list[BankedFile] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "tier": self.tier,
            "added": sum(f.added for f in self.files),
            "existing": sum(f.existing for f in self.files),
            "files": [f.to_dict() for f in self.files],
        }


def entries_for(hashes: MediaHashes, item: str, min_quality: int) -> tuple[list[NewBankEntry], int]:
    """The entries that stand for one file: MD5, SHA-256, and PDQ and pHash of each frame of
    enough quality (raw and trimmed); also how many frame hashes were too flat to keep."""
    entries = [
        NewBankEntry("md5", hashes.md5, item=item, source=SOURCE_ADD),
        NewBankEntry("sha256", hashes.sha256, item=item, source=SOURCE_ADD),
    ]
    low = 0
    for frame in hashes.frames:
        if frame.pdq_quality < min_quality:
            low += 1
            continue
        note = None if frame.variant == "raw" else f"{frame.variant} border"
        for kind, value in (("pdq", frame.pdq), ("phash", frame.phash)):
            entries.append(
                NewBankEntry(
                    kind,
                    value,
                    quality=frame.pdq_quality,
                    item=item,
                    frame=frame.index,
                    source=SOURCE_ADD,
                    note=note,
                )
            )
    return entries, low


def _item_name(path: Path) -> str:
    """The file's name (never its folder), printable, so exports and tables stay one line."""
    return "".join(c if c.isprintable() else "?" for c in path.name)


def add_files(
    repo: BankRepo,
    audit: AuditRepo,
    paths: Iterable[str | os.PathLike[str]],
    *,
    bank: str,
    tier: Tier | None,
    actor: str,
    settings: Settings,
    pdq_distance: int | None = None,
    phash_distance: int | None = None,
) -> AddReport:
    """Hash local files into a bank (the streamer's private vault): hashes only, never media."""
    files = [Path(p) for p in paths]
    for file in files:  # every file checked before anything is stored
        check_readable(file)
    info = ensure_bank(
        repo,
        audit,
        bank,
        tier=tier,
        actor=actor,
        pdq_distance=pdq_distance,
        phash_distance=phash_distance,
    )
    report = AddReport(bank=info.name, tier=info.tier.value, after_id=repo.max_entry_id())
    for file in files:
        hashes = hash_file(file, settings)
        entries, low = entries_for(hashes, _item_name(file), settings.matching.pdq_min_quality)
        added, existing = repo.add_entries(info.id, entries, added_by=actor)
        frames = len({e.frame for e in entries if e.frame is not None})
        reason = hashes.reason if hashes.unscannable else None
        if reason is None and not frames:
            reason = "every frame is too flat for PDQ (a blank picture): only exact hashes kept"
        report.files.append(
            BankedFile(_item_name(file), hashes.kind, frames, added, existing, low, reason)
        )
    audit.record(actor, "bank.add", info.name, detail=report.to_dict())
    return report


@dataclass(slots=True)
class ImportReport:
    bank: str
    format: str
    after_id: int
    added: int = 0
    existing: int = 0
    comments: int = 0
    duplicates: int = 0
    unsupported: int = 0
    bad_count: int = 0
    bad: list[BadLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "format": self.format,
            "added": self.added,
            "existing": self.existing,
            "comments": self.comments,
            "duplicates": self.duplicates,
            "unsupported": self.unsupported,
            "bad_count": self.bad_count,
            "bad_lines": [{"line": b.line, "text": b.text, "reason": b.reason} for b in self.bad],
        }


def _read_lines(path: Path) -> Iterator[str]:
    """The file's lines; undecodable bytes become U+FFFD so that line is reported bad."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline=None) as fh:
        yield from fh


def import_file(
    repo: BankRepo,
    audit: AuditRepo,
    path: str | os.PathLike[str],
    *,
    bank: str,
    tier: Tier | None,
    fmt: str,
    actor: str,
    pdq_distance: int | None = None,
    phash_distance: int | None = None,
) -> ImportReport:
    """Import a hash list into a bank; bad lines are reported, and importing twice adds nothing."""
    file = Path(path)
    check_readable(file)
    try:
        parsed = parse_lines(_read_lines(file), fmt)
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"cannot import {file}: {exc}") from None
    info = ensure_bank(
        repo,
        audit,
        bank,
        tier=tier,
        actor=actor,
        pdq_distance=pdq_distance,
        phash_distance=phash_distance,
    )
    after_id = repo.max_entry_id()
    source = f"imported from {_item_name(file)}"
    entries = (e if e.source else replace(e, source=source) for e in parsed.entries)
    added, existing = repo.add_entries(info.id, entries, added_by=actor)
    report = ImportReport(
        bank=info.name,
        format=parsed.format,
        after_id=after_id,
        added=added,
        existing=existing,
        comments=parsed.comments,
        duplicates=parsed.duplicates,
        unsupported=parsed.unsupported,
        bad_count=parsed.bad_count,
        bad=parsed.bad,
    )
    detail = {k: v for k, v in report.to_dict().items() if k != "bad_lines"}
    audit.record(actor, "bank.import", info.name, detail={"file": _item_name(file), **detail})
    return report


def export(repo: BankRepo, out: TextIO, *, bank: str | None = None) -> int:
    """Write a bank (or every bank) as CSV, disabled entries included; returns the row count."""
    bank_id = None
    if bank is not None:
        info = repo.get(bank)
        if info is None:
            raise _no_bank(bank)
        bank_id = info.id
    return write_csv(repo.entries(bank_id), out)


def parse_entry_ref(text: str) -> int | str:
    """An entry id (digits) or a hash value (canonical hex); InputError says which it must be."""
    value = text.strip().lower()
    if value.isdigit() and len(value) not in _HASH_LENGTHS:
        return int(value)
    if len(value) in _HASH_LENGTHS and _HEX.fullmatch(value):
        return value
    widths = ", ".join(f"{s.hex_chars()} for {s.name}" for s in SIGNAL_TYPES)
    raise InputError(
        f"{text!r} is neither an entry id nor a hash: give an id from `shield bank show NAME`, "
        f"or a hash in hex digits 0-9a-f ({widths})"
    )


def set_entries_enabled(
    repo: BankRepo,
    audit: AuditRepo,
    refs: Iterable[str],
    *,
    enabled: bool,
    actor: str,
    bank: str | None = None,
) -> list[BankEntry]:
    """Turn entries (by id or hash value) on or off without deleting them; returns them all.

    A long-lived matcher then calls `remove(entries)` or `add(entries)`.
    """
    bank_id = None
    if bank is not None:
        info = repo.get(bank)
        if info is None:
            raise _no_bank(bank)
        bank_id = info.id
    found: list[BankEntry] = []
    for text in refs:
        entries = repo.find(parse_entry_ref(text), bank_id=bank_id)
        if not entries:
            where = f" in bank {bank}" if bank else ""
            raise InputError(f"no bank entry {text.strip()}{where} (see: shield bank show NAME)")
        found.extend(entries)
    repo.set_entries_enabled((e.id for e in found), enabled)
    action = "bank.entry-enable" if enabled else "bank.entry-disable"
    for entry in found:
        detail = {"id": entry.id, "signal_type": entry.signal_type, "value": entry.signal_value}
        audit.record(actor, action, entry.bank, detail=detail)
    return found


def set_bank_enabled(
    repo: BankRepo, audit: AuditRepo, name: str, *, enabled: bool, actor: str
) -> BankInfo:
    """Stop (or resume) using a whole bank, keeping its entries."""
    info = repo.get(name)
    if info is None:
        raise _no_bank(name)
    repo.set_enabled(info.id, enabled)
    audit.record(actor, "bank.enable" if enabled else "bank.disable", info.name)
    return repo.get(info.name) or info


# ----- scanning ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanResult:
    """A verdict for one file or link, and why it could not be (fully) scanned, if so."""

    verdict: Verdict
    hashes: MediaHashes | None  # None when a link could not be downloaded
    reason: str | None = None

    @property
    def label(self) -> str:
        """The verdict, or "unscannable" when nothing matched and the media could not be read."""
        if self.reason is not None and not self.verdict.findings:
            return "unscannable"
        return self.verdict.verdict

    def to_dict(self) -> dict[str, Any]:
        """The JSON of `shield check`, plus the reason when the media could not be scanned."""
        out = {**self.verdict.to_dict(), "verdict": self.label}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.hashes is not None and self.hashes.notes:
            out["notes"] = list(self.hashes.notes)
        return out


def is_url(target: str) -> bool:
    return bool(_URL.match(target))


async def fetch_media(url: str, settings: FetchSettings) -> tuple[bytes | None, str | None]:
    """The media behind a link (SSRF-safe), or None and the reason it was not downloaded."""
    from bot.media.fetch import SafeFetcher

    async with SafeFetcher(settings) as fetcher:
        result = await fetcher.fetch(url)
    return (result.data, None) if result.ok else (None, result.reason)


def scan(target: str, settings: Settings, matcher: MediaMatcher) -> ScanResult:
    """Hash a local file or a link's media (in this process) and match it against the banks."""
    from bot.media.hashing import hash_media

    if is_url(target):
        data, reason = asyncio.run(fetch_media(target, settings.fetch))
        if data is None:
            return ScanResult(Verdict(), None, reason or "could not download")
        hashes = hash_media(data, settings.media)
    else:
        hashes = hash_file(target, settings)
    verdict = matcher.match(hashes)
    return ScanResult(verdict, hashes, hashes.reason if hashes.unscannable else None)
