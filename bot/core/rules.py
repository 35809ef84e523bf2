"""Link rules: the kinds of thing a list can hold, each with one canonical string form.

A rule is what matched; whether that means block, review or allow is the tier of the list (or of
the entry) that holds it. `parse_rule` accepts what a moderator would type and validates it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

import regex

from bot.core.hosts import canonical_host, canonical_ip, is_public_suffix, parse_url, shown

MIN_KEYWORD_CHARS = 4  # shorter brand names match too much ordinary chat
MAX_KEYWORD_CHARS = 64


class RuleKind(StrEnum):
    DOMAIN = "domain"  # the domain and all its subdomains, by whole labels
    PATH = "path"  # one path (and everything below it) on one host: t.me/NAME, imgur.com/a/ID
    KEYWORD = "keyword"  # a brand name in message text or inside a host name
    IP = "ip"  # one IP address


@dataclass(frozen=True, slots=True, order=True)
class LinkRule:
    kind: RuleKind
    value: str  # canonical form: "clothoff.io", "t.me/name", "undress ai", "192.0.2.1"

    def __str__(self) -> str:
        return self.value

    @property
    def host(self) -> str:
        """The host a domain, path or IP rule is about."""
        return self.value.split("/", 1)[0]

    @property
    def path(self) -> str:
        """The path prefix of a path rule ("/name"), "" otherwise."""
        if self.kind is not RuleKind.PATH:
            return ""
        return "/" + self.value.split("/", 1)[1]


_SPACES = regex.compile(r"[\s_\-.]+")
_WORDISH = regex.compile(r"[\p{L}\p{N}]")
_WORD = regex.compile(r"[\p{L}\p{N}\p{M}']+")


def domain_rule(text: str) -> LinkRule:
    """A rule for a domain and its subdomains; refuses public suffixes and single labels."""
    host = canonical_host(text)
    if canonical_ip(host) is not None:
        return LinkRule(RuleKind.IP, host)
    if "." not in host:
        raise ValueError(f"{shown(text)} is a single label, not a domain (a domain has a dot)")
    if is_public_suffix(host):
        raise ValueError(
            f"{shown(text)} is a public suffix: a rule for it would match every site under it"
        )
    return LinkRule(RuleKind.DOMAIN, host)


def path_rule(host: str, path: str) -> LinkRule:
    """A rule for one path on one host (and its subdomains), compared by whole segments."""
    parsed = parse_url(f"http://{host}{path if path.startswith('/') else '/' + path}")
    if parsed is None:
        raise ValueError(f"{shown(host + path)} is not a valid host and path")
    if not parsed.path:
        return domain_rule(parsed.host)
    base = domain_rule(parsed.host)
    return LinkRule(RuleKind.PATH, f"{base.host}{parsed.path}")


def keyword_rule(text: str) -> LinkRule:
    """A brand keyword: case-folded, words separated by single spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = " ".join(w for w in _SPACES.split(folded) if w)
    letters = len(_WORDISH.findall(words))
    if letters < MIN_KEYWORD_CHARS:
        raise ValueError(
            f"keyword {shown(text)} is too short: at least {MIN_KEYWORD_CHARS} letters or digits"
        )
    if len(words) > MAX_KEYWORD_CHARS:
        raise ValueError(f"keyword {shown(text)} is longer than {MAX_KEYWORD_CHARS} characters")
    if not all(_WORD.fullmatch(w) for w in words.split(" ")):
        raise ValueError(f"keyword {shown(text)} must be words of letters and digits")
    return LinkRule(RuleKind.KEYWORD, words)


def parse_rule(text: str) -> LinkRule:
    """Read a rule as a moderator would type it.

    `clothoff.io`, `*.clothoff.io`, `https://clothoff.io/`: the domain and its subdomains.
    `t.me/name`, `https://imgur.com/a/abc`: one path on a host.
    `keyword:crushai` (or a phrase with spaces, `undress ai`): a brand keyword.
    `domain:`, `path:` and `ip:` prefixes are accepted too.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("empty rule")
    kind, sep, rest = raw.partition(":")
    if sep and kind.lower() in {k.value for k in RuleKind} and not rest.startswith("//"):
        kind = kind.lower()
        if kind == RuleKind.KEYWORD:
            return keyword_rule(rest)
        if kind == RuleKind.IP:
            ip = canonical_ip(rest.strip())
            if ip is None:
                raise ValueError(f"{shown(rest.strip())} is not an IP address")
            return LinkRule(RuleKind.IP, ip)
        rule = parse_rule(rest)
        if rule.kind != kind:
            raise ValueError(f"{shown(rest.strip())} is not a {kind}")
        return rule
    if any(ch.isspace() for ch in raw):
        return keyword_rule(raw)
    if raw.startswith("*."):
        raw = raw[2:]
    lowered = raw.lower()
    if "://" in lowered or lowered.startswith("//"):
        url = raw if "://" in lowered else "http:" + raw
    else:
        url = "http://" + raw
    parsed = parse_url(url)
    if parsed is None:
        raise ValueError(f"{shown(text.strip())} is neither a domain, a URL nor a keyword")
    if parsed.is_ip:
        return LinkRule(RuleKind.IP, parsed.host)
    if parsed.path:
        return path_rule(parsed.host, parsed.path)
    if "." not in parsed.host and not any(c in raw for c in "/:"):
        return keyword_rule(raw)
    return domain_rule(parsed.host)
