"""The real ShieldBot (discord.py inside) against the local Discord, over real SQLite files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import bot.platforms.discord  # noqa: F401  (discord.py without its audioop warning)
from bot.app import App, open_app
from bot.platforms.discord.client import ShieldBot, point_at
from bot.platforms.discord.runner import seed_guilds
from bot.runtime import services
from bot.sandbox.discord import Default, LocalDiscord, World, default_world
from bot.settings import load_settings

D = Default
ALERT_POSTS = f"/channels/{D.ALERTS}/messages"


def write_config(tmp_path: Path, *, dry_run: bool = False, allow_private: bool = True) -> Path:
    """A settings file like an operator's: the test server seeded, media on one worker."""
    config = tmp_path / "shield.toml"
    config.write_text(
        f"""
[fetch]
allow_private_addresses = {str(allow_private).lower()}

[media]
workers = 1

[vault]
key_file = "{tmp_path / "vault.key"}"

[[discord.guilds]]
id = {D.GUILD}
alert_channel = {D.ALERTS}
moderator_role = {D.MOD_ROLE}
dry_run = {str(dry_run).lower()}
"""
    )
    return config


def make_app(tmp_path: Path, sandbox: LocalDiscord, **config: Any) -> App:
    env = {
        "SHIELD_DB": str(tmp_path / "shield.db"),
        "SHIELD_DISCORD_API_BASE": sandbox.api_base,
        "SHIELD_DISCORD_GATEWAY": sandbox.gateway_url,
    }
    settings = load_settings(write_config(tmp_path, **config), env=env)
    return open_app(settings)


@contextlib.asynccontextmanager
async def running(app: App, *, timeout: float = 10.0) -> AsyncIterator[ShieldBot]:
    """ShieldBot wired as `shield run` wires it, started, ready, then closed with its services."""
    seed_guilds(app)
    restore = point_at(app.settings.discord)
    try:
        async with (
            services(app) as moderator,
            ShieldBot(app, moderator, guild_ready_timeout=0.05) as bot,
        ):
            task = asyncio.create_task(bot.start(D.TOKEN))
            ready = asyncio.create_task(bot.wait_until_ready())
            done, _ = await asyncio.wait(
                {task, ready}, timeout=timeout, return_when="FIRST_COMPLETED"
            )
            if ready not in done:
                ready.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ready
                if task in done:
                    task.result()
                raise AssertionError("ShieldBot never became ready")
            try:
                yield bot
            finally:
                await bot.close()
                await asyncio.wait_for(task, 5)
    finally:
        restore()


@dataclass
class Harness:
    """One test's world: the local Discord, the App over a database in tmp_path."""

    sandbox: LocalDiscord
    app: App
    tmp_path: Path

    def run(self) -> contextlib.AbstractAsyncContextManager[ShieldBot]:
        return running(self.app)

    async def alert(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next alert posted to #alerts (its JSON body)."""
        request = await self.sandbox.wait_for_request("POST", ALERT_POSTS, timeout=timeout)
        assert request.status == 200, request.response
        return request.response  # type: ignore[no-any-return]

    def untouched(self, channel_id: int, message: dict[str, Any]) -> bool:
        """Shield neither deleted nor edited this message (a ban's clean-up aside)."""
        path = f"/channels/{channel_id}/messages/{message['id']}"
        return not [r for r in self.sandbox.find_requests(path=path) if r.method != "GET"]

    async def deleted(self, channel_id: int, message_id: int | str, timeout: float = 10.0) -> Any:
        path = f"/channels/{channel_id}/messages/{message_id}"
        return await self.sandbox.wait_for_request("DELETE", path, timeout=timeout)


MakeHarness = Callable[..., Any]


@pytest.fixture
async def make_harness(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """make_harness(world=None, dry_run=False, allow_private=True) -> Harness (closed after)."""
    opened: list[tuple[LocalDiscord, App]] = []

    async def make(world: World | None = None, **config: Any) -> Harness:
        sandbox = LocalDiscord(world or default_world(), heartbeat_interval_ms=500)
        await sandbox.open()
        app = make_app(tmp_path, sandbox, **config)
        opened.append((sandbox, app))
        return Harness(sandbox, app, tmp_path)

    yield make
    for sandbox, app in opened:
        await sandbox.close()
        app.close()


@pytest.fixture
async def harness(make_harness: Callable[..., Any]) -> Harness:
    result: Harness = await make_harness()
    return result


@pytest.fixture(autouse=True)
def _quiet_discord(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot")
