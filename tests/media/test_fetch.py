"""SafeFetcher against real local servers: SSRF refusals, redirects, caps, sniffing, logging."""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import ada_url
import av
import numpy as np
import pytest
from aiohttp import test_utils, web
from aiohttp.abc import AbstractResolver, ResolveResult
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, features

from bot.core.sniff import MEDIA_KINDS, SNIFF_BYTES, describe, sniff
from bot.media.fetch import (
    AddressPolicy,
    AddressRefusedError,
    CheckedResolver,
    FetchResult,
    SafeFetcher,
    is_denied,
)
from bot.settings import FetchSettings

PRIVATE = "refused: the link points to a private network address"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ---------------------------------------------------------------- generated media


def image(fmt: str, size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def video(container: str, codec: str) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as output:
        stream = output.add_stream(codec, rate=1)
        assert isinstance(stream, av.VideoStream)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            output.mux(packet)
    return buffer.getvalue()


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + bytes(64)


PNG = image("PNG")


# ---------------------------------------------------------------- servers and fakes


@contextlib.asynccontextmanager
async def serve(routes: dict[str, Handler]) -> AsyncIterator[test_utils.TestServer]:
    """A real aiohttp server on 127.0.0.1 and an ephemeral port."""
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    server = test_utils.TestServer(app)
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


def port_of(server: test_utils.TestServer) -> int:
    assert server.port is not None
    return server.port


@contextlib.asynccontextmanager
async def raw_server(head: bytes, body: bytes = b"", repeat: int = 1) -> AsyncIterator[str]:
    """A bare TCP server sending exact bytes, for responses aiohttp's server will not produce."""
    tasks: set[asyncio.Task[Any]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(head)
            for _ in range(repeat):
                writer.write(body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/file.png"
    finally:
        server.close()
        await server.wait_closed()
        if tasks:
            await asyncio.wait(tasks, timeout=2)


class FakeDNS(AbstractResolver):
    """Answers from a table instead of the network, and records every lookup."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in self.table[host]
        ]

    async def close(self) -> None:
        pass


class RebindingDNS(FakeDNS):
    """A hostile name server: the first answer passes the checks, later ones point inside."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answer = await super().resolve(host, port, family)
        self.table[host] = ["10.0.0.5"]
        return answer


def settings(**changes: Any) -> FetchSettings:
    base: dict[str, Any] = {
        "allow_private_addresses": True,
        "timeout_seconds": 2.0,
        "max_bytes": 1 << 20,
        "max_redirects": 3,
    }
    return FetchSettings(**(base | changes))


async def fetch(
    url: str, *, policy: AddressPolicy | None = None, dns: FakeDNS | None = None, **changes: Any
) -> FetchResult:
    async with SafeFetcher(settings(**changes), policy=policy, dns=dns) as fetcher:
        return await fetcher.fetch(url)


def bytes_handler(body: bytes, content_type: str = "image/png") -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, content_type=content_type)

    return handler


def redirect_handler(location: str, status: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return handler


# ---------------------------------------------------------------- success


async def test_fetches_media_from_loopback_when_private_addresses_are_allowed() -> None:
    async with serve({"/cat.png": bytes_handler(PNG)}) as server:
        url = str(server.make_url("/cat.png"))
        result = await fetch(url)
    assert result == FetchResult(True, url, url, PNG, "png", None)


async def test_type_comes_from_the_bytes_not_the_name_or_content_type() -> None:
    async with serve({"/page.html": bytes_handler(PNG, "text/html")}) as server:
        result = await fetch(str(server.make_url("/page.html")))
    assert (result.ok, result.kind) == (True, "png")


async def test_requests_are_anonymous_and_cookieless() -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        response = web.Response(body=PNG, content_type="image/png")
        response.set_cookie("session", "tracking-me")
        return response

    async with serve({"/a.png": handler}) as server, SafeFetcher(settings()) as fetcher:
        first = await fetcher.fetch(str(server.make_url("/a.png")))
        second = await fetcher.fetch(str(server.make_url("/a.png")))
    assert first.ok
    assert second.ok
    assert seen[1]["User-Agent"] == FetchSettings().user_agent
    assert seen[1]["Accept-Encoding"] == "identity"
    assert not {"Cookie", "Authorization"} & (set(seen[0]) | set(seen[1]))


async def test_proxy_settings_in_the_environment_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9/")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with serve({"/a.png": bytes_handler(PNG)}) as server:
        result = await fetch(str(server.make_url("/a.png")))
    assert result.ok


# ---------------------------------------------------------------- SSRF: literals and names


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1/", "127.0.0.1"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://2130706433/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://127.1/", "127.0.0.1"),
        ("http://[::1]/", "::1"),
        ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),
        ("http://[::127.0.0.1]/", "::7f00:1"),
        ("http://[64:ff9b::a9fe:a9fe]/", "169.254.169.254"),
        ("http://10.20.30.40/", "10.20.30.40"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://100.64.0.1/", "100.64.0.1"),
        ("http://172.16.0.1/", "172.16.0.1"),
        ("http://192.168.1.1/", "192.168.1.1"),
        ("http://198.18.0.1/", "198.18.0.1"),
        ("http://0.0.0.0/", "0.0.0.0"),
        ("http://224.0.0.1/", "224.0.0.1"),
        ("http://255.255.255.255/", "255.255.255.255"),
        ("https://[fd00::1]/", "fd00::1"),
        ("https://[fe80::1]/", "fe80::1"),
    ],
)
async def test_ip_literals_pointing_inside_are_refused(url: str, address: str) -> None:
    dns = FakeDNS({})
    result = await fetch(url, dns=dns, allow_private_addresses=False)
    assert not result.ok
    assert result.data is None
    assert result.reason == f"{PRIVATE} ({address})"
    assert dns.calls == []  # refused before any connection or lookup


async def test_localhost_is_refused_through_the_real_resolver() -> None:
    result = await fetch("http://localhost/a.png", allow_private_addresses=False)
    assert result.reason is not None
    assert result.reason.startswith(PRIVATE)


@pytest.mark.parametrize(
    "answers",
    [
        ["10.0.0.5"],
        ["93.184.216.34", "10.0.0.5"],  # one private address among public ones is enough
        ["93.184.216.34", "::1"],
        ["2606:4700::1111", "fd12:3456::1"],
        ["::ffff:127.0.0.1"],
        ["64:ff9b::a9fe:a9fe"],
        ["100.64.0.1"],
        ["169.254.169.254"],
    ],
)
async def test_names_resolving_to_any_private_address_are_refused(answers: list[str]) -> None:
    dns = FakeDNS({"media.example": answers})
    result = await fetch("http://media.example/a.png", dns=dns, allow_private_addresses=False)
    assert result.reason is not None
    assert result.reason.startswith(PRIVATE)
    assert dns.calls == ["media.example"]


async def test_the_connection_goes_to_the_checked_address_not_a_second_lookup() -> None:
    async with serve({"/a.png": bytes_handler(PNG)}) as server:
        dns = RebindingDNS({"cdn.example": ["127.0.0.1"]})
        policy = AddressPolicy(allow=[("127.0.0.1", port_of(server))])
        result = await fetch(f"http://cdn.example:{server.port}/a.png", policy=policy, dns=dns)
    assert result.ok
    assert dns.calls == ["cdn.example"]  # one lookup, checked and used (no rebinding window)


async def test_every_hop_is_resolved_and_checked_again() -> None:
    async with serve({"/start": redirect_handler("/a.png"), "/a.png": bytes_handler(PNG)}) as s:
        port = port_of(s)
        dns = RebindingDNS({"cdn.example": ["127.0.0.1"]})
        policy = AddressPolicy(allow=[("127.0.0.1", port)])
        result = await fetch(f"http://cdn.example:{port}/start", policy=policy, dns=dns)
    assert result.reason == f"{PRIVATE} (10.0.0.5)"
    assert result.final_url == f"http://cdn.example:{port}/a.png"
    assert dns.calls == ["cdn.example", "cdn.example"]


async def test_checked_resolver_returns_only_the_checked_addresses() -> None:
    dns = FakeDNS({"ok.example": ["93.184.216.34", "2606:4700::1111"], "mixed.example": []})
    resolver = CheckedResolver(dns, AddressPolicy())
    found = await resolver.resolve("ok.example", 443)
    assert [(r["host"], r["port"], r["family"]) for r in found] == [
        ("93.184.216.34", 443, socket.AF_INET),
        ("2606:4700::1111", 443, socket.AF_INET6),
    ]
    dns.table["mixed.example"] = ["93.184.216.34", "192.168.0.10"]
    with pytest.raises(AddressRefusedError, match=r"192\.168\.0\.10"):
        await resolver.resolve("mixed.example", 443)


async def test_unknown_names_are_a_result() -> None:
    result = await fetch("http://nowhere.example/a.png", dns=FakeDNS({}))
    assert result.reason == "could not find the server (nowhere.example)"


@pytest.mark.parametrize(
    "address",
    [
        "0.1.2.3", "10.0.0.1", "100.127.255.255", "127.8.8.8", "169.254.1.1", "172.31.0.1",
        "192.0.0.8", "192.168.255.255", "198.19.0.1", "224.0.0.251", "239.1.1.1", "240.0.0.1",
        "255.255.255.255", "192.0.2.1", "::", "::1", "::7f00:1", "::ffff:10.0.0.1",
        "64:ff9b::7f00:1", "64:ff9b:1::1", "fc00::1", "fdff::1", "fe80::1", "fec0::1", "ff02::1",
        "2002:7f00:1::1", "2001:db8::1",
    ],
)  # fmt: skip
def test_deny_list(address: str) -> None:
    assert is_denied(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "1.1.1.1", "100.128.0.1", "2606:4700::1111", "64:ff9b::5db8:d822"],
)
def test_public_addresses_pass(address: str) -> None:
    assert not is_denied(ipaddress.ip_address(address))
    assert AddressPolicy().refusal(ipaddress.ip_address(address), 443) is None


# ---------------------------------------------------------------- URLs: scheme, userinfo, port


SCHEME = "refused: only http and https links are fetched (not {})"
USERINFO = "refused: links with a user name or password are not fetched"
PORT = "refused: port {} is not allowed (only 80 and 443)"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/a.png", SCHEME.format("ftp")),
        ("file:///etc/passwd", SCHEME.format("file")),
        ("javascript:alert(1)", SCHEME.format("javascript")),
        ("data:image/png;base64,iVBORw0KGgo=", SCHEME.format("data")),
        ("http://user:secret@example.com/a.png", USERINFO),
        ("http://trusted.com@evil.com/a.png", USERINFO),
        ("http://example.com:8080/a.png", PORT.format(8080)),
        ("https://example.com:22/", PORT.format(22)),
        ("http://93.184.216.34:6379/", PORT.format(6379)),
        ("http://exa mple.com/", "refused: not a valid link"),
        ("just some words", "refused: not a valid link"),
    ],
)
async def test_bad_links_are_refused_before_connecting(url: str, reason: str) -> None:
    dns = FakeDNS({"example.com": ["93.184.216.34"]})
    result = await fetch(url, dns=dns, allow_private_addresses=False)
    assert (result.ok, result.reason) == (False, reason)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.5:8080/", PORT.format(8080)),
        ("http://169.254.169.254/latest/meta-data/", f"{PRIVATE} (169.254.169.254)"),
        ("http://0.0.0.0:8080/", f"{PRIVATE} (0.0.0.0)"),
    ],
)
async def test_sandbox_mode_still_refuses_metadata_and_odd_ports_off_loopback(
    url: str, reason: str
) -> None:
    result = await fetch(url, allow_private_addresses=True)
    assert result.reason == reason


async def test_turned_off() -> None:
    result = await fetch("http://127.0.0.1/a.png", enabled=False)
    assert (result.ok, result.reason) == (False, "fetching links is turned off")


async def test_fetch_needs_the_context_manager() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await SafeFetcher(settings()).fetch("http://127.0.0.1/")


# ---------------------------------------------------------------- redirects


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{other}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://0x7f.1:{other}/secret",
        "http://[::ffff:10.0.0.5]/",
        "http://internal.example/admin",
    ],
)
async def test_redirect_to_a_private_address_is_refused(target: str) -> None:
    hits: list[str] = []

    async def secret(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        return web.Response(body=PNG)

    async with serve({"/secret": secret}) as other:
        location = target.format(other=other.port)
        async with serve({"/start": redirect_handler(location)}) as first:
            policy = AddressPolicy(allow=[("127.0.0.1", port_of(first))])
            dns = FakeDNS({"internal.example": ["10.0.0.5"]})
            result = await fetch(
                str(first.make_url("/start")),
                policy=policy,
                dns=dns,
                allow_private_addresses=False,
            )
    assert result.reason is not None
    assert result.reason.startswith(PRIVATE)
    assert result.final_url == ada_url.normalize_url(location)
    assert hits == []


async def test_redirects_are_followed_by_hand_within_the_limit() -> None:
    statuses = {1: 301, 2: 303, 3: 307, 4: 308}
    routes = {f"/r{n}": redirect_handler(f"/r{n - 1}", statuses[n]) for n in statuses}
    routes["/r0"] = bytes_handler(PNG)
    async with serve(routes) as server:
        result = await fetch(str(server.make_url("/r4")), max_redirects=4)
        too_many = await fetch(str(server.make_url("/r4")), max_redirects=3)
        last = str(server.make_url("/r0"))
    assert result.ok
    assert result.final_url == last
    assert too_many.reason == "too many redirects (more than 3)"


async def test_redirect_loop_stops_at_the_limit() -> None:
    hits: list[str] = []

    async def loop(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        raise web.HTTPFound("/loop")

    async with serve({"/loop": loop}) as server:
        result = await fetch(str(server.make_url("/loop")), max_redirects=4)
    assert result.reason == "too many redirects (more than 4)"
    assert len(hits) == 5


async def test_redirect_to_another_scheme_is_refused() -> None:
    async with serve({"/start": redirect_handler("file:///etc/passwd")}) as server:
        result = await fetch(str(server.make_url("/start")))
    assert result.reason == SCHEME.format("file")


# ---------------------------------------------------------------- byte cap

CAP = 64 * 1024


async def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n"
    async with raw_server(head, PNG) as url:
        result = await fetch(url, max_bytes=CAP)
    assert result.reason == "too large: over 64 KiB"


@pytest.mark.parametrize("close", [b"", b"Connection: close\r\n"])
async def test_a_small_declared_length_does_not_let_more_bytes_in(close: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n" + close + b"\r\n"
    async with raw_server(head, PNG + bytes(16 * 1024), repeat=64) as url:
        result = await fetch(url, max_bytes=CAP)
    assert (result.ok, result.data) == (False, None)
    assert result.reason == "the server sent a broken response"


async def test_no_length_and_read_until_close_is_capped_while_streaming() -> None:
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + PNG
    async with raw_server(head, bytes(16 * 1024), repeat=64) as url:
        result = await fetch(url, max_bytes=CAP)
    assert result.reason == "too large: over 64 KiB"


async def test_chunked_body_without_length_is_capped_while_streaming() -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(PNG)
        for _ in range(1000):
            await response.write(bytes(16 * 1024))
        return response

    async with serve({"/big.png": endless}) as server:
        result = await fetch(str(server.make_url("/big.png")), max_bytes=CAP)
    assert result.reason == "too large: over 64 KiB"


async def test_exactly_the_cap_is_allowed() -> None:
    body = PNG + bytes(CAP - len(PNG))
    async with serve({"/a.png": bytes_handler(body)}) as server:
        result = await fetch(str(server.make_url("/a.png")), max_bytes=CAP)
    assert result.ok
    assert result.data == body


async def test_a_body_cut_short_is_a_result() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
    async with raw_server(head, PNG) as url:
        result = await fetch(url)
    assert result.reason == "the server broke off the download"


# ---------------------------------------------------------------- time cap


async def test_slow_server_times_out() -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(30)
        return web.Response(body=PNG)

    async with serve({"/a.png": slow}) as server:
        started = time.monotonic()
        result = await fetch(str(server.make_url("/a.png")), timeout_seconds=0.3)
    assert result.reason == "timed out after 0.3 s"
    assert time.monotonic() - started < 2


async def test_slow_drip_body_times_out() -> None:
    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(PNG)
        for _ in range(600):
            await response.write(b"\0")
            await asyncio.sleep(0.05)
        return response

    async with serve({"/a.png": drip}) as server:
        result = await fetch(str(server.make_url("/a.png")), timeout_seconds=0.4)
    assert result.reason == "timed out after 0.4 s"


async def test_the_time_cap_covers_all_redirects_together() -> None:
    def slow_redirect(location: str) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            await asyncio.sleep(0.2)
            raise web.HTTPFound(location)

        return handler

    routes = {f"/r{n}": slow_redirect(f"/r{n - 1}") for n in range(1, 5)}
    routes["/r0"] = bytes_handler(PNG)
    async with serve(routes) as server:
        result = await fetch(str(server.make_url("/r4")), timeout_seconds=0.5, max_redirects=5)
    assert result.reason == "timed out after 0.5 s"


# ---------------------------------------------------------------- content and status


async def test_html_is_refused_by_sniffing_whatever_it_claims() -> None:
    page = b"<!DOCTYPE html><html><head><title>hi</title></head><body></body></html>"
    async with serve({"/photo.png": bytes_handler(page, "image/png")}) as server:
        result = await fetch(str(server.make_url("/photo.png")))
    assert result.reason == "not an image or video Shield can scan (looks like HTML)"


async def test_non_media_stops_the_download_early() -> None:
    async def huge_page(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        await response.prepare(request)
        await response.write(b"<html>" + b" " * SNIFF_BYTES)
        for _ in range(200):
            await asyncio.sleep(0.05)
            await response.write(b"x" * 1024)
        return response

    async with serve({"/a.jpg": huge_page}) as server:
        started = time.monotonic()
        result = await fetch(str(server.make_url("/a.jpg")), timeout_seconds=5)
    assert result.reason == "not an image or video Shield can scan (looks like HTML)"
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("body", "detail"),
    [(b"", "looks like an empty file"), (b"\x00\x01\x02\x03" * 100, "unknown format")],
)
async def test_empty_and_unknown_bodies_are_refused(body: bytes, detail: str) -> None:
    async with serve({"/a": bytes_handler(body)}) as server:
        result = await fetch(str(server.make_url("/a")))
    assert result.reason == f"not an image or video Shield can scan ({detail})"


@pytest.mark.parametrize("status", [404, 403, 500, 204])
async def test_http_errors_are_a_result(status: int) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status)

    async with serve({"/a.png": handler}) as server:
        result = await fetch(str(server.make_url("/a.png")))
    assert (result.ok, result.reason) == (False, f"HTTP {status}")


async def test_closed_port_is_a_result() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await fetch(f"http://127.0.0.1:{port}/a.png")
    assert result.reason == "could not connect to the server (127.0.0.1)"


# ---------------------------------------------------------------- logging


async def test_logs_name_the_host_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.media.fetch")
    async with serve({"/private-path.png": bytes_handler(PNG)}) as server:
        ok = await fetch(str(server.make_url("/private-path.png?token=hunter2#frag")))
        missing = await fetch(str(server.make_url("/nothing?sig=hunter2")))
    assert ok.ok
    assert missing.reason == "HTTP 404"
    for text in (caplog.text, repr(ok), repr(missing)):
        assert "hunter2" not in text
        assert "private-path" not in text
    assert "127.0.0.1" in caplog.text


def test_sandbox_mode_warns_loudly_once(caplog: pytest.LogCaptureFixture) -> None:
    SafeFetcher(settings(allow_private_addresses=False))
    assert not caplog.records
    SafeFetcher(settings(allow_private_addresses=True))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "allow_private_addresses" in warnings[0].getMessage()


# ---------------------------------------------------------------- sniff


SAMPLES: list[tuple[str, bytes]] = [
    ("jpeg", image("JPEG")),
    ("png", PNG),
    ("gif", image("GIF")),
    ("webp", image("WEBP")),
    ("mp4", video("mp4", "mpeg4")),
    ("mov", video("mov", "mpeg4")),
    ("webm", video("webm", "libvpx")),
    ("webm", video("matroska", "mpeg4")),
    ("heic", ftyp(b"heic", b"mif1", b"heic")),
    ("heic", ftyp(b"mif1", b"heic")),
    ("avif", ftyp(b"mif1", b"avif", b"miaf")),
    ("mp4", ftyp(b"mp42", b"isom", b"avc1")),
    ("mp4", ftyp(b"abcd", b"efgh", b"3gp5")),  # unknown major brand, known compatible one
    ("mov", b"\0\0\0\x08wide\0\0\0\x10mdat" + bytes(32)),  # pre-ftyp QuickTime
]
if features.check("avif"):
    SAMPLES.append(("avif", image("AVIF")))


@pytest.mark.parametrize(("kind", "data"), SAMPLES)
def test_sniff_recognises_media(kind: str, data: bytes) -> None:
    assert sniff(data) == kind
    assert sniff(data + b"trailing garbage") == kind


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",
        b"\x89PNG\r\n",
        b"GIF89",
        b"RIFF\0\0\0\0WEB",
        b"RIFF\x24\0\0\0WAVEfmt ",
        b"\x1a\x45\xdf\xa3",  # EBML without a DocType
        b"\0\0\0\x08ftypheic",  # box too short for its brand
        b"\0\0\0\x18ftyp",
        ftyp(b"M4A ", b"isom", b"mp42"),  # audio only
        ftyp(b"abcd", b"efgh"),
        b"<!doctype html><html></html>",
        b"%PDF-1.7\n",
        b"PK\x03\x04" + bytes(40),
        b"\x00" * 300,
        b"hello world",
    ],
)
def test_sniff_rejects_truncated_garbage_and_other_types(data: bytes) -> None:
    assert sniff(data) is None


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (b"\xef\xbb\xbf  <!DOCTYPE html>", "HTML"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG image"),
        (b'<?xml version="1.0"?><rss/>', "XML"),
        (b'{"error": "not found"}', "JSON"),
        (b"%PDF-1.4", "PDF"),
        (b"just words\n", "text"),
        (b"", "an empty file"),
        (b"\x00\x9f\x92\x96", None),
    ],
)
def test_describe_names_common_non_media(data: bytes, label: str | None) -> None:
    assert describe(data) == label


@given(st.binary(max_size=2 * SNIFF_BYTES))
def test_sniff_never_raises_and_ignores_bytes_past_the_limit(data: bytes) -> None:
    kind = sniff(data)
    assert kind is None or kind in MEDIA_KINDS
    assert sniff(data[:SNIFF_BYTES]) == kind
    assert describe(data) is None or isinstance(describe(data), str)


@given(st.binary(max_size=4), st.binary(max_size=300))
def test_sniff_survives_hostile_box_headers(size: bytes, rest: bytes) -> None:
    for magic in (b"ftyp", b"moov", b"RIFF", b"\x1a\x45\xdf\xa3"):
        kind = sniff(size + magic + rest)
        assert kind is None or kind in MEDIA_KINDS
