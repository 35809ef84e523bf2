"""Host names as a browser sees them: WHATWG URL parsing, IDNA both ways, the public suffix list.

The public suffix list is the copy bundled with the `publicsuffixlist` package; it is never
fetched at run time.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import unquote

import ada_url
from publicsuffixlist import PublicSuffixList

MAX_HOST_CHARS: Final = 253
MAX_LABEL_CHARS: Final = 63

_PSL: Final = PublicSuffixList(accept_unknown=False)
_SPECIAL_SCHEMES: Final = ("http:", "https:", "ws:", "wss:", "ftp:")


@dataclass(frozen=True, slots=True)
class ParsedURL:
    """The parts of a URL that detection needs, in canonical form."""

    host: str  # ASCII (punycode), lower case, no trailing dot; IPs in dotted/compressed form
    path: str  # percent-decoded, lower case, no trailing slash ("" for the root)
    is_ip: bool
    href: str  # the whole URL as the browser would request it


@lru_cache(maxsize=8192)  # chat repeats the same links; parsing is the costly step
def parse_url(text: str) -> ParsedURL | None:
    """Parse like a browser's address bar would; None if a browser would not open it either."""
    try:
        parts = ada_url.parse_url(text)
    except ValueError:
        return None
    if parts["protocol"] not in _SPECIAL_SCHEMES:
        return None
    host = parts["hostname"].rstrip(".")
    if not host or len(host) > MAX_HOST_CHARS:
        return None
    is_ip = parts["host_type"] != ada_url.HostType.DEFAULT
    if is_ip:
        host = canonical_ip(host) or host
    elif ".." in host or any(len(label) > MAX_LABEL_CHARS for label in host.split(".")):
        return None
    return ParsedURL(
        host=host, path=canonical_path(parts["pathname"]), is_ip=is_ip, href=parts["href"]
    )


def canonical_path(path: str) -> str:
    """Decode percent-escapes, lower-case, fold repeated slashes and drop the trailing slash."""
    decoded = unquote(path).lower().replace("\\", "/")
    while "//" in decoded:
        decoded = decoded.replace("//", "/")
    return decoded.rstrip("/")


def canonical_ip(text: str) -> str | None:
    """An IP literal in canonical form; IPv4-mapped and NAT64 IPv6 addresses give their IPv4."""
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if address in ipaddress.IPv6Network("64:ff9b::/96"):
            return str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return str(address)


# A host already in canonical form: ASCII lower-case labels (the common case in big lists).
_PLAIN_HOST: Final = re.compile(
    r"^(?!.*xn--)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)+$"
)
_CANONICAL_HOST: Final = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")
_NOT_IN_HOSTS: Final = frozenset("@/?#\\:* ")


def shown(text: str, limit: int = 80) -> str:
    """A value quoted for an error message: control characters escaped, long text cut."""
    quoted = repr(text[:limit])
    return quoted + ("..." if len(text) > limit else "")


def canonical_host(text: str) -> str:
    """ASCII, lower-case form of a host name (IDNA/UTS-46), or ValueError saying what is wrong."""
    raw = text.strip().rstrip(".")
    if not raw:
        raise ValueError("empty host name")
    if len(raw) > MAX_HOST_CHARS:
        raise ValueError(f"{shown(text)} is longer than a host name can be")
    if _PLAIN_HOST.match(raw):
        return raw
    return _canonical_host(raw, text)


@lru_cache(maxsize=16384)
def _canonical_host(raw: str, text: str) -> str:
    ip = canonical_ip(raw)
    if ip is not None:
        return ip
    if not _NOT_IN_HOSTS.isdisjoint(raw):
        raise ValueError(f"{shown(text)} is not a host name (it has a user, port, path or '*')")
    parsed = parse_url(f"http://{raw}/")
    if parsed is None or parsed.path or not (parsed.is_ip or _CANONICAL_HOST.match(parsed.host)):
        raise ValueError(f"{shown(text)} is not a valid host name")
    return parsed.host


def to_unicode(host: str) -> str:
    """The Unicode form of an ASCII host (xn-- labels decoded), for people to read."""
    if "xn--" not in host:
        return host
    try:
        return str(ada_url.idna_to_unicode(host))
    except (ValueError, UnicodeError):
        return host


def public_suffix(host: str) -> str | None:
    """The public suffix of a host (`co.uk`, `github.io`), or None if its TLD is unknown."""
    suffix: str | None = _PSL.publicsuffix(host)
    return suffix


def registrable_domain(host: str) -> str | None:
    """The registrable domain (`example.co.uk`), or None for a public suffix or unknown TLD."""
    domain: str | None = _PSL.privatesuffix(host)
    return domain


def is_public_suffix(host: str) -> bool:
    """True for names like `com`, `co.uk` or `github.io`, under which anyone can register."""
    return bool(_PSL.is_public(host))


def suffixes(host: str, *, min_labels: int = 1, max_labels: int = 16) -> list[str]:
    """The host and each parent domain by whole labels: a.b.c -> [a.b.c, b.c, c]."""
    labels = host.split(".")
    start = max(0, len(labels) - max_labels)
    return [".".join(labels[i:]) for i in range(start, len(labels) - min_labels + 1)]
