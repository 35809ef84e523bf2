"""Find every link and bare domain in a chat message, the way a reader would see them.

Input is `normalise`d text. Discord markdown is read two ways, because it can both hide a
separator and glue two words together: once with markdown punctuation as spaces
(`||spoiler.io||`, `<https://x.io>`, `[text](https://x.io)`), once with it removed
(`clothoff**.**io`, `c l o t h o f f . i o`). Every candidate is parsed with the WHATWG URL
parser, so `trusted.com@evil.com`, backslashes, percent-encoded hosts and IP literals in any
notation come out as the browser would open them. Bare domains are also read inside paths and
query strings, which catches open redirects such as `google.com/url?q=evil.io`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

import regex

from bot.core.hosts import ParsedURL, parse_url

# Markdown escapes: a backslash before ASCII punctuation (not another backslash) is not shown.
_ESCAPE: Final = regex.compile(r"\\(?=[!-/:-@\[\]^_`{-~])")
# Markdown and quoting punctuation that can wrap a link: treated as a space in the first view.
_DELIMITERS: Final = str.maketrans({c: " " for c in "<>()[]{}|`*~\"'"})
# Formatting characters that can sit inside a word: removed in the second view.
_FORMATTING: Final = str.maketrans({c: None for c in "|`*~"})
# Single characters separated by single spaces: "c l o t h o f f . i o".
_SPACED: Final = regex.compile(r"(?<!\S)(?:\S (?=\S(?: |$))){3,}\S(?!\S)")
_SPACED_GATE: Final = regex.compile(r"(?<!\S)\S \S \S \S(?!\S)")
_INNER_MARKS: Final = frozenset("/?#@%\\=&")  # a token with one of these may hide more domains
# A scheme: any followed by slashes, or a well-known one without ("https:evil.io" opens too).
_SCHEME: Final = regex.compile(
    r"^(?:[a-z][a-z0-9+.\-]*:[\\/]+|(?:https?|ftp|wss?|mailto):)", regex.IGNORECASE
)
# URLs with an IPv6 literal: their brackets must survive the markdown reading.
_IPV6_URL: Final = regex.compile(r"(?:[a-z]+:)?//\[[0-9a-f:.]+\]\S*", regex.IGNORECASE)
# A domain name: labels of letters, digits and hyphens (any script), at least one dot.
_BARE_DOMAIN: Final = regex.compile(
    r"(?<![\p{L}\p{N}\-_.])(?:[\p{L}\p{N}](?:[\p{L}\p{N}\-_]{0,61}[\p{L}\p{N}])?\.)+"
    r"(?:[\p{L}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?|xn--[a-z0-9\-]{1,59})(?![\p{L}\p{N}\-_])"
)
_TRIM: Final = ".,;:!?'\"()[]{}<>*_~|`"
MAX_TOKEN_CHARS: Final = 2048  # longer "words" are not links a chat client would show
MAX_LINKS: Final = 64  # candidates per message; beyond this the message is spam anyway


@dataclass(frozen=True, slots=True)
class Link:
    """One link or bare domain found in a message."""

    host: str  # canonical ASCII host
    path: str  # canonical path ("" when none)
    is_ip: bool
    raw: str  # the text it was read from, for moderators
    url: str = ""  # the URL a browser would open (scheme, host, port, path, query)

    @property
    def display(self) -> str:
        return f"{self.host}{self.path}"


def text_views(text: str) -> tuple[str, ...]:
    """The two readings of markdown: punctuation as spaces, and formatting removed."""
    unescaped = _ESCAPE.sub("", text)
    spaced = unescaped.translate(_DELIMITERS)
    joined = unescaped.translate(_FORMATTING)
    if _SPACED_GATE.search(joined):
        joined = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), joined)
    joined = joined.translate(_DELIMITERS)
    return (spaced,) if joined == spaced else (spaced, joined)


def _candidates(token: str) -> list[str]:
    """The URLs a token may stand for: itself with a scheme, and every bare domain inside it."""
    token = token.strip(_TRIM)
    if not token or len(token) > MAX_TOKEN_CHARS:
        return []
    out: list[str] = []
    if _SCHEME.match(token):
        scheme, _, rest = token.partition(":")
        out.append(token if scheme.lower() in ("http", "https") else "http:" + rest)
    elif token.startswith(("//", "\\\\")):
        out.append("http:" + token)
    else:
        out.append("http://" + token)
    if not _INNER_MARKS.isdisjoint(token):
        decoded = unquote(token) if "%" in token else token
        out.extend("http://" + m.group(0) for m in _BARE_DOMAIN.finditer(decoded))
    return out


def extract_links(text: str) -> list[Link]:
    """Every distinct link in normalised text, in order of appearance."""
    if "." not in text and "%" not in text and ":" not in text:
        return []  # most chat lines: nothing that could be a link
    seen: dict[tuple[str, str], Link] = {}
    tokens: set[str] = set()
    ipv6 = [m.group(0) for m in _IPV6_URL.finditer(text)] if "[" in text else []
    for view in (" ".join(ipv6), *text_views(text)):
        for token in view.split():
            if token in tokens or ("." not in token and "%" not in token and ":" not in token):
                continue
            tokens.add(token)
            for url in _candidates(token):
                parsed = parse_url(url)
                if parsed is None or not _plausible(parsed, url):
                    continue
                key = (parsed.host, parsed.path)
                if key not in seen:
                    seen[key] = Link(parsed.host, parsed.path, parsed.is_ip, token, parsed.href)
                    if len(seen) >= MAX_LINKS:
                        return list(seen.values())
    return list(seen.values())


def _plausible(parsed: ParsedURL, url: str) -> bool:
    """Drop readings no person would take for a link: version numbers, single words."""
    if parsed.is_ip:
        # "1.2" is a version number, not 1.0.0.2; an IP needs a scheme, a path or four parts.
        rest = url.split("://", 1)[-1]
        explicit = not url.startswith("http://") or "/" in rest or ":" in rest
        return explicit or rest.count(".") == 3
    return "." in parsed.host
