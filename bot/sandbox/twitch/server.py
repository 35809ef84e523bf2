"""LocalTwitch: OAuth, Helix and the EventSub websocket on 127.0.0.1, for the real twitchio."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from time import perf_counter
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.sandbox._log import Log
from bot.sandbox.twitch import events
from bot.sandbox.twitch.eventsub import EventSource, EventSub, Session
from bot.sandbox.twitch.helix import Helix
from bot.sandbox.twitch.model import (
    USER_TOKEN_SECONDS,
    Json,
    Token,
    User,
    World,
    default_world,
    now_utc,
)
from bot.sandbox.twitch.records import (
    AutomodResolution,
    Ban,
    ChatClear,
    ChatLine,
    ChatWarning,
    Deletion,
    Delivery,
    Fault,
    HeldMessage,
    Notification,
    PathMatch,
    Request,
    SentChat,
    Subscription,
)

UserRef = str | User
HOST = "127.0.0.1"  # loopback only: the local Twitch is never reachable from elsewhere


class LocalTwitch:
    """A fake Twitch the unmodified twitchio 3 client talks to over HTTP and websockets.

    Use as `async with LocalTwitch() as twitch:`, then `with twitch.patch_twitchio():` around the
    client's lifetime. The default world is `default_world()` (channel `streamer` 1001, moderator
    bot `shieldbot` 2002 with a user token carrying every scope Shield needs).
    """

    def __init__(
        self,
        world: World | None = None,
        *,
        keepalive_seconds: float | None = None,
        unused_timeout: float | None = 10.0,
        reconnect_grace: float = 30.0,
        rate_limit: int = 800,
        enforce_rate_limit: bool = True,
        echo_bot_messages: bool = True,
        user_token_seconds: float = USER_TOKEN_SECONDS,
        port: int = 0,
    ) -> None:
        """`keepalive_seconds`: silence before a keepalive (None: what the client asks, 10-600);
        `unused_timeout`: close 4003 when nothing subscribes on a new session in that time (None:
        never); `reconnect_grace`: after a reconnect, how long the old socket may stay before we
        close it with 4004; `rate_limit`: Helix points a minute per token owner (429 when empty
        unless `enforce_rate_limit` is False); `echo_bot_messages`: messages sent through
        POST /chat/messages come back as `channel.chat.message` like on Twitch."""
        self.world = world or default_world()
        self.keepalive_seconds = keepalive_seconds
        self.unused_timeout = unused_timeout
        self.reconnect_grace = reconnect_grace
        self.rate_limit = rate_limit
        self.enforce_rate_limit = enforce_rate_limit
        self.echo_bot_messages = echo_bot_messages
        self.user_token_seconds = user_token_seconds
        self.host = HOST
        self._port = port

        self.requests: Log[Request] = Log()
        self.faults: list[Fault] = []
        self.refreshes: list[Token] = []
        self.chat: dict[str, ChatLine] = {}
        self.deletions: list[Deletion] = []
        self.chat_clears: list[ChatClear] = []
        self.bans: list[Ban] = []
        self.warnings: list[ChatWarning] = []
        self.sent_messages: list[SentChat] = []
        self.whispers_sent: list[tuple[str, str, str]] = []
        self.held: dict[str, HeldMessage] = {}
        self.automod_resolutions: list[AutomodResolution] = []

        self.eventsub = EventSub(self)
        self.helix = Helix(self)
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self.eventsub.handle)
        app.router.add_route("*", "/helix/{tail:.*}", self.helix.handle)
        app.router.add_route("*", "/oauth2/{tail:.*}", self.helix.handle)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        await self.eventsub.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- where the client should point ------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def id_base(self) -> str:
        """For `twitchio.http.Route.ID_BASE` (replaces https://id.twitch.tv/)."""
        return f"http://{self.host}:{self._port}/"

    @property
    def api_base(self) -> str:
        """For `twitchio.http.Route.BASE` (replaces https://api.twitch.tv/helix/)."""
        return f"http://{self.host}:{self._port}/helix/"

    @property
    def eventsub_url(self) -> str:
        """For `twitchio.eventsub.websockets.WSS`."""
        return f"ws://{self.host}:{self._port}/ws"

    @contextmanager
    def patch_twitchio(self) -> Iterator[None]:
        """Point twitchio at this server for the duration of the block, then restore."""
        with warnings.catch_warnings():
            # twitchio 3.3's web adapter subclasses aiohttp's Application, which aiohttp deprecates.
            warnings.filterwarnings(
                "ignore", "Inheritance class AiohttpAdapter", DeprecationWarning
            )
            import twitchio.eventsub.websockets as wss
            import twitchio.http

        saved = (twitchio.http.Route.BASE, twitchio.http.Route.ID_BASE, wss.WSS)
        twitchio.http.Route.BASE = self.api_base
        twitchio.http.Route.ID_BASE = self.id_base
        wss.WSS = self.eventsub_url
        try:
            yield
        finally:
            twitchio.http.Route.BASE, twitchio.http.Route.ID_BASE, wss.WSS = saved

    # -- world and tokens -------------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return self.world.client_id

    @property
    def client_secret(self) -> str:
        return self.world.client_secret

    def user(self, ref: UserRef) -> User:
        """A user by id, login or User."""
        return self.world.user(ref)

    def token_for(self, user: UserRef) -> Token:
        """The newest valid user token of `user` (raises KeyError if it has none)."""
        owner = self.user(user)
        tokens = [t for t in self.world.user_tokens(owner.id) if t.valid]
        if not tokens:
            raise KeyError(f"{owner.login} has no valid token")
        return max(tokens, key=lambda t: t.expires_at)

    def issue_token(
        self, user: UserRef, scopes: Iterable[str], *, expires_in: float | None = None
    ) -> Token:
        return self.world.issue_user_token(
            user, scopes, expires_in=self.user_token_seconds if expires_in is None else expires_in
        )

    def expire_token(self, token: str | Token | User) -> None:
        """Make an access token (or every token of a user) expired: Helix answers 401."""
        if isinstance(token, User):
            targets = self.world.user_tokens(token.id)
        else:
            value = token.access_token if isinstance(token, Token) else token
            targets = [self.world.tokens[value]]
        for target in targets:
            target.expires_at = time.time() - 1

    def fail_next(
        self,
        status: int,
        *,
        method: str | None = None,
        path: PathMatch = None,
        count: int = 1,
        message: str = "",
    ) -> Fault:
        """Answer the next `count` matching OAuth/Helix requests with `status`."""
        fault = Fault(status, count, method.upper() if method else None, path, message)
        self.faults.append(fault)
        return fault

    def active_ban(self, broadcaster_id: str, user_id: str) -> Ban | None:
        now = now_utc()
        for ban in reversed(self.bans):
            if ban.broadcaster_id != broadcaster_id or ban.user_id != user_id or ban.lifted:
                continue
            if ban.end_time is None or ban.end_time > now:
                return ban
        return None

    # -- records ----------------------------------------------------------------------------------

    async def wait_for_request(
        self,
        method: str | None = None,
        path: PathMatch = None,
        *,
        timeout: float = 5.0,
        where: Callable[[Request], bool] | None = None,
    ) -> Request:
        """The first not yet awaited request matching (full path, e.g. `/helix/moderation/chat`,
        or a compiled regex), once it has been answered."""

        def match(r: Request) -> bool:
            return r.matches(method, path) and (where is None or where(r))

        return await self.requests.wait_for(match, timeout, f"{method or '*'} {path or '*'}")

    def find_requests(self, method: str | None = None, path: PathMatch = None) -> list[Request]:
        return self.requests.find(lambda r: r.matches(method, path))

    async def wait_for_subscription(
        self, subscription_type: str, *, timeout: float = 5.0
    ) -> Subscription:
        """The next subscription of that type created (each is returned once)."""
        return await self.eventsub.created.wait_for(
            lambda s: s.type == subscription_type, timeout, f"{subscription_type} subscription"
        )

    async def wait_for_session(self, *, timeout: float = 5.0) -> Session:
        """The next EventSub session welcomed (each is returned once)."""
        return await self.eventsub.welcomed.wait_for(lambda s: True, timeout, "session")

    @property
    def notifications(self) -> Log[Notification]:
        return self.eventsub.notifications

    @property
    def sessions(self) -> list[Session]:
        """The EventSub sessions currently connected."""
        return self.eventsub.live_sessions()

    @property
    def subscriptions(self) -> list[Subscription]:
        return list(self.eventsub.subscriptions.values())

    # -- sending events ---------------------------------------------------------------------------

    async def notify(
        self,
        subscription_type: str,
        event: EventSource,
        *,
        version: str | None = None,
        when: datetime | None = None,
    ) -> list[Notification]:
        """Send an event to every enabled subscription of that type it concerns. `event` may be a
        function of the Subscription (to shape it per version). A `channel.chat.message` also
        enters the chat log, so Delete Chat Messages can find it."""
        if subscription_type == "channel.chat.message" and isinstance(event, dict):
            self._remember_chat(event, when)
        return await self.eventsub.notify(subscription_type, event, version=version, when=when)

    def _remember_chat(self, event: Json, sent_at: datetime | None) -> None:
        message_id = str(event["message_id"])
        if message_id not in self.chat:
            self.chat[message_id] = ChatLine(
                message_id=message_id,
                broadcaster_id=str(event["broadcaster_user_id"]),
                chatter_id=str(event["chatter_user_id"]),
                text=str(event["message"]["text"]),
                sent_at=sent_at or now_utc(),
            )

    async def chat_message(
        self,
        broadcaster: UserRef = "streamer",
        chatter: UserRef = "viewer1",
        text: str | None = None,
        *,
        fragments: list[Json] | None = None,
        message_id: str | None = None,
        sent_at: datetime | None = None,
        **fields: Any,
    ) -> Delivery:
        """A chat message in `broadcaster`'s channel from `chatter`, with every key twitchio reads.
        Badges follow the chatter's role there. `sent_at` backdates it (the notification's
        `message_timestamp` says so too, and Delete Chat Messages applies the 6-hour rule to it);
        `fields` override event keys (`reply`, `color`, `cheer`, ...)."""
        channel, sender = self.user(broadcaster), self.user(chatter)
        role = self.world.role(channel.id, sender.id)
        event = events.chat_message_event(
            channel, sender, text, fragments=fragments, message_id=message_id, role=role
        )
        event.update(fields)
        self._remember_chat(event, sent_at)
        notes = await self.eventsub.notify("channel.chat.message", event, when=sent_at)
        return Delivery(str(event["message_id"]), event, notes)

    async def whisper(self, from_user: UserRef, to_user: UserRef, text: str) -> Delivery:
        """`user.whisper.message` to `to_user` (the bot, usually)."""
        event = events.whisper_event(self.user(from_user), self.user(to_user), text)
        notes = await self.eventsub.notify("user.whisper.message", event)
        return Delivery(str(event["whisper_id"]), event, notes)

    async def automod_hold(
        self,
        broadcaster: UserRef = "streamer",
        chatter: UserRef = "viewer1",
        text: str = "",
        *,
        message_id: str | None = None,
        category: str = "sexwords",
        level: int = 4,
        reason: str = "automod",
        blocked_term: str | None = None,
    ) -> Delivery:
        """AutoMod holds a message: `automod.message.hold` shaped for each subscriber's version
        (1 or 2). Moderators resolve it with POST /helix/moderation/automod/message."""
        channel, sender = self.user(broadcaster), self.user(chatter)
        v2 = events.automod_hold_event(
            channel, sender, text, version="2", message_id=message_id, category=category,
            level=level, reason=reason, blocked_term=blocked_term,
        )  # fmt: skip
        held_id = str(v2["message_id"])
        v1 = events.automod_hold_event(
            channel, sender, text, version="1", message_id=held_id, category=category, level=level
        )
        v1["held_at"] = v2["held_at"]
        by_version = {"1": v1, "2": v2}
        self.held[held_id] = HeldMessage(held_id, channel.id, sender.id, text, by_version)
        notes = await self.eventsub.notify(
            "automod.message.hold", lambda sub: by_version.get(sub.version, v2)
        )
        return Delivery(held_id, v2, notes)

    async def resolve_held(
        self, held: HeldMessage, moderator_id: str, action: str, at: float | None = None
    ) -> None:
        """Approve (ALLOW) or deny (DENY) a held message, as the Helix endpoint does."""
        held.status = "Approved" if action == "ALLOW" else "Denied"
        held.resolved_by = moderator_id
        self.automod_resolutions.append(
            AutomodResolution(held.message_id, moderator_id, action, at or perf_counter())
        )
        moderator = self.world.users[moderator_id]
        await self.eventsub.notify(
            "automod.message.update",
            lambda sub: events.automod_update_event(
                held.events.get(sub.version, held.events["2"]), moderator, held.status
            ),
        )
        if action == "ALLOW":
            await self.chat_message(
                held.broadcaster_id, held.user_id, held.text, message_id=held.message_id
            )

    async def redeliver(self, message: str | Notification | Delivery) -> list[Notification]:
        """Deliver again with the same `metadata.message_id`, as Twitch's at-least-once delivery
        may: give a notification's message id, a Notification, or a Delivery (all its notes)."""
        if isinstance(message, Delivery):
            ids = [n.message_id for n in message.notifications]
        elif isinstance(message, Notification):
            ids = [message.message_id]
        else:
            ids = [message]
        out = []
        for message_id in ids:
            note = await self.eventsub.redeliver(message_id)
            if note is not None:
                out.append(note)
        return out

    async def session_reconnect(
        self, session_id: str | None = None, *, wait: float | None = 5.0
    ) -> list[str]:
        """Send `session_reconnect` (to one session, or every live one). Subscriptions move to the
        new session once the client connects to the reconnect URL; with `wait`, returns the new
        session ids after each old socket has closed."""
        return await self.eventsub.reconnect(session_id, wait=wait)

    async def close_session(self, session_id: str | None = None, code: int = 4000) -> None:
        """Drop a session (default: every live one) with a close code; its subscriptions are
        disabled, so the client must reconnect and subscribe again."""
        targets = [session_id] if session_id else [s.id for s in self.sessions]
        for target in targets:
            await self.eventsub.close_session(target, code)

    async def revoke_subscription(
        self, subscription_id: str, status: str = "authorization_revoked"
    ) -> None:
        await self.eventsub.revoke(subscription_id, status)

    # -- assertions helpers -----------------------------------------------------------------------

    def deleted(self, message_id: str) -> bool:
        line = self.chat.get(message_id)
        return bool(line and line.deleted)

    def delete_latency(self, delivery: Delivery) -> float | None:
        """Seconds from the first notification of a chat message to the DELETE that removed it
        (both perf_counter), or None if it was not deleted."""
        deletion = next((d for d in self.deletions if d.message_id == delivery.message_id), None)
        if deletion is None or not delivery.notifications:
            return None
        return deletion.at - delivery.at
