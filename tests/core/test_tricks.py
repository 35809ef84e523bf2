"""Every link-hiding trick of shared threats.md, table-driven: each one is still caught."""

from __future__ import annotations

import pytest

from bot.core.scanner import LinkScanner

# (message, expected verdict, rule that must be among the matches)
TRICKS: list[tuple[str, str, str]] = [
    # plain, for reference
    ("clothoff.io", "block", "clothoff.io"),
    ("go to https://clothoff.io/ now", "block", "clothoff.io"),
    # invisible characters inside the domain
    ("clo\u200bthoff.io", "block", "clothoff.io"),  # zero-width space
    ("clo\u200dthoff.io", "block", "clothoff.io"),  # zero-width joiner
    ("clo\u200cthoff.io", "block", "clothoff.io"),  # zero-width non-joiner
    ("clo\u2060thoff.io", "block", "clothoff.io"),  # word joiner
    ("clo\u00adthoff.io", "block", "clothoff.io"),  # soft hyphen
    ("clothoff\u200e.io", "block", "clothoff.io"),  # left-to-right mark
    ("c\ufeffl\u180eothoff.io", "block", "clothoff.io"),  # BOM and Mongolian vowel separator
    ("clo\u034fthoff.io", "block", "clothoff.io"),  # combining grapheme joiner
    # defanging and spelled-out separators
    ("clothoff[.]io", "block", "clothoff.io"),
    ("clothoff(.)io", "block", "clothoff.io"),
    ("clothoff{.}io", "block", "clothoff.io"),
    ("clothoff(dot)io", "block", "clothoff.io"),
    ("clothoff[dot]io", "block", "clothoff.io"),
    ("clothoff dot io", "block", "clothoff.io"),
    ("clothoff DOT io", "block", "clothoff.io"),
    ("clothoff . io", "block", "clothoff.io"),
    ("clothoff. io", "block", "clothoff.io"),
    ("clothoff .io", "block", "clothoff.io"),
    ("clothoff [ . ] io", "block", "clothoff.io"),
    ("\uff43\uff4c\uff4f\uff54\uff48\uff4f\uff46\uff46\uff0e\uff49\uff4f", "block", "clothoff.io"),
    ("clothoff\u3002io", "block", "clothoff.io"),  # ideographic full stop
    ("clothoff\uff61io", "block", "clothoff.io"),  # half-width ideographic full stop
    ("clothoff\u2024io", "block", "clothoff.io"),  # one dot leader
    ("hxxps://clothoff[.]io", "block", "clothoff.io"),
    ("hxxp[:]//clothoff[.]io/x", "block", "clothoff.io"),
    ("https : // clothoff.io", "block", "clothoff.io"),
    (
        "\U0001d41c\U0001d425\U0001d428\U0001d42d\U0001d421\U0001d428\U0001d41f\U0001d41f.io",
        "block",
        "clothoff.io",
    ),  # bold maths letters
    ("c l o t h o f f . i o", "block", "clothoff.io"),
    # Discord markdown
    ("[cute cats](https://clothoff.io/x)", "block", "clothoff.io"),
    ("<https://clothoff.io>", "block", "clothoff.io"),
    ("clothoff\\.io", "block", "clothoff.io"),
    ("https:\\/\\/clothoff.io", "block", "clothoff.io"),
    ("`clothoff.io`", "block", "clothoff.io"),
    ("```\nclothoff.io\n```", "block", "clothoff.io"),
    ("||clothoff.io||", "block", "clothoff.io"),
    ("||https://clothoff.io/a||", "block", "clothoff.io"),
    ("**clothoff.io**", "block", "clothoff.io"),
    ("clothoff**.**io", "block", "clothoff.io"),
    ("clothoff||.||io", "block", "clothoff.io"),
    ("__*clothoff.io*__", "block", "clothoff.io"),
    ("> clothoff.io", "block", "clothoff.io"),
    # percent-encoding
    ("https://clothoff%2Eio/", "block", "clothoff.io"),
    ("https://%63lothoff.io/", "block", "clothoff.io"),
    ("clothoff%2eio", "block", "clothoff.io"),
    ("https://t.me/%64eepfakechan", "block", "t.me/deepfakechan"),
    # parser confusion
    ("https://discord.com@clothoff.io/", "block", "clothoff.io"),
    ("https://twitch.tv%2f@clothoff.io/", "block", "clothoff.io"),
    ("https://twitch.tv%40clothoff.io/", "block", "clothoff.io"),
    ("https:\\\\clothoff.io\\x", "block", "clothoff.io"),
    ("https:////clothoff.io", "block", "clothoff.io"),
    ("https:clothoff.io", "block", "clothoff.io"),
    ("//clothoff.io/x", "block", "clothoff.io"),
    ("https://clothoff.io:443/x", "block", "clothoff.io"),
    ("clothoff.io:8080", "block", "clothoff.io"),
    ("https://clothoff.io./", "block", "clothoff.io"),
    ("CLOTHOFF.IO", "block", "clothoff.io"),
    ("HtTpS://ClOtHoFf.Io", "block", "clothoff.io"),
    ("mail me at x@clothoff.io", "block", "clothoff.io"),
    # IP literals in every notation (203.0.113.7 is listed)
    ("http://203.0.113.7/", "block", "203.0.113.7"),
    ("http://3405803783/", "block", "203.0.113.7"),  # decimal
    ("http://0xcb.0x00.0x71.0x07/", "block", "203.0.113.7"),  # hex
    ("http://0xcb007107/", "block", "203.0.113.7"),  # one hex number
    ("http://0313.0.0161.07/", "block", "203.0.113.7"),  # octal
    ("http://203.0.28935/", "block", "203.0.113.7"),  # short form
    ("http://[::ffff:203.0.113.7]/", "block", "203.0.113.7"),  # IPv4-mapped IPv6
    # IDN homographs and punycode: review, never block
    ("cl\u043ethoff.io", "review", "clothoff.io"),  # Cyrillic o
    ("\u0441lothoff.io", "review", "clothoff.io"),  # Cyrillic es
    ("cl\u03bfthoff.io", "review", "clothoff.io"),  # Greek omicron
    ("xn--clthoff-bjg.io", "review", "clothoff.io"),  # punycode of the Cyrillic one
    ("cl0thoff.io", "review", "clothoff.io"),  # digit zero
    ("rnrdeepfakes.com", "review", "mrdeepfakes.com"),  # rn for m
    ("cl\u00f6thoff.io", "review", "clothoff.io"),  # accent
    # subdomains and mirrors
    ("www.clothoff.io", "block", "clothoff.io"),
    ("a.b.c.clothoff.io", "block", "clothoff.io"),
    ("https://mirror3.undress.app/login", "block", "undress.app"),
    # brand names without a domain, and in new domains
    ("try crushai", "review", "crushai"),
    ("CrushAI is free", "review", "crushai"),
    ("cl0th0ff", "review", "clothoff"),
    ("c l o t h o f f", "review", "clothoff"),
    ("deepnude-2026.xyz", "review", "deepnude"),
    ("getclothoff.app", "review", "clothoff"),
    ("undress ai free", "review", "undress ai"),
    ("undress-ai", "review", "undress ai"),
    ("nud1fy her pics", "review", "nudify"),
    # general hosts where only the path tells
    ("https://t.me/deepfakechan", "block", "t.me/deepfakechan"),
    ("t.me/DeepfakeChan/123", "block", "t.me/deepfakechan"),
    ("https://imgur.com/a/badalbum", "block", "imgur.com/a/badalbum"),
    ("https://i.imgur.com/a/badalbum/", "block", "imgur.com/a/badalbum"),
    # open redirects carry the domain in the query string
    ("https://www.google.com/url?q=https://clothoff.io/", "block", "clothoff.io"),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fclothoff.io%2F", "block", "clothoff.io"),
]


@pytest.mark.parametrize(("message", "verdict", "matched"), TRICKS)
def test_trick_is_caught(scanner: LinkScanner, message: str, verdict: str, matched: str) -> None:
    """A hidden listed link still gives the expected verdict and names the listed rule."""
    result = scanner.scan(message)
    assert result.verdict == verdict, result.to_dict()
    assert matched in {f.matched for f in result.findings}, result.to_dict()


@pytest.mark.parametrize(
    "message",
    [
        "cl\u043ethoff.io",
        "xn--clthoff-bjg.io",
        "cl0thoff.io",
        "rnrdeepfakes.com",
    ],
)
def test_lookalikes_are_never_blocked(scanner: LinkScanner, message: str) -> None:
    """A look-alike is held for review with a note naming the real domain, never deleted."""
    result = scanner.scan(message)
    lookalikes = [f for f in result.findings if f.signal == "lookalike"]
    assert lookalikes
    assert all(f.tier.value == "review" for f in lookalikes)
    assert all(f.note and "looks like" in f.note for f in lookalikes)


def test_paths_match_whole_segments(scanner: LinkScanner) -> None:
    """A path rule covers its own path and below, not a longer name that shares its prefix."""
    assert scanner.scan("https://t.me/deepfakechannel").verdict == "allow"
    assert scanner.scan("https://t.me/other").verdict == "allow"
    assert scanner.scan("https://t.me/").verdict == "allow"


def test_allow_list_wins(scanner: LinkScanner) -> None:
    """An allow-listed host is never acted on, even if another list would match it."""
    from tests.conftest import make_scanner

    strict = make_scanner(
        [("discord.com", "careless-list", "block"), ("discord.com", "allow", "allow")]
    )
    result = strict.scan("https://discord.com/channels/1/2")
    assert result.verdict == "allow"
    assert result.allowed and result.allowed[0].matched == "discord.com"
