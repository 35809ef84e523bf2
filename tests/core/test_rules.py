"""Rules have one canonical form, and values no list should hold are refused with a reason."""

from __future__ import annotations

import pytest

from bot.core.rules import RuleKind, parse_rule


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("clothoff.io", RuleKind.DOMAIN, "clothoff.io"),
        ("CLOTHOFF.IO.", RuleKind.DOMAIN, "clothoff.io"),
        ("*.clothoff.io", RuleKind.DOMAIN, "clothoff.io"),
        ("https://clothoff.io/", RuleKind.DOMAIN, "clothoff.io"),
        ("domain:clothoff.io", RuleKind.DOMAIN, "clothoff.io"),
        ("cl\u043ethoff.io", RuleKind.DOMAIN, "xn--clthoff-bjg.io"),
        ("bücher.example", RuleKind.DOMAIN, "xn--bcher-kva.example"),
        ("t.me/SomeName", RuleKind.PATH, "t.me/somename"),
        ("https://imgur.com/a/AbC/", RuleKind.PATH, "imgur.com/a/abc"),
        ("path:t.me/x", RuleKind.PATH, "t.me/x"),
        ("keyword:CrushAI", RuleKind.KEYWORD, "crushai"),
        ("Undress   AI", RuleKind.KEYWORD, "undress ai"),
        ("1.2.3.4", RuleKind.IP, "1.2.3.4"),
        ("http://0x01020304/", RuleKind.IP, "1.2.3.4"),
    ],
)
def test_canonical_forms(text: str, kind: RuleKind, value: str) -> None:
    """What a moderator types becomes one canonical rule."""
    rule = parse_rule(text)
    assert (rule.kind, rule.value) == (kind, value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("com", "too short"),
        ("co.uk", "public suffix"),
        ("github.io", "public suffix"),
        ("a..b.com", "neither"),
        ("keyword:ab", "too short"),
        ("domain:t.me/x", "not a domain"),
        ("ip:not-an-ip", "not an IP"),
        ("x" * 300 + ".com", "neither"),
    ],
)
def test_refused_with_a_reason(text: str, reason: str) -> None:
    """A value no list should hold gives ValueError saying why."""
    with pytest.raises(ValueError, match=reason):
        parse_rule(text)
