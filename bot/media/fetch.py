"""Download linked media without letting chat members aim the bot at private networks (SSRF).

Rules (threats.md, "Fetching links (SSRF)"): http/https on ports 80/443 only, no userinfo; every
address a name resolves to is checked and the connection goes to a checked address (the
resolver below is the only DNS lookup aiohttp makes, so DNS rebinding cannot swap it); IP
literals, which aiohttp never sends to the resolver, are checked before connecting; redirects
are followed by hand and re-checked; time and bytes are capped; the type comes from magic bytes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, Self

import ada_url
import aiohttp
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.helpers import is_ip_address

from bot.core.sniff import SNIFF_BYTES, describe, sniff
from bot.settings import FetchSettings

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SCHEME_PORTS: Final = {"http:": 80, "https:": 443}
_WEB_PORTS: Final = frozenset(_SCHEME_PORTS.values())
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_CHUNK: Final = 64 * 1024
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


def _networks(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# The deny list of threats.md. "::/96" (IPv4-compatible, deprecated) covers :: and ::1;
# 64:ff9b:1::/48 is local-use NAT64; fec0::/10 is the old site-local range.
_DENIED: Final = _networks(
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
    "::/96", "64:ff9b:1::/48", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
)  # fmt: skip
# Refused even in sandbox mode: "this host", link-local (cloud metadata), multicast, reserved.
_NEVER: Final = _networks(
    "0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/128", "fe80::/10", "ff00::/8"
)


def _unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped or NAT64 IPv6 address; otherwise the address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_denied(address: IPAddress) -> bool:
    """True if a public link must never reach this address (explicit list, then Python's view)."""
    address = _unwrap(address)
    if any(address in network for network in _DENIED) or not address.is_global:
        return True
    embedded = address.sixtofour if isinstance(address, ipaddress.IPv6Address) else None
    return embedded is not None and is_denied(embedded)


class AddressPolicy:
    """Which (address, port) pairs a fetch may connect to: public web servers only, by default.

    `allow_private` is the test/sandbox mode (private and loopback addresses, any port on
    loopback); `allow` lists exact (address, port) pairs that are always permitted, so a test
    can let one local server through while everything else stays refused.
    """

    def __init__(self, *, allow_private: bool = False, allow: Iterable[tuple[str, int]] = ()):
        self.allow_private = allow_private
        self._allow = frozenset((ipaddress.ip_address(host), port) for host, port in allow)

    def refusal(self, address: IPAddress, port: int) -> str | None:
        """Why connecting to this address and port is refused, or None if it is allowed."""
        if (address, port) in self._allow:
            return None
        inner = _unwrap(address)
        sandboxed = self.allow_private and not any(inner in net for net in _NEVER)
        if is_denied(address) and not sandboxed:
            return f"refused: the link points to a private network address ({inner})"
        if port not in _WEB_PORTS and not (sandboxed and inner.is_loopback):
            return f"refused: port {port} is not allowed (only 80 and 443)"
        return None


class AddressRefusedError(OSError):
    """The policy refused an address; an OSError because aiohttp wraps resolver OSErrors."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CheckedResolver(AbstractResolver):
    """Resolves a name, refuses it if ANY address fails the policy, returns only checked ones."""

    def __init__(self, dns: AbstractResolver, policy: AddressPolicy) -> None:
        self._dns = dns
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Every address of `host`, each checked; AddressRefusedError if any one fails."""
        checked: list[ResolveResult] = []
        for found in await self._dns.resolve(host, port, family):
            try:
                address = ipaddress.ip_address(found["host"].split("%", 1)[0])
            except ValueError:
                raise AddressRefusedError(
                    f"refused: {host} did not resolve to an IP address"
                ) from None
            reason = self._policy.refusal(address, found["port"])
            if reason is not None:
                raise AddressRefusedError(reason)
            v6 = isinstance(address, ipaddress.IPv6Address)
            checked.append(
                ResolveResult(
                    hostname=found["hostname"],
                    host=str(address),
                    port=found["port"],
                    family=socket.AF_INET6 if v6 else socket.AF_INET,
                    proto=found["proto"],
                    flags=found["flags"],
                )
            )
        if not checked:
            raise AddressRefusedError(f"could not find the server ({host})")
        return checked

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._dns.close()


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The outcome of one fetch: media bytes and their kind, or a reason a moderator can read."""

    ok: bool
    url: str = field(repr=False)
    final_url: str = field(repr=False)
    data: bytes | None = field(repr=False)
    kind: str | None
    reason: str | None

    @property
    def host(self) -> str:
        """The host of the last URL tried: the only part of a link that goes into logs."""
        return host_of(self.final_url)


@dataclass(frozen=True, slots=True)
class TextResult:
    """The outcome of fetching a text file (a published list): its text, or why not."""

    ok: bool
    url: str = field(repr=False)
    final_url: str = field(repr=False)
    text: str | None = field(repr=False)
    size: int  # bytes received (0 when refused)
    reason: str | None

    @property
    def host(self) -> str:
        """The host of the last URL tried: the only part of a link that goes into logs."""
        return host_of(self.final_url)


# Labels of `describe` that are text; anything else it names (PDF, ZIP, gzip...) is binary.
_TEXT_LOOKS: Final = frozenset({"text", "HTML", "XML", "JSON", "an SVG image", "an empty file"})
_TEXT_ACCEPT: Final = "text/plain,text/*;q=0.9,*/*;q=0.5"

Reader = Callable[[str, str, aiohttp.ClientResponse], Awaitable[FetchResult]]


def host_of(url: str) -> str:
    """The host of a URL for logs and messages (never the path or query, which may be secret)."""
    try:
        return str(ada_url.parse_url(url)["hostname"]) or "?"
    except ValueError:
        return "?"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


class SafeFetcher:
    """Downloads linked images and videos for hashing, refusing anything SSRF-shaped.

    Use as `async with SafeFetcher(settings) as fetcher: result = await fetcher.fetch(url)`.
    `policy` and `dns` are injectable for tests (default: from settings, and getaddrinfo).
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        policy: AddressPolicy | None = None,
        dns: AbstractResolver | None = None,
    ) -> None:
        self._settings = settings
        self._policy = policy or AddressPolicy(allow_private=settings.allow_private_addresses)
        self._dns = dns
        self._session: aiohttp.ClientSession | None = None
        self._resolver: CheckedResolver | None = None
        if self._policy.allow_private:
            log.warning(
                "fetch.allow_private_addresses is ON: links can reach this machine and private "
                "networks. Use it only for tests and the local sandbox, never in a real server."
            )

    async def __aenter__(self) -> Self:
        self._resolver = CheckedResolver(self._dns or aiohttp.ThreadedResolver(), self._policy)
        connector = aiohttp.TCPConnector(
            resolver=self._resolver, use_dns_cache=False, force_close=True
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # an environment proxy would resolve names itself, unchecked
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={
                "User-Agent": self._settings.user_agent,
                "Accept": "image/*,video/*;q=0.9,*/*;q=0.5",
                "Accept-Encoding": "identity",
            },
            auto_decompress=False,  # no gzip bombs: media is compressed already
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout_seconds),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
        if self._resolver is not None and self._dns is None:
            await self._resolver.close()
        self._session = self._resolver = None

    async def fetch(self, url: str) -> FetchResult:
        """Download `url` as media; anything the link or the remote side gets wrong is a result."""
        result = await self._fetch(url, self._read)
        if result.ok:
            log.debug(
                "fetched %s from %s (%d bytes)", result.kind, result.host, len(result.data or b"")
            )
        else:
            log.info("did not fetch a link to %s: %s", result.host, result.reason)
        return result

    async def fetch_text(
        self, url: str, *, max_bytes: int, timeout_seconds: float | None = None
    ) -> TextResult:
        """Download `url` as text (a published list): the same SSRF rules as `fetch`, at most
        `max_bytes` (counted while streaming) within `timeout_seconds` (default: the setting).

        Binary content is refused (a NUL byte anywhere, or the magic bytes of media, archives,
        programs...); the text is decoded as UTF-8, bad bytes becoming U+FFFD, a BOM dropped.
        """

        async def read(url: str, final: str, response: aiohttp.ClientResponse) -> FetchResult:
            return await self._read_text(url, final, response, max_bytes)

        result = await self._fetch(url, read, accept=_TEXT_ACCEPT, timeout_seconds=timeout_seconds)
        if not result.ok or result.data is None:
            log.info("did not fetch text from %s: %s", result.host, result.reason)
            return TextResult(False, url, result.final_url, None, 0, result.reason)
        text = result.data.decode("utf-8-sig", errors="replace")
        log.debug("fetched text from %s (%d bytes)", result.host, len(result.data))
        return TextResult(True, url, result.final_url, text, len(result.data), None)

    async def _fetch(
        self,
        url: str,
        reader: Reader,
        *,
        accept: str | None = None,
        timeout_seconds: float | None = None,
    ) -> FetchResult:
        if not self._settings.enabled:
            return FetchResult(False, url, url, None, None, "fetching links is turned off")
        if self._session is None:
            raise RuntimeError("use `async with SafeFetcher(settings) as fetcher:` first")
        current = url
        seconds = timeout_seconds or self._settings.timeout_seconds
        headers = {"Accept": accept} if accept else None

        def failed(reason: str) -> FetchResult:
            return FetchResult(False, url, current, None, None, reason)

        try:
            async with asyncio.timeout(seconds):
                for _hop in range(self._settings.max_redirects + 1):
                    target = self._check(current)
                    if isinstance(target, str):
                        return failed(target)
                    async with self._session.get(
                        target, allow_redirects=False, headers=headers
                    ) as response:
                        location = response.headers.get("Location")
                        if response.status not in _REDIRECTS or location is None:
                            return await reader(url, current, response)
                    try:
                        current = ada_url.join_url(current, location)
                    except ValueError:
                        return failed("the server sent a broken redirect")
                return failed(f"too many redirects (more than {self._settings.max_redirects})")
        except TimeoutError:
            return failed(f"timed out after {seconds:g} s")
        except aiohttp.ClientConnectorDNSError as exc:
            if isinstance(exc.os_error, AddressRefusedError):
                return failed(exc.os_error.reason)
            return failed(f"could not find the server ({host_of(current)})")
        except aiohttp.ClientConnectorCertificateError:
            return failed(f"the server's certificate is not valid ({host_of(current)})")
        except aiohttp.ClientConnectorError:
            return failed(f"could not connect to the server ({host_of(current)})")
        except aiohttp.ClientPayloadError:
            return failed("the server broke off the download")
        except aiohttp.ServerDisconnectedError:
            return failed("the server closed the connection")
        except aiohttp.ClientResponseError:  # the parser's verdict, e.g. bytes after the body
            return failed("the server sent a broken response")
        except aiohttp.InvalidURL:
            return failed("refused: not a valid link")
        except aiohttp.ClientError as exc:
            return failed(f"the download failed ({type(exc).__name__})")

    def _check(self, url: str) -> yarl.URL | str:
        """The URL aiohttp should request, or why it is refused (checks IP literals here)."""
        try:
            parts = ada_url.parse_url(url)
        except ValueError:
            return "refused: not a valid link"
        scheme = parts["protocol"]
        if scheme not in _SCHEME_PORTS:
            return f"refused: only http and https links are fetched (not {scheme.rstrip(':')})"
        if parts["username"] or parts["password"]:
            return "refused: links with a user name or password are not fetched"
        port = int(parts["port"] or _SCHEME_PORTS[scheme])
        host = parts["hostname"].strip("[]")
        try:
            target = yarl.URL(parts["href"], encoded=True)
        except ValueError:
            return "refused: the link could not be read safely"
        # aiohttp connects to what yarl reads; refuse if that differs from what was checked.
        if (target.raw_host, target.port, target.raw_user) != (host, port, None):
            return "refused: the link could not be read safely"
        if parts["host_type"] != ada_url.HostType.DEFAULT or is_ip_address(host):
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                return "refused: the link could not be read safely"
            return self._policy.refusal(address, port) or target
        return target

    async def _read(self, url: str, final: str, response: aiohttp.ClientResponse) -> FetchResult:
        """Stream the body, counting bytes and sniffing the start; stop at the first problem."""

        def refused(reason: str) -> FetchResult:
            return FetchResult(False, url, final, None, None, reason)

        if response.status != 200:
            return refused(f"HTTP {response.status}")
        cap = self._settings.max_bytes
        too_large = f"too large: over {_size(cap)}"
        if response.content_length is not None and response.content_length > cap:
            return refused(too_large)
        data = bytearray()
        kind: str | None = None
        async for chunk in response.content.iter_chunked(_CHUNK):
            data += chunk
            if len(data) > cap:
                return refused(too_large)
            if kind is None and len(data) >= SNIFF_BYTES:
                kind = sniff(bytes(data[:SNIFF_BYTES]))
                if kind is None:
                    break
        head = bytes(data[:SNIFF_BYTES])
        kind = kind or sniff(head)
        if kind is None:
            looks = describe(head)
            detail = f"looks like {looks}" if looks else "unknown format"
            return refused(f"not an image or video Shield can scan ({detail})")
        return FetchResult(True, url, final, bytes(data), kind, None)

    async def _read_text(
        self, url: str, final: str, response: aiohttp.ClientResponse, cap: int
    ) -> FetchResult:
        """Stream a text body, counting bytes; refuse binary (NUL bytes, known magic) early."""

        def refused(reason: str) -> FetchResult:
            return FetchResult(False, url, final, None, None, reason)

        if response.status != 200:
            return refused(f"HTTP {response.status}")
        too_large = f"too large: over {_size(cap)}"
        if response.content_length is not None and response.content_length > cap:
            return refused(too_large)
        nul = "not a text file (it holds NUL bytes: binary data)"
        data = bytearray()
        checked_head = False  # the magic bytes first: they name what the file is
        async for chunk in response.content.iter_chunked(_CHUNK):
            data += chunk
            if len(data) > cap:
                return refused(too_large)
            if checked_head:
                if b"\0" in chunk:
                    return refused(nul)
            elif len(data) >= SNIFF_BYTES:
                checked_head = True
                reason = _binary(bytes(data[:SNIFF_BYTES])) or (nul if b"\0" in data else None)
                if reason:
                    return refused(reason)
        if not checked_head:
            reason = _binary(bytes(data)) or (nul if b"\0" in data else None)
            if reason:
                return refused(reason)
        return FetchResult(True, url, final, bytes(data), "text", None)


def _binary(head: bytes) -> str | None:
    """Why bytes that start like this are not a text file, or None if they may be text."""
    kind = sniff(head)
    if kind is not None:
        return f"not a text file (it is {kind} media)"
    looks = describe(head)
    if looks is not None and looks not in _TEXT_LOOKS:
        return f"not a text file (it looks like {looks})"
    return None
