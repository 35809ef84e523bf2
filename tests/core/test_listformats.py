"""Tests for the blocklist file parser: every format, hostile lines, detection and streaming."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.listformats import (
    FORMATS,
    MAX_LINE_CHARS,
    ParseReport,
    detect_format,
    iter_entries,
    parse_lines,
    parse_one,
)
from bot.core.rules import RuleKind
from bot.core.verdict import Tier

SHIELD_TSV = Path(__file__).resolve().parents[2] / "config" / "deepfake-sites.tsv"


def values(report: ParseReport) -> list[str]:
    """The canonical rule values of a report, in file order."""
    return [entry.rule.value for entry in report.entries]


@pytest.mark.parametrize(
    ("fmt", "lines", "expected"),
    [
        (
            "hosts",
            ["0.0.0.0 clothoff.io", "127.0.0.1 a.com b.com"],
            ["clothoff.io", "a.com", "b.com"],
        ),
        ("hosts", [":: a.com", "::1 b.com", "0.0.0.0\tc.com"], ["a.com", "b.com", "c.com"]),
        ("hosts", ["0.0.0.0 A.COM."], ["a.com"]),
        (
            "plain",
            ["clothoff.io", "sub.undress.app", "*.x.com"],
            ["clothoff.io", "sub.undress.app", "x.com"],
        ),
        (
            "plain",
            ["t.me/somechannel", "https://imgur.com/a/AbC/"],
            ["t.me/somechannel", "imgur.com/a/abc"],
        ),
        ("plain", ["keyword:crushai", "keyword:undress ai"], ["crushai", "undress ai"]),
        (
            "abp",
            ["||clothoff.io^", "||a.com^$third-party", "||b.com^$~third-party,image"],
            ["clothoff.io", "a.com", "b.com"],
        ),
        (
            "abp",
            ["|https://imgur.com/a/abc|", "||t.me/name^", "||c.com", "d.com^"],
            ["imgur.com/a/abc", "t.me/name", "c.com", "d.com"],
        ),
        (
            "wildcard",
            ["*.clothoff.io", "undress.app", "*.sub.x.com"],
            ["clothoff.io", "undress.app", "sub.x.com"],
        ),
        (
            "dnsmasq",
            ["local=/a.com/", "address=/b.com/0.0.0.0", "address=/c.com/#"],
            ["a.com", "b.com", "c.com"],
        ),
        (
            "dnsmasq",
            ["server=/d.com/", "address=/e.com/f.com/::", "address=/g.com/"],
            ["d.com", "e.com", "f.com", "g.com"],
        ),
        (
            "tsv",
            ["domain\tclothoff.io\tnudify-app\tblock\thigh\tsrc", "keyword\tCrush AI\tx\tflag"],
            ["clothoff.io", "crush ai"],
        ),
        ("tsv", ["path\tt.me/name", "ip\t192.0.2.1"], ["t.me/name", "192.0.2.1"]),
    ],
)
def test_valid_lines(fmt: str, lines: list[str], expected: list[str]) -> None:
    """Each format turns its valid lines into canonical rules, in order, with no bad lines."""
    report = parse_lines(lines, fmt)
    assert values(report) == expected
    assert report.bad == []
    assert report.format == fmt


@pytest.mark.parametrize(
    ("fmt", "lines", "kinds"),
    [
        (
            "plain",
            ["t.me/name", "keyword:crushai", "clothoff.io", "192.0.2.7"],
            ["path", "keyword", "domain", "ip"],
        ),
        ("hosts", ["0.0.0.0 192.0.2.7 x.com"], ["ip", "domain"]),
        ("abp", ["||192.0.2.7^", "||t.me/name^", "||x.com^"], ["ip", "path", "domain"]),
        ("tsv", ["keyword\tnudify", "domain\tx.com"], ["keyword", "domain"]),
    ],
)
def test_rule_kinds(fmt: str, lines: list[str], kinds: list[str]) -> None:
    """Domains, paths, keywords and IPs come out as the matching rule kind."""
    assert [entry.rule.kind.value for entry in parse_lines(lines, fmt).entries] == kinds


@pytest.mark.parametrize(
    ("fmt", "lines", "comments", "expected"),
    [
        (
            "hosts",
            [
                "# title",
                "",
                "127.0.0.1 localhost",
                "::1 ip6-localhost ip6-loopback",
                "0.0.0.0 0.0.0.0",
                "255.255.255.255 broadcasthost",
                "fe00::0 ip6-localnet",
                "0.0.0.0 a.com",
            ],
            7,
            ["a.com"],
        ),
        ("plain", ["! title", "; note", "// note", "   ", "a.com"], 4, ["a.com"]),
        ("abp", ["[Adblock Plus 2.0]", "! Title: x", "||a.com^"], 2, ["a.com"]),
        ("abp", ["[uBlock Origin]", "||a.com^"], 1, ["a.com"]),
        (
            "tsv",
            ["# comment", "kind\tvalue\tcategory\ttier\tconfidence\tsource", "domain\ta.com"],
            2,
            ["a.com"],
        ),
        ("dnsmasq", ["# conf", "local=/a.com/"], 1, ["a.com"]),
    ],
)
def test_comments_headers_and_boilerplate(
    fmt: str, lines: list[str], comments: int, expected: list[str]
) -> None:
    """Comments, blank lines, headers and local-name hosts lines are skipped and counted."""
    report = parse_lines(lines, fmt)
    assert report.comments == comments
    assert values(report) == expected
    assert report.bad == []


@pytest.mark.parametrize(
    ("fmt", "lines", "expected"),
    [
        ("hosts", ["0.0.0.0 a.com # tracker", "0.0.0.0 b.com#c.com"], ["a.com", "b.com"]),
        ("plain", ["a.com # note", "b.com\t! note", "c.com ; note"], ["a.com", "b.com", "c.com"]),
        ("wildcard", ["*.a.com # note"], ["a.com"]),
        (
            "dnsmasq",
            ["address=/a.com/0.0.0.0 # block it", "local=/b.com/ # note"],
            ["a.com", "b.com"],
        ),
    ],
)
def test_inline_comments(fmt: str, lines: list[str], expected: list[str]) -> None:
    """Inline comments after a value are dropped, the value kept."""
    report = parse_lines(lines, fmt)
    assert values(report) == expected
    assert report.bad == []


@pytest.mark.parametrize("fmt", ["auto", "hosts"])
def test_crlf_and_bom(fmt: str) -> None:
    """A UTF-8 BOM and CRLF line ends do not leak into rules or break detection."""
    report = parse_lines(["\ufeff# hosts\r\n", "0.0.0.0 a.com\r\n", "0.0.0.0 b.com\r\n"], fmt)
    assert report.format == "hosts"
    assert values(report) == ["a.com", "b.com"]
    assert report.comments == 1


def test_bom_on_a_rule_line() -> None:
    """A BOM before the very first rule is stripped rather than reported."""
    assert values(parse_lines(["\ufeffa.com\n", "b.com\n"])) == ["a.com", "b.com"]


@pytest.mark.parametrize(
    ("fmt", "lines", "line", "reason"),
    [
        ("plain", ["a.com", "crushai"], 2, "single word"),
        ("plain", ["a.com b.com"], 1, "several values"),
        ("plain", ["ex*ample.com"], 1, "*"),
        ("plain", ["a..b.com"], 1, "neither a domain"),
        ("plain", ["# c", "", "co.uk"], 3, "public suffix"),
        ("wildcard", ["*.x.com", "*.*.y.com"], 2, "*"),
        ("wildcard", ["*.com"], 1, ""),
        ("hosts", ["a.com"], 1, "expected an IP address"),
        ("hosts", ["0.0.0.0"], 1, "no host name"),
        ("hosts", ["0.0.0.0 a.com", "0.0.0.0 bad_host!/x"], 2, "host name"),
        ("hosts", ["0.0.0.0 localhostx"], 1, "single label"),
        ("abp", ["||com^"], 1, "single word"),
        ("abp", ["||github.io^"], 1, "public suffix"),
        ("dnsmasq", ["address=/x.com"], 1, "between slashes"),
        ("dnsmasq", ["conf-file=/etc/x"], 1, "expected address="),
        ("dnsmasq", ["address=/#/"], 1, "host name"),
        ("tsv", ["domain"], 1, "expected kind"),
        ("tsv", ["domian\ta.com"], 1, "expected kind"),
        ("tsv", ["domain\ta.com\tcat\tsometimes"], 1, "unknown tier"),
        ("tsv", ["keyword\tai"], 1, "too short"),
        ("tsv", ["domain\tt.me/name"], 1, "host name"),
        ("plain", ["a.com", "x" * 10_000], 2, f"longer than {MAX_LINE_CHARS}"),
        ("plain", ["a\x00b.com"], 1, ""),
    ],
)
def test_bad_lines(fmt: str, lines: list[str], line: int, reason: str) -> None:
    """A bad line is recorded with its 1-based number and reason, and parsing goes on."""
    report = parse_lines([*lines, "# tail", "ok-after.com"] if fmt == "plain" else lines, fmt)
    assert [(bad.line, reason in bad.reason) for bad in report.bad] == [(line, True)]
    assert report.bad_count == 1
    if fmt == "plain":
        assert values(report)[-1] == "ok-after.com"


def test_bad_host_among_good_ones() -> None:
    """One bad name on a hosts line is reported alone; the other names on the line still count."""
    report = parse_lines(["0.0.0.0 a.com co.uk b.com"], "hosts")
    assert values(report) == ["a.com", "b.com"]
    assert [(bad.line, bad.text) for bad in report.bad] == [(1, "co.uk")]


def test_hostile_line_is_truncated_and_escaped() -> None:
    """Reported text and reasons are short and free of control characters."""
    report = parse_lines(["\x1b[31m" + "y" * 500 + ".com", "z" * 20_000], "plain")
    assert len(report.bad) == 2
    for bad in report.bad:
        assert len(bad.text) <= 81
        assert len(bad.reason) <= 161
        assert all(c.isprintable() for c in bad.text + bad.reason)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("@@||good.com^", "exception"),
        ("example.com##.banner", "cosmetic"),
        ("##.banner", "cosmetic"),
        ("example.com#@#.banner", "cosmetic"),
        ("example.com#?#div:has(a)", "cosmetic"),
        ("/ad[0-9]+\\.js/", "regular expression"),
        ("||ex*ample.com^", "wildcard"),
        ("||example.com^*/ads/*", "wildcard"),
        ("||example.com^$domain=a.com", "option domain"),
        ("||example.com^$removeparam=utm", "option removeparam"),
        ("/banner/ads/", "regular expression"),
        ("-ad-banner.", "substring"),
        ("&ad_type=", "substring"),
    ],
)
def test_abp_unsupported(line: str, reason: str) -> None:
    """Valid Adblock filters Shield cannot express are counted as unsupported, not bad."""
    report = parse_lines(["! list", line, "||ok.com^"], "abp")
    assert report.unsupported == 1
    assert [(u.line, reason in u.reason) for u in report.unsupported_sample] == [(2, True)]
    assert report.bad == []
    assert values(report) == ["ok.com"]


@pytest.mark.parametrize(
    "line", ["server=/a.com/1.1.1.1", "server=/a.com/#", "address=/router.lan/192.168.1.1"]
)
def test_dnsmasq_forwarding_is_unsupported(line: str) -> None:
    """dnsmasq lines that forward or redirect rather than block are not turned into rules."""
    report = parse_lines([line], "dnsmasq")
    assert (report.entries, report.bad, report.unsupported) == ([], [], 1)


def test_unsupported_sample_is_small() -> None:
    """Only the first few unsupported lines are kept, all are counted."""
    report = parse_lines(["@@||x.com^"] * 50, "abp")
    assert report.unsupported == 50
    assert [u.line for u in report.unsupported_sample] == list(range(1, 11))


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["# StevenBlack", "127.0.0.1 localhost", "0.0.0.0 a.com", "0.0.0.0 b.com"], "hosts"),
        (["::1 localhost", ":: a.com"], "hosts"),
        (["a.com", "b.com", "t.me/x"], "plain"),
        (["[Adblock Plus 2.0]", "a.com"], "abp"),
        (["! Title", "||a.com^", "||b.com^$third-party", "c.com"], "abp"),
        (["*.a.com", "*.b.com"], "wildcard"),
        (["a.com", "*.b.com", "c.com", "d.com"], "wildcard"),
        (["address=/a.com/0.0.0.0", "local=/b.com/"], "dnsmasq"),
        (["server=/a.com/"], "dnsmasq"),
        (["# c", "domain\ta.com\tx\tblock", "keyword\tcrushai\tx\tflag"], "tsv"),
        (["\ufeffa.com\r\n", "b.com\r\n"], "plain"),
        (["## section", "#### another", "0.0.0.0 a.com"], "hosts"),
    ],
)
def test_detect_format(lines: list[str], expected: str) -> None:
    """Each format is recognised from its first lines; plain+wildcard mixes read as wildcard."""
    assert detect_format(lines) == expected
    assert parse_lines(lines).format == expected


def test_detect_shield_tsv() -> None:
    """Shield's own list is detected as TSV and parses without a single bad line."""
    report = parse_lines(SHIELD_TSV.read_text(encoding="utf-8").splitlines(keepends=True))
    assert report.format == "tsv"
    assert report.bad == []
    assert report.duplicates == 0
    assert len(report.entries) > 20
    by_value = {entry.rule.value: entry for entry in report.entries}
    assert by_value["clothoff.io"].tier is Tier.BLOCK
    assert by_value["crushai"].rule.kind is RuleKind.KEYWORD
    assert by_value["crushai"].tier is Tier.REVIEW  # "flag" in the file
    assert by_value["clothoff.io"].category == "nudify-app"
    assert by_value["clothoff.io"].confidence == "high"
    assert (by_value["clothoff.io"].source or "").startswith("Faked Up")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "no rules"),
        (["# only", "! comments", "", "; here"], "no rules"),
        (["hello", "world"], "could not recognise"),
    ],
)
def test_detect_format_fails_clearly(lines: list[str], message: str) -> None:
    """Detection raises a clear ValueError when nothing fits."""
    with pytest.raises(ValueError, match=message):
        detect_format(lines)


def test_only_comments_file() -> None:
    """A file of only comments gives an empty report, not an error."""
    report = parse_lines(["# a\n", "! b\n", "\n", "[Adblock Plus 2.0]\n"])
    assert (report.entries, report.bad, report.comments, report.lines) == ([], [], 4, 4)


def test_undetectable_file_reports_every_line() -> None:
    """When no format fits, auto falls back to plain so each line is reported with a reason."""
    report = parse_lines(["hello", "world"])
    assert [bad.line for bad in report.bad] == [1, 2]


@pytest.mark.parametrize(
    ("fmt", "line"),
    [
        ("plain", "com"),
        ("plain", "co.uk"),
        ("plain", "github.io"),
        ("wildcard", "*.co.uk"),
        ("hosts", "0.0.0.0 co.uk"),
        ("abp", "||blogspot.com^"),
        ("dnsmasq", "address=/co.uk/0.0.0.0"),
        ("tsv", "domain\tco.uk"),
    ],
)
def test_public_suffixes_rejected(fmt: str, line: str) -> None:
    """A rule for a public suffix (or a bare TLD) would match every site under it: bad line."""
    report = parse_lines([line], fmt)
    assert report.entries == []
    assert len(report.bad) == 1


@pytest.mark.parametrize(
    ("fmt", "lines", "expected", "duplicates"),
    [
        ("plain", ["a.com", "A.com", "a.com.", "*.a.com", "https://a.com/"], ["a.com"], 4),
        ("hosts", ["0.0.0.0 a.com a.com", "127.0.0.1 a.com"], ["a.com"], 2),
        ("tsv", ["domain\ta.com\tx\tblock", "domain\ta.com\tx\tflag"], ["a.com"], 1),
        ("plain", ["bücher.de", "xn--bcher-kva.de"], ["xn--bcher-kva.de"], 1),
    ],
)
def test_duplicates_reported_once(
    fmt: str, lines: list[str], expected: list[str], duplicates: int
) -> None:
    """The same rule twice is kept once (the first) and the repeats are counted."""
    report = parse_lines(lines, fmt)
    assert values(report) == expected
    assert report.duplicates == duplicates
    assert report.entries[0].line == 1


@pytest.mark.parametrize(
    ("fmt", "line", "expected"),
    [
        ("plain", "bücher.de", "xn--bcher-kva.de"),
        ("hosts", "0.0.0.0 ΒΑΝΚ.gr", "xn--mxabzl.gr"),
        ("abp", "||bücher.de^", "xn--bcher-kva.de"),
        ("dnsmasq", "local=/bücher.de/", "xn--bcher-kva.de"),
        ("tsv", "domain\tbücher.de", "xn--bcher-kva.de"),
        ("plain", "ｅｘａｍｐｌｅ。com", "example.com"),
    ],
)
def test_unicode_domains_canonicalised(fmt: str, line: str, expected: str) -> None:
    """Unicode domains become punycode, the one form matching compares."""
    assert values(parse_lines([line], fmt)) == [expected]


def test_parse_lines_forced_format_ignores_detection() -> None:
    """A forced format is used even if the lines look like another one."""
    report = parse_lines(["0.0.0.0 a.com"], "plain")
    assert report.format == "plain"
    assert len(report.bad) == 1


def test_unknown_format_name() -> None:
    """An unknown format name is a caller error, raised at once (even when streaming)."""
    with pytest.raises(ValueError, match="unknown list format"):
        parse_lines(["a.com"], "csv")
    with pytest.raises(ValueError, match="unknown list format"):
        iter_entries(["a.com"], ParseReport(), "csv")


def test_hosts_redirect_is_unsupported() -> None:
    """A hosts line pinning a name to a real address (safe search) is not a block."""
    report = parse_lines(["216.239.38.120 www.google.com", "0.0.0.0 a.com"], "hosts")
    assert values(report) == ["a.com"]
    assert report.unsupported == 1
    assert report.bad == []


def test_iter_entries_is_lazy() -> None:
    """With a forced format, each entry is yielded before later lines are read."""
    consumed: list[int] = []

    def lines() -> Iterator[str]:
        for i in range(1, 1_000_000):
            consumed.append(i)
            yield f"site{i}.com\n"

    report = ParseReport()
    entries = iter_entries(lines(), report, "plain")
    assert next(entries).rule.value == "site1.com"
    assert next(entries).line == 2
    assert consumed == [1, 2]
    assert (report.format, report.lines) == ("plain", 2)


def test_auto_reads_only_a_bounded_head() -> None:
    """Auto-detection buffers a bounded number of lines before the first entry comes out."""
    consumed: list[int] = []

    def lines() -> Iterator[str]:
        for i in range(1, 1_000_000):
            consumed.append(i)
            yield f"0.0.0.0 site{i}.com\n"

    report = ParseReport()
    assert next(iter_entries(lines(), report)).rule.value == "site1.com"
    assert report.format == "hosts"
    assert len(consumed) <= 200


def test_bad_lines_kept_are_capped() -> None:
    """A feed of nothing but garbage keeps a bounded sample of bad lines but counts them all."""
    report = parse_lines(["bad"] * 5000, "plain")
    assert report.bad_count == 5000
    assert len(report.bad) == 1000


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("||clothoff.io^", "domain", "clothoff.io"),
        ("*.clothoff.io", "domain", "clothoff.io"),
        ("0.0.0.0 clothoff.io", "domain", "clothoff.io"),
        ("local=/clothoff.io/", "domain", "clothoff.io"),
        ("address=/clothoff.io/0.0.0.0", "domain", "clothoff.io"),
        ("keyword:crushai", "keyword", "crushai"),
        ("undress ai", "keyword", "undress ai"),
        ("t.me/name", "path", "t.me/name"),
        ("https://imgur.com/a/ABC", "path", "imgur.com/a/abc"),
        ("|https://imgur.com/a/abc|", "path", "imgur.com/a/abc"),
        ("  Clothoff.IO  ", "domain", "clothoff.io"),
        ("bücher.de", "domain", "xn--bcher-kva.de"),
        ("clothoff.io # the big one", "domain", "clothoff.io"),
        ("domain\tclothoff.io\tnudify-app\tflag", "domain", "clothoff.io"),
        ("192.0.2.1", "ip", "192.0.2.1"),
    ],
)
def test_parse_one(text: str, kind: str, value: str) -> None:
    """A moderator's rule in any list syntax gives one canonical entry."""
    entry = parse_one(text)
    assert (entry.rule.kind.value, entry.rule.value) == (kind, value)


def test_parse_one_keeps_tsv_tier() -> None:
    """A TSV row typed as one rule keeps its tier."""
    assert parse_one("keyword\tcrushai\tnudify-app\tflag").tier is Tier.REVIEW


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty rule"),
        ("   ", "empty rule"),
        ("# note", "comment"),
        ("co.uk", "public suffix"),
        ("*.com", "too short"),
        ("@@||x.com^", "exception rule: not supported"),
        ("x.com##.ad", "cosmetic rule: not supported"),
        ("||x*y.com^", "wildcard"),
        ("ex*ample.com", "host name"),
        ("0.0.0.0 a.com b.com", "one rule at a time"),
        ("local=/a.com/b.com/", "one rule at a time"),
        ("127.0.0.1 localhost", "only local names"),
        ("server=/a.com/1.1.1.1", "not supported"),
        ("keyword:ai", "too short"),
        ("a" * 5000, "longer than"),
    ],
)
def test_parse_one_errors(text: str, message: str) -> None:
    """Anything that is not exactly one supported rule is refused with a clear message."""
    with pytest.raises(ValueError, match=message):
        parse_one(text)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.text(max_size=60),
            st.text(alphabet="0.:/|^$*#!@=abcxyz-_ \t\r\n\ufeff", max_size=40),
            st.sampled_from(["0.0.0.0 ", "||", "address=/", "domain\t", "keyword\t", "*."]).flatmap(
                lambda prefix: st.text(max_size=30).map(lambda rest: prefix + rest)
            ),
        ),
        max_size=30,
    ),
    fmt=st.sampled_from(["auto", *FORMATS]),
)
def test_parse_lines_never_raises(lines: list[str], fmt: str) -> None:
    """Arbitrary text in any format gives a report, never an exception, and sane line numbers."""
    report = parse_lines(lines, fmt)
    assert report.lines == len(lines)
    assert all(1 <= bad.line <= len(lines) for bad in report.bad)
    assert all(1 <= entry.line <= len(lines) for entry in report.entries)
    assert len({entry.rule for entry in report.entries}) == len(report.entries)
