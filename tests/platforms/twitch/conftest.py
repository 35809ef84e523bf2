"""The real twitchio client in Shield's Twitch bot, against the local Twitch, on real SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # twitchio 3.3's web adapter subclasses aiohttp's Application, which aiohttp deprecates.
    warnings.filterwarnings("ignore", "Inheritance class AiohttpAdapter", DeprecationWarning)
    import twitchio  # noqa: F401

from bot.app import App, open_app
from bot.core.context import ScanContext
from bot.moderation import Handled, Moderator
from bot.platforms.twitch import run_twitch
from bot.sandbox.twitch import BOT_ID, VIEWER_IDS, LocalTwitch, Request, Token
from bot.settings import load_settings
from bot.storage.cases import Case, CaseRepo

DELETE = ("DELETE", "/helix/moderation/chat")
BANS = ("POST", "/helix/moderation/bans")
AUTOMOD = ("POST", "/helix/moderation/automod/message")
LISTED = "free pics at clothoff.io"


def write_config(tmp_path: Path, *, extra: str = "", guild: int | None = 111) -> Path:
    """A user settings file: one guarded channel (linked to a Discord server), local fetching."""
    linked = f"discord_guild = {guild}\n" if guild is not None else ""
    path = tmp_path / "shield.toml"
    path.write_text(
        f'[storage]\ndatabase = "{tmp_path / "shield.db"}"\n'
        f'[twitch]\ntoken_store = "{tmp_path / "private" / "tokens.json"}"\n{extra}\n'
        f'[[twitch.channels]]\nlogin = "streamer"\n{linked}'
        "[fetch]\nallow_private_addresses = true\n"
    )
    return path


def environment(twitch: LocalTwitch, token: Token | None) -> dict[str, str]:
    """The environment `shield run` would see: app credentials, bot token, local URLs."""
    env = {
        "TWITCH_CLIENT_ID": twitch.client_id,
        "TWITCH_CLIENT_SECRET": twitch.client_secret,
        "TWITCH_BOT_ID": BOT_ID,
        "SHIELD_TWITCH_API_BASE": twitch.api_base,
        "SHIELD_TWITCH_ID_BASE": twitch.id_base,
        "SHIELD_TWITCH_EVENTSUB_URL": twitch.eventsub_url,
    }
    if token is not None:
        env["TWITCH_BOT_TOKEN"] = token.access_token
        env["TWITCH_BOT_REFRESH_TOKEN"] = token.refresh_token or ""
    return env


@dataclass
class Running:
    """A Shield Twitch client running against the local Twitch, and what it alerted."""

    twitch: LocalTwitch
    app: App
    moderator: Moderator
    alerts: list[tuple[Handled, ScanContext]] = field(default_factory=list)
    alerted: asyncio.Queue[tuple[Handled, ScanContext]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def cases(self) -> list[Case]:
        return CaseRepo(self.app.db).recent(limit=100)

    async def on_alert(self, handled: Handled, ctx: ScanContext) -> None:
        self.alerts.append((handled, ctx))
        await self.alerted.put((handled, ctx))

    async def next_alert(self, timeout: float = 5.0) -> tuple[Handled, ScanContext]:
        return await asyncio.wait_for(self.alerted.get(), timeout)

    def requests(self, method: str, path: str) -> list[Request]:
        return self.twitch.find_requests(method, path)

    async def sentinel(self) -> str:
        """Send a listed link from viewer2, wait for its DELETE and timeout: all before is done."""
        sent = await self.twitch.chat_message(chatter="viewer2", text="clothoff.io sentinel")
        await self.twitch.wait_for_request(
            *DELETE, where=lambda r: r.query.get("message_id") == sent.message_id
        )
        await self.twitch.wait_for_request(
            *BANS, where=lambda r: r.json["data"]["user_id"] == VIEWER_IDS[1]
        )
        return sent.message_id


Start = Callable[..., Awaitable[Running]]


@pytest.fixture
async def twitch() -> AsyncIterator[LocalTwitch]:
    async with LocalTwitch() as server:
        yield server
        # Whatever the test did, Shield never asked Twitch to wipe a whole chat.
        assert server.chat_clears == []
        assert all(r.query.get("message_id") for r in server.find_requests(*DELETE))


@pytest.fixture
async def start(tmp_path: Path, twitch: LocalTwitch) -> AsyncIterator[Start]:
    """Start Shield's Twitch client (settings, app, moderator built as `shield run` does)."""
    stops: list[tuple[asyncio.Event, asyncio.Task[None]]] = []
    apps: list[App] = []

    async def begin(
        *,
        token: Token | None = None,
        extra: str = "",
        guild: int | None = 111,
        fetcher: Any = None,
        pool: Any = None,
        before: Callable[[App], None] | None = None,
        wait: bool = True,
    ) -> Running:
        token = token if token is not None else twitch.token_for("shieldbot")
        settings = load_settings(write_config(tmp_path, extra=extra, guild=guild),
                                 env=environment(twitch, token))  # fmt: skip
        app = open_app(settings)
        apps.append(app)
        if before is not None:
            before(app)
        moderator = Moderator(app, fetcher=fetcher, pool=pool)
        running = Running(twitch, app, moderator)
        stop, ready = running.stop, asyncio.Event()
        task = asyncio.create_task(
            run_twitch(app, moderator, stop=stop, on_alert=running.on_alert, ready=ready)
        )
        stops.append((stop, task))
        if wait:
            waiting = asyncio.create_task(ready.wait())
            await asyncio.wait({task, waiting}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if task.done():
                task.result()  # a set-up error
            assert ready.is_set(), "Shield's Twitch client did not get ready"
        running.task = task
        return running

    yield begin
    for stop, _ in stops:
        stop.set()
    for _, task in stops:
        with contextlib.suppress(Exception):  # a set-up error the test already checked
            await asyncio.wait_for(task, 10)
    for app in apps:
        app.close()


def only(items: Iterable[Any]) -> Any:
    found = list(items)
    assert len(found) == 1, found
    return found[0]
