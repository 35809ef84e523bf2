"""`shield run`: start the Discord bot with DISCORD_TOKEN from the environment."""

from __future__ import annotations

import asyncio
import logging

import click

from bot.cli._context import CliContext, pass_context
from bot.errors import ShieldError

NO_TOKEN = (
    "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications, "
    "turn on its Message Content Intent, then run DISCORD_TOKEN=<bot token> shield run"
)


@click.command(name="run")
@click.option(
    "--no-sync",
    is_flag=True,
    help="Do not publish the slash commands at start (they change rarely; Discord limits it).",
)
@pass_context
def run_command(ctx: CliContext, no_sync: bool) -> None:
    """Start Shield on Discord (needs DISCORD_TOKEN in the environment; stop with Ctrl-C).

    SHIELD_DISCORD_API_BASE and SHIELD_DISCORD_GATEWAY point it at another server, such as the
    local sandbox; [[discord.guilds]] in your settings file seeds servers' settings.
    """
    settings = ctx.settings
    token = settings.secrets.discord_token
    if not token:
        raise ShieldError(NO_TOKEN)
    # A long-running bot logs at the configured level (one-shot commands stay quieter).
    logging.getLogger().setLevel(settings.logging.level)
    from bot.platforms.discord.runner import serve  # discord.py loads only for this command

    asyncio.run(serve(ctx.app, token, sync_commands=not no_sync))
