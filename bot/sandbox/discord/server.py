"""LocalDiscord: the fake Discord (REST, gateway, attachment CDN) on 127.0.0.1 for discord.py."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
import warnings
from collections.abc import Sequence
from time import perf_counter
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from bot.sandbox._log import Log
from bot.sandbox.discord.gateway import Gateway
from bot.sandbox.discord.model import (
    PRIVILEGED_INTENTS,
    ChannelSpec,
    Default,
    DMChannel,
    GuildSpec,
    Intent,
    Json,
    MemberSpec,
    Overwrite,
    Perm,
    UserSpec,
    World,
    default_world,
    mentions_user,
    now_iso,
    strip_content,
)
from bot.sandbox.discord.records import (
    RECORD,
    Dispatch,
    Frame,
    InteractionRecord,
    PathMatch,
    RateLimitRule,
    Request,
    UploadedFile,
)
from bot.sandbox.discord.rest import ApiError, RestApi, json_response

API_PREFIX = "/api/v10"
# Per-route bucket size announced on every answer; generous, so discord.py never waits on it.
BUCKET_LIMIT = 50
GATEWAY_PATH = "/gateway"
RESUME_PATH = "/resume-gateway"
# Routes discord.py calls without a bot token (interaction callbacks and their webhooks).
NO_AUTH = re.compile(r"/gateway|/interactions/\d+/[^/]+/callback|/webhooks/\d+/[^/]+(/.*)?")

Attachment = Json | tuple[str, bytes, str]


class patch_discord_py:  # noqa: N801 - used like a function: `with patch_discord_py(...):`
    """Points discord.py's REST, gateway and CDN at local URLs; restores them on exit.

    Works with `with` and `async with` (so it can share a line with `async with LocalDiscord()`).
    """

    def __init__(self, api_base: str, gateway_url: str, cdn_base: str) -> None:
        self.values = (api_base, gateway_url, cdn_base)
        self._saved: list[tuple[str, Any, str]] = []

    def __enter__(self) -> None:
        import yarl

        with warnings.catch_warnings():
            # discord.py imports the deprecated audioop module (voice support) on Python <3.13.
            warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
            from discord.asset import Asset
            from discord.gateway import DiscordWebSocket
            from discord.http import Route

        self._saved.append((Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, Asset.BASE))
        api_base, gateway_url, cdn_base = self.values
        Route.BASE = api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
        Asset.BASE = cdn_base

    def __exit__(self, *exc: object) -> None:
        from discord.asset import Asset
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, Asset.BASE = self._saved.pop()

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()


class LocalDiscord:
    """A local Discord for the real discord.py client: `async with LocalDiscord() as discord:`."""

    def __init__(
        self,
        world: World | None = None,
        *,
        guilds: Sequence[GuildSpec] | None = None,
        users: Sequence[UserSpec] = (),
        token: str = Default.TOKEN,
        heartbeat_interval_ms: int = 41250,
        allowed_privileged_intents: int = PRIVILEGED_INTENTS,
        compress: bool = False,
        replay_on_resume: int = 0,
        ack_heartbeats: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if world is None:
            if guilds is None:
                world = default_world()
            else:
                bot = UserSpec(Default.BOT, "Shield", bot=True)
                world = World(bot=bot, guilds=list(guilds), users=list(users))
        self.world = world
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.allowed_privileged_intents = allowed_privileged_intents
        self.compress = compress
        self.replay_on_resume = replay_on_resume
        self.ack_heartbeats = ack_heartbeats
        self.host = host
        self.port = port
        self.requests: Log[Request] = Log(lambda r: f"{r.method} {r.path} -> {r.status}")
        self.events: Log[Dispatch] = Log(lambda d: f"{d.event}#{d.seq}")
        self.frames: Log[Frame] = Log(lambda f: f"op {f.op}")
        self.rate_limits: list[RateLimitRule] = []
        self.interactions: list[InteractionRecord] = []
        self.files: dict[str, tuple[bytes, str, int, float]] = {}
        self.gateway = Gateway(self)
        self.rest = RestApi(self)
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    @classmethod
    async def start(cls, world: World | None = None, **options: Any) -> LocalDiscord:
        """Builds and opens a sandbox (see __init__ for options); close it with `await close()`."""
        sandbox = cls(world, **options)
        await sandbox.open()
        return sandbox

    async def open(self) -> None:
        """Starts serving on host:port (port 0 picks a free one)."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        for method, path, handler in self.rest.routes():
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_get(GATEWAY_PATH, self.gateway.handle)
        app.router.add_get(RESUME_PATH, self.gateway.handle)
        app.router.add_get("/attachments/{key}/{name}", self._serve_file)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Closes every websocket, then the server."""
        if self._runner is None:
            return
        await self.gateway.close_all(1001, b"sandbox closing")
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- addresses --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """The value for discord.http.Route.BASE."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """The value for discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY."""
        return f"ws://{self.host}:{self.port}{GATEWAY_PATH}"

    @property
    def resume_gateway_url(self) -> str:
        """Sent in READY; a client that resumes dials this one (so tests can tell)."""
        return f"ws://{self.host}:{self.port}{RESUME_PATH}"

    def patch_discord_py(self) -> patch_discord_py:
        """Points discord.py at this sandbox for the duration of a `with` block."""
        return patch_discord_py(self.api_base, self.gateway_url, self.base_url)

    def privileged_intents_required_but_refused(self) -> int:
        """Privileged intents the application is not allowed (IDENTIFY asking one closes 4014)."""
        return PRIVILEGED_INTENTS & ~self.allowed_privileged_intents

    # -- HTTP plumbing ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Records the request, applies rate-limit rules and the token check, renders errors."""
        if request.path in (GATEWAY_PATH, RESUME_PATH):
            response: web.StreamResponse = await handler(request)
            return response
        path = request.path.removeprefix(API_PREFIX)
        record = Request(
            request.method, path, dict(request.query), dict(request.headers), at=perf_counter()
        )
        request[RECORD] = record
        try:
            await self._read_body(request, record)
            api = request.path != path
            early = self._rate_limited(record) if api else None
            if early is None and api and not self._authorized(request, path):
                early = json_response({"message": "401: Unauthorized", "code": 0}, 401)
            response = early if early is not None else await handler(request)
        except ApiError as error:
            response = error.response()
        except web.HTTPException as error:
            body = {"message": f"{error.status}: {error.reason}", "code": 0}
            response = json_response(body, error.status)
        if request.path != path and response.status != 429:
            response.headers.update(_bucket_headers(record, BUCKET_LIMIT - 1, 1.0))
        record.status = response.status
        if isinstance(response, web.Response) and response.content_type == "application/json":
            assert isinstance(response.body, bytes)
            record.response = json.loads(response.body)
        record.done_at = perf_counter()
        self.requests.add(record)
        return response

    async def _read_body(self, request: web.Request, record: Request) -> None:
        """Parses a JSON body or a multipart one (payload_json + files[n]) into the record."""
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    record.json = json.loads(await part.text())
                elif part.filename is not None:
                    kind = part.headers.get("Content-Type", "application/octet-stream")
                    data = bytes(await part.read())
                    record.files.append(UploadedFile(part.name or "", part.filename, kind, data))
        elif request.can_read_body:
            text = await request.text()
            if text:
                try:
                    record.json = json.loads(text)
                except ValueError:
                    raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    def _authorized(self, request: web.Request, path: str) -> bool:
        if NO_AUTH.fullmatch(path):
            return True
        return request.headers.get("Authorization") == f"Bot {self.token}"

    def _rate_limited(self, record: Request) -> web.Response | None:
        rule = next((r for r in self.rate_limits if r.take(record)), None)
        if rule is None:
            return None
        retry = rule.retry_after
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(math.ceil(retry)),
            "X-RateLimit-Scope": "global" if rule.is_global else "user",
            **_bucket_headers(record, 0, retry),
        }
        if rule.is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry,
            "global": rule.is_global,
            "code": 0,
        }
        return json_response(body, 429, headers)

    async def _serve_file(self, request: web.Request) -> web.Response:
        entry = self.files.get(request.path)
        if entry is None:
            return web.Response(status=404, text="Not Found")
        data, content_type, status, delay = entry
        if delay:
            await asyncio.sleep(delay)
        return web.Response(body=data, status=status, content_type=content_type)

    # -- inspection -------------------------------------------------------------------------------

    def find_requests(self, method: str | None = None, path: PathMatch = None) -> list[Request]:
        """Every recorded request matching (path: exact string or compiled regex)."""
        return self.requests.find(lambda r: r.matches(method, path))

    async def wait_for_request(
        self, method: str | None, path: PathMatch = None, *, timeout: float = 5.0
    ) -> Request:
        """The next request matching not yet returned by an earlier wait (past ones count)."""
        return await self.requests.wait_for(
            lambda r: r.matches(method, path), timeout, f"{method} {path}"
        )

    async def wait_for_event(self, event: str, *, timeout: float = 5.0) -> Dispatch:
        """The next gateway event named `event` sent to a client (e.g. "RESUMED")."""
        return await self.events.wait_for(lambda d: d.event == event, timeout, event)

    async def wait_for_frame(self, op: int, *, timeout: float = 5.0) -> Frame:
        """The next frame with opcode `op` a client sent (2 IDENTIFY, 6 RESUME, ...)."""
        return await self.frames.wait_for(lambda f: f.op == op, timeout, f"op {op}")

    def rate_limit(
        self,
        count: int = 1,
        *,
        method: str | None = None,
        path: PathMatch = None,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> RateLimitRule:
        """Answers the next `count` matching API requests with 429 (Via header set, so retried)."""
        verb = method.upper() if method else None
        rule = RateLimitRule(count, verb, path, retry_after, is_global)
        self.rate_limits.append(rule)
        return rule

    def message(self, channel_id: int, message_id: int) -> Json | None:
        """A stored message, or None once deleted."""
        return self.world.message(channel_id, message_id)

    def member(self, guild_id: int, user_id: int) -> MemberSpec | None:
        return self.world.guilds[guild_id].member(user_id)

    def dispatched_at(self, message_id: int | str) -> float | None:
        """perf_counter time the MESSAGE_CREATE for `message_id` was first sent (for latency)."""
        key = str(message_id)
        for event in self.events.items:
            if event.event == "MESSAGE_CREATE" and event.data.get("id") == key:
                return event.at
        return None

    def rest_view(self, message: Json) -> Json:
        """A message as REST returns it: stripped if the app may not read content (privileged)."""
        if self.allowed_privileged_intents & Intent.MESSAGE_CONTENT or "guild_id" not in message:
            return message
        bot_id = self.world.bot.id
        if int(message["author"]["id"]) == bot_id or mentions_user(message, bot_id):
            return message
        return strip_content(message)

    # -- files ------------------------------------------------------------------------------------

    def add_file(
        self,
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        status: int = 200,
        delay: float = 0.0,
    ) -> str:
        """Serves `data` from this host, as Discord's CDN would, and returns its URL."""
        key = self.world.ids.next()
        self.files[f"/attachments/{key}/{name}"] = (data, content_type, status, delay)
        return f"{self.base_url}/attachments/{key}/{quote(name)}"

    def attachment(
        self,
        name: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        description: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> Json:
        """An attachment payload whose URL serves `data` (width/height for images, if known)."""
        url = self.add_file(name, data, content_type)
        payload: Json = {
            "id": url.split("/")[-2],
            "filename": name,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }
        if description is not None:
            payload["description"] = description
        if width is not None and height is not None:
            payload.update(width=width, height=height)
        return payload

    def _attachments(self, items: Sequence[Attachment]) -> list[Json]:
        return [self.attachment(*a) if isinstance(a, tuple) else a for a in items]

    # -- events from the world --------------------------------------------------------------------

    async def dispatch(self, event: str, data: Json) -> None:
        """Sends any gateway event as is (intents and content stripping still apply)."""
        await self.gateway.dispatch(event, data)

    async def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str = "",
        *,
        attachments: Sequence[Attachment] = (),
        embeds: Sequence[Json] = (),
        message_snapshots: Sequence[Json] = (),
        mentions: Sequence[int] = (),
        mention_roles: Sequence[int] = (),
        components: Sequence[Json] = (),
        reply_to: int | None = None,
        flags: int = 0,
        extra: Json | None = None,
    ) -> Json:
        """A user posts a message: stored, then MESSAGE_CREATE; returns the full payload.

        Attachments are payload dicts or (filename, bytes, content_type) tuples served from here;
        a snapshot is a partial message ({"content", "attachments", "embeds"}) being forwarded.
        """
        reference = None
        if message_snapshots:
            reference = {"type": 1, "channel_id": str(channel_id), "message_id": "0"}
        elif reply_to is not None:
            reference = {"type": 0, "channel_id": str(channel_id), "message_id": str(reply_to)}
        message = self.world.new_message(
            channel_id,
            author_id,
            content,
            attachments=self._attachments(attachments),
            embeds=list(embeds),
            components=list(components),
            mentions=list(mentions),
            mention_roles=list(mention_roles),
            message_snapshots=[self._snapshot(s) for s in message_snapshots],
            message_reference=reference,
            flags=flags,
            extra=extra,
        )
        await self.gateway.dispatch("MESSAGE_CREATE", message)
        return message

    async def forward(
        self, channel_id: int, author_id: int, source_channel_id: int, source_message_id: int
    ) -> Json:
        """A user forwards a stored message into `channel_id` (it arrives as a snapshot)."""
        source = self.world.message(source_channel_id, source_message_id)
        if source is None:
            raise KeyError(f"no message {source_message_id} in {source_channel_id}")
        keys = ("content", "attachments", "embeds", "components", "timestamp", "flags")
        message = await self.send_message(
            channel_id, author_id, message_snapshots=[{k: source[k] for k in keys}]
        )
        message["message_reference"].update(
            channel_id=str(source_channel_id), message_id=str(source_message_id)
        )
        return message

    def _snapshot(self, snapshot: Json) -> Json:
        inner = dict(snapshot.get("message", snapshot))
        message: Json = {
            "type": 0,
            "content": "",
            "embeds": [],
            "attachments": [],
            "components": [],
            "mentions": [],
            "mention_roles": [],
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "flags": 0,
            **inner,
        }
        message["attachments"] = self._attachments(message["attachments"])
        return {"message": message}

    async def dm(self, user_id: int, content: str = "", **options: Any) -> Json:
        """`user_id` sends the bot a direct message (same options as send_message)."""
        channel = self.world.dm_channel(user_id)
        return await self.send_message(channel.id, user_id, content, **options)

    async def edit_message(
        self,
        channel_id: int,
        message_id: int,
        *,
        content: str | None = None,
        attachments: Sequence[Attachment] | None = None,
        embeds: Sequence[Json] | None = None,
    ) -> Json:
        """The author edits a message: stored, then MESSAGE_UPDATE with the full message."""
        message = self.world.message(channel_id, message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in {channel_id}")
        if content is not None:
            message["content"] = content
        if attachments is not None:
            message["attachments"] = self._attachments(attachments)
        if embeds is not None:
            message["embeds"] = list(embeds)
        message["edited_timestamp"] = now_iso()
        await self.gateway.dispatch("MESSAGE_UPDATE", message)
        return message

    async def remove_message(self, channel_id: int, message_id: int) -> None:
        """A message disappears (deleted by its author or the bot): MESSAGE_DELETE."""
        message = self.world.messages.get(channel_id, {}).pop(message_id, None)
        if message is None:
            return
        data: Json = {"id": str(message_id), "channel_id": str(channel_id)}
        if "guild_id" in message:
            data["guild_id"] = message["guild_id"]
        await self.gateway.dispatch("MESSAGE_DELETE", data)

    # -- interactions -----------------------------------------------------------------------------

    async def interaction(
        self,
        type: int,
        data: Json,
        *,
        channel_id: int,
        user_id: int,
        message: Json | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Dispatches INTERACTION_CREATE with every field discord.py needs; returns its record."""
        guild, channel = self.world.find_channel(channel_id)
        if channel is None:
            raise KeyError(f"unknown channel {channel_id}")
        interaction_id = self.world.ids.next()
        token = f"sandbox-interaction-{interaction_id}"
        payload: Json = {
            "id": str(interaction_id),
            "application_id": str(self.world.application.id),
            "type": type,
            "data": data,
            "channel_id": str(channel_id),
            "channel": self.world.channel_payload(guild, channel),
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None and isinstance(channel, ChannelSpec):
            member = guild.member(user_id)
            if member is None:
                raise KeyError(f"user {user_id} is not a member of guild {guild.id}")
            bot_perms = self.world.permissions(guild, self.world.bot.id, channel)
            user_perms = self.world.permissions(guild, user_id, channel)
            payload.update(
                guild_id=str(guild.id),
                guild_locale="en-US",
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                member={**self.world.member_payload(member), "permissions": str(user_perms)},
                app_permissions=str(bot_perms),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            assert isinstance(channel, DMChannel)
            payload.update(
                user=self.world.user_payload(user_id),
                app_permissions=str(self._dm_permissions()),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message
        record = InteractionRecord(
            interaction_id,
            token,
            type,
            payload,
            channel_id,
            guild.id if guild else None,
            user_id,
        )
        self.interactions.append(record)
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return record

    @staticmethod
    def _dm_permissions() -> int:
        return int(
            Perm.VIEW_CHANNEL
            | Perm.SEND_MESSAGES
            | Perm.READ_MESSAGE_HISTORY
            | Perm.EMBED_LINKS
            | Perm.ATTACH_FILES
            | Perm.ADD_REACTIONS
        )

    def _command_data(self, name: str, kind: int) -> Json:
        """`data` for a command named `name`, with the id and guild_id it was registered under."""
        for scope, commands in self.rest.commands.items():
            for command in commands:
                if command["name"] == name and command["type"] == kind:
                    data: Json = {"id": command["id"], "name": name, "type": kind}
                    if scope is not None:
                        data["guild_id"] = str(scope)
                    return data
        return {"id": str(self.world.ids.next()), "name": name, "type": kind}

    async def slash_command(
        self,
        name: str,
        *,
        channel_id: int,
        user_id: int,
        options: dict[str, Any] | Sequence[Json] = (),
        resolved: Json | None = None,
    ) -> InteractionRecord:
        """A user runs /name; options are {name: value} (str/int/bool/float) or raw option dicts."""
        data = self._command_data(name, 1)
        if isinstance(options, dict):
            data["options"] = [_option(k, v) for k, v in options.items()]
        else:
            data["options"] = list(options)
        if resolved is not None:
            data["resolved"] = resolved
        return await self.interaction(2, data, channel_id=channel_id, user_id=user_id)

    async def message_command(
        self, name: str, *, channel_id: int, message_id: int, user_id: int
    ) -> InteractionRecord:
        """A user picks Apps > `name` on a message (the target is resolved, never stripped)."""
        target = self.world.message(channel_id, message_id)
        if target is None:
            raise KeyError(f"no message {message_id} in {channel_id}")
        data = self._command_data(name, 3)
        data.update(target_id=str(message_id), resolved={"messages": {str(message_id): target}})
        return await self.interaction(2, data, channel_id=channel_id, user_id=user_id)

    async def user_command(
        self, name: str, *, channel_id: int, target_id: int, user_id: int
    ) -> InteractionRecord:
        """A user picks Apps > `name` on another user."""
        guild, _ = self.world.find_channel(channel_id)
        data = self._command_data(name, 2)
        resolved: Json = {"users": {str(target_id): self.world.user_payload(target_id)}}
        member = guild.member(target_id) if guild else None
        if guild is not None and member is not None:
            resolved["members"] = {
                str(target_id): {
                    **self.world.member_payload(member, with_user=False),
                    "permissions": str(self.world.permissions(guild, target_id)),
                }
            }
        data.update(target_id=str(target_id), resolved=resolved)
        return await self.interaction(2, data, channel_id=channel_id, user_id=user_id)

    async def click(
        self,
        channel_id: int,
        message_id: int,
        custom_id: str,
        *,
        user_id: int,
        component_type: int = 2,
        values: Sequence[str] | None = None,
    ) -> InteractionRecord:
        """A user clicks a button (or picks `values` in a select) on a stored message."""
        message = self.world.message(channel_id, message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in {channel_id}")
        data: Json = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        return await self.interaction(
            3, data, channel_id=channel_id, user_id=user_id, message=message
        )

    # -- changes to the world -------------------------------------------------------------------

    async def set_role_permissions(self, guild_id: int, role_id: int, permissions: int) -> None:
        """Changes a role's permissions (the bot's role: `world.guilds[g].bot_role_id`)."""
        guild = self.world.guilds[guild_id]
        role = guild.role(role_id)
        if role is None:
            raise KeyError(f"no role {role_id} in guild {guild_id}")
        role.permissions = int(permissions)
        data = {"guild_id": str(guild_id), "role": self.world.role_payload(role)}
        await self.gateway.dispatch("GUILD_ROLE_UPDATE", data)

    async def set_overwrites(self, channel_id: int, overwrites: Sequence[Overwrite]) -> None:
        """Replaces a channel's permission overwrites, then CHANNEL_UPDATE."""
        guild, channel = self.world.find_channel(channel_id)
        if guild is None or not isinstance(channel, ChannelSpec):
            raise KeyError(f"no guild channel {channel_id}")
        channel.overwrites = list(overwrites)
        event = "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE"
        await self.gateway.dispatch(event, self.world.channel_payload(guild, channel))

    # -- gateway control --------------------------------------------------------------------------

    async def force_reconnect(self) -> int:
        """Sends op 7 RECONNECT; clients RESUME on resume_gateway_url. Returns sessions told."""
        return await self.gateway.send_op(7, None)

    async def invalidate_session(self, *, resumable: bool = False) -> int:
        """Sends op 9; with resumable=False the sessions are dropped and clients re-IDENTIFY."""
        sent = await self.gateway.send_op(9, resumable)
        if not resumable:
            self.gateway.sessions.clear()
        return sent

    async def disconnect(self, code: int = 4000) -> None:
        """Closes every gateway websocket with `code` (4000: client resumes; 4004: fatal)."""
        await self.gateway.close_all(code)


def _bucket_headers(record: Request, remaining: int, reset_after: float) -> dict[str, str]:
    """X-RateLimit-* headers for the route's bucket (one bucket per route template)."""
    template = re.sub(r"/\d+", "/{id}", record.path)
    bucket = hashlib.sha1(f"{record.method} {template}".encode()).hexdigest()[:16]
    return {
        "X-RateLimit-Limit": str(BUCKET_LIMIT),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def _option(name: str, value: Any) -> Json:
    """A slash-command option for a plain value (str 3, int 4, bool 5, float 10)."""
    if isinstance(value, bool):
        kind = 5
    elif isinstance(value, int):
        kind = 4
    elif isinstance(value, float):
        kind = 10
    else:
        kind = 3
    return {"name": name, "type": kind, "value": value}
