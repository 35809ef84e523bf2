"""Blocklist files as people publish them (hosts, plain, Adblock, wildcard, dnsmasq, Shield TSV).

Pure and streaming: the caller reads the file and hands over lines; every value is validated and
canonicalised by `bot.core.rules`. A bad line is recorded and skipped, never fatal, because list
feeds are hostile input like everything else.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

from bot.core.hosts import canonical_ip
from bot.core.rules import LinkRule, RuleKind, domain_rule, keyword_rule, parse_rule
from bot.core.verdict import Tier

FORMATS: Final = ("hosts", "plain", "abp", "wildcard", "dnsmasq", "tsv")
DETECT_LINES: Final = 200  # meaningful lines looked at to guess the format
MAX_HEAD_LINES: Final = 5000  # stop buffering for detection even if the file is mostly comments
MAX_LINE_CHARS: Final = 2048  # no real rule is longer; longer lines are broken or hostile
MAX_BAD_KEPT: Final = 1000  # a hostile feed can be all bad lines: keep these, count the rest
SAMPLE_SIZE: Final = 10
SHOW_CHARS: Final = 80

# fmt: off
# Boilerplate at the top of every hosts file; blocking these would break the machine, not a site.
LOCAL_NAMES: Final = frozenset({
    "localhost", "localhost.localdomain", "local", "localdomain", "broadcasthost", "0.0.0.0",
    "ip6-localhost", "ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes",
    "ip6-allrouters", "ip6-allhosts",
})
# ABP options that only narrow *when* a request is blocked, not *whether* the site is bad.
_ABP_OPTIONS: Final = frozenset({
    "third-party", "3p", "first-party", "1p", "all", "document", "doc", "popup", "important",
    "script", "image", "stylesheet", "css", "subdocument", "frame", "xmlhttprequest", "xhr",
    "media", "object", "font", "websocket", "ping", "other",
})
# fmt: on
_SINK_IPS: Final = frozenset({"0.0.0.0", "::", "127.0.0.1", "::1"})
_COMMENT_STARTS: Final = ("#", "!", ";", "//")
_COSMETIC: Final = ("##", "#@#", "#?#", "#$#", "#%#")
_HEADER: Final = re.compile(r"\[(?:adblock|ublock|adguard)[^\]]*\]", re.IGNORECASE)
_INLINE_COMMENT: Final = re.compile(r"\s[#!;]")
_SEPARATORS: Final = "./:\u3002\uff0e\uff61"  # IDNA reads the ideographic full stops as dots
_DNSMASQ: Final = re.compile(r"(address|local|server)=(/.*)")


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One rule read from a list, with the line it came from and any per-row provenance."""

    rule: LinkRule
    line: int
    tier: Tier | None = None  # per-row tier (TSV); None means the list's own tier
    category: str | None = None
    confidence: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line (or one value on it) that was skipped, and why."""

    line: int
    text: str  # truncated, with control characters escaped: safe to print
    reason: str


@dataclass(slots=True)
class ParseReport:
    """What a list held: entries, plus everything skipped, so the operator can trust the import."""

    format: str = ""
    entries: list[ListEntry] = field(default_factory=list)  # filled by parse_lines only
    bad: list[BadLine] = field(default_factory=list)  # the first MAX_BAD_KEPT
    bad_count: int = 0
    comments: int = 0  # comments, blank lines, headers and local-only hosts lines
    duplicates: int = 0
    unsupported: int = 0  # valid filters Shield cannot express (exceptions, cosmetic, regex)
    unsupported_sample: list[BadLine] = field(default_factory=list)
    lines: int = 0

    def add_bad(self, bad: BadLine) -> None:
        """Count a bad line, keeping only the first MAX_BAD_KEPT in memory."""
        self.bad_count += 1
        if len(self.bad) < MAX_BAD_KEPT:
            self.bad.append(bad)


class _UnsupportedError(Exception):
    """A well-formed filter of a kind Shield does not implement (not the list's fault)."""


def _show(text: object, limit: int = SHOW_CHARS) -> str:
    """Truncate and escape a hostile string (or error) so it can go in a report or a terminal."""
    head = str(text)[: limit + 1]
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in head)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def _reason(exc: Exception) -> str:
    return _show(exc, 2 * SHOW_CHARS)  # rules.py quotes the whole value, which can be long


def _clean(raw: str, first: bool) -> str:
    return (raw.removeprefix("\ufeff") if first else raw).strip()


def _is_comment(text: str, fmt: str) -> bool:
    if fmt == "abp" and text.startswith(_COSMETIC):
        return False  # `##.ad` is an Adblock element-hiding rule, reported as unsupported
    return not text or text.startswith(_COMMENT_STARTS) or bool(_HEADER.fullmatch(text))


def _checked(rule: LinkRule) -> LinkRule:
    # The host parser lets `*` through as an ordinary character; such a rule could never match.
    if rule.kind is not RuleKind.KEYWORD and "*" in rule.host:
        raise ValueError("a wildcard is only allowed as a leading '*.'")
    return rule


def _host_rule(name: str) -> LinkRule:
    return _checked(domain_rule(name))


def _link_rule(token: str) -> LinkRule:
    """A domain, host/path or URL; a bare word here is a mistake, not a keyword."""
    if not any(c in token for c in _SEPARATORS):
        raise ValueError(f"{_show(token)!r} is a single word, not a domain")
    rule = _checked(parse_rule(token))
    if rule.kind is RuleKind.KEYWORD:
        raise ValueError(f"{_show(token)!r} is not a domain or URL")
    return rule


def _each(names: list[str], n: int) -> list[ListEntry | BadLine]:
    """Host names sharing one line: a bad one is reported alone, the others still count."""
    out: list[ListEntry | BadLine] = []
    for name in names:
        try:
            out.append(ListEntry(_host_rule(name), n))
        except ValueError as exc:
            out.append(BadLine(n, _show(name), _reason(exc)))
    return out


def _plain(text: str, n: int) -> list[ListEntry | BadLine]:
    text = _INLINE_COMMENT.split(text, 1)[0]
    if text.lower().startswith("keyword:"):
        return [ListEntry(parse_rule(text), n)]  # explicit, so a keyword is what was meant
    if any(c.isspace() for c in text):
        raise ValueError("several values on one line: expected one domain or URL")
    return [ListEntry(_link_rule(text), n)]


def _hosts(text: str, n: int) -> list[ListEntry | BadLine]:
    address, *names = text.split("#", 1)[0].split()
    ip = canonical_ip(address)
    if ip is None:
        raise ValueError(f"expected an IP address then host names, not {_show(address)!r}")
    if not names:
        raise ValueError("no host name after the address")
    names = [name for name in names if name.lower().rstrip(".") not in LOCAL_NAMES]
    if names and ip not in _SINK_IPS:  # e.g. a safe-search list pinning www.google.com
        raise _UnsupportedError(f"hosts entry pointing to a real address ({ip}), not a block")
    return _each(names, n)


def _abp(text: str, n: int) -> list[ListEntry | BadLine]:
    if text.startswith("@@"):
        raise _UnsupportedError("exception rule")
    if any(marker in text for marker in _COSMETIC):
        raise _UnsupportedError("cosmetic rule")
    body, dollar, options = text.rpartition("$") if "$" in text else (text, "", "")
    if dollar:
        names = {o.strip().lower().lstrip("~").split("=", 1)[0] for o in options.split(",")}
        if not names <= _ABP_OPTIONS:
            raise _UnsupportedError(f"option {', '.join(sorted(names - _ABP_OPTIONS))[:40]}")
    if len(body) > 1 and body.startswith("/") and body.endswith("/"):
        raise _UnsupportedError("regular expression")
    anchored = body.startswith("|")
    target = body.removeprefix("||") if body.startswith("||") else body.removeprefix("|")
    target = target.rstrip("^|*")  # a trailing separator or wildcard adds nothing to a prefix
    if not target or any(c in target.removeprefix("*.") for c in "*^|"):
        raise _UnsupportedError("wildcard or separator inside the rule")
    try:
        if not anchored and target.startswith("/"):
            raise ValueError("a URL path fragment")
        return [ListEntry(_link_rule(target), n)]
    except ValueError:
        if anchored:
            raise
        raise _UnsupportedError("substring filter") from None  # unanchored: any part of a URL


def _dnsmasq(text: str, n: int) -> list[ListEntry | BadLine]:
    match = _DNSMASQ.fullmatch(_INLINE_COMMENT.split(text, 1)[0])
    if match is None:
        raise ValueError("expected address=/domain/..., local=/domain/ or server=/domain/")
    key, path = match.groups()
    *names, target = path[1:].split("/")
    if not names:
        raise ValueError("expected the domain between slashes: /example.com/")
    if key != "address" and target:
        raise _UnsupportedError(f"{key}= forwarding to {_show(target)!r}")  # not a block
    if key == "address" and target not in ("", "#") and canonical_ip(target) not in _SINK_IPS:
        raise _UnsupportedError("address= pointing to a real address")  # a redirect, not a block
    return _each([name.removeprefix("*.") for name in names], n)


_TSV_RULES: Final[dict[str, Callable[[str], LinkRule]]] = {
    "domain": _host_rule,
    "keyword": keyword_rule,
    "path": lambda value: _checked(parse_rule(f"path:{value}")),
    "ip": lambda value: parse_rule(f"ip:{value}"),
}


def _tsv(text: str, n: int) -> list[ListEntry | BadLine]:
    cols = [col.strip() for col in text.split("\t")]
    kind = cols[0].lower()
    if kind == "kind":
        return []  # the column header row
    if len(cols) < 2 or kind not in _TSV_RULES:
        raise ValueError("expected kind<TAB>value<TAB>..., kind being domain, keyword, path or ip")
    value, category, tier, confidence, source = (cols + [""] * 6)[1:6]
    rule = _TSV_RULES[kind](value)
    parsed_tier = Tier.parse(tier) if tier else None
    return [ListEntry(rule, n, parsed_tier, category or None, confidence or None, source or None)]


# fmt: off
_PARSERS: Final[dict[str, Callable[[str, int], list[ListEntry | BadLine]]]] = {
    "hosts": _hosts, "plain": _plain, "abp": _abp, "dnsmasq": _dnsmasq, "tsv": _tsv,
    "wildcard": _plain,  # a wildcard list is a plain list whose lines may start with `*.`
}
# Which line shapes each format accepts, in the order that breaks ties (most specific first).
_ACCEPTS: Final = {
    "tsv": {"tsv"}, "dnsmasq": {"dnsmasq"}, "hosts": {"hosts"}, "plain": {"plain"},
    "wildcard": {"plain", "wildcard"}, "abp": {"plain", "abp"},
}
# fmt: on


def _shape(text: str) -> str | None:
    """The format a single non-comment line looks like, or None."""
    if "\t" in text and text.split("\t", 1)[0].strip().lower() in {*_TSV_RULES, "kind"}:
        return "tsv"
    if _DNSMASQ.match(text):
        return "dnsmasq"
    first, *rest = _INLINE_COMMENT.split(text, 1)[0].split() or [""]
    if rest and canonical_ip(first) is not None:
        return "hosts"
    if text.startswith(("|", "@@", "/")) or any(c in text for c in "^$") or "##" in text:
        return "abp"
    if rest or not first:
        return None
    if first.startswith("*."):
        return "wildcard"
    return "plain" if any(c in first for c in _SEPARATORS) else None


def detect_format(lines: Iterable[str]) -> str:
    """Guess the format from the first meaningful lines; ValueError if no format fits."""
    votes = dict.fromkeys(_ACCEPTS, 0)
    seen = 0
    for i, raw in enumerate(itertools.islice(lines, MAX_HEAD_LINES)):
        text = _clean(raw, i == 0)[:MAX_LINE_CHARS]
        if _HEADER.fullmatch(text):
            return "abp"
        if _is_comment(text, ""):
            continue
        seen += 1
        shape = _shape(text)
        for fmt, accepted in _ACCEPTS.items():
            votes[fmt] += shape in accepted
        if seen >= DETECT_LINES:
            break
    if not seen:
        raise ValueError("no rules found to tell the list format from")
    best = max(_ACCEPTS, key=lambda fmt: votes[fmt])  # max keeps the first of equals
    if not votes[best]:
        raise ValueError(f"could not recognise the list format: expected one of {FORMATS}")
    return best


def iter_entries(
    lines: Iterable[str], report: ParseReport, fmt: str = "auto"
) -> Iterator[ListEntry]:
    """Yield new entries as lines are consumed; format, counts and bad lines go into `report`."""
    fmt = fmt.lower()
    if fmt != "auto" and fmt not in FORMATS:  # checked now, not at the first next()
        raise ValueError(f"unknown list format {fmt!r}: use auto or one of {', '.join(FORMATS)}")
    return _iter_entries(iter(lines), report, fmt)


def _iter_entries(it: Iterator[str], report: ParseReport, fmt: str) -> Iterator[ListEntry]:
    if fmt == "auto":
        head: list[str] = []
        meaningful = 0
        for raw in itertools.islice(it, MAX_HEAD_LINES):
            head.append(raw)
            meaningful += not _is_comment(_clean(raw, len(head) == 1), "")
            if meaningful >= DETECT_LINES:
                break
        try:
            fmt = detect_format(head)
        except ValueError:
            fmt = "plain"  # nothing fits: every line then shows up as bad, with its reason
        it = itertools.chain(head, it)
    report.format = fmt
    parse = _PARSERS[fmt]
    seen: set[LinkRule] = set()
    for n, raw in enumerate(it, 1):
        report.lines = n
        text = _clean(raw, n == 1)
        if _is_comment(text, fmt):
            report.comments += 1
            continue
        if len(text) > MAX_LINE_CHARS:
            report.add_bad(BadLine(n, _show(text), f"longer than {MAX_LINE_CHARS} characters"))
            continue
        try:
            items = parse(text, n)
        except _UnsupportedError as exc:
            report.unsupported += 1
            if len(report.unsupported_sample) < SAMPLE_SIZE:
                report.unsupported_sample.append(BadLine(n, _show(text), f"unsupported {exc}"))
            continue
        except ValueError as exc:
            report.add_bad(BadLine(n, _show(text), _reason(exc)))
            continue
        if not items:
            report.comments += 1  # a header row or only local names: boilerplate
        for item in items:
            if isinstance(item, BadLine):
                report.add_bad(item)
            elif item.rule in seen:
                report.duplicates += 1
            else:
                seen.add(item.rule)
                yield item


def parse_lines(lines: Iterable[str], fmt: str = "auto") -> ParseReport:
    """Parse a whole list (lazily consumed) into a report holding its entries."""
    report = ParseReport()
    report.entries.extend(iter_entries(lines, report, fmt))
    return report


def parse_one(text: str) -> ListEntry:
    """One rule as a moderator types it, in any list syntax; ValueError saying what is wrong."""
    line = _clean(text, True)
    if len(line) > MAX_LINE_CHARS:
        raise ValueError(f"rule is longer than {MAX_LINE_CHARS} characters")
    if _is_comment(line, "abp"):
        raise ValueError("empty rule" if not line else "that is a comment, not a rule")
    shape = _shape(line)
    try:
        if shape in _PARSERS and shape not in ("plain", "wildcard"):
            items = _PARSERS[shape](line, 1)
        else:  # free text: parse_rule reads domains, URLs, keyword: and phrases
            items = [ListEntry(_checked(parse_rule(_INLINE_COMMENT.split(line, 1)[0])), 1)]
    except _UnsupportedError as exc:
        raise ValueError(f"{exc}: not supported by Shield") from None
    for item in items:
        if isinstance(item, BadLine):
            raise ValueError(item.reason)
    entries = [item for item in items if isinstance(item, ListEntry)]
    if len(entries) != 1:
        raise ValueError("one rule at a time" if entries else "nothing to block: only local names")
    return entries[0]
