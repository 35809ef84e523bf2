"""`make bench`: one table of the figures the issues name, each beside the baseline it is run with.

Timings on a shared 2-core machine vary by about 30% between runs: compare the ratios of one run.
Set SHIELD_BENCH_QUICK=1 for a smaller, faster run (fewer domains and messages).
"""

from __future__ import annotations

import os
import sys
import time


def main() -> None:
    quick = bool(os.environ.get("SHIELD_BENCH_QUICK"))
    started = time.perf_counter()
    print(f"Shield benchmarks (python {sys.version.split()[0]}, {os.cpu_count()} cores)")

    from benchmarks import hash_index, hashing, links, platforms
    from benchmarks._table import print_table

    rows = links.run(domains=100_000 if quick else 1_000_000, messages=5_000 if quick else 20_000)
    print_table(
        "Links: scanning chat against a large list (baseline: regex + urllib.parse + host set)",
        rows,
        ("figure", "Shield", "baseline", "ratio", "target"),
    )

    hashing.main(quick=quick)
    hash_index.main(quick=quick)
    platforms.main(quick=quick)

    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
