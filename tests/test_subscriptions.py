"""List subscriptions: published lists served by a local aiohttp server, fetched through the
SSRF-safe fetcher, imported, refreshed, trimmed and unsubscribed, mostly through the real
`shield` command (run in a thread so the server in this test's event loop can answer it)."""

from __future__ import annotations

import asyncio
import gzip
import io
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import test_utils, web
from PIL import Image

from bot.app import App
from bot.core.verdict import Tier
from bot.errors import InputError
from bot.lists import refresh_subscriptions, subscribe, unsubscribe
from bot.media.fetch import AddressPolicy, SafeFetcher
from bot.runtime import _subscriptions
from bot.settings import FetchSettings
from bot.storage.subscriptions import SubscriptionRepo
from tests.conftest import Result, Shield

PRIVATE = "refused: the link points to a private network address"

HOSTS_V1 = """\
# Title: test deepfake hosts
127.0.0.1 localhost
0.0.0.0 alpha-feed.com
0.0.0.0 beta-feed.com gamma-feed.com
0.0.0.0 delta-feed.com
0.0.0.0 bad..name
"""
# beta and delta left the feed; epsilon is new.
HOSTS_V2 = """\
# Title: test deepfake hosts, later
0.0.0.0 alpha-feed.com
0.0.0.0 gamma-feed.com
0.0.0.0 epsilon-feed.com
"""
ABP = """\
[Adblock Plus 2.0]
! Title: nudify apps
||abp-one.net^
||abp-two.net^$third-party
@@||abp-exception.net^
||bad..x^
"""


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Feeds:
    """A local web server whose answers the test changes as it goes."""

    server: test_utils.TestServer
    routes: dict[str, Callable[[], Any]] = field(default_factory=dict)  # path: response
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def text(self, path: str, body: str, content_type: str = "text/plain") -> str:
        self.routes[path] = lambda: web.Response(text=body, content_type=content_type)
        return self.url(path)

    def raw(self, path: str, body: bytes, **headers: str) -> str:
        self.routes[path] = lambda: web.Response(body=body, headers=headers)
        return self.url(path)

    def status(self, path: str, status: int) -> str:
        self.routes[path] = lambda: web.Response(status=status, text="oops")
        return self.url(path)

    def redirect(self, path: str, location: str) -> str:
        self.routes[path] = lambda: web.Response(status=302, headers={"Location": location})
        return self.url(path)


@pytest.fixture
async def feeds() -> AsyncIterator[Feeds]:
    holder: list[Feeds] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        feeds = holder[0]
        feeds.hits[request.path] = feeds.hits.get(request.path, 0) + 1
        make = feeds.routes.get(request.path)
        if make is None:
            return web.Response(status=404, text="not found")
        response = make()
        if asyncio.iscoroutine(response):
            response = await response
        assert isinstance(response, web.StreamResponse)
        return response

    application = web.Application()
    application.router.add_get("/{tail:.*}", handler)
    server = test_utils.TestServer(application, host="127.0.0.1")
    await server.start_server()
    holder.append(Feeds(server))
    try:
        yield holder[0]
    finally:
        await server.close()


def write_config(
    tmp_path: Path, *, private: bool = True, enabled: bool = True, name: str = "shield.toml"
) -> Path:
    config = tmp_path / name
    config.write_text(
        f"[fetch]\nenabled = {str(enabled).lower()}\n"
        f"allow_private_addresses = {str(private).lower()}\n"
    )
    return config


@pytest.fixture
def cli(shield: Shield, tmp_path: Path) -> Any:
    """`await cli(*args)`: the real `shield --config <private addresses on> ...`, in a thread."""

    async def run(*args: str, config: Path | None = None) -> Result:
        path = config or write_config(tmp_path)
        return await asyncio.to_thread(shield, "--config", str(path), *args)

    return run


async def verdict(cli: Any, text: str) -> str:
    result = await cli("check", "--json", text)
    assert result.code == 0, result.err
    return str(result.json()["verdict"])


def error_line(result: Result) -> str:
    lines = result.err.strip().splitlines()
    assert lines, result
    return lines[-1]


# ---------------------------------------------------------------- through the `shield` command


async def test_subscribe_refresh_removes_only_what_left_the_feed(cli: Any, feeds: Feeds) -> None:
    """A hosts feed is imported on subscribe (bad line reported with its number); a changed feed
    adds the new rule and removes the one that left, but never a moderator's own rule, even one
    the feed also listed; refreshing twice changes nothing; unsubscribe removes the feed's rules."""
    url = feeds.text("/hosts.txt", HOSTS_V1)
    # The moderators' own rules, one of which the feed will list and later drop.
    assert (await cli("lists", "add", "--list", "feed", "mod-own.com", "delta-feed.com")).code == 0

    first = await cli("lists", "subscribe", "--list", "feed", "--json", url)
    assert first.code == 0, first.err
    report = first.json()
    assert isinstance(report, dict)
    assert report["format"] == "hosts" and report["rules"] == 4
    assert (report["added"], report["existing"], report["removed"]) == (3, 1, 0)
    assert [b["line"] for b in report["bad_lines"]] == [6]
    for domain in ("alpha-feed.com", "www.beta-feed.com", "gamma-feed.com", "delta-feed.com"):
        assert await verdict(cli, domain) == "block"

    shown = await cli("lists", "show", "feed", "--json")
    sources = {r["value"]: (r["added_by"], r["source"]) for r in shown.json()["rules"]}
    assert sources["alpha-feed.com"][0] == "subscription:1"
    assert sources["alpha-feed.com"][1] == f"subscribed from {url}"
    assert sources["delta-feed.com"][0].startswith("cli:")

    feeds.text("/hosts.txt", HOSTS_V2)
    second = await cli("lists", "refresh", "--json")
    assert second.code == 0, second.err
    (refreshed,) = second.json()
    assert (refreshed["added"], refreshed["removed"], refreshed["rules"]) == (1, 1, 3)
    assert await verdict(cli, "beta-feed.com") == "allow"  # left the feed: removed
    assert await verdict(cli, "delta-feed.com") == "block"  # left the feed, but a moderator's
    assert await verdict(cli, "mod-own.com") == "block"
    assert await verdict(cli, "epsilon-feed.com") == "block"

    again = await cli("lists", "refresh", url, "--json")
    assert [(r["added"], r["removed"]) for r in again.json()] == [(0, 0)]

    listing = await cli("lists", "subscriptions", "--json")
    (sub,) = listing.json()
    assert sub["url"] == url and sub["list"] == "feed" and sub["tier"] == "block"
    assert sub["every_hours"] == 12 and sub["rules"] == 3 and sub["last_error"] is None
    assert sub["last_success_at"] and sub["next_refresh_at"]
    table = await cli("lists", "subscriptions")
    assert url in table.out and "+0 -0" in table.out

    gone = await cli("lists", "unsubscribe", url)
    assert gone.code == 0, gone.err
    assert "3 rules removed" in gone.out
    for domain in ("alpha-feed.com", "gamma-feed.com", "epsilon-feed.com"):
        assert await verdict(cli, domain) == "allow"
    assert await verdict(cli, "delta-feed.com") == "block"
    assert await verdict(cli, "mod-own.com") == "block"
    assert (await cli("lists", "subscriptions", "--json")).json() == []

    audit = (await cli("audit", "--json", "--limit", "100")).json()
    actions = [e["action"] for e in audit]
    assert actions.count("list.subscription-refresh") == 2
    assert {"list.subscribe", "list.unsubscribe"} <= set(actions)
    mine = ("list.subscribe", "list.subscription-refresh", "list.unsubscribe")
    assert all(e["actor"].startswith("cli:") for e in audit if e["action"] in mine)


async def test_adblock_feed_as_review_and_unsubscribe_keeping_rules(cli: Any, feeds: Feeds) -> None:
    """An Adblock feed subscribed as review holds instead of deleting; exceptions are counted as
    unsupported; --every is kept; unsubscribe --keep-rules leaves the rules in place."""
    url = feeds.text("/nudify.abp", ABP)
    result = await cli(
        "lists", "subscribe", "--list", "abp", "--tier", "review", "--every", "6", url
    )
    assert result.code == 0, result.err
    assert "format: abp" in result.out and "2 new" in result.out
    assert "1 bad lines skipped" in result.out and "line 6" in result.out
    assert "every 6 h" in result.out
    assert await verdict(cli, "abp-one.net") == "review"
    assert await verdict(cli, "abp-exception.net") == "allow"
    (sub,) = (await cli("lists", "subscriptions", "--json")).json()
    assert sub["every_hours"] == 6 and sub["tier"] == "review"

    kept = await cli("lists", "unsubscribe", "--keep-rules", url)
    assert kept.code == 0 and "kept" in kept.out
    assert await verdict(cli, "abp-two.net") == "review"
    entry = (await cli("audit", "--json", "--action", "list.unsubscribe")).json()[0]
    assert entry["detail"] == {"url": url, "removed": 0, "kept": 2}


async def test_a_failed_refresh_keeps_the_rules_and_says_why(cli: Any, feeds: Feeds) -> None:
    """Server errors, binary garbage, an HTML error page and an emptied list each fail the
    refresh: the rules stay, the reason is shown, recorded on the subscription and audited."""
    url = feeds.text("/hosts.txt", HOSTS_V1)
    assert (await cli("lists", "subscribe", "--list", "feed", url)).code == 0

    changes: list[tuple[Callable[[], object], str]] = [
        (lambda: feeds.status("/hosts.txt", 500), "HTTP 500"),
        (lambda: feeds.raw("/hosts.txt", png()), "not a text file (it is png media)"),
        (lambda: feeds.raw("/hosts.txt", b"0.0.0.0 a.com\n\x00\x01\x02"), "NUL bytes"),
        (
            lambda: feeds.raw("/hosts.txt", gzip.compress(HOSTS_V1.encode())),
            "looks like gzip data",
        ),
        (
            lambda: feeds.text("/hosts.txt", "<!DOCTYPE html><html>rate limited</html>"),
            "web page (HTML)",
        ),
        (lambda: feeds.text("/hosts.txt", "# nothing here any more\n\n"), "no usable rules"),
        (lambda: feeds.text("/hosts.txt", ""), "the list is empty"),
    ]
    for change, reason in changes:
        change()
        result = await cli("lists", "refresh")
        assert result.code == 1, (reason, result)
        assert "FAILED" in result.out and reason in result.out, (reason, result.out)
        assert error_line(result).startswith("shield: error: 1 of 1 subscriptions")
        assert await verdict(cli, "alpha-feed.com") == "block", reason

    (sub,) = (await cli("lists", "subscriptions", "--json")).json()
    assert sub["failures"] == 7 and "the list is empty" in sub["last_error"]
    assert sub["rules"] == 4 and sub["last_added"] == 4  # the last good refresh
    assert "FAILED (7x)" in (await cli("lists", "subscriptions")).out
    errors = (await cli("audit", "--json", "--action", "list.subscription-refresh")).json()
    assert len(errors) == 7 and all("error" in e["detail"] for e in errors)

    feeds.text("/hosts.txt", HOSTS_V2)  # the feed recovers
    result = await cli("lists", "refresh", "--json")
    assert result.code == 0 and result.json()[0]["removed"] == 2
    (sub,) = (await cli("lists", "subscriptions", "--json")).json()
    assert sub["failures"] == 0 and sub["last_error"] is None


async def test_subscribe_refuses_what_is_not_a_list_and_stores_nothing(
    cli: Any, feeds: Feeds
) -> None:
    """The first fetch must give a usable list; otherwise one error line and nothing stored."""
    cases = [
        (feeds.raw("/pic.png", png()), "not a text file (it is png media)"),
        (feeds.raw("/nul.txt", b"alpha.com\x00\n"), "NUL bytes"),
        (feeds.text("/junk.txt", "not a list\nat all\n!!!\n"), "no usable rules"),
        (feeds.text("/page", "<html><body>hi</body></html>", "text/html"), "web page (HTML)"),
        (feeds.status("/gone.txt", 404), "HTTP 404"),
        ("ftp://127.0.0.1/list.txt", "only http and https"),
        ("http://user:pw@127.0.0.1/list.txt", "user name or password"),
        ("not a link", "is not a link"),
    ]
    for url, reason in cases:
        result = await cli("lists", "subscribe", "--list", "nope", url)
        assert result.code == 1, (url, result)
        line = error_line(result)
        assert line.startswith("shield: error:") and reason in line, (url, line)
    assert (await cli("lists", "subscriptions", "--json")).json() == []
    names = {i["name"] for i in (await cli("lists", "show", "--json")).json()}
    assert "nope" not in names
    assert not (await cli("audit", "--json", "--action", "list.subscribe")).json()


async def test_subscribing_twice_and_unknown_unsubscribe(cli: Any, feeds: Feeds) -> None:
    url = feeds.text("/hosts.txt", HOSTS_V1)
    assert (await cli("lists", "subscribe", "--list", "feed", url)).code == 0
    twice = await cli("lists", "subscribe", "--list", "other", url + "#frag")
    assert twice.code == 1 and "already subscribed" in error_line(twice)
    unknown = await cli("lists", "unsubscribe", feeds.url("/other.txt"))
    assert unknown.code == 1 and "not subscribed" in error_line(unknown)
    by_number = await cli("lists", "unsubscribe", "1")
    assert by_number.code == 0 and "4 rules removed" in by_number.out


async def test_private_addresses_are_refused_when_not_allowed(
    cli: Any, feeds: Feeds, tmp_path: Path
) -> None:
    """With the default settings a list on this machine (or a private network) is refused."""
    url = feeds.text("/hosts.txt", HOSTS_V1)
    config = write_config(tmp_path, private=False, name="public-only.toml")
    result = await cli("lists", "subscribe", "--list", "feed", url, config=config)
    assert result.code == 1 and PRIVATE in error_line(result)
    assert feeds.hits.get("/hosts.txt") is None  # refused before connecting


async def test_fetching_turned_off_means_no_subscriptions(
    cli: Any, feeds: Feeds, tmp_path: Path
) -> None:
    url = feeds.text("/hosts.txt", HOSTS_V1)
    assert (await cli("lists", "subscribe", "--list", "feed", url)).code == 0
    off = write_config(tmp_path, enabled=False, name="fetch-off.toml")
    for args in (("lists", "refresh"), ("lists", "subscribe", "--list", "x", url + "?2")):
        result = await cli(*args, config=off)
        assert result.code == 1 and "fetching is turned off" in error_line(result)
    assert feeds.hits["/hosts.txt"] == 1


# ---------------------------------------------------------------- in process


def loopback_only(feeds: Feeds) -> AddressPolicy:
    """Private addresses refused, except exactly the test server (as for a public host)."""
    return AddressPolicy(allow_private=False, allow=[("127.0.0.1", feeds.port)])


async def test_redirect_to_a_private_address_is_refused(app: App, feeds: Feeds) -> None:
    """A public-looking list that redirects inside the network is refused, with the reason, on
    subscribe and on refresh (where the previous rules are kept)."""
    policy = loopback_only(feeds)
    bounce = feeds.redirect("/bounce.txt", "http://192.168.1.10/hosts.txt")
    with pytest.raises(InputError, match=PRIVATE):
        await subscribe(app, bounce, list_name="feed", actor="test", policy=policy)
    assert SubscriptionRepo(app.db).all() == [] and app.lists.get("feed") is None

    url = feeds.text("/hosts.txt", HOSTS_V1)
    await subscribe(app, url, list_name="feed", actor="test", policy=policy)
    feeds.redirect("/hosts.txt", f"http://127.0.0.1:{feeds.port + 1}/hosts.txt")
    (report,) = await refresh_subscriptions(app, actor="test", policy=policy)
    assert report.error is not None and report.error.startswith(PRIVATE)
    assert app.link_scanner.scan("alpha-feed.com").tier is Tier.BLOCK
    (sub,) = SubscriptionRepo(app.db).all()
    assert sub.last_error == report.error and sub.failures == 1


async def test_tsv_feed_cannot_allow_list_or_raise_its_tier(app: App, feeds: Feeds) -> None:
    """A TSV feed's own tiers only lower severity; an `allow` row in a block feed is a bad line."""
    tsv = (
        "kind\tvalue\tcategory\ttier\tconfidence\tsource\n"
        "domain\tclothoff.io\tx\tallow\thigh\tevil\n"
        "domain\tflagged-feed.com\tx\tflag\thigh\tfeed\n"
        "domain\tblocked-feed.com\tx\tblock\thigh\tfeed\n"
    )
    url = feeds.text("/list.tsv", tsv)
    policy = loopback_only(feeds)
    report = await subscribe(
        app, url, list_name="tsv", tier=Tier.BLOCK, actor="test", policy=policy
    )
    assert report.imported is not None and report.imported.format == "tsv"
    assert [(b.line, "cannot allow-list" in b.reason) for b in report.imported.bad] == [(2, True)]
    scan = app.link_scanner.scan
    assert scan("clothoff.io").tier is Tier.BLOCK
    assert scan("flagged-feed.com").tier is Tier.REVIEW
    assert scan("blocked-feed.com").tier is Tier.BLOCK

    url2 = feeds.text("/list2.tsv", tsv.replace("blocked-feed", "blocked-two"))
    await subscribe(app, url2, list_name="held", tier=Tier.REVIEW, actor="test", policy=policy)
    assert app.link_scanner.scan("blocked-two.com").tier is Tier.REVIEW


async def test_a_rule_shared_by_two_feeds_stays_while_either_has_it(app: App, feeds: Feeds) -> None:
    policy = loopback_only(feeds)
    one = feeds.text("/one.txt", "shared-feed.com\nonly-one.com\n")
    two = feeds.text("/two.txt", "shared-feed.com\nonly-two.com\n")
    await subscribe(app, one, list_name="mix", actor="test", policy=policy)
    await subscribe(app, two, list_name="mix", actor="test", policy=policy)
    feeds.text("/one.txt", "only-one.com\n")
    (report,) = await refresh_subscriptions(app, one, actor="test", policy=policy)
    assert report.removed == 0
    assert app.link_scanner.scan("shared-feed.com").tier is Tier.BLOCK
    _, removed = unsubscribe(app, two, actor="test")
    assert removed == 2
    assert app.link_scanner.scan("shared-feed.com").tier is Tier.ALLOW
    assert app.link_scanner.scan("only-one.com").tier is Tier.BLOCK


async def test_background_task_refreshes_due_lists_and_rebuilds_the_scanner(
    app: App, feeds: Feeds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `shield run` task refreshes a subscription once due, rebuilds the link scanner, and
    ends promptly on `stop`, even with a download in flight."""
    import bot.lists

    policy = loopback_only(feeds)
    url = feeds.text("/hosts.txt", HOSTS_V1)
    await subscribe(app, url, list_name="feed", actor="test", policy=policy)
    real = bot.lists._fetcher
    monkeypatch.setattr(bot.lists, "_fetcher", lambda app, _policy: real(app, policy))
    assert app.link_scanner.scan("epsilon-feed.com").tier is Tier.ALLOW
    feeds.text("/hosts.txt", HOSTS_V2)

    stop = asyncio.Event()
    task = asyncio.create_task(_subscriptions(app, stop, check_seconds=0.05))
    await asyncio.sleep(0.3)
    assert feeds.hits["/hosts.txt"] == 1  # not due yet: fetched once, on subscribe
    app.db.execute("UPDATE list_subscriptions SET last_attempt_at = '2000-01-01T00:00:00+00:00'")
    for _ in range(100):
        if app.link_scanner.scan("epsilon-feed.com").tier is Tier.BLOCK:
            break
        await asyncio.sleep(0.05)
    assert app.link_scanner.scan("epsilon-feed.com").tier is Tier.BLOCK
    assert app.link_scanner.scan("beta-feed.com").tier is Tier.ALLOW
    entry = app.audit.recent(1, action="list.subscription-refresh")[0]
    assert entry.actor == "shield:subscriptions" and entry.detail["removed"] == 2

    # A slow feed: stop while it downloads; the task ends at once and nothing is recorded.
    started, release = asyncio.Event(), asyncio.Event()

    async def slow() -> web.Response:
        started.set()
        await asyncio.wait_for(release.wait(), 30)
        return web.Response(text=HOSTS_V1)

    feeds.routes["/hosts.txt"] = slow
    app.db.execute("UPDATE list_subscriptions SET last_attempt_at = '2000-01-01T00:00:00+00:00'")
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 2)
    release.set()
    (sub,) = SubscriptionRepo(app.db).all()
    assert sub.last_attempt_at == "2000-01-01T00:00:00+00:00"


async def test_background_task_with_fetching_off_says_so_and_waits(
    app: App, feeds: Feeds, caplog: pytest.LogCaptureFixture
) -> None:
    """Fetching off: one warning naming the subscriptions; the task then only waits for stop
    (returning early would stop `shield run`)."""
    import msgspec

    url = feeds.text("/hosts.txt", HOSTS_V1)
    await subscribe(app, url, list_name="feed", actor="test", policy=loopback_only(feeds))
    app.settings = msgspec.structs.replace(app.settings, fetch=FetchSettings(enabled=False))
    caplog.set_level(logging.INFO, logger="bot")
    stop = asyncio.Event()
    task = asyncio.create_task(_subscriptions(app, stop, check_seconds=0.01))
    await asyncio.sleep(0.1)
    assert not task.done()
    assert "1 list subscriptions will not be refreshed" in caplog.text
    stop.set()
    await asyncio.wait_for(task, 1)
    assert feeds.hits["/hosts.txt"] == 1


# ---------------------------------------------------------------- fetch_text


async def fetch_text(url: str, max_bytes: int = 1 << 20) -> Any:
    settings = FetchSettings(allow_private_addresses=True, timeout_seconds=5.0)
    async with SafeFetcher(settings) as fetcher:
        return await fetcher.fetch_text(url, max_bytes=max_bytes)


async def test_fetch_text_decodes_and_caps(feeds: Feeds) -> None:
    """UTF-8 with a BOM and a broken byte decodes (the byte becomes U+FFFD); the size cap holds
    with and without a Content-Length."""
    feeds.raw("/bom.txt", b"\xef\xbb\xbfalpha.com\n\xffbeta.com\n")
    result = await fetch_text(feeds.url("/bom.txt"))
    assert result.ok and result.text == "alpha.com\n\ufffdbeta.com\n" and result.size == 23

    big = feeds.raw("/big.txt", b"a.com\n" * 2000)
    refused = await fetch_text(big, max_bytes=4096)
    assert not refused.ok and refused.reason == "too large: over 4 KiB"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"a.com\n" * 100

    feeds.routes["/stream.txt"] = lambda: web.Response(body=chunks())  # chunked: no length
    refused = await fetch_text(feeds.url("/stream.txt"), max_bytes=8192)
    assert not refused.ok and refused.reason == "too large: over 8 KiB"


async def test_fetch_text_honours_fetch_enabled(
    feeds: Feeds, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.media.fetch")
    url = feeds.text("/hosts.txt", HOSTS_V1)
    settings = FetchSettings(enabled=False, allow_private_addresses=True)
    async with SafeFetcher(settings) as fetcher:
        result = await fetcher.fetch_text(url, max_bytes=1 << 20)
    assert not result.ok and result.reason == "fetching links is turned off"
    assert "/hosts.txt" not in caplog.text  # logs name the host, never the path
    assert feeds.hits.get("/hosts.txt") is None
