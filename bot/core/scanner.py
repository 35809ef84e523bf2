"""The link scanner: message text in, `Verdict` out. Pure and fast enough for every message."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.extract import Link, extract_links, text_views
from bot.core.hosts import suffixes, to_unicode
from bot.core.linkindex import LinkIndex, Source
from bot.core.lookalike import fold, skeleton
from bot.core.normalise import normalise
from bot.core.verdict import Finding, Tier, Verdict


@dataclass(frozen=True, slots=True)
class LinkScanOptions:
    lookalikes: bool = True
    keywords: bool = True
    max_text_chars: int = 20_000


class LinkScanner:
    """Finds listed domains, paths, brand keywords and look-alike domains in message text."""

    def __init__(self, index: LinkIndex, options: LinkScanOptions | None = None) -> None:
        self.index = index
        self.options = options or LinkScanOptions()

    def scan(self, text: str) -> Verdict:
        """Everything in `text` that matches a list; an allow-list match suppresses the rest."""
        norm = normalise(text[: self.options.max_text_chars])
        findings: list[Finding] = []
        allowed: list[Finding] = []
        covered: list[str] = []  # hosts already judged: a keyword inside them adds nothing
        for link in extract_links(norm):
            found, allow = self._scan_link(link)
            if allow is not None:
                allowed.extend(found)
                covered.append(fold(to_unicode(link.host)))
            elif found:
                findings.extend(found)
                covered.append(fold(to_unicode(link.host)))
        if self.options.keywords and self.index.text_keywords is not None:
            for finding in self._text_keywords(norm):
                keyword = finding.matched.replace(" ", "")
                if not any(keyword in host for host in covered):
                    findings.append(finding)
        return Verdict(tuple(dict.fromkeys(findings)), tuple(dict.fromkeys(allowed)))

    def _scan_link(self, link: Link) -> tuple[list[Finding], Source | None]:
        index = self.index
        host = link.host
        parents = [host] if link.is_ip else suffixes(host, min_labels=2)
        signal = "ip" if link.is_ip else "domain"
        found: list[Finding] = []
        allow: Source | None = None
        for parent in parents:
            allow = allow or index.allow_source(parent)
            for source in index.host_sources(parent):
                found.append(_finding(signal, host, parent, source))
            for path, source in index.path_rules(parent):
                if link.path == path or link.path.startswith(path + "/"):
                    found.append(_finding("path", link.display, parent + path, source))
        if not link.is_ip:
            if not found and self.options.lookalikes:
                found.extend(self._lookalikes(host, parents))
            if not found and self.options.keywords and index.host_keywords is not None:
                found.extend(self._host_keywords(host))
        return found, allow

    def _lookalikes(self, host: str, parents: list[str]) -> list[Finding]:
        """Listed domains that this host's name is drawn like, but is not: review, never block."""
        readable = to_unicode(host)
        readable_parents = suffixes(readable, min_labels=2)
        if len(readable_parents) != len(parents):
            readable_parents = parents
        out: list[Finding] = []
        for parent, shown in zip(parents, readable_parents, strict=True):
            for listed in self.index.lookalike_of(skeleton(shown)):
                if listed == parent:
                    continue
                for source in self.index.host_sources(listed):
                    out.append(
                        Finding(
                            signal="lookalike",
                            value=host,
                            matched=listed,
                            source=source.name,
                            tier=Tier.REVIEW,
                            note=f"{readable} looks like {listed}",
                        )
                    )
        return out

    def _host_keywords(self, host: str) -> list[Finding]:
        pattern = self.index.host_keywords
        assert pattern is not None
        out: list[Finding] = []
        for match in pattern.finditer(fold(to_unicode(host))):
            keyword, sources = self.index.keyword_at(match.lastindex or 0)
            out.extend(_finding("keyword", host, keyword, s) for s in sources)
        return out

    def _text_keywords(self, norm: str) -> list[Finding]:
        pattern = self.index.text_keywords
        assert pattern is not None
        out: list[Finding] = []
        for view in text_views(norm):
            folded = fold(view)
            same_length = len(folded) == len(view)
            for match in pattern.finditer(folded):
                keyword, sources = self.index.keyword_at(match.lastindex or 0)
                seen = view[match.start() : match.end()] if same_length else match.group(0)
                out.extend(_finding("keyword", seen, keyword, s) for s in sources)
        return out


def _finding(signal: str, value: str, matched: str, source: Source) -> Finding:
    return Finding(
        signal=signal, value=value, matched=matched, source=source.name, tier=source.tier
    )
