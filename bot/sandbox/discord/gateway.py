"""Gateway v10 over a websocket: HELLO, heartbeats, IDENTIFY/READY, RESUME, and event dispatch."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from collections import deque
from dataclasses import dataclass, field
from time import perf_counter
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from bot.sandbox.discord.model import Intent, Json, mentions_user, strip_content
from bot.sandbox.discord.records import Dispatch, Frame

if TYPE_CHECKING:
    from bot.sandbox.discord.server import LocalDiscord

log = logging.getLogger(__name__)

# Events kept per session for RESUME; older ones are dropped (the session must then re-identify).
BUFFER_SIZE = 5000


class Connection:
    """One websocket from a client, with its zlib-stream context when compression is on."""

    def __init__(self, ws: web.WebSocketResponse, path: str, compress: bool) -> None:
        self.ws = ws
        self.path = path
        self._zlib = zlib.compressobj() if compress else None

    async def send(self, frame: Json) -> None:
        await self.send_text(json.dumps(frame))

    async def send_text(self, text: str) -> None:
        if self._zlib is None:
            await self.ws.send_str(text)
        else:
            data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)


@dataclass
class Session:
    """An identified gateway session; it outlives its connection so a client can RESUME it."""

    id: str
    intents: int
    shard: tuple[int, int] | None = None
    seq: int = 0
    conn: Connection | None = None
    buffer: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=BUFFER_SIZE))
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def sees_guild(self, guild_id: int) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return (guild_id >> 22) % count == shard_id


def intent_for(event: str, data: Json) -> int:
    """The intent a client needs to receive `event` (0: always sent)."""
    if event.startswith("MESSAGE_") and not event.startswith("MESSAGE_REACTION"):
        return int(Intent.GUILD_MESSAGES if "guild_id" in data else Intent.DIRECT_MESSAGES)
    if event.startswith("GUILD_MEMBER_") and event != "GUILD_MEMBERS_CHUNK":
        return int(Intent.GUILD_MEMBERS)
    if event.startswith("GUILD_BAN_") or event == "GUILD_AUDIT_LOG_ENTRY_CREATE":
        return int(Intent.GUILD_MODERATION)
    if event.startswith(("CHANNEL_", "THREAD_", "GUILD_ROLE_")):
        return int(Intent.GUILDS)
    return 0


class Gateway:
    """Serves /gateway (and /resume-gateway) and sends events to every identified session."""

    def __init__(self, sandbox: LocalDiscord) -> None:
        self.sb = sandbox
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []

    # -- websocket --------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One websocket connection: HELLO, then the client's ops until it closes."""
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = self.sb.compress and request.query.get("compress") == "zlib-stream"
        conn = Connection(ws, request.path, compress)
        self.connections.append(conn)
        session: Session | None = None
        client_code: int | None = None
        try:
            interval = self.sb.heartbeat_interval_ms
            await conn.send({"op": 10, "d": {"heartbeat_interval": interval}, "s": None, "t": None})
            while not ws.closed:
                message = await ws.receive()
                if message.type is WSMsgType.CLOSE:
                    client_code = message.data
                    break
                if message.type is not WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    frame = None
                if not isinstance(frame, dict):
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                session = await self._handle_frame(conn, session, frame) or session
        except (ConnectionError, RuntimeError) as exc:
            log.debug("gateway connection lost: %s", exc)
        finally:
            self.connections.remove(conn)
            if session is not None and session.conn is conn:
                session.conn = None
                # A client closing with 1000/1001 ends its session, as on Discord; others resume.
                if client_code in (1000, 1001):
                    self.sessions.pop(session.id, None)
        return ws

    async def _handle_frame(
        self, conn: Connection, session: Session | None, frame: Json
    ) -> Session | None:
        """Acts on one client frame; returns the session it identified or resumed, if any."""
        op, data = frame.get("op"), frame.get("d")
        self.sb.frames.add(Frame(int(op or 0), data, perf_counter()))
        if op == 1:
            if self.sb.ack_heartbeats:
                await conn.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            return await self._identify(conn, data)
        elif op == 6:
            return await self._resume(conn, data)
        elif op == 8 and session is not None:
            await self._request_members(session, data)
        return None

    async def _identify(self, conn: Connection, data: Any) -> Session | None:
        if not isinstance(data, dict) or data.get("token") != self.sb.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return None
        intents = data.get("intents")
        if not isinstance(intents, int):
            await conn.ws.close(code=4013, message=b"Invalid intent(s).")
            return None
        refused = intents & self.sb.privileged_intents_required_but_refused()
        if refused:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return None
        shard = data.get("shard")
        session = Session(secrets.token_hex(16), intents, tuple(shard) if shard else None)
        world = self.sb.world
        guilds = [g for g in world.guilds.values() if session.sees_guild(g.id)]
        ready: Json = {
            "v": 10,
            "user": world.client_user_payload(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.sb.resume_gateway_url,
            "application": {"id": str(world.application.id), "flags": world.application.flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["sandbox"],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        async with session.lock:
            session.conn = conn
            self.sessions[session.id] = session
            await self._send(session, "READY", ready)
            all_members = bool(intents & Intent.GUILD_MEMBERS)
            for guild in guilds:
                await self._send(
                    session, "GUILD_CREATE", world.guild_payload(guild, all_members=all_members)
                )
        return session

    async def _resume(self, conn: Connection, data: Any) -> Session | None:
        session = self.sessions.get(str(data.get("session_id"))) if isinstance(data, dict) else None
        if session is None or data.get("token") != self.sb.token:
            await conn.send({"op": 9, "d": False, "s": None, "t": None})
            return None
        async with session.lock:
            session.conn = conn
            after = (data.get("seq") or 0) - self.sb.replay_on_resume
            for seq, text in list(session.buffer):
                if seq > after:
                    await conn.send_text(text)
                    frame = json.loads(text)
                    self.sb.events.add(
                        Dispatch(session.id, seq, frame["t"], frame["d"], perf_counter(), True)
                    )
            await self._send(session, "RESUMED", {})
        return session

    async def _request_members(self, session: Session, data: Any) -> None:
        guild = self.sb.world.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        query = (data.get("query") or "").lower()
        ids = {int(i) for i in data.get("user_ids") or []}
        members = [
            m
            for m in guild.members
            if (not ids or m.user_id in ids)
            and self.sb.world.user(m.user_id).name.lower().startswith(query)
        ]
        limit = data.get("limit") or len(members)
        chunk: Json = {
            "guild_id": str(guild.id),
            "members": [self.sb.world.member_payload(m) for m in members[:limit]],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        async with session.lock:
            await self._send(session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- dispatch ---------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: Json) -> None:
        """Sends `event` to every session whose intents (and shard) ask for it."""
        needed = intent_for(event, data)
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        for session in list(self.sessions.values()):
            if needed and not session.intents & needed:
                continue
            if guild_id is not None and not session.sees_guild(guild_id):
                continue
            async with session.lock:
                await self._send(session, event, self._shape(session, event, data))

    def _shape(self, session: Session, event: str, data: Json) -> Json:
        """Strips message content for sessions without MESSAGE_CONTENT, as Discord does."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or "guild_id" not in data:
            return data
        if session.intents & Intent.MESSAGE_CONTENT:
            return data
        bot_id = self.sb.world.bot.id
        if int(data["author"]["id"]) == bot_id or mentions_user(data, bot_id):
            return data
        return strip_content(data)

    async def _send(self, session: Session, event: str, data: Json) -> None:
        """Numbers, buffers and (if connected) sends one event; the caller holds session.lock."""
        session.seq += 1
        text = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
        session.buffer.append((session.seq, text))
        self.sb.events.add(Dispatch(session.id, session.seq, event, data, perf_counter()))
        if session.conn is not None:
            try:
                await session.conn.send_text(text)
            except (ConnectionError, RuntimeError):
                session.conn = None

    # -- control ----------------------------------------------------------------------------------

    async def send_op(self, op: int, data: Any) -> int:
        """Sends a raw op to every connected session; returns how many got it."""
        sent = 0
        for session in list(self.sessions.values()):
            async with session.lock:
                if session.conn is not None:
                    await session.conn.send({"op": op, "d": data, "s": None, "t": None})
                    sent += 1
        return sent

    async def close_all(self, code: int, message: bytes = b"") -> None:
        """Closes every open websocket with `code`."""
        for conn in list(self.connections):
            await conn.ws.close(code=code, message=message)
