"""REST v10 handlers: users, applications, channels, messages, guilds, interactions, webhooks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.discord.model import (
    EPHEMERAL,
    LOADING,
    SUPPRESS_EMBEDS,
    ChannelSpec,
    DMChannel,
    GuildSpec,
    Json,
    Perm,
    now_iso,
)
from bot.sandbox.discord.records import RECORD, InteractionRecord, UploadedFile

if TYPE_CHECKING:
    from bot.sandbox.discord.server import LocalDiscord

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Flags a bot may set on its own messages (suppress embeds/notifications, voice, components v2).
SENDABLE_FLAGS = (1 << 2) | (1 << 12) | (1 << 13) | (1 << 15)
MAX_TIMEOUT = timedelta(days=28)
MAX_BAN_DELETE_SECONDS = 7 * 24 * 3600


class ApiError(Exception):
    """A Discord JSON error: HTTP status, Discord error code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        return json_response({"message": self.message, "code": self.code}, self.status)


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response whose Content-Type is exactly application/json (discord.py compares ==)."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


def no_content() -> web.Response:
    return web.Response(status=204)


def _int(request: web.Request, key: str) -> int:
    try:
        return int(request.match_info[key])
    except ValueError:
        raise ApiError(404, 0, "404: Not Found") from None


class RestApi:
    """The REST routes, acting on the sandbox's world as the bot user."""

    def __init__(self, sandbox: LocalDiscord) -> None:
        self.sb = sandbox
        self.world = sandbox.world
        self.commands: dict[int | None, list[Json]] = {}
        self._suppressed: dict[int, list[Json]] = {}

    def routes(self) -> list[tuple[str, str, Handler]]:
        """(method, path under /api/v10, handler) for every route served."""
        c, g, w = "/channels/{cid}", "/guilds/{gid}", "/webhooks/{app}/{token}"
        return [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/@me/guilds", self.get_my_guilds),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/users/{uid}", self.get_user),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/applications/{app}/commands", self.get_commands),
            ("PUT", "/applications/{app}/commands", self.put_commands),
            ("POST", "/applications/{app}/commands", self.post_command),
            ("GET", "/applications/{app}/guilds/{gid}/commands", self.get_commands),
            ("PUT", "/applications/{app}/guilds/{gid}/commands", self.put_commands),
            ("POST", "/applications/{app}/guilds/{gid}/commands", self.post_command),
            ("GET", c, self.get_channel),
            ("GET", c + "/messages", self.get_messages),
            ("POST", c + "/messages", self.post_message),
            ("POST", c + "/messages/bulk-delete", self.bulk_delete),
            ("GET", c + "/messages/{mid}", self.get_message),
            ("PATCH", c + "/messages/{mid}", self.patch_message),
            ("DELETE", c + "/messages/{mid}", self.delete_message),
            ("PUT", c + "/messages/{mid}/reactions/{emoji}/@me", self.react),
            ("DELETE", c + "/messages/{mid}/reactions/{emoji}/@me", self.react),
            ("POST", c + "/typing", self.typing),
            ("GET", g, self.get_guild),
            ("GET", g + "/channels", self.get_guild_channels),
            ("GET", g + "/roles", self.get_roles),
            ("GET", g + "/members", self.get_members),
            ("GET", g + "/members/{uid}", self.get_member),
            ("PATCH", g + "/members/{uid}", self.patch_member),
            ("DELETE", g + "/members/{uid}", self.kick_member),
            ("GET", g + "/bans", self.get_bans),
            ("GET", g + "/bans/{uid}", self.get_ban),
            ("PUT", g + "/bans/{uid}", self.put_ban),
            ("DELETE", g + "/bans/{uid}", self.delete_ban),
            ("POST", "/interactions/{iid}/{token}/callback", self.interaction_callback),
            ("POST", w, self.post_followup),
            ("GET", w + "/messages/{mid}", self.get_webhook_message),
            ("PATCH", w + "/messages/{mid}", self.patch_webhook_message),
            ("DELETE", w + "/messages/{mid}", self.delete_webhook_message),
        ]

    # -- helpers ----------------------------------------------------------------------------------

    def _guild(self, request: web.Request) -> GuildSpec:
        guild = self.world.guilds.get(_int(request, "gid"))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    def _channel(self, request: web.Request) -> tuple[GuildSpec | None, ChannelSpec | DMChannel]:
        """The channel in the path, if the bot can see it."""
        guild, channel = self.world.find_channel(_int(request, "cid"))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        hidden = (
            guild is not None
            and isinstance(channel, ChannelSpec)
            and not self._can(guild, channel, Perm.VIEW_CHANNEL)
        )
        if hidden:
            raise ApiError(403, 50001, "Missing Access")
        return guild, channel

    def _message(self, channel_id: int, request: web.Request) -> Json:
        message = self.world.message(channel_id, _int(request, "mid"))
        if message is None:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def _can(self, guild: GuildSpec, channel: ChannelSpec | None, perms: int) -> bool:
        have = self.world.permissions(guild, self.world.bot.id, channel)
        return have & perms == perms

    def _require(self, guild: GuildSpec, channel: ChannelSpec | None, perms: int) -> None:
        if not self._can(guild, channel, perms):
            raise missing_permissions()

    def _body(self, request: web.Request) -> Json:
        body = request[RECORD].json
        return body if isinstance(body, dict) else {}

    def _is_own(self, message: Json) -> bool:
        return int(message["author"]["id"]) == self.world.bot.id

    def _check_app(self, request: web.Request) -> None:
        if _int(request, "app") != self.world.application.id:
            raise ApiError(403, 50001, "Missing Access")

    # -- users, application, gateway --------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        return json_response(self.world.client_user_payload())

    async def get_my_guilds(self, request: web.Request) -> web.Response:
        guilds: list[Json] = [
            {
                "id": str(g.id),
                "name": g.name,
                "icon": None,
                "owner": False,
                "permissions": str(self.world.permissions(g, self.world.bot.id)),
                "features": [],
            }
            for g in self.world.guilds.values()
        ]
        return json_response(guilds)

    async def get_user(self, request: web.Request) -> web.Response:
        user_id = _int(request, "uid")
        if user_id not in self.world.users:
            raise ApiError(404, 10013, "Unknown User")
        return json_response(self.world.user_payload(user_id))

    async def create_dm(self, request: web.Request) -> web.Response:
        try:
            user_id = int(self._body(request)["recipient_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, 50035, "Invalid Form Body") from None
        dm = self.world.dm_channel(user_id)
        return json_response(self.world.channel_payload(None, dm))

    async def get_application(self, request: web.Request) -> web.Response:
        app = self.world.application
        owner = next(iter(self.world.guilds.values())).owner_id if self.world.guilds else app.id
        return json_response(
            {
                "id": str(app.id),
                "name": app.name,
                "description": "Shield running against the local Discord sandbox",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": app.flags,
                "owner": self.world.user_payload(owner or app.id),
                "team": None,
                "bot": self.world.user_payload(self.world.bot.id),
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "tags": [],
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.sb.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "url": self.sb.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    # -- application commands ---------------------------------------------------------------------

    def _command_scope(self, request: web.Request) -> int | None:
        self._check_app(request)
        if "gid" in request.match_info:
            return self._guild(request).id
        return None

    def _command(self, scope: int | None, data: Json, old: list[Json]) -> Json:
        kind = data.get("type", 1)
        same = next((c for c in old if c["name"] == data.get("name") and c["type"] == kind), None)
        command: Json = {
            "default_member_permissions": None,
            "description": "",
            "options": [],
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            **data,
            "id": same["id"] if same else str(self.world.ids.next()),
            "application_id": str(self.world.application.id),
            "type": kind,
            "version": str(self.world.ids.next()),
        }
        if scope is not None:
            command["guild_id"] = str(scope)
        return command

    async def get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.commands.get(self._command_scope(request), []))

    async def put_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        body = request[RECORD].json
        if not isinstance(body, list):
            raise ApiError(400, 50035, "Invalid Form Body")
        old = self.commands.get(scope, [])
        self.commands[scope] = [self._command(scope, c, old) for c in body]
        return json_response(self.commands[scope])

    async def post_command(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        old = self.commands.setdefault(scope, [])
        command = self._command(scope, self._body(request), old)
        old[:] = [c for c in old if c["id"] != command["id"]] + [command]
        return json_response(command, 201)

    # -- channels and messages --------------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(request)
        return json_response(self.world.channel_payload(guild, channel))

    async def get_messages(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(request)
        if (
            guild is not None
            and isinstance(channel, ChannelSpec)
            and not self._can(guild, channel, Perm.READ_MESSAGE_HISTORY)
        ):
            return json_response([])
        query = request.query
        limit = max(1, min(int(query.get("limit", 50)), 100))
        ids = sorted(self.world.messages.get(channel.id, {}))
        if "after" in query:
            ids = [i for i in ids if i > int(query["after"])][:limit]
        elif "around" in query:
            around = int(query["around"])
            before = [i for i in ids if i < around][-(limit // 2) :] if limit > 1 else []
            ids = (before + [i for i in ids if i >= around])[:limit]
        else:
            if "before" in query:
                ids = [i for i in ids if i < int(query["before"])]
            ids = ids[-limit:]
        messages = self.world.messages[channel.id]
        return json_response([self.sb.rest_view(messages[i]) for i in reversed(ids)])

    async def get_message(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(request)
        if guild is not None and isinstance(channel, ChannelSpec):
            self._require(guild, channel, Perm.READ_MESSAGE_HISTORY)
        return json_response(self.sb.rest_view(self._message(channel.id, request)))

    async def post_message(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(request)
        body = self._body(request)
        files: list[UploadedFile] = request[RECORD].files
        if guild is not None and isinstance(channel, ChannelSpec):
            send = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
            self._require(guild, channel, send)
            if files:
                self._require(guild, channel, Perm.ATTACH_FILES)
            if body.get("embeds"):
                self._require(guild, channel, Perm.EMBED_LINKS)
        message = self._new_bot_message(channel.id, body, files)
        await self.sb.gateway.dispatch("MESSAGE_CREATE", message)
        return json_response(message)

    def _new_bot_message(
        self,
        channel_id: int,
        body: Json,
        files: list[UploadedFile],
        *,
        allowed_flags: int = SENDABLE_FLAGS,
        store: bool = True,
        extra: Json | None = None,
        type: int = 0,
        allow_empty: bool = False,
    ) -> Json:
        """A message the bot sends (REST or interaction); its uploads become attachments."""
        attachments = self._uploads(body, files)
        embeds = [{"type": "rich", **e} for e in body.get("embeds") or []]
        has_content = body.get("content") or embeds or attachments or body.get("components")
        if not (has_content or allow_empty or body.get("sticker_ids") or body.get("poll")):
            raise ApiError(400, 50006, "Cannot send an empty message")
        reference = body.get("message_reference")
        extra = dict(extra or {})
        if reference and reference.get("message_id"):
            target = self.world.message(
                int(reference.get("channel_id") or channel_id), int(reference["message_id"])
            )
            extra["referenced_message"] = target
            if target is not None:
                type = 19
        return self.world.new_message(
            channel_id,
            self.world.bot.id,
            body.get("content") or "",
            attachments=attachments,
            embeds=embeds,
            components=body.get("components") or [],
            flags=int(body.get("flags") or 0) & allowed_flags,
            message_reference=reference,
            type=type,
            extra=extra,
            store=store,
        )

    def _uploads(
        self, body: Json, files: list[UploadedFile], keep: list[Json] | None = None
    ) -> list[Json]:
        """Attachment payloads for `files` (named by `body.attachments` metadata) plus kept ones."""
        meta = {str(a.get("id")): a for a in body.get("attachments") or []}
        result = [a for a in keep or [] if str(a["id"]) in meta]
        for upload in files:
            index = upload.field.removeprefix("files[").removesuffix("]")
            info = meta.get(index, {})
            filename = info.get("filename") or upload.filename
            result.append(
                self.sb.attachment(
                    filename, upload.data, upload.content_type, description=info.get("description")
                )
            )
        return result

    async def patch_message(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(request)
        message = self._message(channel.id, request)
        body = self._body(request)
        if not self._is_own(message):
            if guild is None or not isinstance(channel, ChannelSpec):
                raise ApiError(403, 50003, "Cannot execute action on a DM channel")
            if set(body) - {"flags", "tts", "allowed_mentions"}:
                raise ApiError(403, 50005, "Cannot edit a message authored by another user")
            self._require(guild, channel, Perm.MANAGE_MESSAGES)
        self.edit(message, body, request[RECORD].files)
        await self.sb.gateway.dispatch("MESSAGE_UPDATE", message)
        return json_response(self.sb.rest_view(message))

    def edit(self, message: Json, body: Json, files: list[UploadedFile]) -> None:
        """Applies an edit body; SUPPRESS_EMBEDS hides embeds until it is cleared again."""
        mid = int(message["id"])
        if "flags" in body and body["flags"] is not None:
            flags = int(body["flags"])
            if flags & SUPPRESS_EMBEDS and not message["flags"] & SUPPRESS_EMBEDS:
                self._suppressed[mid] = message["embeds"]
                message["embeds"] = []
            elif not flags & SUPPRESS_EMBEDS and message["flags"] & SUPPRESS_EMBEDS:
                message["embeds"] = self._suppressed.pop(mid, [])
            message["flags"] = (message["flags"] & ~(SENDABLE_FLAGS | LOADING)) | (
                flags & SENDABLE_FLAGS
            )
        if not self._is_own(message):
            return
        if "content" in body:
            message["content"] = body["content"] or ""
        if "embeds" in body:
            message["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "components" in body:
            message["components"] = body["components"] or []
        if "attachments" in body or files:
            message["attachments"] = self._uploads(body, files, message["attachments"])
        message["flags"] &= ~LOADING
        message["edited_timestamp"] = now_iso()

    async def delete_message(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(request)
        message = self._message(channel.id, request)
        if not self._is_own(message):
            if guild is None or not isinstance(channel, ChannelSpec):
                raise ApiError(403, 50003, "Cannot execute action on a DM channel")
            self._require(guild, channel, Perm.MANAGE_MESSAGES)
        await self.sb.remove_message(channel.id, int(message["id"]))
        return no_content()

    async def bulk_delete(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(request)
        if guild is None or not isinstance(channel, ChannelSpec):
            raise ApiError(403, 50003, "Cannot execute action on a DM channel")
        self._require(guild, channel, Perm.MANAGE_MESSAGES)
        ids = [int(i) for i in self._body(request).get("messages") or []]
        if not 2 <= len(ids) <= 100:
            raise ApiError(400, 50016, "Provided too few or too many messages to delete.")
        cutoff = datetime.now(UTC) - timedelta(days=14)
        store = self.world.messages.get(channel.id, {})
        for mid in ids:
            if mid in store and datetime.fromisoformat(store[mid]["timestamp"]) < cutoff:
                raise ApiError(400, 50034, "You can only bulk delete messages under 14 days old.")
        gone = [mid for mid in ids if store.pop(mid, None) is not None]
        if gone:
            ids_text = [str(i) for i in gone]
            await self.sb.gateway.dispatch(
                "MESSAGE_DELETE_BULK",
                {"ids": ids_text, "channel_id": str(channel.id), "guild_id": str(guild.id)},
            )
        return no_content()

    async def react(self, request: web.Request) -> web.Response:
        guild, channel = self._channel(request)
        self._message(channel.id, request)
        if guild is not None and isinstance(channel, ChannelSpec):
            self._require(guild, channel, Perm.ADD_REACTIONS | Perm.READ_MESSAGE_HISTORY)
        return no_content()

    async def typing(self, request: web.Request) -> web.Response:
        self._channel(request)
        return no_content()

    # -- guilds, members, bans --------------------------------------------------------------------

    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        data = self.world.partial_guild_payload(guild)
        data["approximate_member_count"] = len(guild.members)
        return json_response(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        channels = [c for c in guild.channels if not c.is_thread]
        return json_response([self.world.channel_payload(guild, c) for c in channels])

    async def get_roles(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([self.world.role_payload(r) for r in guild.roles])

    async def get_members(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        after = int(request.query.get("after", 0))
        limit = max(1, min(int(request.query.get("limit", 1)), 1000))
        members = sorted((m for m in guild.members if m.user_id > after), key=lambda m: m.user_id)
        return json_response([self.world.member_payload(m) for m in members[:limit]])

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = guild.member(_int(request, "uid"))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return json_response(self.world.member_payload(member))

    async def patch_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        user_id = _int(request, "uid")
        member = guild.member(user_id)
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        body = self._body(request)
        if "communication_disabled_until" in body:
            self._require(guild, None, Perm.MODERATE_MEMBERS)
            admin = self.world.permissions(guild, user_id) & Perm.ADMINISTRATOR
            if admin or not self.world.outranks(guild, self.world.bot.id, user_id):
                raise missing_permissions()
            until = body["communication_disabled_until"]
            if until is not None:
                when = datetime.fromisoformat(until)
                if when.tzinfo is None or when - datetime.now(UTC) > MAX_TIMEOUT:
                    raise ApiError(400, 50035, "Invalid Form Body")
            member.communication_disabled_until = until
        if "nick" in body:
            self._require(guild, None, Perm.MANAGE_NICKNAMES)
            member.nick = body["nick"]
        if "roles" in body:
            self._require(guild, None, Perm.MANAGE_ROLES)
            member.roles = [int(r) for r in body["roles"]]
        data = self.world.member_payload(member)
        await self.sb.gateway.dispatch("GUILD_MEMBER_UPDATE", {"guild_id": str(guild.id), **data})
        return json_response(data)

    async def kick_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        user_id = _int(request, "uid")
        if guild.member(user_id) is None:
            raise ApiError(404, 10007, "Unknown Member")
        self._require(guild, None, Perm.KICK_MEMBERS)
        if not self.world.outranks(guild, self.world.bot.id, user_id):
            raise missing_permissions()
        await self._remove_member(guild, user_id)
        return no_content()

    async def _remove_member(self, guild: GuildSpec, user_id: int) -> None:
        guild.members = [m for m in guild.members if m.user_id != user_id]
        await self.sb.gateway.dispatch(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(guild.id), "user": self.world.user_payload(user_id)},
        )

    def _ban_payload(self, user_id: int, reason: str | None) -> Json:
        return {"reason": reason, "user": self.world.user_payload(user_id)}

    async def get_bans(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        self._require(guild, None, Perm.BAN_MEMBERS)
        return json_response([self._ban_payload(u, r) for u, r in guild.bans.items()])

    async def get_ban(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        self._require(guild, None, Perm.BAN_MEMBERS)
        user_id = _int(request, "uid")
        if user_id not in guild.bans:
            raise ApiError(404, 10026, "Unknown Ban")
        return json_response(self._ban_payload(user_id, guild.bans[user_id]))

    async def put_ban(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        user_id = _int(request, "uid")
        self._require(guild, None, Perm.BAN_MEMBERS)
        if guild.member(user_id) is not None and not self.world.outranks(
            guild, self.world.bot.id, user_id
        ):
            raise missing_permissions()
        body = self._body(request)
        seconds = int(
            request.query.get("delete_message_seconds", body.get("delete_message_seconds", 0))
        )
        if not 0 <= seconds <= MAX_BAN_DELETE_SECONDS:
            raise ApiError(400, 50035, "Invalid Form Body")
        guild.bans[user_id] = request[RECORD].reason
        self.world.user(user_id)
        if guild.member(user_id) is not None:
            await self._remove_member(guild, user_id)
        await self.sb.gateway.dispatch(
            "GUILD_BAN_ADD", {"guild_id": str(guild.id), "user": self.world.user_payload(user_id)}
        )
        if seconds:
            await self._purge(guild, user_id, seconds)
        return no_content()

    async def _purge(self, guild: GuildSpec, user_id: int, seconds: int) -> None:
        """Deletes `user_id`'s messages of the last `seconds` in every channel of the guild."""
        cutoff = datetime.now(UTC) - timedelta(seconds=seconds)
        for channel in guild.channels:
            store = self.world.messages.get(channel.id, {})
            gone = [
                mid
                for mid, m in store.items()
                if int(m["author"]["id"]) == user_id
                and datetime.fromisoformat(m["timestamp"]) >= cutoff
            ]
            for mid in gone:
                del store[mid]
            if gone:
                await self.sb.gateway.dispatch(
                    "MESSAGE_DELETE_BULK",
                    {
                        "ids": [str(i) for i in gone],
                        "channel_id": str(channel.id),
                        "guild_id": str(guild.id),
                    },
                )

    async def delete_ban(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        self._require(guild, None, Perm.BAN_MEMBERS)
        user_id = _int(request, "uid")
        if guild.bans.pop(user_id, "missing") == "missing":
            raise ApiError(404, 10026, "Unknown Ban")
        user = self.world.user_payload(user_id)
        await self.sb.gateway.dispatch(
            "GUILD_BAN_REMOVE", {"guild_id": str(guild.id), "user": user}
        )
        return no_content()

    # -- interactions and their webhooks ----------------------------------------------------------

    def _interaction(self, iid: int | None, token: str) -> InteractionRecord:
        record = next((r for r in self.sb.interactions if r.token == token), None)
        if record is None or (iid is not None and record.id != iid):
            raise ApiError(404, 10062, "Unknown interaction")
        return record

    async def interaction_callback(self, request: web.Request) -> web.Response:
        record = self._interaction(_int(request, "iid"), request.match_info["token"])
        if record.callbacks:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = self._body(request)
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        files: list[UploadedFile] = request[RECORD].files
        record.callbacks.append(body)
        interaction: Json = {"id": str(record.id), "type": record.type}
        resource: Json = {"type": kind}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0)
            message = await self._interaction_message(
                record, data if kind == 4 else {"flags": flags}, files, loading=kind == 5
            )
            record.original = message
            interaction.update(
                response_message_id=message["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(flags & EPHEMERAL),
            )
            resource["message"] = message
        elif kind in (6, 7) and record.message is not None:
            # Updating the component's message: it becomes the interaction's @original.
            channel_id = int(record.message["channel_id"])
            stored = self.world.message(channel_id, int(record.message["id"])) or record.message
            record.original = stored
            interaction["response_message_id"] = stored["id"]
            if kind == 7:
                self.edit(stored, data, files)
                await self.sb.gateway.dispatch("MESSAGE_UPDATE", stored)
                resource["message"] = stored
        record.responded.set()
        if request.query.get("with_response") in ("1", "true", "True"):
            return json_response({"interaction": interaction, "resource": resource})
        return no_content()

    async def _interaction_message(
        self, record: InteractionRecord, data: Json, files: list[UploadedFile], *, loading: bool
    ) -> Json:
        """The message an interaction response or followup posts; ephemeral ones stay unstored."""
        flags = int(data.get("flags") or 0)
        ephemeral = bool(flags & EPHEMERAL)
        kind = 0
        if record.type == 2:
            kind = 20 if record.payload["data"].get("type", 1) == 1 else 23
        user = self.world.user_payload(record.user_id)
        metadata: Json = {
            "id": str(record.id),
            "type": record.type,
            "user": user,
            "authorizing_integration_owners": record.payload["authorizing_integration_owners"],
        }
        message = self._new_bot_message(
            record.channel_id,
            data,
            files,
            allowed_flags=SENDABLE_FLAGS | EPHEMERAL,
            store=not ephemeral,
            extra={"interaction_metadata": metadata, "webhook_id": str(self.world.application.id)},
            type=kind,
            allow_empty=loading,
        )
        if loading:
            message["flags"] |= LOADING
        if not ephemeral:
            await self.sb.gateway.dispatch("MESSAGE_CREATE", message)
        return message

    async def post_followup(self, request: web.Request) -> web.StreamResponse:
        record = self._interaction(None, request.match_info["token"])
        if _int(request, "app") != self.world.application.id:
            raise ApiError(404, 10015, "Unknown Webhook")
        original = record.original
        if original is not None and original["flags"] & LOADING:
            # The first followup after a deferred response fills in the "thinking" message.
            self.edit(original, self._body(request), request[RECORD].files)
            if not original["flags"] & EPHEMERAL:
                await self.sb.gateway.dispatch("MESSAGE_UPDATE", original)
            return json_response(original)
        message = await self._interaction_message(
            record, self._body(request), request[RECORD].files, loading=False
        )
        record.followups.append(message)
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(message)
        return no_content()

    def _webhook_message(self, request: web.Request) -> tuple[InteractionRecord, Json]:
        record = self._interaction(None, request.match_info["token"])
        key = request.match_info["mid"]
        if key == "@original":
            if record.original is None:
                raise ApiError(404, 10008, "Unknown Message")
            return record, record.original
        for message in [record.original, *record.followups]:
            if message is not None and message["id"] == key:
                return record, message
        raise ApiError(404, 10008, "Unknown Message")

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        return json_response(self._webhook_message(request)[1])

    async def patch_webhook_message(self, request: web.Request) -> web.Response:
        _, message = self._webhook_message(request)
        self.edit(message, self._body(request), request[RECORD].files)
        if not message["flags"] & EPHEMERAL:
            await self.sb.gateway.dispatch("MESSAGE_UPDATE", message)
        return json_response(message)

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        record, message = self._webhook_message(request)
        if record.original is message:
            record.original = None
        else:
            record.followups.remove(message)
        channel_id = int(message["channel_id"])
        if self.world.message(channel_id, int(message["id"])) is not None:
            await self.sb.remove_message(channel_id, int(message["id"]))
        return no_content()
