"""The EventSub websocket: welcome, keepalives, notifications, reconnects and close codes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from time import monotonic, perf_counter
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from bot.sandbox._log import Log
from bot.sandbox.twitch import events
from bot.sandbox.twitch.model import Json, new_id, now_utc
from bot.sandbox.twitch.records import InboundFrame, Notification, Subscription

if TYPE_CHECKING:
    from bot.sandbox.twitch.server import LocalTwitch

log = logging.getLogger(__name__)

# Close codes Twitch documents for the EventSub websocket.
CLOSE_INTERNAL_ERROR = 4000
CLOSE_INBOUND_TRAFFIC = 4001
CLOSE_PING_PONG = 4002
CLOSE_UNUSED = 4003
CLOSE_RECONNECT_GRACE = 4004
CLOSE_NETWORK_TIMEOUT = 4005
CLOSE_NETWORK_ERROR = 4006
CLOSE_INVALID_RECONNECT = 4007

# The subscription status a closed session leaves behind, by close code.
DISCONNECT_STATUS = {
    CLOSE_INBOUND_TRAFFIC: "websocket_received_inbound_traffic",
    CLOSE_PING_PONG: "websocket_failed_ping_pong",
    CLOSE_UNUSED: "websocket_connection_unused",
    CLOSE_RECONNECT_GRACE: "websocket_failed_to_reconnect",
    CLOSE_NETWORK_TIMEOUT: "websocket_network_timeout",
    CLOSE_NETWORK_ERROR: "websocket_network_error",
    CLOSE_INTERNAL_ERROR: "websocket_internal_error",
}

EventSource = Json | Callable[[Subscription], Json]

# A frame the client does not take within this many seconds drops the session (4005).
SEND_TIMEOUT = 5.0


@dataclass
class Session:
    """One EventSub websocket connection."""

    id: str
    ws: web.WebSocketResponse
    keepalive: int  # what the welcome announces
    interval: float  # silence after which a keepalive is sent
    connected_at: datetime
    status: str = "connected"  # reconnecting, closed
    user_id: str | None = None  # every subscription on a session belongs to one user
    last_sent: float = field(default_factory=monotonic)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    welcomed: asyncio.Event = field(default_factory=asyncio.Event)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    close_code: int | None = None
    reconnected_from: str | None = None
    replaced_by: str | None = None
    transport: asyncio.Transport | None = None

    @property
    def live(self) -> bool:
        return self.status != "closed" and not self.ws.closed

    async def send(self, text: str, before: Callable[[], None] | None = None) -> bool:
        """Send one frame in order; a client that stops reading is dropped with 4005."""
        async with self.lock:
            if not self.live:
                return False
            if before is not None:
                before()
            try:
                async with asyncio.timeout(SEND_TIMEOUT):
                    await self.ws.send_str(text)
            except TimeoutError:
                self.close_code = CLOSE_NETWORK_TIMEOUT
                if self.transport is not None:
                    self.transport.abort()
                return False
            except (ConnectionError, RuntimeError):
                return False
            self.last_sent = monotonic()
            return True

    async def close(self, code: int, message: str = "") -> None:
        if self.close_code is None:
            self.close_code = code
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code, message=message.encode())


@dataclass
class Sent:
    """A notification as first sent, kept so it can be delivered again with the same id."""

    subscription_id: str
    message_id: str
    frame: str
    event: Json


class EventSub:
    def __init__(self, twitch: LocalTwitch) -> None:
        self.twitch = twitch
        self.sessions: dict[str, Session] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.created: Log[Subscription] = Log(lambda s: f"{s.type} v{s.version}")
        self.notifications: Log[Notification] = Log(
            lambda n: f"{n.subscription_type} {n.message_id} -> {n.session_id}"
        )
        self.inbound: list[InboundFrame] = []
        self.welcomed: Log[Session] = Log(lambda s: s.id)
        self._sent: dict[str, Sent] = {}
        self._reconnects: dict[str, Session] = {}  # reconnect token -> old session
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    # -- the websocket handler --------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        if self._closing:
            await ws.close(code=CLOSE_INTERNAL_ERROR, message=b"server shutting down")
            return ws
        old: Session | None = None
        token = request.query.get("reconnect_id")
        if token is not None:
            old = self._reconnects.pop(token, None)
            if old is None or not old.live:
                await ws.close(code=CLOSE_INVALID_RECONNECT, message=b"invalid reconnect")
                return ws
        keepalive, interval = self._keepalive(request.query.get("keepalive_timeout_seconds"))
        if old is not None:
            keepalive, interval = old.keepalive, old.interval
        session = Session(
            id=f"sess_{secrets.token_hex(12)}",
            ws=ws,
            keepalive=keepalive,
            interval=interval,
            connected_at=now_utc(),
            reconnected_from=old.id if old else None,
            transport=request.transport
            if isinstance(request.transport, asyncio.Transport)
            else None,
        )
        self.sessions[session.id] = session
        keeper = self._spawn(self._keep_alive(session))
        try:
            await self._welcome(session, old)
            await self._read(session)
        finally:
            keeper.cancel()
            self._on_closed(session)
        return ws

    def _keepalive(self, asked: str | None) -> tuple[int, float]:
        configured = self.twitch.keepalive_seconds
        if configured is not None:
            return max(1, math.ceil(configured)), configured
        try:
            value = int(asked) if asked is not None else 10
        except ValueError:
            value = 10
        value = min(600, max(10, value))
        return value, float(value)

    async def _welcome(self, session: Session, old: Session | None) -> None:
        frame = events.welcome_frame(session.id, session.keepalive, session.connected_at)
        await session.send(json.dumps(frame))
        if old is not None:
            # Subscriptions move to the new session the moment it is welcomed; the old one is
            # closed by the client, or by us with 4004 once the grace time is over.
            session.user_id = old.user_id
            for sub in self.subscriptions.values():
                if sub.session_id == old.id and sub.enabled:
                    sub.session_id = session.id
                    sub.connected_at = session.connected_at
            old.replaced_by = session.id
            self._spawn(self._retire(old))
        else:
            self._spawn(self._expect_subscription(session))
        session.welcomed.set()
        self.welcomed.add(session)

    async def _read(self, session: Session) -> None:
        async for msg in session.ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                self.inbound.append(InboundFrame(session.id, msg.data, perf_counter()))
                log.warning("EventSub client sent a message on %s; closing with 4001", session.id)
                await session.close(CLOSE_INBOUND_TRAFFIC, "client sent inbound traffic")
                break
            if msg.type == WSMsgType.ERROR:
                break

    def _on_closed(self, session: Session) -> None:
        session.status = "closed"
        code = session.close_code
        status = DISCONNECT_STATUS.get(code or 0, "websocket_disconnected")
        when = now_utc()
        for sub in self.subscriptions.values():
            if sub.session_id == session.id and sub.enabled:
                sub.status = status
                sub.disconnected_at = when
        for token, waiting in list(self._reconnects.items()):
            if waiting is session:
                del self._reconnects[token]
        session.closed.set()

    async def _keep_alive(self, session: Session) -> None:
        while session.live:
            wait = session.last_sent + session.interval - monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if not await session.send(json.dumps(events.keepalive_frame())):
                return

    async def _expect_subscription(self, session: Session) -> None:
        """Twitch closes a session with 4003 when nothing subscribes on it in time."""
        timeout = self.twitch.unused_timeout
        if timeout is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(session.closed.wait(), timeout)
            return
        if session.live and not any(
            s.session_id == session.id for s in self.subscriptions.values()
        ):
            await session.close(CLOSE_UNUSED, "connection unused")

    async def _retire(self, old: Session) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(old.closed.wait(), self.twitch.reconnect_grace)
            return
        await old.close(CLOSE_RECONNECT_GRACE, "reconnect grace time expired")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- what tests and the Helix side call -------------------------------------------------------

    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.live]

    def add_subscription(self, sub: Subscription) -> None:
        self.subscriptions[sub.id] = sub
        session = self.sessions[sub.session_id]
        session.user_id = sub.user_id
        sub.connected_at = session.connected_at
        self.created.add(sub)

    async def notify(
        self,
        subscription_type: str,
        event: EventSource,
        *,
        version: str | None = None,
        when: datetime | None = None,
        to: Callable[[Subscription], bool] | None = None,
    ) -> list[Notification]:
        """Send `event` to every enabled subscription of that type whose condition it meets."""
        out: list[Notification] = []
        for sub in list(self.subscriptions.values()):
            if sub.type != subscription_type or not sub.enabled:
                continue
            if version is not None and sub.version != version:
                continue
            body = event(sub) if callable(event) else event
            if not condition_matches(sub, body) or (to is not None and not to(sub)):
                continue
            note = await self._send_notification(sub, body, when)
            if note is not None:
                out.append(note)
        return out

    async def _send_notification(
        self, sub: Subscription, event: Json, when: datetime | None
    ) -> Notification | None:
        session = self.sessions.get(sub.session_id)
        if session is None:
            return None
        message_id = new_id()
        frame = json.dumps(events.notification_frame(sub.helix(), event, message_id, when))
        note = Notification(
            message_id=message_id,
            subscription_type=sub.type,
            subscription_version=sub.version,
            subscription_id=sub.id,
            session_id=session.id,
            event=event,
            frame=frame,
            at=0.0,
        )

        def stamp() -> None:
            note.at = perf_counter()

        if not await session.send(frame, stamp):
            return None
        self._sent[message_id] = Sent(sub.id, message_id, frame, event)
        self.notifications.add(note)
        return note

    async def redeliver(self, message_id: str) -> Notification | None:
        """Send a notification again with the same `metadata.message_id` (at-least-once delivery),
        to whichever session now holds its subscription."""
        sent = self._sent.get(message_id)
        if sent is None:
            raise KeyError(f"no notification {message_id!r} was sent")
        sub = self.subscriptions.get(sent.subscription_id)
        if sub is None or not sub.enabled:
            return None
        session = self.sessions.get(sub.session_id)
        if session is None:
            return None
        frame = json.loads(sent.frame)
        frame["payload"]["subscription"] = sub.helix()
        text = json.dumps(frame)
        note = Notification(
            message_id=message_id,
            subscription_type=sub.type,
            subscription_version=sub.version,
            subscription_id=sub.id,
            session_id=session.id,
            event=sent.event,
            frame=text,
            at=0.0,
            redelivery=True,
        )

        def stamp() -> None:
            note.at = perf_counter()

        if not await session.send(text, stamp):
            return None
        self.notifications.add(note)
        return note

    async def reconnect(
        self, session_id: str | None = None, *, wait: float | None = 5.0
    ) -> list[str]:
        """Send `session_reconnect` to one session (or all live ones). With `wait`, return once each
        client has connected to its reconnect URL and closed the old socket; the new session ids."""
        targets = [self.sessions[session_id]] if session_id else self.live_sessions()
        tokens: list[tuple[Session, str]] = []
        for old in targets:
            if not old.live:
                continue
            token = secrets.token_urlsafe(12)
            self._reconnects[token] = old
            old.status = "reconnecting"
            url = f"{self.twitch.eventsub_url}?reconnect_id={token}"
            frame = events.reconnect_frame(old.id, old.connected_at, url)
            await old.send(json.dumps(frame))
            tokens.append((old, token))
        if wait is None:
            return []
        new_ids: list[str] = []
        async with asyncio.timeout(wait):
            for old, _token in tokens:
                await old.closed.wait()
                if old.replaced_by is None:
                    raise RuntimeError(f"session {old.id} closed without reconnecting")
                new = self.sessions[old.replaced_by]
                await new.welcomed.wait()
                new_ids.append(new.id)
        return new_ids

    async def close_session(self, session_id: str, code: int = CLOSE_INTERNAL_ERROR) -> None:
        session = self.sessions[session_id]
        await session.close(code, "closed by the local Twitch")
        await session.closed.wait()

    async def revoke(self, subscription_id: str, status: str = "authorization_revoked") -> None:
        """Revoke a subscription and tell its session with a `revocation` message."""
        sub = self.subscriptions[subscription_id]
        sub.status = status
        session = self.sessions.get(sub.session_id)
        if session is not None:
            await session.send(json.dumps(events.revocation_frame(sub.helix())))

    async def shutdown(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        sessions = self.live_sessions()
        if sessions:
            await asyncio.gather(
                *(s.close(1001, "local Twitch shutting down") for s in sessions),
                return_exceptions=True,
            )
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def condition_matches(sub: Subscription, event: Json) -> bool:
    """Whether `event` is one `sub` asked for: same channel, or the whisper's recipient."""
    if sub.type == "user.whisper.message":
        return event.get("to_user_id") == sub.condition.get("user_id")
    wanted = sub.condition.get("broadcaster_user_id")
    return wanted is None or event.get("broadcaster_user_id") in (None, wanted)
