"""`shield run`: the real command, as an operator starts it, against the local Discord."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot.sandbox.discord import Default, LocalDiscord

D = Default


def environment(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("SHIELD_") and k != "DISCORD_TOKEN"
    }
    env.update(extra)
    return env


def test_run_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    """No DISCORD_TOKEN: one line naming it, a non-zero exit, no database created."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--db", str(tmp_path / "shield.db"), "run"],
        capture_output=True,
        text=True,
        env=environment(),
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shield: error:") and "DISCORD_TOKEN" in lines[0]
    assert not (tmp_path / "shield.db").exists()


async def test_run_guards_a_server_and_stops_on_sigterm(tmp_path: Path) -> None:
    """The real process, seeded from [[discord.guilds]]: a listed link is deleted and alerted in
    the seeded alert channel; SIGTERM stops it cleanly."""
    config = tmp_path / "shield.toml"
    config.write_text(
        f"[[discord.guilds]]\nid = {D.GUILD}\nalert_channel = {D.ALERTS}\n[dashboard]\nport = 0\n"
    )
    async with LocalDiscord(heartbeat_interval_ms=1000) as sandbox:
        env = environment(
            SHIELD_CONFIG=str(config),
            SHIELD_DB=str(tmp_path / "shield.db"),
            SHIELD_DISCORD_API_BASE=sandbox.api_base,
            SHIELD_DISCORD_GATEWAY=sandbox.gateway_url,
            DISCORD_TOKEN=D.TOKEN,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run",
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            await sandbox.wait_for_request("PUT", f"/applications/{D.BOT}/commands", timeout=60)
            await sandbox.wait_for_event("GUILD_CREATE", timeout=30)
            await asyncio.sleep(0.5)  # discord.py waits guild_ready_timeout before on_ready
            message = await sandbox.send_message(D.GENERAL, D.MEMBER, "clothoff[.]io/free")
            path = f"/channels/{D.GENERAL}/messages/{message['id']}"
            delete = await sandbox.wait_for_request("DELETE", path, timeout=30)
            alert = await sandbox.wait_for_request("POST", f"/channels/{D.ALERTS}/messages")
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert delete.status == 204 and alert.status == 200
    assert process.returncode == 0, err.decode()
    assert "review dashboard at http://127.0.0.1:" in err.decode()


async def test_run_without_the_content_intent_says_how_to_turn_it_on(tmp_path: Path) -> None:
    """Discord refuses the privileged intent (close 4014): one line saying what to turn on."""
    async with LocalDiscord(allowed_privileged_intents=0) as sandbox:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--db", str(tmp_path / "shield.db"), "run", "--no-sync",
            env=environment(
                SHIELD_DISCORD_API_BASE=sandbox.api_base,
                SHIELD_DISCORD_GATEWAY=sandbox.gateway_url,
                DISCORD_TOKEN=D.TOKEN,
            ),
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            _, err = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 1
    last = err.decode().strip().splitlines()[-1]
    assert last.startswith("shield: error:") and "Message Content Intent" in last
