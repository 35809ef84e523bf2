"""Discord listeners and commands: thin, they translate and delegate to bot.platforms.discord."""

import bot.platforms.discord  # noqa: F401  (imports discord.py without its audioop warning)
