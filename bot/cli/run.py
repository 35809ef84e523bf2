"""`shield run`: guard Discord (DISCORD_TOKEN) and/or Twitch (TWITCH_* and [[twitch.channels]])."""

from __future__ import annotations

import asyncio
import logging

import click

from bot.cli._context import CliContext, pass_context
from bot.errors import ShieldError

NO_TOKEN = (
    "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications, "
    "turn on its Message Content Intent, then run DISCORD_TOKEN=<bot token> shield run "
    "(for Twitch: set TWITCH_CLIENT_ID and the other TWITCH_* variables and [[twitch.channels]])"
)


@click.command(name="run")
@click.option(
    "--no-sync",
    is_flag=True,
    help="Do not publish the slash commands at start (they change rarely; Discord limits it).",
)
@click.option("--no-dashboard", is_flag=True, help="Do not serve the review dashboard.")
@pass_context
def run_command(ctx: CliContext, no_sync: bool, no_dashboard: bool) -> None:
    """Start Shield on Discord and/or Twitch, in one process (stop with Ctrl-C).

    Discord needs DISCORD_TOKEN; Twitch needs TWITCH_CLIENT_ID, TWITCH_CLIENT_SECRET,
    TWITCH_BOT_ID, the bot's token (TWITCH_BOT_TOKEN, TWITCH_BOT_REFRESH_TOKEN or the token
    store) and [[twitch.channels]] in your settings file. SHIELD_DISCORD_* and SHIELD_TWITCH_*
    point them at other servers, such as the local sandbox. The review dashboard is served on
    [dashboard] host and port (127.0.0.1:8080) unless --no-dashboard.
    """
    settings = ctx.settings
    token = settings.secrets.discord_token
    from bot.platforms.twitch import twitch_configured

    if not token and not twitch_configured(settings):
        raise ShieldError(NO_TOKEN)
    # A long-running bot logs at the configured level (one-shot commands stay quieter).
    logging.getLogger().setLevel(settings.logging.level)
    from bot.runtime import run_shield  # the platforms' libraries load only for this command

    asyncio.run(
        run_shield(
            ctx.app,
            discord_token=token,
            sync_commands=not no_sync,
            dashboard=not no_dashboard,
        )
    )
