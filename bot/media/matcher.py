"""Match a file's hashes against the hash banks and say what the banks ask for (a Verdict).

PDQ is searched with all 8 dihedral variants of every frame of enough quality, raw and
border-trimmed; pHash corroborates (review) unless a bank sets its own pHash distance; MD5 and
SHA-256 match exactly. The indexes are derived from storage: `rebuild` at start, `add` and
`remove` on change. Only ids and hashes are held in memory; a hit is looked up in storage,
which also drops hits on entries disabled since the index was built.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from bot.core.hashindex import HammingIndex
from bot.core.signals import PdqSignal, PhashSignal
from bot.core.verdict import Finding, Tier, Verdict
from bot.media.hashing import DIHEDRAL_NAMES, FrameHash, MediaHashes
from bot.settings import MatchingSettings
from bot.storage.banks import BankEntry, BankInfo, BankRepo

log = logging.getLogger(__name__)

EXACT_SIGNALS: Final = ("md5", "sha256")
_SEVERITY: Final = {Tier.BLOCK: 0, Tier.REVIEW: 1, Tier.ALLOW: 2}  # sort order of findings


class _EntryLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def signal_type(self) -> str: ...
    @property
    def signal_value(self) -> str: ...


class _BankEntryRow(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def bank_id(self) -> int: ...
    @property
    def signal_type(self) -> str: ...
    @property
    def signal_value(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Hit:
    """One query hash within reach of one entry, before tiers are decided."""

    entry_id: int
    signal: str
    distance: int
    queries: tuple[str, ...]  # the query hashes searched (one, or 8 dihedral variants)
    frame: FrameHash | None = None  # None for whole-file hashes (MD5, SHA-256)


@dataclass(frozen=True, slots=True)
class Nearest:
    """The closest bank entry to any query hash of one signal type, however far (for tuning)."""

    signal: str
    value: str  # the query hash
    matched: str  # the entry's hash
    bank: str
    entry_id: int
    distance: int

    def to_dict(self) -> dict[str, object]:
        return {
            "signal": self.signal,
            "value": self.value,
            "matched": self.matched,
            "bank": self.bank,
            "entry": self.entry_id,
            "distance": self.distance,
        }


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def entry_tier(
    bank: BankInfo, signal: str, distance: int, settings: MatchingSettings
) -> Tier | None:
    """The tier a hit at `distance` gets from `bank`, or None when it is too far to count.

    Within the bank's own distance (default: the block distance for PDQ; pHash needs one set)
    the bank's tier; beyond it, up to the review distance, review. Allow banks have no review
    band: only a close match may suppress anything.
    """
    if signal in EXACT_SIGNALS:
        return bank.tier if distance == 0 else None
    if signal == PdqSignal.name:
        limit: int | None = (
            bank.pdq_distance if bank.pdq_distance is not None else settings.pdq_block_distance
        )
        review = settings.pdq_review_distance
    elif signal == PhashSignal.name:
        limit, review = bank.phash_distance, settings.phash_review_distance
    else:
        return None
    if limit is not None and distance <= limit:
        return bank.tier
    if bank.tier is not Tier.ALLOW and distance <= review:
        return Tier.REVIEW
    return None


class MediaMatcher:
    """Exact search of every enabled bank entry: a Hamming index per perceptual signal type and
    a dict per file hash. Not safe for a change concurrent with a match."""

    def __init__(self, repo: BankRepo, settings: MatchingSettings) -> None:
        self._repo = repo
        self._settings = settings
        self._pdq = HammingIndex(PdqSignal.bits)
        self._phash = HammingIndex(PhashSignal.bits)
        self._exact: dict[str, dict[str, list[int]]] = {name: {} for name in EXACT_SIGNALS}
        self._banks: dict[int, BankInfo] = {}

    @classmethod
    def from_repo(cls, repo: BankRepo, settings: MatchingSettings) -> MediaMatcher:
        """A matcher over every enabled entry of every enabled bank in storage."""
        matcher = cls(repo, settings)
        matcher.rebuild()
        return matcher

    def __len__(self) -> int:
        return (
            len(self._pdq)
            + len(self._phash)
            + sum(len(ids) for table in self._exact.values() for ids in table.values())
        )

    # ----- keeping the index in step with storage ----------------------------------------

    def rebuild(self) -> None:
        """Drop everything and load the enabled entries of the enabled banks again."""
        self._pdq = HammingIndex(PdqSignal.bits)
        self._phash = HammingIndex(PhashSignal.bits)
        self._exact = {name: {} for name in EXACT_SIGNALS}
        self._banks = {bank.id: bank for bank in self._repo.all()}
        self.add(self._repo.index_rows())
        log.info("media matcher loaded %d hashes from %d banks", len(self), len(self._banks))

    def refresh_banks(self) -> None:
        """Re-read bank tiers and thresholds; rebuild if a bank was turned on or off."""
        banks = {bank.id: bank for bank in self._repo.all()}
        enabled_before = {i for i, b in self._banks.items() if b.enabled}
        self._banks = banks
        if {i for i, b in banks.items() if b.enabled} != enabled_before:
            self.rebuild()

    def add(self, rows: Iterable[_BankEntryRow]) -> None:
        """Index entries (IndexRow or BankEntry), e.g. `BankRepo.index_rows(after=...)`."""
        perceptual: dict[str, tuple[list[int], list[str]]] = {
            PdqSignal.name: ([], []),
            PhashSignal.name: ([], []),
        }
        reloaded = False
        for row in rows:
            if row.bank_id not in self._banks and not reloaded:  # a bank created since
                self._banks = {bank.id: bank for bank in self._repo.all()}
                reloaded = True
            if row.signal_type in perceptual:
                ids, values = perceptual[row.signal_type]
                ids.append(row.id)
                values.append(row.signal_value)
            elif row.signal_type in self._exact:
                self._exact[row.signal_type].setdefault(row.signal_value, []).append(row.id)
        for signal, index in ((PdqSignal.name, self._pdq), (PhashSignal.name, self._phash)):
            ids, values = perceptual[signal]
            try:
                index.add_many(ids, values)
            except ValueError:  # a hash stored without validation: skip it, keep the rest
                for entry_id, value in zip(ids, values, strict=True):
                    try:
                        index.add(entry_id, value)
                    except ValueError as exc:
                        log.warning("bank entry %d not indexed: %s", entry_id, exc)

    def remove(self, entries: Iterable[_EntryLike]) -> None:
        """Stop matching these entries (disabled or deleted in storage)."""
        for entry in entries:
            if entry.signal_type == PdqSignal.name and entry.id in self._pdq:
                self._pdq.remove(entry.id)
            elif entry.signal_type == PhashSignal.name and entry.id in self._phash:
                self._phash.remove(entry.id)
            elif entry.signal_type in self._exact:
                table = self._exact[entry.signal_type]
                ids = table.get(entry.signal_value, [])
                if entry.id in ids:
                    ids.remove(entry.id)
                if not ids:
                    table.pop(entry.signal_value, None)

    # ----- matching ----------------------------------------------------------------------

    def _reach(self, signal: str) -> int:
        """The widest distance any bank can act on for this signal: the search threshold."""
        s = self._settings
        if signal == PdqSignal.name:
            own = [b.pdq_distance for b in self._banks.values() if b.pdq_distance is not None]
            return max([s.pdq_block_distance, s.pdq_review_distance, *own])
        own = [b.phash_distance for b in self._banks.values() if b.phash_distance is not None]
        return max([s.phash_review_distance, *own])

    def _frames(self, hashes: MediaHashes) -> list[FrameHash]:
        """Frames (raw and trimmed) whose PDQ quality is high enough to trust their hashes."""
        return [f for f in hashes.frames if f.pdq_quality >= self._settings.pdq_min_quality]

    def _hits(self, hashes: MediaHashes) -> list[_Hit]:
        hits: list[_Hit] = []
        for signal, value in ((EXACT_SIGNALS[0], hashes.md5), (EXACT_SIGNALS[1], hashes.sha256)):
            for entry_id in self._exact[signal].get(value, ()):
                hits.append(_Hit(entry_id, signal, 0, (value,)))
        frames = self._frames(hashes)
        if frames and len(self._pdq):
            reach = self._reach(PdqSignal.name)
            for frame in frames:
                queries = frame.dihedral or (frame.pdq,)
                for entry_id, distance in self._pdq.search_many(list(queries), reach):
                    hits.append(_Hit(entry_id, PdqSignal.name, distance, queries, frame))
        if frames and len(self._phash):
            reach = self._reach(PhashSignal.name)
            for frame in frames:
                for entry_id, distance in self._phash.search(frame.phash, reach):
                    hits.append(_Hit(entry_id, PhashSignal.name, distance, (frame.phash,), frame))
        return hits

    def match(self, hashes: MediaHashes) -> Verdict:
        """What the banks say about this file: block and review findings, and those an allow
        bank suppressed (an exact allow covers the whole file, a perceptual one its frame)."""
        hits = self._hits(hashes)
        if not hits:
            return Verdict()
        entries = self._repo.resolve(h.entry_id for h in hits)
        judged: list[tuple[_Hit, BankEntry, Tier]] = []
        for hit in hits:
            entry = entries.get(hit.entry_id)
            bank = self._banks.get(entry.bank_id) if entry else None
            if entry is None or bank is None:
                continue
            tier = entry_tier(bank, hit.signal, hit.distance, self._settings)
            if tier is not None:
                judged.append((hit, entry, tier))
        allow_banks: dict[int | None, str] = {}  # frame index (None: the whole file) -> bank
        for hit, entry, tier in judged:
            if tier is Tier.ALLOW:
                allow_banks.setdefault(hit.frame.index if hit.frame else None, entry.bank)

        def cover(hit: _Hit) -> str | None:
            """The allow bank that covers this hit: one for the whole file, or for its frame."""
            frame = hit.frame.index if hit.frame else None
            return allow_banks.get(None) or (allow_banks.get(frame) if frame is not None else None)

        best: dict[tuple[int, str | None], tuple[_Hit, BankEntry, Tier]] = {}
        for hit, entry, tier in judged:
            if tier is not Tier.ALLOW:
                key = (entry.id, cover(hit))
                if key not in best or hit.distance < best[key][0].distance:
                    best[key] = (hit, entry, tier)
        findings: list[Finding] = []
        allowed: list[Finding] = []
        for (_, allow_bank), (hit, entry, tier) in best.items():
            if allow_bank is None:
                findings.append(_finding(hit, entry, tier))
            else:
                allowed.append(_finding(hit, entry, tier, extra=f"allowed by bank {allow_bank}"))
        return Verdict(tuple(sorted(findings, key=_order)), tuple(sorted(allowed, key=_order)))

    def nearest(self, hashes: MediaHashes) -> list[Nearest]:
        """The closest entry per perceptual signal type, however far, for debugging thresholds."""
        out: list[Nearest] = []
        frames = self._frames(hashes) or list(hashes.frames)
        for signal, index in ((PdqSignal.name, self._pdq), (PhashSignal.name, self._phash)):
            best: tuple[int, int, str] | None = None  # distance, entry id, query
            for frame in frames:
                queries = (frame.dihedral or (frame.pdq,)) if index is self._pdq else (frame.phash,)
                for query in queries:
                    found = index.nearest(query)
                    if found is not None and (best is None or found[1] < best[0]):
                        best = (found[1], found[0], query)
            if best is None:
                continue
            entry = self._repo.resolve([best[1]]).get(best[1])
            if entry is not None:
                out.append(
                    Nearest(signal, best[2], entry.signal_value, entry.bank, entry.id, best[0])
                )
        return out


def _order(finding: Finding) -> tuple[int, int, str, str]:
    """Most severe first, then nearest."""
    return (_SEVERITY[finding.tier], finding.distance or 0, finding.source, finding.matched)


def _finding(hit: _Hit, entry: BankEntry, tier: Tier, *, extra: str | None = None) -> Finding:
    """A finding that names the query hash that came closest and how it was transformed."""
    value = min(hit.queries, key=lambda q: _distance(q, entry.signal_value))
    parts: list[str] = []
    if entry.item:
        parts.append(f"item {entry.item}" + (f" frame {entry.frame}" if entry.frame else ""))
    frame = hit.frame
    if frame is not None:
        if frame.timestamp is not None:
            parts.append(f"query frame {frame.index} at {frame.timestamp:g} s")
        elif frame.index:
            parts.append(f"query frame {frame.index}")
        if len(hit.queries) == len(DIHEDRAL_NAMES) and value != hit.queries[0]:
            parts.append(DIHEDRAL_NAMES[hit.queries.index(value)])
        if frame.variant != "raw":
            parts.append(f"{frame.variant} border")
    if hit.signal == PhashSignal.name and tier is Tier.REVIEW:
        parts.append("pHash: corroboration only")
    if extra:
        parts.append(extra)
    return Finding(
        signal=hit.signal,
        value=value,
        matched=entry.signal_value,
        source=entry.bank,
        tier=tier,
        source_kind="bank",
        distance=hit.distance,
        note="; ".join(parts) or None,
    )
