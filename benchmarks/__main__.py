"""`make bench`: one table of the figures the issues name, each beside the baseline it is run with.

Timings on a shared 2-core machine vary by about 30% between runs: compare the ratios of one run.
Set SHIELD_BENCH_QUICK=1 for a smaller, faster run (fewer domains and messages).
"""

from __future__ import annotations

import importlib
import os
import sys
import time


def _table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n## {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    quick = bool(os.environ.get("SHIELD_BENCH_QUICK"))
    started = time.perf_counter()
    print(f"Shield benchmarks (python {sys.version.split()[0]}, {os.cpu_count()} cores)")

    from benchmarks import links

    rows = links.run(domains=100_000 if quick else 1_000_000, messages=5_000 if quick else 20_000)
    _table(
        "Links: scanning chat against a large list (baseline: regex + urllib.parse + host set)",
        rows,
        ("figure", "Shield", "baseline", "ratio", "target"),
    )

    # Media benchmarks join the table when their modules are present.
    for name in ("benchmarks.hashing", "benchmarks.hash_index"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        module.main(quick=quick) if hasattr(module, "main") else None

    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
