"""The Twitch client: a twitchio `commands.Bot` built from the App and the shared Moderator.

It connects over EventSub websockets as the bot account (a moderator of each guarded channel),
adds that account's user token (token store first, then the environment), checks its scopes,
resolves the configured channel logins to ids, loads the thin components in `cogs/twitch`, and
subscribes to chat messages, AutoMod holds and updates, and whispers to the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final

import twitchio
from twitchio import eventsub
from twitchio.eventsub import websockets as eventsub_websockets
from twitchio.ext import commands
from twitchio.http import Route

from bot.app import App
from bot.core.actions import Enforced, Escalation, Plan
from bot.moderation import Moderator
from bot.platforms.twitch import _redact
from bot.platforms.twitch.enforce import TwitchEnforcer, audit_reason
from bot.platforms.twitch.guard import AlertHook, TwitchGuard
from bot.platforms.twitch.tokens import (
    WHISPER_REPLY_SCOPE,
    TokenPair,
    TokenStore,
    TwitchSetupError,
    check_scopes,
    initial_tokens,
)
from bot.platforms.twitch.translate import Channel, community_of
from bot.settings import Settings, TwitchSettings

if TYPE_CHECKING:
    from bot.storage.cases import Case

log = logging.getLogger(__name__)

PLATFORM: Final = "twitch"
COMPONENTS: Final = ("cogs.twitch.chat", "cogs.twitch.whispers")


def twitch_configured(settings: Settings) -> bool:
    """True when `shield run` should start Twitch: an app id and at least one channel."""
    return bool(settings.secrets.twitch_client_id and settings.twitch.channels)


def linked_guild(settings: Settings, community: str | None) -> int | None:
    """The Discord server linked to a Twitch community (`twitch:<login>`), if the config has one."""
    for channel in settings.twitch.channels:
        if community_of(channel.login) == community:
            return channel.discord_guild
    return None


@contextlib.contextmanager
def twitch_endpoints(settings: TwitchSettings) -> Iterator[None]:
    """Point twitchio at the configured Helix, OAuth and EventSub URLs; restore them after.

    twitchio reads these from class and module attributes (platform-facts.md); they are set for
    the lifetime of the client only, so tests and other clients see the defaults again.
    """
    saved = (Route.BASE, Route.ID_BASE, eventsub_websockets.WSS)
    Route.BASE = settings.api_base.rstrip("/") + "/"  # twitchio joins with a bare f-string
    Route.ID_BASE = settings.id_base.rstrip("/") + "/"
    eventsub_websockets.WSS = settings.eventsub_url
    try:
        yield
    finally:
        Route.BASE, Route.ID_BASE, eventsub_websockets.WSS = saved


def _required(settings: Settings) -> tuple[str, str, str]:
    secrets = settings.secrets
    wanted = {
        "TWITCH_CLIENT_ID": secrets.twitch_client_id,
        "TWITCH_CLIENT_SECRET": secrets.twitch_client_secret,
        "TWITCH_BOT_ID": secrets.twitch_bot_id,
    }
    missing = [name for name, value in wanted.items() if not value]
    if missing:
        raise TwitchSetupError(
            "to run on Twitch, set " + ", ".join(missing) + " in the environment "
            "(the app's client id and secret from dev.twitch.tv, and the bot account's user id)"
        )
    return (
        str(secrets.twitch_client_id),
        str(secrets.twitch_client_secret),
        str(secrets.twitch_bot_id),
    )


class ShieldTwitchBot(commands.Bot):
    """twitchio's Bot with Shield's set-up: tokens, scopes, channels, components, subscriptions."""

    def __init__(self, app: App, moderator: Moderator, *, on_alert: AlertHook | None = None):
        client_id, client_secret, bot_id = _required(app.settings)
        super().__init__(
            client_id=client_id,
            client_secret=client_secret,
            bot_id=bot_id,
            prefix="!shield",
            fetch_client_user=False,
        )
        self.app = app
        self.moderator = moderator
        self.on_alert = on_alert
        self.store = TokenStore(app.settings.twitch.token_store)
        self.channels: dict[str, Channel] = {}
        self.granted: frozenset[str] = frozenset()
        self._guard: TwitchGuard | None = None
        self.secret_filter = _redact.install([client_secret])

    @property
    def guard(self) -> TwitchGuard:
        """The guard the components delegate to (built in setup_hook)."""
        if self._guard is None:
            raise RuntimeError("the Twitch guard exists only after setup_hook")
        return self._guard

    async def setup_hook(self) -> None:
        """Token, scopes, channels, components, then subscriptions: nothing arrives before all."""
        settings = self.app.settings
        self.granted = frozenset(await self._add_bot_token())
        check_scopes(self.granted, settings)
        self.channels = await self._resolve_channels()
        enforcer = TwitchEnforcer(
            self,
            bot_id=self.bot_id,
            chat_notice=settings.twitch.chat_notice,
            whisper_replies=WHISPER_REPLY_SCOPE in self.granted,
        )
        if WHISPER_REPLY_SCOPE not in self.granted:
            log.info("the bot token lacks %s: whisper replies will be logged, not sent",
                     WHISPER_REPLY_SCOPE)  # fmt: skip
        self._guard = TwitchGuard(self.moderator, enforcer, self.channels, on_alert=self.on_alert)
        for module in COMPONENTS:
            await self.load_module(module)
        await self._subscribe()
        logins = ", ".join(sorted(c.login for c in self.channels.values())) or "no channels"
        log.info("Shield is guarding Twitch chat in: %s", logins)

    async def _add_bot_token(self) -> list[str]:
        """Add the bot account's token (stored, else from the environment); its scopes."""
        pairs = initial_tokens(self.app.settings, self.store, self.bot_id)
        self.secret_filter.add(*(v for p in pairs for v in (p.token, p.refresh)))
        self.store.warn_if_in_repository()
        for pair in pairs:
            try:
                validated = await self.add_token(pair.token, pair.refresh)
            except twitchio.InvalidTokenException:  # its message quotes the token: never log it
                log.warning("Twitch rejected a bot token and its refresh token; trying the next")
                continue
            except twitchio.HTTPException as exc:
                raise TwitchSetupError(
                    f"Twitch did not accept the bot token check (HTTP {exc.status}): "
                    "check TWITCH_CLIENT_ID and that the token was made for this app"
                ) from None
            if validated.user_id != self.bot_id:
                if validated.user_id:
                    await self.remove_token(validated.user_id)
                raise TwitchSetupError(
                    f"TWITCH_BOT_TOKEN belongs to Twitch user {validated.login or '?'} "
                    f"(id {validated.user_id or 'none: an app token'}), not to TWITCH_BOT_ID "
                    f"{self.bot_id}: authorize the bot account itself"
                )
            self._persist()
            return list(validated.scopes)
        raise TwitchSetupError(
            "Twitch rejected the bot's token and could not refresh it: authorize the bot account "
            "again and set TWITCH_BOT_TOKEN and TWITCH_BOT_REFRESH_TOKEN"
        )

    def _persist(self) -> None:
        """Keep the bot's current token pair in the owner-only token store."""
        current = self.tokens.get(self.bot_id)
        if current is None:
            return
        self.secret_filter.add(current["token"], current["refresh"])
        self.store.save(self.bot_id, TokenPair(current["token"], current["refresh"]))

    async def event_token_refreshed(self, payload: twitchio.TokenRefreshedPayload) -> None:
        """twitchio refreshed a token (before expiry, or after a 401): persist the new pair."""
        self.secret_filter.add(payload.token, payload.refresh_token)
        if payload.user_id == self.bot_id:
            self.store.save(self.bot_id, TokenPair(payload.token, payload.refresh_token))

    async def _resolve_channels(self) -> dict[str, Channel]:
        """Configured logins to broadcaster ids, through Helix users; unknown logins are errors."""
        configured = {c.login.lower(): c for c in self.app.settings.twitch.channels}
        if not configured:
            return {}
        users = await self.fetch_users(logins=list(configured))
        found = {u.name.lower(): u for u in users if u.name}
        unknown = sorted(set(configured) - set(found))
        if unknown:
            raise TwitchSetupError(
                "Twitch has no channel named " + ", ".join(unknown) + ": check [[twitch.channels]]"
            )
        return {
            found[login].id: Channel(found[login].id, login, cfg.discord_guild)
            for login, cfg in configured.items()
        }

    async def _subscribe(self) -> None:
        """Chat and AutoMod in each channel, whispers to the bot; a refusal names the cause."""
        me = self.bot_id
        wanted: list[tuple[str, eventsub.SubscriptionPayload]] = [
            ("whispers to the bot", eventsub.WhisperReceivedSubscription(user_id=me))
        ]
        for channel in self.channels.values():
            as_mod = {"broadcaster_user_id": channel.id, "moderator_user_id": me}
            wanted += [
                (f"chat in {channel.login}",
                 eventsub.ChatMessageSubscription(broadcaster_user_id=channel.id, user_id=me)),
                (f"AutoMod holds in {channel.login}",
                 eventsub.AutomodMessageHoldSubscription(**as_mod)),
                (f"AutoMod decisions in {channel.login}",
                 eventsub.AutomodMessageUpdateSubscription(**as_mod)),
            ]  # fmt: skip
        for what, payload in wanted:
            try:
                await self.subscribe_websocket(payload, as_bot=True)
            except twitchio.HTTPException as exc:
                message = str(exc.extra.get("message") or "") if isinstance(exc.extra, dict) else ""
                hint = " (is the bot account a moderator there?)" if exc.status == 403 else ""
                raise TwitchSetupError(
                    f"Twitch refused the subscription to {what}: HTTP {exc.status} {message}{hint}"
                ) from None
            except twitchio.WebsocketConnectionException:
                raise TwitchSetupError(
                    f"could not open the EventSub websocket at {eventsub_websockets.WSS}"
                ) from None

    def _target(self, case: Case) -> tuple[Channel, str] | str:
        """The guarded channel and the chatter of a Twitch case, or why there is nobody to act
        on. Only Twitch ids are ever used: a case from another platform is refused."""
        if case.platform != PLATFORM:
            return f"case {case.id} is from {case.platform}, not Twitch: nothing done on Twitch"
        prefix, _, user_id = case.author_id.partition(":")
        if prefix != PLATFORM or not user_id.isdigit():
            return "the case has no Twitch user id"
        if self._guard is None:
            return "Shield is not connected to Twitch yet: try again shortly"
        channel = self.channels.get(case.channel_id)
        if channel is None or channel.community != case.community:
            return "the case is not from a channel Shield guards (a whisper?): nothing done"
        return channel, user_id

    async def act_on_case(self, case: Case, action: str, actor: str) -> Enforced:
        """Ban or time out a case's author in its channel, for a decision made elsewhere (the
        dashboard): the registered Twitch `PlatformAction` of `shield run`."""
        if action not in ("ban", "timeout"):
            return Enforced(failed=[f"unknown action {action!r}"])
        target = self._target(case)
        if isinstance(target, str):
            return Enforced(failed=[target])
        channel, user_id = target
        minutes = int(self.app.communities.get(channel.community, "timeout_minutes"))
        plan = Plan(
            escalation=Escalation.BAN if action == "ban" else Escalation.TIMEOUT,
            timeout_seconds=minutes * 60,
        )
        reason = audit_reason(case.id, f"confirmed by {actor} on the Shield dashboard")
        result = Enforced()
        await self.guard.enforcer.escalate(
            plan, broadcaster_id=channel.id, user_id=user_id, reason=reason, result=result
        )
        return result

    async def notify_member(self, case: Case, text: str, actor: str) -> Enforced:
        """Whisper a moderator's note (text only) to a Twitch case's author, when the bot token
        has user:manage:whispers: the registered Twitch `PlatformNotify`."""
        prefix, _, user_id = case.author_id.partition(":")
        if case.platform != PLATFORM or prefix != PLATFORM or not user_id.isdigit():
            return Enforced(failed=[f"case {case.id} has no Twitch user to whisper"])
        if self._guard is None:
            return Enforced(failed=["Shield is not connected to Twitch yet"])
        enforcer = self._guard.enforcer
        if not enforcer.whisper_replies:
            reason = f"could not whisper the member: the bot token lacks {WHISPER_REPLY_SCOPE}"
            return Enforced(failed=[reason])
        where = case.community or "a Twitch channel"
        heading = f"From the moderators of {where} (Shield case {case.id}): "
        result = Enforced()
        if await enforcer.tell(user_id, heading + text, result):
            return Enforced(done=["the member was sent your message by whisper"])
        return result

    async def event_message(self, payload: twitchio.ChatMessage) -> None:
        """Shield has no chat commands: the chat component handles every message."""

    async def event_error(self, payload: twitchio.EventErrorPayload) -> None:
        """A listener failed: log it (through the secret filter) and keep running."""
        log.error(
            "Twitch listener %s failed", payload.listener.__qualname__, exc_info=payload.error
        )

    async def close(self, **options: Any) -> None:
        """Let running handlers finish, close the client (tokens are stored), drop the filter."""
        try:
            if self._guard is not None:
                await self._guard.drain()
            await super().close(**options)
        finally:
            _redact.remove(self.secret_filter)


async def run_twitch(
    app: App,
    moderator: Moderator,
    *,
    stop: asyncio.Event,
    on_alert: AlertHook | None = None,
    ready: asyncio.Event | None = None,
    on_bot: Callable[[ShieldTwitchBot], None] | None = None,
) -> None:
    """Run the Twitch client until `stop` is set; set-up errors (TwitchSetupError) are raised.

    Share `app` and `moderator` with Discord to run both in one process (one storage, one
    detector); `ready` is set once every subscription is in place; `on_bot` is given the client
    once it is built (`shield run` uses it to act on dashboard decisions).
    """
    with twitch_endpoints(app.settings.twitch):
        bot = ShieldTwitchBot(app, moderator, on_alert=on_alert)
        if on_bot is not None:
            on_bot(bot)
        async with bot:
            started = asyncio.create_task(
                bot.start(with_adapter=False, load_tokens=False, save_tokens=False),
                name="shield-twitch",
            )
            stopping = asyncio.create_task(stop.wait(), name="shield-twitch-stop")
            readying = asyncio.create_task(bot.wait_until_ready(), name="shield-twitch-ready")
            try:
                first = {started, readying, stopping}
                await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
                if readying.done() and not started.done() and ready is not None:
                    ready.set()
                await asyncio.wait({started, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (stopping, readying):
                    task.cancel()
                if not started.done():
                    await bot.close()
                try:
                    await started  # re-raises a set-up error
                except TwitchSetupError:
                    raise
                except Exception:
                    if not stop.is_set():
                        raise
                    log.debug("the Twitch client failed while stopping", exc_info=True)
