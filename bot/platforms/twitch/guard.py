"""The Twitch side of moderation: one delivery in, one scan, the plan carried out, the case told.

Listeners (cogs/twitch) hand every EventSub event here. Each delivery is checked against the
ids already seen (EventSub is at-least-once), translated, scanned by the shared `Moderator`
(which records the case first: evidence before action), then enforced, then alerted: in the
log always, and through `on_alert` to the Discord server linked to the channel, if any.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Final

from twitchio import AutomodMessageHold, AutomodMessageUpdate, ChatMessage, Whisper

from bot.core.actions import Enforced
from bot.core.context import ScanContext
from bot.moderation import Handled, Moderator
from bot.platforms.twitch._seen import Cooldown, SeenIds
from bot.platforms.twitch.enforce import TwitchEnforcer
from bot.platforms.twitch.translate import (
    Channel,
    chat_context,
    held_context,
    whisper_context,
)
from bot.review.workflow import support_text

log = logging.getLogger(__name__)

AlertHook = Callable[[Handled, ScanContext], Awaitable[None]]

WHISPER_COOLDOWN: Final = 600.0  # seconds between two pointer replies to the same sender
WHISPER_INTRO: Final = (
    "Hi, this is Shield, an automated moderation bot: it cannot take reports by whisper. "
)
SUPPORT_POINTERS: Final = (  # replaced by [review] support_text when it is set
    "To report someone on Twitch, use Report on their message or profile "
    "(help.twitch.tv/s/article/how-to-file-a-user-report). Intimate images shared without "
    "consent: StopNCII.org (adults) or takeitdown.ncmec.org (anyone under 18)."
)
REPORT_POINTERS: Final = WHISPER_INTRO + SUPPORT_POINTERS


def delivery_id(event: Any) -> str | None:
    """The EventSub message id of a delivery (its metadata), the key Twitch repeats on retries."""
    metadata = getattr(event, "_metadata", None)  # twitchio keeps the raw metadata dict here
    if isinstance(metadata, Mapping):
        value = metadata.get("message_id")
        return str(value) if value else None
    return None


class TwitchGuard:
    """Handles chat messages, AutoMod holds and whispers for the channels the bot guards."""

    def __init__(
        self,
        moderator: Moderator,
        enforcer: TwitchEnforcer,
        channels: Mapping[str, Channel],
        *,
        on_alert: AlertHook | None = None,
        seen: SeenIds | None = None,
        whisper_cooldown: float = WHISPER_COOLDOWN,
    ) -> None:
        self.moderator = moderator
        self.enforcer = enforcer
        self.channels = dict(channels)  # by broadcaster id
        self.on_alert = on_alert
        self.seen = seen or SeenIds()
        self._pointers = Cooldown(whisper_cooldown)
        self._running: set[asyncio.Task[Any]] = set()

    @contextlib.contextmanager
    def _working(self) -> Iterator[None]:
        """Track the handler running in this task, so shutdown can let it finish."""
        task = asyncio.current_task()
        if task is None:
            yield
            return
        self._running.add(task)
        try:
            yield
        finally:
            self._running.discard(task)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for handlers already running (a case half carried out is worse than a late stop)."""
        running = {t for t in self._running if t is not asyncio.current_task()}
        if running:
            await asyncio.wait(running, timeout=timeout)

    @property
    def bot_id(self) -> str:
        return self.enforcer.bot_id

    def first(self, kind: str, event: Any, event_id: str) -> bool:
        """True for the first delivery of an event; False (and a debug line) for a repeat."""
        if self.seen.first(delivery_id(event), f"{kind}:{event_id}"):
            return True
        log.debug("ignored a repeated %s delivery (%s)", kind, event_id)
        return False

    async def on_chat(self, message: ChatMessage) -> Enforced | None:
        """A chat message: scan it; on block delete it and escalate, on review alert."""
        with self._working():
            return await self._chat(message)

    async def on_held(self, held: AutomodMessageHold) -> Enforced | None:
        """A message AutoMod holds: deny it if Shield blocks it; otherwise leave it to the mods."""
        with self._working():
            return await self._held(held)

    async def on_whisper(self, whisper: Whisper) -> Handled | None:
        """A whisper to the bot: scan it, point the sender to reporting tools, alert on a match."""
        with self._working():
            return await self._whisper(whisper)

    async def _chat(self, message: ChatMessage) -> Enforced | None:
        channel = self.channels.get(message.broadcaster.id)
        if channel is None or message.chatter.id == self.bot_id:
            return None
        if not self.first("chat", message, message.id):
            return None
        ctx = chat_context(message, channel)
        handled = await self.moderator.handle(ctx)
        if not handled.plan.alert:
            return None
        if not ctx.removable:
            handled.notes.append("over 6 hours old: Twitch no longer lets anyone delete it")
        elif ctx.author_is_moderator:
            handled.notes.append("sent by the broadcaster or a moderator: alert only")
        if handled.plan.hide_preview:
            handled.notes.append("Twitch cannot hide a link preview: left for the moderators")
        result = await self.enforcer.carry_out(
            handled,
            broadcaster_id=channel.id,
            channel_login=channel.login,
            message_id=message.id,
            user_id=message.chatter.id,
        )
        await self._report(handled, ctx, result, [channel])
        return result

    async def _held(self, held: AutomodMessageHold) -> Enforced | None:
        channel = self.channels.get(held.broadcaster.id)
        if channel is None or not self.first("held", held, held.message_id):
            return None
        ctx = held_context(held, channel)
        handled = await self.moderator.handle(ctx)
        if not handled.plan.alert:
            log.debug("AutoMod hold %s in %s: nothing listed, left to the moderators",
                      held.message_id, channel.login)  # fmt: skip
            return None
        if not handled.plan.delete:
            handled.notes.append("held by AutoMod: left for the moderators to decide")
        result = await self.enforcer.resolve_held(
            handled, broadcaster_id=channel.id, message_id=held.message_id, user_id=held.user.id
        )
        await self._report(handled, ctx, result, [channel])
        return result

    async def on_held_update(self, update: AutomodMessageUpdate) -> None:
        """A held message was approved or denied (by a moderator, or by Shield): log it."""
        channel = self.channels.get(update.broadcaster.id)
        if channel is None or not self.first("held-update", update, update.message_id):
            return
        by = "Shield" if update.moderator.id == self.bot_id else update.moderator.name
        log.info("AutoMod message %s in %s: %s by %s",
                 update.message_id, channel.login, update.status, by)  # fmt: skip

    async def _whisper(self, whisper: Whisper) -> Handled | None:
        if whisper.sender.id == self.bot_id or not self.first("whisper", whisper, whisper.id):
            return None
        ctx = whisper_context(whisper)
        handled = await self.moderator.handle(ctx)
        if self._pointers.ready(whisper.sender.id):
            pointers = support_text(self.moderator.app.settings, SUPPORT_POINTERS)
            await self.enforcer.tell(whisper.sender.id, WHISPER_INTRO + pointers)
        if handled.case is not None:
            handled.notes.append("whispered to the bot: metadata only, the text is not shown")
            # Metadata only: moderators see who, when and what matched, never the whisper itself.
            private = dataclasses.replace(ctx, text="", extra_texts=())
            linked = [c for c in self.channels.values() if c.discord_guild is not None]
            await self._report(handled, private, Enforced(), linked)
        return handled

    async def _report(
        self, handled: Handled, ctx: ScanContext, result: Enforced, channels: list[Channel]
    ) -> None:
        """Log the case and hand it to the alert hook for each linked Discord server."""
        case = handled.case
        if case is None or not handled.first_time:
            return
        if not result.skipped:
            handled.notes.extend(result.describe(handled.plan).splitlines())
        where = ctx.community or "whisper"
        log.info("Twitch case %d in %s: %s by %s; %s", case.id, where, case.tier,
                 ctx.author_id, "; ".join(handled.notes) or case.action)  # fmt: skip
        if self.on_alert is None:
            return
        for channel in channels:
            if channel.discord_guild is None:
                continue
            alert_ctx = dataclasses.replace(ctx, community=channel.community)
            try:
                await self.on_alert(handled, alert_ctx)
            except Exception:
                log.exception("the alert for Twitch case %d could not be posted", case.id)
