"""Settings that point a real Shield at the local Discord and/or Twitch (demo, tests, bench)."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.discord import LocalDiscord
from bot.sandbox.discord.model import Default
from bot.sandbox.twitch import LocalTwitch


def sandbox_config(
    home: Path,
    *,
    discord: LocalDiscord | None = None,
    twitch: LocalTwitch | None = None,
    extra: str = "",
) -> tuple[Path, dict[str, str]]:
    """A settings file in `home` (database, vault key and token store there too) and the
    environment `shield run` would be given: the sandboxes' URLs and the bot's credentials."""
    lines = [
        f'[storage]\ndatabase = "{home / "shield.db"}"',
        f'[vault]\nkey_file = "{home / "vault.key"}"',
        f'[twitch]\ntoken_store = "{home / "twitch-tokens.json"}"',
        "[fetch]\nallow_private_addresses = true",  # the sandboxes serve media on 127.0.0.1
        "[media]\nworkers = 1",
        "[dashboard]\nport = 0",
    ]
    env: dict[str, str] = {}
    if discord is not None:
        lines.append(
            f"[[discord.guilds]]\nid = {Default.GUILD}\nalert_channel = {Default.ALERTS}\n"
            f"moderator_role = {Default.MOD_ROLE}"
        )
        env["SHIELD_DISCORD_API_BASE"] = discord.api_base
        env["SHIELD_DISCORD_GATEWAY"] = discord.gateway_url
    if twitch is not None:
        linked = f"\ndiscord_guild = {Default.GUILD}" if discord is not None else ""
        lines.append(f'[[twitch.channels]]\nlogin = "streamer"{linked}')
        token = twitch.token_for("shieldbot")
        env |= {
            "TWITCH_CLIENT_ID": twitch.client_id,
            "TWITCH_CLIENT_SECRET": twitch.client_secret,
            "TWITCH_BOT_ID": str(twitch.user("shieldbot").id),
            "TWITCH_BOT_TOKEN": token.access_token,
            "TWITCH_BOT_REFRESH_TOKEN": token.refresh_token or "",
            "SHIELD_TWITCH_API_BASE": twitch.api_base,
            "SHIELD_TWITCH_ID_BASE": twitch.id_base,
            "SHIELD_TWITCH_EVENTSUB_URL": twitch.eventsub_url,
        }
    config = home / "shield.toml"
    config.write_text("\n".join(lines) + "\n" + extra)
    return config, env
