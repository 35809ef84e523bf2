"""Link scanning speed with a million listed domains, beside a naive baseline.

The baseline is what most bots do: a URL regex, `urllib.parse`, and an exact-host set lookup.
It is faster per message because it does far less, and it misses every obfuscated link; the
table shows both sides of that trade.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit

from bot.core.rules import LinkRule, RuleKind
from bot.core.scanner import LinkScanner
from bot.core.verdict import Tier
from bot.lists import build_link_index
from bot.storage import ListRepo, open_database
from bot.storage.lists import NewEntry

SEED = 2026
TLDS = ("com", "net", "org", "io", "app", "xyz", "ai", "cc", "co.uk", "de", "fr", "online")
WORDS = [
    "gg",
    "wp",
    "that",
    "was",
    "clean",
    "lol",
    "nice",
    "play",
    "chat",
    "is",
    "wild",
    "today",
    "what",
    "a",
    "clutch",
    "omg",
    "the",
    "boss",
    "fight",
    "is",
    "next",
    "who",
    "is",
    "ready",
    "for",
    "the",
    "raid",
    "thanks",
    "for",
    "the",
    "sub",
    "welcome",
    "in",
    "hype",
    "pog",
    "let's",
    "go",
    "again",
    "stream",
    "schedule",
    "tomorrow",
    "at",
    "eight",
    "the",
    "music",
    "is",
    "so",
    "good",
    "what",
    "game",
    "is",
    "this",
]
CLEAN_LINKS = (
    "https://www.youtube.com/watch?v=abc123",
    "https://clips.twitch.tv/FunnyClip",
    "https://github.com/streamer/overlay",
    "https://en.wikipedia.org/wiki/Speedrun",
    "https://cdn.discordapp.com/attachments/1/2/image.png",
)


def _domain(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    label = "".join(rng.choice(letters) for _ in range(rng.randint(6, 14)))
    return f"{label}.{rng.choice(TLDS)}"


def _obfuscate(domain: str, rng: random.Random) -> str:
    name, _, tld = domain.partition(".")
    tricks = (
        f"{name}[.]{tld}",
        f"{name} dot {tld}",
        f"{name[:2]}\u200b{name[2:]}.{tld}",
        f"hxxps://{name}(.){tld}/x",
        f"[free](https://user@{domain}/)",
        f"||{domain}||",
        "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in domain),
        f"https://{name}%2e{tld}",
    )
    return rng.choice(tricks)


def chat_mix(
    listed: list[str], count: int, *, chars: int | None, rng: random.Random
) -> list[tuple[str, str]]:
    """(message, kind) pairs: mostly chat, some clean links, some listed and obfuscated links."""
    out = []
    for _ in range(count):
        roll = rng.random()
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 14))]
        if roll < 0.70:
            kind = "chat"
        elif roll < 0.85:
            kind = "clean"
            words.insert(rng.randrange(len(words)), rng.choice(CLEAN_LINKS))
        elif roll < 0.95:
            kind = "listed"
            words.insert(rng.randrange(len(words)), rng.choice(listed))
        else:
            kind = "obfuscated"
            words.insert(rng.randrange(len(words)), _obfuscate(rng.choice(listed), rng))
        text = " ".join(words)
        if chars:
            while len(text) < chars:
                text += " " + rng.choice(WORDS)
            text = text[:chars]  # only padding is cut: the words, link included, come first
        out.append((text, kind))
    return out


class NaiveBaseline:
    """A URL regex, urllib.parse and an exact-host set: the usual bot filter."""

    URL = re.compile(r"https?://[^\s<>]+|\b[a-z0-9.-]+\.[a-z]{2,}\b", re.IGNORECASE)

    def __init__(self, domains: set[str]) -> None:
        self.domains = domains

    def scan(self, text: str) -> str:
        for match in self.URL.finditer(text):
            url = match.group(0)
            host = urlsplit(url if "://" in url else "http://" + url).hostname or ""
            if host in self.domains or host.removeprefix("www.") in self.domains:
                return "block"
        return "allow"


def _time(scan, messages: list[tuple[str, str]]) -> tuple[list[float], dict[str, int]]:  # type: ignore[no-untyped-def]
    latencies = []
    caught = {"listed": 0, "obfuscated": 0, "chat": 0, "clean": 0}
    clock = time.perf_counter
    for text, kind in messages:
        start = clock()
        verdict = scan(text)
        latencies.append(clock() - start)
        if verdict != "allow":
            caught[kind] += 1
    return latencies, caught


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


def run(domains: int = 1_000_000, messages: int = 20_000) -> list[tuple[str, str, str, str, str]]:
    rng = random.Random(SEED)
    listed = sorted({_domain(rng) for _ in range(domains)})
    rows: list[tuple[str, str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(Path(folder) / "bench.db")
        repo = ListRepo(db)
        info = repo.ensure("bench", Tier.BLOCK, created_by="bench")
        start = time.perf_counter()
        repo.add_entries(
            info.id, (NewEntry(LinkRule(RuleKind.DOMAIN, d)) for d in listed), added_by="bench"
        )
        stored = time.perf_counter() - start

        start = time.perf_counter()
        index = build_link_index(repo)
        load = time.perf_counter() - start
        del index
        # Memory in a second build: tracemalloc slows allocation too much to time the same run.
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        index = build_link_index(repo)
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.close()

    scanner = LinkScanner(index)
    baseline = NaiveBaseline(set(listed))
    n = f"{len(listed):,}"
    rows.append((f"store {n} domains in SQLite", f"{stored:.1f} s", "", "", ""))
    rows.append((f"load {n} domains into the index", f"{load:.2f} s", "", "", "< 5 s at 1M"))
    rows.append(
        (
            "index memory, retained / peak",
            f"{(retained - before) / 2**20:.0f} / {(peak - before) / 2**20:.0f} MB",
            "",
            "",
            "< 200 MB at 1M",
        )
    )

    for label, chars in (("chat mix", None), ("500-char messages", 500)):
        mix = chat_mix(listed, messages, chars=chars, rng=random.Random(SEED + 1))
        for text, _ in mix[:2000]:  # warm caches the way a running bot has them
            scanner.scan(text)
            baseline.scan(text)
        ours, ours_caught = _time(lambda t: scanner.scan(t).verdict, mix)
        theirs, theirs_caught = _time(baseline.scan, mix)
        rate_ours = len(mix) / sum(ours)
        rate_theirs = len(mix) / sum(theirs)
        rows.append(
            (
                f"{label}: messages/s",
                f"{rate_ours:,.0f}",
                f"{rate_theirs:,.0f}",
                f"{rate_ours / rate_theirs:.2f}",
                "",
            )
        )
        rows.append(
            (
                f"{label}: p50 latency",
                f"{_p(ours, 0.5) * 1e3:.3f} ms",
                f"{_p(theirs, 0.5) * 1e3:.3f} ms",
                f"{_p(ours, 0.5) / _p(theirs, 0.5):.2f}",
                "",
            )
        )
        rows.append(
            (
                f"{label}: p99 latency",
                f"{_p(ours, 0.99) * 1e3:.3f} ms",
                f"{_p(theirs, 0.99) * 1e3:.3f} ms",
                f"{_p(ours, 0.99) / _p(theirs, 0.99):.2f}",
                "< 0.2 ms" if chars else "",
            )
        )
        counts = {k: sum(1 for _, kind in mix if kind == k) for k in ours_caught}
        for kind in ("listed", "obfuscated"):
            rows.append(
                (
                    f"{label}: {kind} links caught",
                    f"{ours_caught[kind]}/{counts[kind]}",
                    f"{theirs_caught[kind]}/{counts[kind]}",
                    "",
                    "all",
                )
            )
        flagged = ours_caught["chat"] + ours_caught["clean"]
        rows.append(
            (
                f"{label}: clean messages flagged",
                f"{flagged}/{counts['chat'] + counts['clean']}",
                f"{theirs_caught['chat'] + theirs_caught['clean']}/{counts['chat'] + counts['clean']}",
                "",
                "0",
            )
        )
    return rows
