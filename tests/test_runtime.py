"""`shield run`'s runtime with both platforms in one process: one storage, one detector, and
Twitch cases alerted in the linked Discord server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from bot.app import open_app
from bot.runtime import run_shield
from bot.sandbox.discord import LocalDiscord
from bot.sandbox.discord.model import Default as D  # noqa: N817
from bot.sandbox.twitch import LocalTwitch
from bot.sandbox.wiring import sandbox_config
from bot.settings import load_settings


async def test_discord_and_twitch_in_one_process(tmp_path: Path) -> None:
    """A listed link is deleted on both platforms by one running Shield; the Twitch case is
    alerted in the Discord server linked to the channel; both cases share one database."""
    async with LocalDiscord(heartbeat_interval_ms=1000) as discord, LocalTwitch() as twitch:
        config, env = sandbox_config(tmp_path, discord=discord, twitch=twitch)
        app = open_app(load_settings(config, env=env))
        stop = asyncio.Event()
        addresses: list[str] = []
        shield = asyncio.create_task(
            run_shield(app, discord_token=D.TOKEN, stop=stop, on_dashboard=addresses.append)
        )
        try:
            await twitch.wait_for_subscription("channel.chat.message", timeout=30)
            await discord.wait_for_request("PUT", None, timeout=30)
            await asyncio.sleep(0.3)
            posted = await discord.send_message(D.GENERAL, D.MEMBER, "see clothoff[.]io")
            path = f"/channels/{D.GENERAL}/messages/{posted['id']}"
            await discord.wait_for_request("DELETE", path, timeout=10)
            said = await twitch.chat_message("streamer", "viewer2", "free pics: clothoff dot io")
            deleted = await twitch.wait_for_request("DELETE", "/helix/moderation/chat", timeout=10)
            alerts = [
                await discord.wait_for_request("POST", f"/channels/{D.ALERTS}/messages", timeout=10)
                for _ in range(2)
            ]
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(shield, 20)
        assert shield.done() and shield.exception() is None
        assert deleted.query["message_id"] == said.message_id and twitch.chat_clears == []
        assert any("twitch" in json.dumps(a.json) for a in alerts)
        platforms = {row[0] for row in app.db.execute("SELECT platform FROM cases").fetchall()}
        assert platforms == {"discord", "twitch"}
        assert addresses and addresses[0].startswith("http://127.0.0.1:")
        app.close()


async def test_twitch_alone_and_a_dashboard_ban_on_twitch(tmp_path: Path) -> None:
    """Twitch without Discord runs; a case confirmed elsewhere (the dashboard) bans on Twitch
    through the running bot, never on another platform."""
    async with LocalTwitch() as twitch:
        config, env = sandbox_config(tmp_path, twitch=twitch)
        app = open_app(load_settings(config, env=env))
        stop = asyncio.Event()
        shield = asyncio.create_task(run_shield(app, discord_token=None, stop=stop))
        try:
            await twitch.wait_for_subscription("channel.chat.message", timeout=30)
            await asyncio.sleep(0.3)
            await twitch.chat_message("streamer", "viewer2", "try cl0thoff.io")  # review only
            for _ in range(100):
                case = app.db.execute("SELECT id FROM cases").fetchone()
                if case:
                    break
                await asyncio.sleep(0.05)
            from bot.storage.cases import CaseRepo

            held = CaseRepo(app.db).get(case[0])
            assert held is not None and held.platform == "twitch"
            assert "discord" not in app.platform_actions
            result = await app.platform_actions["twitch"](held, "ban", "web:ada")
            ban = await twitch.wait_for_request("POST", "/helix/moderation/bans", timeout=10)
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(shield, 20)
        assert shield.done() and shield.exception() is None
        assert "duration" not in ban.json["data"]
        assert result.done and not result.failed
        assert app.platform_actions == {}  # unregistered when Shield stopped
        app.close()
