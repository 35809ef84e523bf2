"""The link index: every rule of every enabled list, laid out for lookups in a hot path.

Derived from storage and rebuilt from it, never the source of truth. Hosts are matched by whole
labels (a rule for `clothoff.io` matches `www.clothoff.io`, never `notclothoff.io`); rules
cannot name a public suffix, so walking a host's parent domains never leaves its registrable
domain. Look-alike skeletons of the listed domains sit in a compact hash table so that a
million-domain list still loads in a few seconds and a few hundred megabytes at most.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import regex

from bot.core.hosts import to_unicode
from bot.core.lookalike import fold, skeleton
from bot.core.rules import RuleKind
from bot.core.verdict import Tier

# Leet and look-alike spellings of a keyword's letters, after `skeleton` has folded 0->o, 1->l.
_LEET: Final = {
    "a": "a4@",
    "e": "e3",
    "i": "il!|",
    "l": "li|",
    "o": "o",
    "s": "s5$",
    "t": "t7+",
    "g": "g9",
    "b": "b8",
}
_SEPARATORS: Final = r"[\s\-_.]*"
_HOST_SEPARATORS: Final = r"-?"
# Words that mirror sites glue to a brand ("getclothoff", "clothoffapp"). In a host name a
# keyword must stand alone in its label part, or with one of these: "crushair" is not "crushai".
_HOST_AFFIXES: Final = (
    "get|try|go|my|the|use|free|new|best|real|official|app|apps|web|online|pro|hub|ai|bot|"
    "site|vip|plus|now|io|net|tv|top"
)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a rule comes from: the list's name and the tier the rule has there."""

    name: str
    tier: Tier


class _HashTable:
    """A read-only multimap from strings to small ints, 12 bytes an entry (no string kept)."""

    __slots__ = ("_hashes", "_values")

    def __init__(self, hashes: np.ndarray[Any, Any], values: np.ndarray[Any, Any]) -> None:
        """`hashes` are Python `hash()` values of the keys, `values` the ints they map to."""
        order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[order]
        self._values = values[order]

    def get(self, key: str) -> list[int]:
        wanted = hash(key)
        i = int(np.searchsorted(self._hashes, wanted))
        out: list[int] = []
        while i < len(self._hashes) and self._hashes[i] == wanted:
            out.append(int(self._values[i]))
            i += 1
        return out

    @property
    def nbytes(self) -> int:
        return int(self._hashes.nbytes + self._values.nbytes)


def _keyword_pattern(keyword: str, *, in_host: bool) -> str:
    words = fold(keyword).split(" ")
    parts = []
    for word in words:
        chars = (
            ("[" + regex.escape(_LEET[c]) + "]") if c in _LEET else regex.escape(c) for c in word
        )
        parts.append("".join(chars) if not in_host else regex.escape(word))
    return (_HOST_SEPARATORS if in_host else _SEPARATORS).join(parts)


@dataclass
class LinkIndexBuilder:
    """Collects rules (kind, canonical value, list, tier) and builds a `LinkIndex`."""

    _sources: dict[Source, int] = field(default_factory=dict)
    _hosts: dict[str, int | tuple[int, ...]] = field(default_factory=dict)
    _allow_hosts: dict[str, int] = field(default_factory=dict)
    _paths: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    _keywords: dict[str, list[int]] = field(default_factory=dict)

    def _code(self, list_name: str, tier: Tier) -> int:
        source = Source(list_name, tier)
        code = self._sources.get(source)
        if code is None:
            code = self._sources[source] = len(self._sources)
        return code

    def add(self, kind: str, value: str, list_name: str, tier: Tier) -> None:
        """Add one rule; `value` must already be in canonical form (see bot.core.rules)."""
        code = self._code(list_name, tier)
        if kind in (RuleKind.DOMAIN, RuleKind.IP):
            if tier is Tier.ALLOW:
                self._allow_hosts.setdefault(value, code)
                return
            known = self._hosts.get(value)
            if known is None:
                self._hosts[value] = code
            elif isinstance(known, int):
                if known != code:
                    self._hosts[value] = (known, code)
            elif code not in known:
                self._hosts[value] = (*known, code)
        elif kind == RuleKind.PATH:
            host, _, path = value.partition("/")
            self._paths.setdefault(host, []).append(("/" + path, code))
        elif kind == RuleKind.KEYWORD:
            codes = self._keywords.setdefault(value, [])
            if code not in codes:
                codes.append(code)
        else:
            raise ValueError(f"unknown rule kind {kind!r}")

    def add_many(self, rows: Iterable[tuple[str, str, str, Tier | str]]) -> None:
        """Add many rules; the hot loop for loading a million-domain list at start-up."""
        hosts = self._hosts
        codes: dict[tuple[str, str], int] = {}
        domain, allow = RuleKind.DOMAIN.value, Tier.ALLOW.value
        for kind, value, list_name, tier in rows:
            code = codes.get((list_name, tier))
            if code is None:
                code = codes[list_name, tier] = self._code(list_name, Tier(tier))
            if kind == domain and tier != allow and value not in hosts:
                hosts[value] = code  # the common case: a new domain
            else:
                self.add(kind, value, list_name, Tier(tier))

    def build(self) -> LinkIndex:
        sources = [source for source, _ in sorted(self._sources.items(), key=lambda kv: kv[1])]
        # IPs have no look-alikes. Only the skeletons' hashes are kept, not the skeletons.
        lookalike_domains = [
            h for h in self._hosts if ":" not in h and not h.replace(".", "").isdigit()
        ]
        keys = np.fromiter(
            (hash(skeleton(to_unicode(h))) for h in lookalike_domains),
            dtype=np.int64,
            count=len(lookalike_domains),
        )
        return LinkIndex(
            sources=tuple(sources),
            hosts=self._hosts,
            allow_hosts=self._allow_hosts,
            paths=self._paths,
            keywords=self._keywords,
            lookalike_domains=lookalike_domains,
            lookalikes=_HashTable(keys, np.arange(len(keys), dtype=np.uint32)),
        )


class LinkIndex:
    """Lookups for the scanner. Build with `LinkIndexBuilder`; rebuild when lists change."""

    def __init__(
        self,
        *,
        sources: tuple[Source, ...],
        hosts: dict[str, int | tuple[int, ...]],
        allow_hosts: dict[str, int],
        paths: dict[str, list[tuple[str, int]]],
        keywords: dict[str, list[int]],
        lookalike_domains: list[str],
        lookalikes: _HashTable,
    ) -> None:
        self.sources = sources
        self._hosts = hosts
        self._allow_hosts = allow_hosts
        self._paths = paths
        self._keywords = keywords
        self._keyword_list = list(keywords)
        self._lookalike_domains = lookalike_domains
        self._lookalikes = lookalikes
        self.text_keywords = self._compile(in_host=False)
        self.host_keywords = self._compile(in_host=True)

    def _compile(self, *, in_host: bool) -> regex.Pattern[str] | None:
        if not self._keyword_list:
            return None
        groups = "|".join(f"({_keyword_pattern(k, in_host=in_host)})" for k in self._keyword_list)
        if in_host:
            return regex.compile(
                rf"(?:^|(?<=[.\-0-9]))(?:{_HOST_AFFIXES})?(?:{groups})(?:{_HOST_AFFIXES})?"
                r"(?=$|[.\-0-9])"
            )
        return regex.compile(rf"(?<![\p{{L}}\p{{N}}])(?:{groups})(?![\p{{L}}\p{{N}}])")

    def __len__(self) -> int:
        paths = sum(len(v) for v in self._paths.values())
        return len(self._hosts) + len(self._allow_hosts) + paths + len(self._keywords)

    def host_sources(self, host: str) -> tuple[Source, ...]:
        """Sources of the block/review rules for exactly this host (no parent walk)."""
        codes = self._hosts.get(host)
        if codes is None:
            return ()
        if isinstance(codes, int):
            return (self.sources[codes],)
        return tuple(self.sources[c] for c in codes)

    def allow_source(self, host: str) -> Source | None:
        code = self._allow_hosts.get(host)
        return None if code is None else self.sources[code]

    def path_rules(self, host: str) -> list[tuple[str, Source]]:
        return [(path, self.sources[code]) for path, code in self._paths.get(host, ())]

    def keyword_at(self, group: int) -> tuple[str, tuple[Source, ...]]:
        """The keyword of a match's group number (`match.lastindex`) and its sources."""
        keyword = self._keyword_list[group - 1]
        return keyword, tuple(self.sources[c] for c in self._keywords[keyword])

    def lookalike_of(self, key: str) -> list[str]:
        """Listed domains whose skeleton is `key` (hash hits are confirmed on the string)."""
        found = (self._lookalike_domains[i] for i in self._lookalikes.get(key))
        return [d for d in found if skeleton(to_unicode(d)) == key]

    @property
    def lookalike_bytes(self) -> int:
        return self._lookalikes.nbytes
