"""Twitch: chat, AutoMod holds and whispers guarded through twitchio 3 over EventSub websockets.

`run_twitch(app, moderator, stop=...)` is the entry point `shield run` calls; the pieces are
`translate` (events to `ScanContext`), `enforce` (a plan to Helix calls), `guard` (one delivery
in, one case out), `tokens` (the bot token, its scopes and the owner-only store) and `client`.
"""

import warnings

with warnings.catch_warnings():
    # twitchio's web adapter subclasses aiohttp's Application, which aiohttp discourages with a
    # DeprecationWarning at import time; Shield never starts that adapter.
    warnings.filterwarnings(
        "ignore", message="Inheritance class AiohttpAdapter", category=DeprecationWarning
    )
    import twitchio  # noqa: F401

from bot.platforms.twitch.client import (
    ShieldTwitchBot,
    linked_guild,
    run_twitch,
    twitch_configured,
    twitch_endpoints,
)
from bot.platforms.twitch.guard import AlertHook, TwitchGuard
from bot.platforms.twitch.tokens import (
    REQUIRED_SCOPES,
    MissingScopeError,
    TokenStore,
    TwitchSetupError,
)

__all__ = [
    "REQUIRED_SCOPES",
    "AlertHook",
    "MissingScopeError",
    "ShieldTwitchBot",
    "TokenStore",
    "TwitchGuard",
    "TwitchSetupError",
    "linked_guild",
    "run_twitch",
    "twitch_configured",
    "twitch_endpoints",
]
