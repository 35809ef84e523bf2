"""What matched (findings) and what it means (the verdict), kept apart from what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Tier(StrEnum):
    """What a list, bank or entry asks for when it matches."""

    BLOCK = "block"  # delete (or refuse) and alert the moderators
    REVIEW = "review"  # hold for a moderator's decision; never deleted on this alone
    ALLOW = "allow"  # known good: suppresses block and review findings for the same thing

    @classmethod
    def parse(cls, text: str) -> Tier:
        """Accept the names people use: `flag` and `hold` mean review, `deny` means block."""
        value = text.strip().lower()
        value = {"flag": "review", "hold": "review", "deny": "block", "allow-list": "allow"}.get(
            value, value
        )
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown tier {text!r}: use block, review or allow") from None


# Merge law: the verdict is the most severe finding; block > review > allow (nothing found).
_SEVERITY = {Tier.ALLOW: 0, Tier.REVIEW: 1, Tier.BLOCK: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One signal in the input that matched one rule of one list or bank."""

    signal: str  # kind of signal: domain, path, keyword, lookalike, ip, pdq, phash, md5...
    value: str  # what was seen, in canonical form (a host, a URL, a hash)
    matched: str  # the rule or entry it matched
    source: str  # name of the list or bank that holds the rule
    tier: Tier
    source_kind: str = "list"  # "list" or "bank": the key under which `source` is reported
    distance: int | None = None  # for hashes: Hamming distance to the entry
    note: str | None = None  # a short explanation for moderators

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "signal": self.signal,
            "value": self.value,
            "matched": self.matched,
            self.source_kind: self.source,
            "tier": self.tier.value,
        }
        if self.distance is not None:
            out["distance"] = self.distance
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Verdict:
    """The core's answer for one input: the findings, and the most severe tier among them."""

    findings: tuple[Finding, ...] = ()
    # Findings suppressed by an allow-list, kept so moderators can see why nothing happened.
    allowed: tuple[Finding, ...] = field(default=())

    @property
    def tier(self) -> Tier:
        worst = Tier.ALLOW
        for finding in self.findings:
            if _SEVERITY[finding.tier] > _SEVERITY[worst]:
                worst = finding.tier
        return worst

    @property
    def verdict(self) -> str:
        return self.tier.value

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "findings": [f.to_dict() for f in self.findings]}

    def merged(self, other: Verdict) -> Verdict:
        """Both verdicts' findings, without duplicates, in order."""
        return Verdict(
            findings=tuple(dict.fromkeys(self.findings + other.findings)),
            allowed=tuple(dict.fromkeys(self.allowed + other.allowed)),
        )
