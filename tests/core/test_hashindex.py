"""HammingIndex answers exactly what a brute-force Python reference answers, however it is built."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from bot.core import hashindex
from bot.core.hashindex import HammingIndex

BITS = (64, 256)  # pHash and PDQ sizes
SMALL_BLOCKS = (3, 64, hashindex._BLOCK_ROWS)  # rows per scan block: several blocks, and one


def to_hex(value: int, bits: int) -> str:
    """A hash as Shield stores it: lowercase, zero-padded hex."""
    return f"{value:0{bits // 4}x}"


def reference(entries: dict[int, int], query: int, limit: int) -> list[tuple[int, int]]:
    """Every (id, distance) within limit, nearest first then by id, by a plain Python loop."""
    pairs = [(i, (h ^ query).bit_count()) for i, h in entries.items()]
    return sorted(((i, d) for i, d in pairs if d <= limit), key=lambda p: (p[1], p[0]))


def reference_nearest(entries: dict[int, int], query: int) -> tuple[int, int] | None:
    """The closest (id, distance), smallest id on a tie, or None when empty."""
    pairs = [(i, (h ^ query).bit_count()) for i, h in entries.items()]
    return min(pairs, key=lambda p: (p[1], p[0])) if pairs else None


def flip(value: int, bits: int, count: int, rng: random.Random) -> int:
    """value with `count` distinct random bits flipped."""
    for bit in rng.sample(range(bits), count):
        value ^= 1 << bit
    return value


def clustered(bits: int, n: int, centres: int, spread: int, rng: random.Random) -> list[int]:
    """n hashes around a few centres, so every threshold has entries on both sides of it."""
    middles = [rng.getrandbits(bits) for _ in range(centres)]
    spread = min(spread, bits)
    return [flip(rng.choice(middles), bits, rng.randint(0, spread), rng) for _ in range(n)]


@contextmanager
def block_rows(rows: int) -> Iterator[None]:
    """Scan in blocks of `rows`, so small tests cross block boundaries like a large bank does."""
    saved = hashindex._BLOCK_ROWS
    hashindex._BLOCK_ROWS = rows  # type: ignore[misc]
    try:
        yield
    finally:
        hashindex._BLOCK_ROWS = saved  # type: ignore[misc]


def build(bits: int, hashes: dict[int, int]) -> HammingIndex:
    """An index loaded in bulk from a dict of id -> hash."""
    index = HammingIndex(bits)
    index.add_many(list(hashes), [to_hex(h, bits) for h in hashes.values()])
    return index


scenario = st.fixed_dictionaries(
    {
        "bits": st.sampled_from(BITS),
        "n": st.integers(0, 300),
        "centres": st.integers(1, 4),
        "spread": st.integers(0, 80),
        "block": st.sampled_from(SMALL_BLOCKS),
        "seed": st.integers(0, 2**32 - 1),
    }
)


@settings(max_examples=150, deadline=None)
@given(scenario, st.data())
def test_search_equals_brute_force(case: dict[str, int], data: st.DataObject) -> None:
    bits, rng = case["bits"], random.Random(case["seed"])
    values = clustered(bits, case["n"], case["centres"], case["spread"], rng)
    entries = {rng.randrange(-(2**63), 2**63): h for h in values}
    index = build(bits, entries)
    limit = data.draw(st.integers(0, bits + 5), label="max_distance")
    near = rng.choice(values) if values else 0
    queries = [flip(near, bits, rng.randint(0, bits // 4), rng), rng.getrandbits(bits), near]
    with block_rows(case["block"]):
        for query in queries:
            assert index.search(to_hex(query, bits), limit) == reference(entries, query, limit)
    assert len(index) == len(entries)


@settings(max_examples=100, deadline=None)
@given(scenario, st.integers(1, 8), st.integers(0, 70))
def test_search_many_is_the_minimum_over_queries(
    case: dict[str, int], count: int, limit: int
) -> None:
    bits, rng = case["bits"], random.Random(case["seed"])
    values = clustered(bits, case["n"], case["centres"], case["spread"], rng)
    entries = dict(enumerate(values))
    index = build(bits, entries)
    near = rng.choice(values) if values else 0
    queries = [flip(near, bits, rng.randint(0, bits // 4), rng) for _ in range(count)]
    best: dict[int, int] = {}
    for query in queries:
        for i, d in reference(entries, query, limit):
            best[i] = min(d, best.get(i, d))
    expected = sorted(best.items(), key=lambda p: (p[1], p[0]))
    with block_rows(case["block"]):
        assert index.search_many([to_hex(q, bits) for q in queries], limit) == expected


@settings(max_examples=100, deadline=None)
@given(scenario)
def test_nearest_equals_brute_force(case: dict[str, int]) -> None:
    bits, rng = case["bits"], random.Random(case["seed"])
    values = clustered(bits, case["n"], case["centres"], case["spread"], rng)
    entries = {rng.randrange(-1000, 1000): h for h in values}  # small ids: ties are likely
    index = build(bits, entries)
    near = rng.choice(values) if values else 0
    with block_rows(case["block"]):
        for query in (near, flip(near, bits, bits // 16, rng), rng.getrandbits(bits)):
            assert index.nearest(to_hex(query, bits)) == reference_nearest(entries, query)


@pytest.mark.parametrize("bits", [128, 192, 512])
def test_other_widths_equal_brute_force(bits: int) -> None:
    rng = random.Random(bits)
    entries = dict(enumerate(clustered(bits, 400, 3, bits // 3, rng)))
    index = build(bits, entries)
    with block_rows(64):
        for limit in (0, bits // 8, bits // 5, bits // 2, bits):
            for probe in (entries[0], entries[7], rng.getrandbits(bits)):
                got = index.search(to_hex(probe, bits), limit)
                assert got == reference(entries, probe, limit)
            assert index.nearest(to_hex(probe, bits)) == reference_nearest(entries, probe)


@pytest.mark.parametrize("bits", BITS)
def test_nearest_beyond_any_threshold(bits: int) -> None:
    index = HammingIndex(bits)
    index.add(7, to_hex(0, bits))
    index.add(3, to_hex((1 << bits) - 1, bits))  # every bit differs from entry 7
    almost_all = (1 << bits) - 1 - 1  # one bit from entry 3, bits - 1 from entry 7
    assert index.nearest(to_hex(almost_all, bits)) == (3, 1)
    assert index.nearest(to_hex(1 << (bits // 2), bits)) == (7, 1)
    assert index.search(to_hex(0, bits), bits) == [(7, 0), (3, bits)]


@pytest.mark.parametrize("bits", BITS)
def test_nearest_skips_removed_entries_on_ties(bits: int) -> None:
    index = HammingIndex(bits)
    index.add_many([1, 2, 3], [to_hex(v, bits) for v in (0b11, 0b11, 0b111)])
    far = to_hex((1 << bits) - 1, bits)  # beyond every threshold from all three
    assert index.nearest(far) == (3, bits - 3)
    index.remove(3)
    assert index.nearest(far) == (1, bits - 2)  # a tie: the smaller id
    index.remove(1)
    assert index.nearest(far) == (2, bits - 2)
    index.remove(2)
    assert index.nearest(far) is None


@pytest.mark.parametrize("bits", BITS)
def test_add_after_build_is_found(bits: int) -> None:
    rng = random.Random(1)
    values = clustered(bits, 500, 3, bits // 4, rng)
    entries = dict(enumerate(values))
    index = build(bits, entries)
    for i in range(500, 800):  # a moderator adding hashes one by one
        entries[i] = flip(values[i % 7], bits, rng.randint(0, 12), rng)
        index.add(i, to_hex(entries[i], bits))
    more = {i: flip(values[3], bits, 5, rng) for i in range(-50, 0)}  # ids below the built ones
    index.add_many(list(more), [to_hex(h, bits) for h in more.values()])
    entries.update(more)
    with block_rows(64):
        for probe in (values[0], values[3], values[7], rng.getrandbits(bits)):
            limit = bits // 8
            assert index.search(to_hex(probe, bits), limit) == reference(entries, probe, limit)
    assert len(index) == len(entries) == 850


@pytest.mark.parametrize("bits", BITS)
def test_adding_an_id_again_replaces_its_hash(bits: int) -> None:
    index = HammingIndex(bits)
    index.add_many([5, 9], [to_hex(0, bits), to_hex(1, bits)])
    index.add(5, to_hex(0xFF, bits))
    assert len(index) == 2
    assert index.search(to_hex(0, bits), 0) == []
    assert index.search(to_hex(0xFF, bits), 0) == [(5, 0)]
    index.add_many([9, 11, 9], [to_hex(2, bits), to_hex(3, bits), to_hex(0xF0, bits)])
    assert len(index) == 3  # within one call the last hash for an id wins, as with add()
    assert index.search(to_hex(0xF0, bits), 0) == [(9, 0)]
    assert index.search(to_hex(3, bits), 0) == [(11, 0)]
    assert index.search(to_hex(1, bits), 0) == []


@pytest.mark.parametrize("bits", BITS)
def test_remove(bits: int) -> None:
    index = HammingIndex(bits)
    index.add_many([1, 2, 3], [to_hex(0, bits), to_hex(1, bits), to_hex(3, bits)])
    index.remove(2)
    assert 2 not in index
    assert 1 in index
    assert len(index) == 2
    assert index.search(to_hex(1, bits), 2) == [(1, 1), (3, 1)]
    with pytest.raises(KeyError):
        index.remove(2)
    with pytest.raises(KeyError):
        index.remove(99)
    index.add(2, to_hex(1, bits))  # back again after removal
    assert index.search(to_hex(1, bits), 0) == [(2, 0)]


def test_removals_compact_the_arrays() -> None:
    rng = random.Random(2)
    values = clustered(256, 4000, 2, 40, rng)
    entries = dict(enumerate(values))
    index = build(256, entries)
    full = index.nbytes
    for i in range(0, 4000, 2):
        index.remove(i)
        del entries[i]
    assert len(index) == 2000
    assert index.nbytes < full * 0.75  # compacted at least once on the way
    with block_rows(100):
        for probe in values[:20]:
            assert index.search(to_hex(probe, 256), 40) == reference(entries, probe, 40)
    index.compact()
    assert index.nbytes == 2000 * (32 + 8 + 1)


def test_memory_is_the_hashes_plus_ids() -> None:
    n = 100_000
    rng = np.random.default_rng(3)
    text = rng.integers(0, 256, size=n * 32, dtype=np.uint8).tobytes().hex()
    index = HammingIndex(256)
    index.add_many(range(n), [text[i * 64 : (i + 1) * 64] for i in range(n)])
    assert index.nbytes == n * (32 + 8 + 1)  # 32 B hash, 8 B id, 1 B tombstone flag


@pytest.mark.parametrize("bits", BITS)
def test_empty_index(bits: int) -> None:
    index = HammingIndex(bits)
    query = to_hex(0, bits)
    assert len(index) == 0
    assert index.search(query, bits) == []
    assert index.search_many([query, query], bits) == []
    assert index.search_many([], 10) == []
    assert index.nearest(query) is None
    assert 0 not in index
    index.add_many([], [])
    assert len(index) == 0
    index.add(1, query)
    index.remove(1)
    assert index.search(query, bits) == []
    assert index.nearest(query) is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("abc", "is 64 hex digits, got 3"),
        ("0" * 65, "is 64 hex digits, got 65"),
        ("", "is 64 hex digits, got 0"),
        ("0x" + "0" * 62, r"hex digits \(0-9, a-f\) only"),
        ("g" * 64, r"hex digits \(0-9, a-f\) only"),
        ("0" * 62 + " 1", r"hex digits \(0-9, a-f\) only"),
        ("é" * 64, r"hex digits \(0-9, a-f\) only"),
    ],
)
def test_invalid_hex_is_a_value_error(bad: str, message: str) -> None:
    index = HammingIndex(256)
    index.add(1, "0" * 64)
    with pytest.raises(ValueError, match=message):
        index.add(2, bad)
    with pytest.raises(ValueError, match=message):
        index.add_many([2, 3], ["1" * 64, bad])
    with pytest.raises(ValueError, match=message):
        index.search(bad, 31)
    with pytest.raises(ValueError, match=message):
        index.search_many(["1" * 64, bad], 31)
    with pytest.raises(ValueError, match=message):
        index.nearest(bad)
    assert len(index) == 1  # a failed bulk load adds nothing


def test_hex_case_does_not_matter() -> None:
    index = HammingIndex(64)
    index.add(1, "ABCDEF0123456789")
    assert index.search("abcdef0123456789", 0) == [(1, 0)]


def test_wrong_types_and_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="multiple of 64"):
        HammingIndex(100)
    with pytest.raises(ValueError, match="multiple of 64"):
        HammingIndex(0)
    with pytest.raises(TypeError, match="bits must be an int"):
        HammingIndex(256.0)  # type: ignore[arg-type]
    index = HammingIndex(64)
    with pytest.raises(TypeError, match="hex str"):
        index.add(1, b"0" * 16)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="id must be an int"):
        index.add(True, "0" * 16)
    with pytest.raises(TypeError, match="id must be an int"):
        index.add_many([1, 2.5], ["0" * 16] * 2)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="64 signed bits"):
        index.add(2**63, "0" * 16)
    with pytest.raises(ValueError, match="64 signed bits"):
        index.add_many([1, 2**64 + 1], ["0" * 16] * 2)
    with pytest.raises(ValueError, match="got 1 ids for 2 hashes"):
        index.add_many([1], ["0" * 16] * 2)
    with pytest.raises(ValueError, match="max_distance must be >= 0"):
        index.search("0" * 16, -1)
    with pytest.raises(TypeError, match="list of hex strings"):
        index.search_many("0" * 16, 3)  # type: ignore[arg-type]
    assert len(index) == 0


def test_small_api() -> None:
    index = HammingIndex(256)
    index.add(4, "ab" * 32)
    assert index.bits == 256
    assert repr(index) == "HammingIndex(bits=256, entries=1)"
    assert 4 in index
    assert "4" not in index
    assert True not in index  # a bool is not an id
    with pytest.raises(TypeError, match="max_distance must be an int"):
        index.search("ab" * 32, 3.5)  # type: ignore[arg-type]


def test_extreme_ids_and_numpy_inputs() -> None:
    index = HammingIndex(64)
    lowest, highest = -(2**63), 2**63 - 1
    index.add_many(np.array([highest, lowest], dtype=np.int64), ["0" * 16, "f" * 16])
    index.add(np.int64(5), "0" * 15 + "1")  # type: ignore[arg-type]
    assert index.search("0" * 16, np.int64(1)) == [(highest, 0), (5, 1)]  # type: ignore[arg-type]
    assert index.nearest("f" * 16) == (lowest, 0)
    index.add_many(np.array([6, 7], dtype=object), ["1" * 16, "2" * 16])
    index.add_many(np.array([8, 9], dtype=np.uint64), ["3" * 16, "4" * 16])
    index.add_many(range(10, 12), ["5" * 16, "6" * 16])
    assert [i for i, _ in index.search("0" * 16, 64)] == [highest, 5, 6, 7, 9, 8, 10, 11, lowest]
    with pytest.raises(ValueError, match="got 9223372036854775808"):  # numpy makes this float64
        index.add_many([1, 2**63], ["0" * 16] * 2)
    with pytest.raises(ValueError, match="got 9223372036854775808"):
        index.add_many(range(2**63 - 1, 2**63 + 1), ["0" * 16] * 2)
    for nested in ([[1], [2]], [[1], [2, 3]]):
        with pytest.raises(TypeError, match=r"got \[1\]"):
            index.add_many(nested, ["0" * 16] * 2)  # type: ignore[arg-type]
    assert len(index) == 9


class IndexModel(RuleBasedStateMachine):
    """Any mix of adds, bulk loads, removals and searches agrees with a plain dict."""

    ids = Bundle("ids")

    def __init__(self) -> None:
        super().__init__()
        self.bits = 256
        self.rng = random.Random(0)
        self.centre = self.rng.getrandbits(self.bits)
        self.index = HammingIndex(self.bits)
        self.entries: dict[int, int] = {}

    def _near(self, spread: int) -> int:
        return flip(self.centre, self.bits, spread, self.rng)

    @rule(target=ids, id=st.integers(-5, 60), spread=st.integers(0, 60))
    def add(self, id: int, spread: int) -> int:
        value = self._near(spread)
        self.index.add(id, to_hex(value, self.bits))
        self.entries[id] = value
        return id

    @rule(new=st.lists(st.tuples(st.integers(-5, 60), st.integers(0, 60)), max_size=20))
    def add_many(self, new: list[tuple[int, int]]) -> None:
        values = [(i, self._near(s)) for i, s in new]
        self.index.add_many([i for i, _ in values], [to_hex(v, self.bits) for _, v in values])
        self.entries.update(values)

    @rule(id=consumes(ids))
    def remove(self, id: int) -> None:
        if id in self.entries:
            self.index.remove(id)
            del self.entries[id]
        else:
            with pytest.raises(KeyError):
                self.index.remove(id)

    @precondition(lambda self: len(self.entries) > 0)
    @rule()
    def compact(self) -> None:
        self.index.compact()

    @rule(spread=st.integers(0, 90), limit=st.integers(0, 80))
    def search(self, spread: int, limit: int) -> None:
        query = self._near(spread)
        got = self.index.search(to_hex(query, self.bits), limit)
        assert got == reference(self.entries, query, limit)

    @rule(spread=st.integers(0, 120))
    def nearest(self, spread: int) -> None:
        query = self._near(spread)
        got = self.index.nearest(to_hex(query, self.bits))
        assert got == reference_nearest(self.entries, query)

    @invariant()
    def size(self) -> None:
        assert len(self.index) == len(self.entries)


TestIndexModel = IndexModel.TestCase
TestIndexModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
