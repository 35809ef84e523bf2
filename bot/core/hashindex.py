"""Exact in-memory Hamming index for perceptual hashes (PDQ 256-bit, pHash 64-bit) with int ids.

Why a scan and not multi-index hashing: a multi-index needs one int32 permutation per 16-bit
substring (64 MB more per million PDQ hashes), while a pruned scan keeps memory at the hashes
themselves (41 bytes per entry with ids and tombstones) and takes about 1.5 ms per query over a
million PDQ hashes on an idle core (benchmarks/hash_index.py). The scan runs over cache-sized
blocks of a word-major matrix. For PDQ at thresholds up to 52 it first takes the distance over
the first 128 bits, a lower bound of the whole distance, so a row whose bound exceeds the
threshold cannot match (for random hashes 2 rows in 10^9 survive at 31 bits, 2 in 100 at 52);
only survivors are scored in full. Nothing is approximated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = ["HammingIndex"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
IntArray = npt.NDArray[np.intp]
Distances = npt.NDArray[np.uint16]

_WORD_BITS: Final = 64  # bits per uint64 word of a stored hash
_MAX_BITS: Final = 1_024  # bits: keeps every distance well inside the uint16 distance arrays
_BLOCK_ROWS: Final = 131_072  # rows per scan block: 1 MiB uint64 temporaries, a core's L2 size
_MIN_CAPACITY: Final = 1_024  # rows allocated at least when the arrays grow
_GROWTH: Final = 1.125  # capacity multiplier when add() outgrows the arrays: <= 12.5% spare
_COMPACT_MIN_DEAD: Final = 1_024  # rows: below this many tombstones never compact
_COMPACT_DEAD_SHARE: Final = 0.25  # compact once tombstones exceed this share of stored rows
_PRUNE_MAX: Final = 52  # bits: up to here pruning on 128 bits beats scoring every row (measured)
_DENSE_SHARE: Final = 4  # 1/4: above this share of survivors, score the whole block (cheaper)
_INT64_MIN: Final = -(2**63)  # smallest id that fits the int64 id array
_INT64_MAX: Final = 2**63 - 1  # largest id that fits the int64 id array
_NO_DISTANCE: Final = np.iinfo(np.uint16).max  # sentinel distance for removed rows in nearest()


def _describe(value: object) -> str:
    """Short repr of a rejected input, so an error message never dumps a whole list."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _distances(words: U64, query: U64) -> Distances:
    """Hamming distance of each column of a (words, k) matrix to the query; clobbers words."""
    np.bitwise_xor(words, query[:, None], out=words)
    counts = np.bitwise_count(words)
    total: Distances = counts[0].astype(np.uint16)
    for row in counts[1:]:
        np.add(total, row, out=total)  # row by row: sum(axis=0) is 4x slower here
    return total


class _Scratch:
    """Per-call temporaries for one block, so a scan allocates once, not once per block."""

    __slots__ = ("a", "count", "count_b", "mask", "total")

    def __init__(self, rows: int) -> None:
        self.a: U64 = np.empty(rows, dtype=np.uint64)
        self.count = np.empty(rows, dtype=np.uint8)
        self.count_b = np.empty(rows, dtype=np.uint8)
        self.mask = np.empty(rows, dtype=np.bool_)
        self.total = np.empty(rows, dtype=np.uint16)


class HammingIndex:
    """Every stored hash within a Hamming distance of a query, exactly, by a pruned blocked scan.

    Hashes are hex strings of `bits` bits (64 for pHash, 256 for PDQ; any multiple of 64 up to
    1024), upper or lower case. Each id maps to one hash: adding an id again replaces its hash.
    Removal leaves a tombstone; the arrays are compacted once tombstones pass a quarter of the
    rows. Not safe for a mutation concurrent with other calls; concurrent searches are fine.
    """

    __slots__ = ("_alive", "_bits", "_count", "_hex_len", "_ids", "_live", "_max_id", "_words")

    def __init__(self, bits: int) -> None:
        if isinstance(bits, bool) or not isinstance(bits, int):
            raise TypeError(f"bits must be an int, got {_describe(bits)}")
        if not 0 < bits <= _MAX_BITS or bits % _WORD_BITS:
            raise ValueError(f"bits must be a multiple of 64 up to {_MAX_BITS}, got {bits}")
        self._bits = bits
        self._hex_len = bits // 4
        self._words: U64 = np.zeros((bits // _WORD_BITS, 0), dtype=np.uint64)  # one row per word
        self._ids: I64 = np.zeros(0, dtype=np.int64)
        self._alive: npt.NDArray[np.bool_] = np.zeros(0, dtype=np.bool_)
        self._count = 0  # rows in use, tombstones included
        self._live = 0  # rows in use that are not tombstones
        self._max_id = _INT64_MIN  # largest id ever added: larger ids are new without a lookup

    # ----- size -------------------------------------------------------------------------

    @property
    def bits(self) -> int:
        """Bits per hash."""
        return self._bits

    @property
    def nbytes(self) -> int:
        """Bytes held by the index's arrays (hashes, ids, tombstone flags), spare capacity too."""
        return int(self._words.nbytes + self._ids.nbytes + self._alive.nbytes)

    def __len__(self) -> int:
        return self._live

    def __contains__(self, id: object) -> bool:
        if isinstance(id, bool) or not isinstance(id, int | np.integer):
            return False
        return self._find(int(id)) is not None

    def __repr__(self) -> str:
        return f"HammingIndex(bits={self._bits}, entries={self._live})"

    # ----- parsing ----------------------------------------------------------------------

    def _parse(self, hex_: str) -> U64:
        """One hash as its uint64 words, most significant first; ValueError says what is wrong."""
        if not isinstance(hex_, str):
            raise TypeError(f"a hash must be a hex str, got {type(hex_).__name__}")
        if len(hex_) != self._hex_len:
            raise ValueError(
                f"a {self._bits}-bit hash is {self._hex_len} hex digits, "
                f"got {len(hex_)}: {_describe(hex_)}"
            )
        try:
            raw = bytes.fromhex(hex_)
        except ValueError:
            raw = b""
        if len(raw) != self._hex_len // 2:  # bytes.fromhex skips whitespace: reject it too
            raise ValueError(f"a hash must be hex digits (0-9, a-f) only, got {_describe(hex_)}")
        return np.frombuffer(raw, dtype=">u8").astype(np.uint64)

    def _parse_many(self, hexes: Sequence[str]) -> U64:
        """Many hashes as a (words, n) uint64 matrix, from one bytes.fromhex of the joined text."""
        n = len(hexes)
        words = self._bits // _WORD_BITS
        if n == 0:
            return np.zeros((words, 0), dtype=np.uint64)
        try:
            lengths_ok = set(map(len, hexes)) == {self._hex_len}
            raw = bytes.fromhex("".join(hexes)) if lengths_ok else b""
        except (TypeError, ValueError):
            raw = b""
        if len(raw) != n * (self._hex_len // 2):
            for h in hexes:  # slow path, only to name the first bad hash
                self._parse(h)
            raise ValueError("hashes must be hex digits (0-9, a-f) only")  # pragma: no cover
        matrix = np.frombuffer(raw, dtype=">u8").reshape(n, words)
        return matrix.T.astype(np.uint64, order="C")

    @staticmethod
    def _check_id(id: object) -> int:
        """The id as a Python int that fits int64, or a clear error."""
        if isinstance(id, bool) or not isinstance(id, int | np.integer):
            raise TypeError(f"an id must be an int, got {_describe(id)}")
        value = int(id)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(f"an id must fit in 64 signed bits, got {value}")
        return value

    @staticmethod
    def _check_ids(ids: Iterable[int], n: int) -> I64:
        """Ids as an int64 array of length n, or a clear error."""
        if isinstance(ids, range) and n and len(ids) == n:
            low, high = min(ids), max(ids)
            if low >= _INT64_MIN and high <= _INT64_MAX:  # all fit: skip building a list
                return np.fromiter(ids, dtype=np.int64, count=n)
        values: list[object] | npt.NDArray[Any] = ids if isinstance(ids, np.ndarray) else list(ids)
        if len(values) != n:
            raise ValueError(f"got {len(values)} ids for {n} hashes")
        try:
            array = np.asarray(values)
        except (OverflowError, ValueError):
            array = np.zeros(0, dtype=np.object_)
        kind = array.dtype.kind
        if array.ndim == 1 and (
            kind == "i" or (kind == "u" and (n == 0 or int(array.max()) <= _INT64_MAX))
        ):
            return array.astype(np.int64)
        # Mixed, float, too large or nested: check one by one to name the first bad id.
        return np.array([HammingIndex._check_id(v) for v in values], dtype=np.int64)

    # ----- mutation ---------------------------------------------------------------------

    def _find(self, id: int) -> int | None:
        """Row of a live id, by a vectorised scan (skipped for ids above every id seen)."""
        if self._live == 0 or id > self._max_id:
            return None
        n = self._count
        rows = np.flatnonzero((self._ids[:n] == id) & self._alive[:n])
        return int(rows[0]) if rows.size else None

    def _reserve(self, extra: int) -> None:
        """Make room for `extra` more rows, with geometric slack so repeated add() is cheap."""
        needed = self._count + extra
        capacity = self._ids.size
        if needed > capacity:
            self._resize(max(needed, int(capacity * _GROWTH), _MIN_CAPACITY))

    def _resize(self, capacity: int) -> None:
        """Reallocate the arrays to `capacity` rows, keeping the rows in use."""
        n = self._count
        words = np.zeros((self._words.shape[0], capacity), dtype=np.uint64)
        words[:, :n] = self._words[:, :n]
        ids = np.zeros(capacity, dtype=np.int64)
        ids[:n] = self._ids[:n]
        alive = np.zeros(capacity, dtype=np.bool_)
        alive[:n] = self._alive[:n]
        self._words, self._ids, self._alive = words, ids, alive

    def add(self, id: int, hex: str) -> None:
        """Index one hash under `id`, replacing the hash that `id` had, if any."""
        value = self._check_id(id)
        words = self._parse(hex)
        row = self._find(value)
        if row is not None:
            self._words[:, row] = words
            return
        self._reserve(1)
        row = self._count
        self._words[:, row] = words
        self._ids[row] = value
        self._alive[row] = True
        self._count += 1
        self._live += 1
        self._max_id = max(self._max_id, value)

    def add_many(self, ids: Iterable[int], hexes: Sequence[str]) -> None:
        """Index many hashes at once (a bank load); same result as add() in order, last id wins."""
        matrix = self._parse_many(hexes)
        id_array = self._check_ids(ids, matrix.shape[1])
        if id_array.size == 0:
            return
        if id_array.size > 1 and not bool(np.all(id_array[1:] > id_array[:-1])):
            # Keep the last occurrence of each id, in input order.
            reversed_ids = id_array[::-1]
            _, first_in_reversed = np.unique(reversed_ids, return_index=True)
            keep = np.sort(id_array.size - 1 - first_in_reversed)
            id_array, matrix = id_array[keep], matrix[:, keep]
        if self._live and int(id_array.min()) <= self._max_id:
            n = self._count
            live_rows = np.flatnonzero(self._alive[:n])
            live_ids = self._ids[live_rows]
            order = np.argsort(live_ids, kind="stable")
            slot = np.searchsorted(live_ids, id_array, sorter=order)
            slot = np.minimum(slot, live_ids.size - 1)
            existing_rows = live_rows[order[slot]]
            present = self._ids[existing_rows] == id_array
            self._words[:, existing_rows[present]] = matrix[:, present]
            id_array, matrix = id_array[~present], matrix[:, ~present]
        added = id_array.size
        if added == 0:
            return
        if self._count == 0:  # first load: adopt the parsed arrays, no copy, no spare capacity
            self._words = np.ascontiguousarray(matrix)
            self._ids = np.ascontiguousarray(id_array)
            self._alive = np.ones(added, dtype=np.bool_)
            self._count = self._live = added
            self._max_id = int(id_array.max())
            return
        self._reserve(added)
        start, end = self._count, self._count + added
        self._words[:, start:end] = matrix
        self._ids[start:end] = id_array
        self._alive[start:end] = True
        self._count = end
        self._live += added
        self._max_id = max(self._max_id, int(id_array.max()))

    def remove(self, id: int) -> None:
        """Drop the hash stored under `id` (KeyError if there is none); compacts now and then."""
        row = self._find(self._check_id(id))
        if row is None:
            raise KeyError(id)
        self._alive[row] = False
        self._live -= 1
        dead = self._count - self._live
        if dead >= _COMPACT_MIN_DEAD and dead > self._count * _COMPACT_DEAD_SHARE:
            self.compact()

    def compact(self) -> None:
        """Drop tombstoned rows and spare capacity, so scans and memory shrink with the bank."""
        n = self._count
        keep = np.flatnonzero(self._alive[:n])
        self._words = np.ascontiguousarray(self._words[:, keep])
        self._ids = self._ids[keep]
        self._alive = np.ones(keep.size, dtype=np.bool_)
        self._count = self._live = int(keep.size)

    # ----- search -----------------------------------------------------------------------

    def _scan(self, queries: U64, limit: int) -> tuple[IntArray, Distances]:
        """Rows of live entries within `limit` of any of the (k, words) queries, with distances.

        A row within reach of several queries appears once per query.
        """
        n = self._count
        if n == 0 or self._live == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.uint16)
        limit = min(limit, self._bits)
        prune = queries.shape[1] > 1 and limit <= _PRUNE_MAX
        scratch = _Scratch(min(_BLOCK_ROWS, n))
        rows_out: list[IntArray] = []
        dists_out: list[Distances] = []
        for start in range(0, n, _BLOCK_ROWS):
            end = min(start + _BLOCK_ROWS, n)
            for query in queries:  # queries inner: the block stays in cache for all of them
                found = self._scan_block(query, start, end, limit, prune, scratch)
                if found is not None:
                    rows_out.append(found[0])
                    dists_out.append(found[1])
        if not rows_out:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.uint16)
        return np.concatenate(rows_out), np.concatenate(dists_out)

    def _scan_block(
        self, query: U64, start: int, end: int, limit: int, prune: bool, scratch: _Scratch
    ) -> tuple[IntArray, Distances] | None:
        """Live rows in [start, end) within `limit` of one query: prune on 128 bits, then score."""
        data = self._words
        size = end - start
        a = scratch.a[:size]
        count, count_b, mask = scratch.count[:size], scratch.count_b[:size], scratch.mask[:size]
        if prune:  # the first 128 bits' distance is a lower bound of the whole distance
            np.bitwise_xor(data[0, start:end], query[0], out=a)
            np.bitwise_count(a, out=count)
            np.bitwise_xor(data[1, start:end], query[1], out=a)
            np.bitwise_count(a, out=count_b)
            np.add(count, count_b, out=count)
            if int(count.min()) > limit:  # the usual case, and cheaper than a mask
                return None
            np.less_equal(count, limit, out=mask)
            hits = np.flatnonzero(mask)
            if hits.size * _DENSE_SHARE <= size:  # few survivors: score just those
                rows = hits + start
                dists = _distances(data.take(rows, axis=1), query)
                keep = (dists <= limit) & self._alive[rows]
                return rows[keep], dists[keep]
        # Many survivors (or no bound): score every row of the block.
        if query.size == 1:  # one word: its popcount is the distance
            np.bitwise_xor(data[0, start:end], query[0], out=a)
            np.bitwise_count(a, out=count)
            if int(count.min()) > limit:
                return None
            scores: npt.NDArray[np.uint8] | Distances = count
        else:
            scores = total = scratch.total[:size]
            word = 0
            if prune:  # count already holds the first two words' distance
                np.copyto(total, count)
                word = 2
            while word < query.size:
                # Two words summed as uint8 (<= 128), then one widening add: mixed adds are slow.
                np.bitwise_xor(data[word, start:end], query[word], out=a)
                np.bitwise_count(a, out=count)
                if word + 1 < query.size:
                    np.bitwise_xor(data[word + 1, start:end], query[word + 1], out=a)
                    np.bitwise_count(a, out=count_b)
                    np.add(count, count_b, out=count)
                if word == 0:
                    np.copyto(total, count)
                else:
                    np.add(total, count, out=total)
                word += 2
        np.less_equal(scores, limit, out=mask)
        np.logical_and(mask, self._alive[start:end], out=mask)
        hits = np.flatnonzero(mask)
        return hits + start, scores[hits].astype(np.uint16)

    def _results(self, rows: IntArray, dists: Distances) -> list[tuple[int, int]]:
        """(id, distance) pairs, one per id at its smallest distance, by distance then id."""
        if rows.size == 0:
            return []
        ids = self._ids[rows]
        order = np.lexsort((ids, dists))
        ids, dists = ids[order], dists[order]
        if ids.size > 1:
            _, first = np.unique(ids, return_index=True)
            if first.size != ids.size:
                first.sort()
                ids, dists = ids[first], dists[first]
        return list(zip(ids.tolist(), dists.tolist(), strict=True))

    @staticmethod
    def _check_distance(max_distance: int) -> int:
        """The threshold as a non-negative int, or a clear error."""
        if isinstance(max_distance, bool) or not isinstance(max_distance, int | np.integer):
            raise TypeError(f"max_distance must be an int, got {_describe(max_distance)}")
        if max_distance < 0:
            raise ValueError(f"max_distance must be >= 0, got {max_distance}")
        return int(max_distance)

    def search(self, hex: str, max_distance: int) -> list[tuple[int, int]]:
        """Every (id, distance) with distance <= max_distance, nearest first (ties by id)."""
        limit = self._check_distance(max_distance)
        query = self._parse(hex)
        return self._results(*self._scan(query[None, :], limit))

    def search_many(self, hexes: Sequence[str], max_distance: int) -> list[tuple[int, int]]:
        """Search the forms of one image (PDQ's 8 dihedral hashes) at once; min distance per id."""
        limit = self._check_distance(max_distance)
        if isinstance(hexes, str):
            raise TypeError("search_many takes a list of hex strings, not one string")
        queries = np.ascontiguousarray(self._parse_many(hexes).T)
        if queries.shape[0] == 0:
            return []
        return self._results(*self._scan(queries, limit))

    def nearest(self, hex: str) -> tuple[int, int] | None:
        """Closest entry and its distance, however far (to tune thresholds); None when empty."""
        query = self._parse(hex)
        if self._live == 0:
            return None
        close = self._results(*self._scan(query[None, :], self._bits // 8))
        if close:
            return close[0]  # everything not returned is farther than this threshold
        best = int(_NO_DISTANCE)
        best_ids: list[I64] = []
        n = self._count
        for start in range(0, n, _BLOCK_ROWS):
            end = min(start + _BLOCK_ROWS, n)
            dist = _distances(self._words[:, start:end].copy(), query)
            dist[~self._alive[start:end]] = _NO_DISTANCE
            low = int(dist.min())
            if low < best:
                best, best_ids = low, []
            if low == best and low != _NO_DISTANCE:
                best_ids.append(self._ids[start:end][dist == low])
        if not best_ids:  # pragma: no cover - _live > 0 guarantees a live row
            return None
        return int(np.concatenate(best_ids).min()), best
