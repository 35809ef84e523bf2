"""Signal types: canonical hex forms, clear errors, Hamming distances, the registry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.signals import (
    SIGNAL_TYPES,
    HashSignal,
    Md5Signal,
    PdqSignal,
    PhashSignal,
    Sha256Signal,
    VideoFrame,
    signal_type,
)

PDQ_EXAMPLE = PdqSignal.examples[0]


@pytest.mark.parametrize("signal", SIGNAL_TYPES, ids=lambda s: s.name)
def test_examples_are_canonical(signal: type[HashSignal]) -> None:
    """Every example validates to itself and has the documented width."""
    assert signal.examples
    for example in signal.examples:
        assert signal.validate(example) == example
        assert len(example) * 4 == signal.bits


def test_registry_names_are_unique_and_found() -> None:
    """Each name maps to its class; lookup ignores case and spaces."""
    names = [s.name for s in SIGNAL_TYPES]
    assert names == ["pdq", "phash", "md5", "sha256"]
    assert signal_type(" PDQ ") is PdqSignal
    assert signal_type("md5") is Md5Signal
    assert Md5Signal.exact and Sha256Signal.exact and not PdqSignal.exact


def test_unknown_signal_type_names_the_known_ones() -> None:
    """A typo gets an error that lists the valid names."""
    with pytest.raises(ValueError, match="unknown signal type 'pqd': use one of pdq, phash"):
        signal_type("pqd")


def test_validate_normalises_case_and_space() -> None:
    """Upper-case hex with stray spaces becomes the canonical lowercase form."""
    assert PdqSignal.validate(f"  {PDQ_EXAMPLE.upper()}\n") == PDQ_EXAMPLE


@pytest.mark.parametrize(
    ("signal", "value", "message"),
    [
        (PdqSignal, PDQ_EXAMPLE[:-1], "must be 64 hex digits \\(256 bits\\), got 63"),
        (PhashSignal, "d1d1f1e0e4a4b0b1ff", "must be 16 hex digits \\(64 bits\\), got 18"),
        (PhashSignal, "d1d1f1e0e4a4b0bg", "'g' at position 16 is not"),
        (PhashSignal, "0x11f1e0e4a4b0b1", "'x' at position 2 is not"),
        (PhashSignal, "d1d1_1e0e4a4b0b1", "'_' at position 5"),  # int(..., 16) would accept it
        (PhashSignal, "+1d1f1e0e4a4b0b1", "'\\+' at position 1"),
        (Md5Signal, "", "got 0 characters"),
        (Sha256Signal, "é" * 64, "hexadecimal"),
    ],
)
def test_validate_explains_what_is_wrong(
    signal: type[HashSignal], value: str, message: str
) -> None:
    """Wrong length and non-hex characters are refused with the reason and position."""
    with pytest.raises(ValueError, match=message):
        signal.validate(value)


def test_validate_refuses_non_text() -> None:
    """Bytes and numbers are not hashes, however they look."""
    with pytest.raises(ValueError, match="must be text, not bytes"):
        PhashSignal.validate(b"d1d1f1e0e4a4b0b1")  # type: ignore[arg-type]


def test_distance_is_hamming() -> None:
    """Distance counts differing bits, and validates (and normalises) both sides."""
    assert PhashSignal.distance("0000000000000000", "ffffffffffffffff") == 64
    assert PhashSignal.distance("000000000000000f", "0000000000000001") == 3
    assert PdqSignal.distance(PDQ_EXAMPLE, PDQ_EXAMPLE.upper()) == 0
    with pytest.raises(ValueError, match="pdq hash must be 64"):
        PdqSignal.distance(PDQ_EXAMPLE, "abc")


@given(st.integers(min_value=0, max_value=2**256 - 1), st.integers(0, 2**256 - 1))
def test_hex_round_trip_and_metric(a: int, b: int) -> None:
    """Any 256-bit value survives hex form; distance is symmetric and matches a bit count."""
    ha, hb = f"{a:064x}", f"{b:064x}"
    assert int(PdqSignal.validate(ha.upper()), 16) == a
    assert PdqSignal.distance(ha, hb) == PdqSignal.distance(hb, ha) == bin(a ^ b).count("1")
    assert PdqSignal.distance(ha, ha) == 0


def test_video_frame_is_a_timed_pdq_hash() -> None:
    """A video frame holds a validated PDQ hash and a non-negative time."""
    frame = VideoFrame(PDQ_EXAMPLE.upper(), 1.5)
    assert frame.pdq == PDQ_EXAMPLE
    with pytest.raises(ValueError, match="pdq hash"):
        VideoFrame("abc", 0.0)
    with pytest.raises(ValueError, match="timestamp must be >= 0"):
        VideoFrame(PDQ_EXAMPLE, float("nan"))
