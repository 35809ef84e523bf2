"""Exact hash matching at bank scale: Shield's HammingIndex beside threatexchange's PDQ indexes.

Same random 256-bit hashes for every index; queries are half near-duplicates of a stored hash
(10-25 bits flipped, as a re-encoded copy would be) and half random hashes (the usual miss).
Baselines: threatexchange's `PDQIndex` (faiss IndexBinaryMultiHash, what its PDQ signal type
uses) and `PDQFlatHashIndex` (faiss IndexBinaryFlat), both asked for every hash within 31 bits;
for 64-bit pHash (no threatexchange index exists) the same two faiss indexes directly.
Every query's answers are compared between indexes, so a speed-up that loses a match shows.
Timings on a shared 2-core machine vary by about 30% between runs: compare ratios of one run.

Run: .venv/bin/python -m benchmarks.hash_index [--quick]
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from bot.core.hashindex import HammingIndex

SEED = 2026  # numpy RNG seed: the same hashes and queries on every run
PDQ_BITS = 256  # bits per PDQ hash
PHASH_BITS = 64  # bits per pHash (imagehash, hash_size=8)
PDQ_THRESHOLD = 31  # bits: PDQ's standard match distance
PHASH_THRESHOLD = 8  # bits: the same share of a 64-bit hash as 31 of 256
PDQ_FLIPS = (10, 25)  # bits flipped to make a PDQ near-duplicate query, inclusive range
PHASH_FLIPS = (2, 6)  # bits flipped to make a pHash near-duplicate query, inclusive range
DIHEDRAL = 8  # queries per image when all rotations and flips are searched (PDQ dihedral)
WARMUP = 5  # untimed queries per index before timing
PHASH_SIZE = 1_000_000  # hashes in the pHash line
FAISS_THREADS = 1  # OpenMP threads for faiss: one query gains nothing from 2 on 2 cores, and
# spinning OpenMP threads make its latency erratic beside other work; None keeps faiss's default


def queries_for(size: int) -> int:
    """Timed queries per size, fewer at 1M so the whole run stays near a minute."""
    return 400 if size <= 100_000 else 200


def random_hashes(rng: np.random.Generator, n: int, bits: int) -> tuple[np.ndarray, list[str]]:
    """n random hashes as a (n, bytes) uint8 matrix and as lowercase hex strings."""
    raw = rng.integers(0, 256, size=(n, bits // 8), dtype=np.uint8)
    text = raw.tobytes().hex()
    width = bits // 4
    return raw, [text[i * width : (i + 1) * width] for i in range(n)]


def near_duplicates(
    rng: np.random.Generator, raw: np.ndarray, count: int, flips: tuple[int, int]
) -> list[tuple[int, str]]:
    """(source row, hex) queries made by flipping a few random bits of stored hashes."""
    bits = raw.shape[1] * 8
    out = []
    for row in rng.integers(0, raw.shape[0], size=count):
        positions = rng.choice(bits, size=int(rng.integers(flips[0], flips[1] + 1)), replace=False)
        mask = np.zeros(bits, dtype=np.uint8)
        mask[positions] = 1
        out.append((int(row), (raw[row] ^ np.packbits(mask)).tobytes().hex()))
    return out


def _rss() -> int | None:
    """Resident memory of this process in bytes (Linux), after handing freed heap back."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@contextlib.contextmanager
def _measure_build(result: dict[str, Any]) -> Iterator[None]:
    """Record build seconds and resident-memory growth of the block into result."""
    before = _rss()
    started = time.perf_counter()
    yield
    result["build_s"] = time.perf_counter() - started
    after = _rss()
    result["rss_bytes"] = after - before if after is not None and before is not None else None


class _Baseline:
    """One index under test: how to build it, query it, and query a dihedral batch."""

    def __init__(
        self,
        name: str,
        build: Callable[[], Any],
        query: Callable[[Any, str], set[tuple[int, int]]],
        batch: Callable[[Any, list[str]], object],
    ) -> None:
        self.name, self.build, self.query, self.batch = name, build, query, batch


def _faiss() -> Any | None:
    """The faiss module threatexchange installs, or None (then only Shield is measured)."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def _pdq_baselines(hexes: list[str], limit: int) -> list[_Baseline]:
    """threatexchange's PDQ indexes over the hexes, with ids 0..n-1, if it is installed."""
    try:
        from threatexchange.signal_type.pdq import pdq_faiss_matcher, pdq_index
    except ImportError:
        return []
    mih_class: Any = pdq_index.PDQIndex  # untyped upstream
    flat_class: Any = pdq_faiss_matcher.PDQFlatHashIndex
    assert limit == mih_class.get_match_threshold(), "PDQIndex only answers at its own threshold"

    def build_mih() -> Any:
        return mih_class(zip(hexes, range(len(hexes)), strict=True))

    def query_mih(index: Any, hex_: str) -> set[tuple[int, int]]:
        return {(m.metadata, int(m.similarity_info.distance)) for m in index.query(hex_)}

    def batch_mih(index: Any, hexes_: list[str]) -> object:
        return index.index.search_with_distance_in_result(hexes_, limit)

    def build_flat() -> Any:
        flat = flat_class()
        flat.add(hexes, range(len(hexes)))
        return flat

    def query_flat(index: Any, hex_: str) -> set[tuple[int, int]]:
        found = index.search_with_distance_in_result([hex_], limit)[hex_]
        return {(int(i), int(d)) for i, _, d in found}

    def batch_flat(index: Any, hexes_: list[str]) -> object:
        return index.search_with_distance_in_result(hexes_, limit)

    return [
        _Baseline("threatexchange PDQIndex (faiss multi-hash)", build_mih, query_mih, batch_mih),
        _Baseline(
            "threatexchange PDQFlatHashIndex (faiss flat)", build_flat, query_flat, batch_flat
        ),
    ]


def _faiss_baselines(raw: np.ndarray, limit: int) -> list[_Baseline]:
    """faiss flat and multi-hash binary indexes over raw (n, bytes) hashes, if faiss is here."""
    faiss = _faiss()
    if faiss is None:
        return []
    bits = raw.shape[1] * 8
    tables = bits // 16  # 16-bit substrings, as threatexchange's multi-hash index uses for PDQ

    def build_flat() -> Any:
        index = faiss.IndexBinaryFlat(bits)
        index.add(raw)
        return index

    def build_mih() -> Any:
        index = faiss.IndexBinaryMultiHash(bits, tables, 16)
        index.add(raw)
        index.nflip = limit // tables  # pigeonhole: some substring is within this, so exact
        return index

    def query(index: Any, hex_: str) -> set[tuple[int, int]]:
        vector = np.frombuffer(bytes.fromhex(hex_), dtype=np.uint8)[None, :]
        _, dists, ids = index.range_search(vector, limit + 1)
        return set(zip(ids.tolist(), dists.tolist(), strict=True))

    def batch(index: Any, hexes_: list[str]) -> object:
        vectors = np.frombuffer(bytes.fromhex("".join(hexes_)), dtype=np.uint8)
        return index.range_search(vectors.reshape(len(hexes_), -1), limit + 1)

    return [
        _Baseline("faiss IndexBinaryMultiHash", build_mih, query, batch),
        _Baseline("faiss IndexBinaryFlat", build_flat, query, batch),
    ]


def _percentiles(samples: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds from samples in seconds."""
    p50, p99 = np.percentile(np.asarray(samples) * 1e3, [50, 99])
    return float(p50), float(p99)


def measure(
    bits: int,
    size: int,
    limit: int,
    flips: tuple[int, int],
    queries: int,
    baselines: Callable[[np.ndarray, list[str]], list[_Baseline]],
) -> dict[str, Any]:
    """Build every index over the same hashes, time the same queries on each, check they agree."""
    rng = np.random.default_rng([SEED, bits, size])
    raw, hexes = random_hashes(rng, size, bits)
    near = near_duplicates(rng, raw, queries // 2, flips)
    _, misses = random_hashes(rng, queries - len(near), bits)
    probes = [h for _, h in near] + misses
    order = rng.permutation(len(probes))
    probes = [probes[i] for i in order]
    dihedral = [probes[i : i + DIHEDRAL] for i in range(0, len(probes) - DIHEDRAL, DIHEDRAL)]

    shield: dict[str, Any] = {"name": "Shield HammingIndex"}
    with _measure_build(shield):
        ours = HammingIndex(bits)
        ours.add_many(range(size), hexes)
    shield["memory_bytes"] = ours.nbytes
    others = baselines(raw, hexes)
    built: list[tuple[_Baseline, Any, dict[str, Any]]] = []
    for baseline in others:
        stats: dict[str, Any] = {"name": baseline.name}
        with _measure_build(stats):
            index = baseline.build()
        stats["memory_bytes"] = stats["rss_bytes"]  # faiss's memory is not visible from Python
        built.append((baseline, index, stats))

    for probe in probes[:WARMUP]:
        ours.search(probe, limit)
        for baseline, index, _ in built:
            baseline.query(index, probe)

    # Interleave the indexes query by query, so a noisy neighbour slows them all alike.
    times: list[list[float]] = [[] for _ in range(1 + len(built))]
    agree = True
    for probe in probes:
        started = time.perf_counter()
        found = ours.search(probe, limit)
        times[0].append(time.perf_counter() - started)
        expected = set(found)
        for slot, (baseline, index, _) in enumerate(built, start=1):
            started = time.perf_counter()
            theirs = baseline.query(index, probe)
            times[slot].append(time.perf_counter() - started)
            agree = agree and theirs == expected
    batch_times: list[list[float]] = [[] for _ in range(1 + len(built))]
    for group in dihedral:
        started = time.perf_counter()
        ours.search_many(group, limit)
        batch_times[0].append(time.perf_counter() - started)
        for slot, (baseline, index, _) in enumerate(built, start=1):
            started = time.perf_counter()
            baseline.batch(index, group)
            batch_times[slot].append(time.perf_counter() - started)

    found_near = sum(any(i == row for i, _ in ours.search(h, limit)) for row, h in near)
    rows = [shield] + [stats for _, _, stats in built]
    for stats, samples, batches in zip(rows, times, batch_times, strict=True):
        stats["p50_ms"], stats["p99_ms"] = _percentiles(samples)
        stats["batch8_p50_ms"] = _percentiles(batches)[0] if batches else None
    for stats in rows[1:]:
        stats["ratio_p50"] = stats["p50_ms"] / shield["p50_ms"]  # > 1: Shield is faster
        stats["ratio_p99"] = stats["p99_ms"] / shield["p99_ms"]
    for _, index, _ in built:
        with contextlib.suppress(Exception):
            index.dispose()
    return {
        "bits": bits,
        "hashes": size,
        "max_distance": limit,
        "queries": len(probes),
        "near_duplicates_found": found_near / max(1, len(near)),
        "answers_agree": agree if built else None,
        "indexes": rows,
    }


def run(
    sizes: Sequence[int] = (10_000, 100_000, 1_000_000),
    phash: bool = True,
    faiss_threads: int | None = FAISS_THREADS,
) -> list[dict[str, Any]]:
    """One result per PDQ size, plus a 64-bit pHash line at the largest size if phash is set."""
    faiss = _faiss()
    if faiss is not None and faiss_threads is not None:
        faiss.omp_set_num_threads(faiss_threads)
    results: list[dict[str, Any]] = []
    for size in sizes:
        results.append(
            measure(
                PDQ_BITS,
                size,
                PDQ_THRESHOLD,
                PDQ_FLIPS,
                queries_for(size),
                lambda raw, hexes: _pdq_baselines(hexes, PDQ_THRESHOLD),
            )
        )
    if phash and sizes:
        size = min(PHASH_SIZE, max(sizes))
        results.append(
            measure(
                PHASH_BITS,
                size,
                PHASH_THRESHOLD,
                PHASH_FLIPS,
                queries_for(size),
                lambda raw, hexes: _faiss_baselines(raw, PHASH_THRESHOLD),
            )
        )
    return results


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


HEADER = (
    "bank",
    "index",
    "build s",
    "memory MB",
    "RSS growth MB",
    "p50 ms",
    "p99 ms",
    "8 queries ms",
    "theirs/ours p50",
)


def _mb(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1e6:.1f}"


def table(results: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """Rows of the printed table (columns as HEADER), one per index per bank."""
    rows: list[tuple[str, ...]] = []
    for result in results:
        label = f"{result['hashes']:,} x {result['bits']}-bit, d<={result['max_distance']}"
        for stats in result["indexes"]:
            rows.append(
                (
                    label,
                    stats["name"],
                    _fmt(stats["build_s"]),
                    _mb(stats["memory_bytes"]),
                    _mb(stats["rss_bytes"]),
                    _fmt(stats["p50_ms"], 3),
                    _fmt(stats["p99_ms"], 3),
                    _fmt(stats["batch8_p50_ms"], 2),
                    _fmt(stats["ratio_p50"], 2) if "ratio_p50" in stats else "1",
                )
            )
            label = ""
    return rows


def _print_table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main(quick: bool = False) -> list[dict[str, Any]]:
    """Print the matching table (quick: 10k and 100k hashes only) and return the results."""
    sizes = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    started = time.perf_counter()
    results = run(sizes)
    faiss = _faiss()
    threads = "faiss not installed" if faiss is None else f"faiss on {faiss.omp_get_max_threads()}"
    _print_table(
        f"Hash matching: every hash within the threshold, exact (threads: {threads}, Shield on 1)",
        table(results),
        HEADER,
    )
    for result in results:
        agree = result["answers_agree"]
        print(
            f"{result['hashes']:,} x {result['bits']}-bit: {result['queries']} queries, "
            f"near-duplicates found {result['near_duplicates_found']:.0%}, "
            f"answers identical across indexes: {'n/a' if agree is None else agree}"
        )
    if faiss is None:
        print("Baselines missing: pip install '.[bench]' (threatexchange brings faiss).")
    print(
        "memory MB: Shield = its arrays (hashes, ids, tombstones), others = resident memory "
        "growth while building; theirs/ours p50 > 1 means Shield is faster. "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return results


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
