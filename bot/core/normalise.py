"""Undo the tricks that hide a link from a word filter, before anything looks for links.

Order matters: invisible characters go first (they split words), then Unicode compatibility
forms (NFKC turns full-width and styled letters into plain ones), then dot look-alikes and
defanging (`[.]`, `(dot)`, `hxxp`). The result is lower case. `normalise` is idempotent.
"""

from __future__ import annotations

import unicodedata
from typing import Final

import regex

from bot.core.hosts import public_suffix

# Format characters (zero-width space/joiner, word joiner, bidi controls, soft hyphen...) and
# the other default-ignorable code points (Hangul fillers, variation selectors, CGJ): they render
# as nothing, so a domain with one inside looks whole to a person and broken to a filter.
_INVISIBLE: Final = regex.compile(r"[\p{Cf}\p{Default_Ignorable_Code_Point}]+")
# Blank characters that render as a space but are not Unicode white space.
_BLANKS: Final = str.maketrans({"\u2800": " ", "\u3000": " "})
# Full stops that IDNA treats as label separators (after NFKC only U+3002 is left of them).
_IDEOGRAPHIC_STOP: Final = "\u3002"
# Characters drawn as a dot; only read as one between two letters or digits.
_DOT_LIKE: Final = regex.compile(
    r"(?<=[\p{L}\p{N}])[\u00b7\u2022\u2219\u22c5\u30fb\uff65\u2e31\u0387\u16eb](?=[\p{L}\p{N}])"
)

_HXXP: Final = regex.compile(r"\bh(?:xx|\*\*|\[xx\]|tt|xt|tx)p(s?)(?=\s*(?:\[:\]|\(:\)|:))")
# [.] (.) {.} <.> [dot] (dot) [ . ], with any run of brackets and spaces around the dot.
_BRACKET_DOT: Final = regex.compile(
    r"\s*[\[\(\{<][\[\(\{<\s]*(?:\.|dot|d0t|punkt|point)[\s\]\)\}>]*[\]\)\}>]\s*"
)
_BRACKET_COLON: Final = regex.compile(r"[\[\(\{]\s*(:|://|/|//)\s*[\]\)\}]")
_SPELLED_DOT: Final = regex.compile(
    r"(?<=[\p{L}\p{N}])\s*[\-_]?\s*\b(?:dot|d0t)\b\s*[\-_]?\s*(?=[\p{L}\p{N}])"
)
_SPACED_SCHEME: Final = regex.compile(r"\b(https?)\s*:\s*/\s*/\s*")
# "example . com", "example. com", "example .com": only joined when the right side is a TLD.
_SPACED_DOT: Final = regex.compile(
    r"(?<=[\p{L}\p{N}])(\s+\.\s*|\.\s+)(?P<tld>[\p{L}][\p{L}\p{N}\-]{1,62})\b"
)


def _join_spaced_dot(match: regex.Match[str]) -> str:
    tld = str(match.group("tld"))
    if public_suffix(tld) == tld:
        return "." + tld
    return str(match.group(0))


def _spelled_dot(match: regex.Match[str]) -> str:
    """` dot ` becomes a dot only when what follows starts with a known top-level domain."""
    rest = match.string[match.end() : match.end() + 64]
    label = regex.match(r"[\p{L}\p{N}\-]+", rest)
    if label and public_suffix(label.group(0)) == label.group(0):
        return "."
    return str(match.group(0))


def _one_pass(text: str) -> str:
    if not text.isascii():  # plain ASCII has no invisible, styled or look-alike dots
        text = _INVISIBLE.sub("", text)
        text = unicodedata.normalize("NFKC", text)
        text = _INVISIBLE.sub("", text).lower().translate(_BLANKS)
        text = text.replace(_IDEOGRAPHIC_STOP, ".")
        text = _DOT_LIKE.sub(".", text)
    # Each rewrite below runs only when its tell-tale characters are present: most chat lines
    # have none, and this runs in front of every message.
    if "h" in text and "p" in text:
        text = _HXXP.sub(r"http\1", text)
    if ":" in text or "/" in text:
        text = _BRACKET_COLON.sub(r"\1", text)
        text = _SPACED_SCHEME.sub(r"\1://", text)
    if "." in text or "dot" in text or "d0t" in text or "point" in text or "punkt" in text:
        if "[" in text or "(" in text or "{" in text or "<" in text:
            text = _BRACKET_DOT.sub(".", text)
        if "dot" in text or "d0t" in text:
            text = _SPELLED_DOT.sub(_spelled_dot, text)
        if " ." in text or ". " in text:
            text = _SPACED_DOT.sub(_join_spaced_dot, text)
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


MAX_PASSES: Final = 4  # nested defanging ("[[.]]") needs a second pass; more is hostile input


def normalise(text: str) -> str:
    """Plain, lower-case text with invisible characters, styled letters and defanging undone."""
    text = text.lower()
    for _ in range(MAX_PASSES):
        again = _one_pass(text)
        if again == text:
            return again
        text = again
    return text
