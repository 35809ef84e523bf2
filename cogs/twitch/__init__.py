"""Thin twitchio Components: they receive EventSub events and hand them to the Twitch guard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

# First: the package imports twitchio without aiohttp's import-time deprecation warning.
import bot.platforms.twitch  # noqa: F401

# isort: split
from twitchio.ext import commands

Listener = TypeVar("Listener", bound=Callable[..., Awaitable[Any]])


def listener(name: str | None = None) -> Callable[[Listener], Listener]:
    """twitchio's `Component.listener`, typed (the library declares it as returning Any)."""
    decorator: Callable[[Listener], Listener] = commands.Component.listener(name)
    return decorator
