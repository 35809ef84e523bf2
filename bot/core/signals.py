"""Hash signal types: one class per kind of hash, each with a canonical string form and a distance.

Hashes travel as lowercase hex strings everywhere (storage, the wire, logs); `validate` is the
door every hash passes through. Distances are Hamming distances computed on Python integers
(`int.bit_count` of the XOR), never on `ImageHash` objects.

Adding a signal type: (1) subclass `HashSignal` with a unique `name`, `bits` and `examples`,
(2) add it to `SIGNAL_TYPES`, (3) add its examples to tests/core/test_signals.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

_HEX_DIGITS: Final = frozenset("0123456789abcdef")


class HashSignal:
    """A fixed-width hash written as lowercase hex; subclasses set the name and the width."""

    name: ClassVar[str]
    bits: ClassVar[int]  # width of the hash in bits
    exact: ClassVar[bool] = False  # True: only identical hashes match (cryptographic digests)
    examples: ClassVar[tuple[str, ...]] = ()  # valid values in canonical form, for tests

    @classmethod
    def hex_chars(cls) -> int:
        """How many hex digits a hash of this type has."""
        return cls.bits // 4

    @classmethod
    def validate(cls, value: str) -> str:
        """The canonical form (lowercase hex, no spaces around), or ValueError saying why not."""
        if not isinstance(value, str):
            raise ValueError(f"{cls.name} hash must be text, not {type(value).__name__}")
        text = value.strip().lower()
        if len(text) != cls.hex_chars():
            raise ValueError(
                f"{cls.name} hash must be {cls.hex_chars()} hex digits ({cls.bits} bits), "
                f"got {len(text)} characters"
            )
        for position, char in enumerate(text):
            if char not in _HEX_DIGITS:
                raise ValueError(
                    f"{cls.name} hash must be hexadecimal (0-9, a-f): "
                    f"{char!r} at position {position + 1} is not"
                )
        return text

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        """Hamming distance: the number of bits that differ between two valid hashes."""
        return (int(cls.validate(a), 16) ^ int(cls.validate(b), 16)).bit_count()


class PdqSignal(HashSignal):
    """Meta's PDQ perceptual hash of an image or a video frame; matches at distance <= 31."""

    name = "pdq"
    bits = 256
    examples = (
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    )


class PhashSignal(HashSignal):
    """imagehash's DCT perceptual hash at hash_size=8; weaker than PDQ, for review only."""

    name = "phash"
    bits = 64
    examples = ("d1d1f1e0e4a4b0b1", "0000000000000000", "ffffffffffffffff")


class Md5Signal(HashSignal):
    """MD5 of the file's bytes: what ThreatExchange shares for video; exact match only."""

    name = "md5"
    bits = 128
    exact = True
    examples = ("d41d8cd98f00b204e9800998ecf8427e", "9e107d9d372bb6826bd81d3542a419d6")


class Sha256Signal(HashSignal):
    """SHA-256 of the file's bytes; exact match only."""

    name = "sha256"
    bits = 256
    exact = True
    examples = (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
    )


SIGNAL_TYPES: Final[tuple[type[HashSignal], ...]] = (
    PdqSignal,
    PhashSignal,
    Md5Signal,
    Sha256Signal,
)

_BY_NAME: Final = {signal.name: signal for signal in SIGNAL_TYPES}


def signal_type(name: str) -> type[HashSignal]:
    """The signal type called `name` (case-insensitive), or ValueError listing the known ones."""
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        known = ", ".join(_BY_NAME)
        raise ValueError(f"unknown signal type {name!r}: use one of {known}") from None


# Videos have no hash of their own: each sampled frame is a PDQ signal with its time, the way
# Meta's vPDQ works, and a video matches a bank video when enough frames match.
VIDEO_FRAME_SIGNAL: Final = PdqSignal


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One sampled frame of a video: its PDQ hash and when it is shown."""

    pdq: str  # canonical PDQ hex
    timestamp: float  # seconds from the start of the video

    def __post_init__(self) -> None:
        object.__setattr__(self, "pdq", VIDEO_FRAME_SIGNAL.validate(self.pdq))
        if not self.timestamp >= 0:  # also rejects NaN
            raise ValueError(f"video frame timestamp must be >= 0 seconds, not {self.timestamp}")
