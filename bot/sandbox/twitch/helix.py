"""OAuth (id.twitch.tv) and the Helix endpoints a moderation bot uses, with Twitch's checks."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from time import perf_counter
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.sandbox.twitch import events
from bot.sandbox.twitch.model import Json, Token, User, new_id, now_utc, rfc3339
from bot.sandbox.twitch.records import (
    Ban,
    ChatClear,
    ChatLine,
    ChatWarning,
    Deletion,
    Request,
    SentChat,
    Subscription,
)

if TYPE_CHECKING:
    from bot.sandbox.twitch.server import LocalTwitch

# Delete Chat Messages only reaches messages younger than this.
DELETE_WINDOW = timedelta(hours=6)
MAX_TIMEOUT_SECONDS = 1_209_600
MAX_CHAT_LENGTH = 500


class HelixError(Exception):
    """An error answer: Helix's `{"error","status","message"}` or OAuth's `{"status","message"}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        oauth: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.oauth = oauth
        self.headers = headers or {}

    def body(self) -> Json:
        if self.oauth:
            return {"status": self.status, "message": self.message}
        return {
            "error": HTTPStatus(self.status).phrase,
            "status": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class SubscriptionRule:
    """Who may create a websocket subscription of one type: the condition keys it needs, which
    key must name the token's user, the scopes (one of each group) and whether that user must
    moderate the channel."""

    condition: tuple[str, ...]
    token_user: str
    scope_groups: tuple[frozenset[str], ...]
    moderator: bool = False


def _rule(
    condition: tuple[str, ...], token_user: str, *groups: Iterable[str], moderator: bool = False
) -> SubscriptionRule:
    return SubscriptionRule(condition, token_user, tuple(frozenset(g) for g in groups), moderator)


_CHAT = _rule(("broadcaster_user_id", "user_id"), "user_id", ["user:read:chat"])
_AUTOMOD = _rule(
    ("broadcaster_user_id", "moderator_user_id"),
    "moderator_user_id",
    ["moderator:manage:automod"],
    moderator=True,
)
_MODERATE = _rule(
    ("broadcaster_user_id", "moderator_user_id"),
    "moderator_user_id",
    ["moderator:read:blocked_terms", "moderator:manage:blocked_terms"],
    ["moderator:read:chat_settings", "moderator:manage:chat_settings"],
    ["moderator:read:unban_requests", "moderator:manage:unban_requests"],
    ["moderator:read:banned_users", "moderator:manage:banned_users"],
    ["moderator:read:chat_messages", "moderator:manage:chat_messages"],
    ["moderator:read:moderators"],
    ["moderator:read:vips"],
    moderator=True,
)

SUBSCRIPTION_RULES: dict[tuple[str, str], SubscriptionRule] = {
    ("channel.chat.message", "1"): _CHAT,
    ("channel.chat.message_delete", "1"): _CHAT,
    ("channel.chat.clear", "1"): _CHAT,
    ("channel.chat.clear_user_messages", "1"): _CHAT,
    ("channel.chat.notification", "1"): _CHAT,
    ("channel.chat.user_message_hold", "1"): _CHAT,
    ("channel.chat.user_message_update", "1"): _CHAT,
    ("user.whisper.message", "1"): _rule(
        ("user_id",), "user_id", ["user:read:whispers", "user:manage:whispers"]
    ),
    ("automod.message.hold", "1"): _AUTOMOD,
    ("automod.message.hold", "2"): _AUTOMOD,
    ("automod.message.update", "1"): _AUTOMOD,
    ("automod.message.update", "2"): _AUTOMOD,
    ("channel.moderate", "1"): _MODERATE,
    ("channel.moderate", "2"): _MODERATE,
    ("channel.ban", "1"): _rule(
        ("broadcaster_user_id",), "broadcaster_user_id", ["channel:moderate"]
    ),
    ("channel.unban", "1"): _rule(
        ("broadcaster_user_id",), "broadcaster_user_id", ["channel:moderate"]
    ),
    ("channel.warning.send", "1"): _rule(
        ("broadcaster_user_id", "moderator_user_id"),
        "moderator_user_id",
        ["moderator:read:warnings", "moderator:manage:warnings"],
        moderator=True,
    ),
    ("channel.suspicious_user.message", "1"): _rule(
        ("broadcaster_user_id", "moderator_user_id"),
        "moderator_user_id",
        ["moderator:read:suspicious_users", "moderator:manage:suspicious_users"],
        moderator=True,
    ),
}

Handler = Callable[["Call"], Awaitable[tuple[int, Any]]]


@dataclass
class Call:
    """One Helix call in progress: the record, the raw request and the caller's token."""

    record: Request
    request: web.Request
    token: Token

    def param(self, name: str) -> str | None:
        return self.record.query.get(name)

    def params(self, name: str) -> list[str]:
        return [v for k, v in self.record.query_items if k == name]

    def need(self, name: str) -> str:
        value = self.param(name)
        if not value:
            raise HelixError(400, f'Missing required parameter "{name}"')
        return value

    def body(self) -> Json:
        return self.record.json if isinstance(self.record.json, dict) else {}

    @property
    def user_token(self) -> Token:
        if self.token.user_id is None:
            raise HelixError(401, "Missing User OAUTH Token")
        return self.token

    @property
    def user_id(self) -> str:
        user_id = self.user_token.user_id
        assert user_id is not None
        return user_id

    def scope(self, *any_of: str) -> None:
        """The user token must carry one of `any_of`: else 401 `Missing scope: ...` like Twitch."""
        if not self.user_token.scopes & set(any_of):
            raise HelixError(401, f"Missing scope: {' or '.join(any_of)}")

    def acting_as(self, param_value: str, name: str) -> None:
        if param_value != self.user_id:
            raise HelixError(401, f"The ID in {name} must match the user ID in the access token.")


class Helix:
    def __init__(self, twitch: LocalTwitch) -> None:
        self.twitch = twitch
        self.world = twitch.world
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "users"): self.get_users,
            ("POST", "eventsub/subscriptions"): self.create_subscription,
            ("GET", "eventsub/subscriptions"): self.list_subscriptions,
            ("DELETE", "eventsub/subscriptions"): self.delete_subscription,
            ("DELETE", "moderation/chat"): self.delete_chat_messages,
            ("POST", "moderation/bans"): self.ban_user,
            ("DELETE", "moderation/bans"): self.unban_user,
            ("GET", "moderation/banned"): self.get_banned,
            ("POST", "moderation/warnings"): self.warn_user,
            ("POST", "moderation/automod/message"): self.manage_held_message,
            ("GET", "moderation/moderators"): self.get_moderators,
            ("GET", "moderation/channels"): self.get_moderated_channels,
            ("POST", "chat/messages"): self.send_chat_message,
            ("POST", "whispers"): self.send_whisper,
        }

    # -- entry points -----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        record = await self._record(request)
        headers: dict[str, str] = {}
        try:
            fault = next((f for f in self.twitch.faults if f.take(record)), None)
            if fault is not None:
                raise HelixError(fault.status, fault.message or HTTPStatus(fault.status).phrase)
            if request.path.startswith("/oauth2/"):
                status, body = await self._oauth(record)
            else:
                route = self.routes.get((request.method, request.path.removeprefix("/helix/")))
                if route is None:
                    raise HelixError(404, "Not Found")
                call = Call(record, request, self._authenticate(record))
                headers = self._rate_limit(call.token)
                status, body = await route(call)
        except HelixError as error:
            status, body = error.status, error.body()
            headers = {**headers, **error.headers}
        record.status, record.response, record.response_headers = status, body, headers
        record.done_at = perf_counter()
        self.twitch.requests.add(record)
        if status == 204:
            return web.Response(status=204, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    async def _record(self, request: web.Request) -> Request:
        at = perf_counter()
        items = list(request.query.items())
        body: Any = None
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
            elif request.content_type == "application/x-www-form-urlencoded":
                body = dict(urllib.parse.parse_qsl(raw.decode()))
            else:
                body = raw.decode("utf-8", "replace")
        first: dict[str, str] = {}
        for key, value in items:
            first.setdefault(key, value)
        return Request(
            method=request.method,
            path=request.path,
            query=first,
            query_items=items,
            headers=dict(request.headers),
            json=body,
            at=at,
        )

    def _authenticate(self, record: Request) -> Token:
        header = record.header("Authorization")
        if not header:
            raise HelixError(401, "OAuth token is missing")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise HelixError(401, "Invalid OAuth token")
        token = self.world.tokens.get(value.strip())
        if token is None or not token.valid:
            raise HelixError(401, "Invalid OAuth token")
        client_id = record.header("Client-Id")
        if not client_id:
            raise HelixError(401, "Client-Id header required")
        if client_id != token.client_id:
            raise HelixError(401, "Client ID and OAuth token do not match")
        record.token_user_id = token.user_id
        record.token_is_app = token.is_app
        return token

    def _rate_limit(self, token: Token) -> dict[str, str]:
        """A token bucket of `rate_limit` points a minute per client and user (or app); each call
        costs a point. Raises 429 when it is empty (if enforced)."""
        limit = self.twitch.rate_limit
        key = (token.client_id, token.user_id or "app")
        now = time.time()
        level, last = self._buckets.get(key, (float(limit), now))
        level = min(float(limit), level + (now - last) * limit / 60.0)
        refused = level < 1 and self.twitch.enforce_rate_limit
        if not refused:
            level = max(0.0, level - 1)
        self._buckets[key] = (level, now)
        headers = {
            "Ratelimit-Limit": str(limit),
            "Ratelimit-Remaining": str(int(level)),
            "Ratelimit-Reset": str(int(now + (limit - level) * 60.0 / limit) + 1),
        }
        if refused:
            raise HelixError(429, "Too Many Requests", headers=headers)
        return headers

    # -- OAuth ------------------------------------------------------------------------------------

    async def _oauth(self, record: Request) -> tuple[int, Any]:
        path = record.path
        params = dict(record.query)
        if isinstance(record.json, dict):
            params.update({k: str(v) for k, v in record.json.items()})
        if path == "/oauth2/validate" and record.method == "GET":
            return self._validate(record)
        if path == "/oauth2/token" and record.method == "POST":
            return self._token(params)
        if path == "/oauth2/revoke" and record.method == "POST":
            token = self.world.tokens.get(params.get("token", ""))
            if params.get("client_id") != self.world.client_id:
                raise HelixError(400, "invalid client", oauth=True)
            if token is None:
                raise HelixError(400, "Invalid token", oauth=True)
            token.revoked = True
            return 200, None
        raise HelixError(404, "Not Found", oauth=True)

    def _validate(self, record: Request) -> tuple[int, Json]:
        header = record.header("Authorization")
        value = header.partition(" ")[2].strip() if " " in header else header
        token = self.world.tokens.get(value)
        if token is None or not token.valid:
            raise HelixError(401, "invalid access token", oauth=True)
        body: Json = {
            "client_id": token.client_id,
            "scopes": sorted(token.scopes),
            "expires_in": token.expires_in,
        }
        if token.user_id is not None:
            body["login"] = self.world.users[token.user_id].login
            body["user_id"] = token.user_id
        return 200, body

    def _token(self, params: dict[str, str]) -> tuple[int, Json]:
        if params.get("client_id") != self.world.client_id:
            raise HelixError(400, "invalid client", oauth=True)
        if params.get("client_secret") != self.world.client_secret:
            raise HelixError(403, "invalid client secret", oauth=True)
        grant = params.get("grant_type")
        if grant == "client_credentials":
            token = self.world.issue_app_token()
            return 200, {
                "access_token": token.access_token,
                "expires_in": token.expires_in,
                "token_type": "bearer",
            }
        if grant == "refresh_token":
            refresh = urllib.parse.unquote(params.get("refresh_token", ""))
            new = self.world.refresh(refresh, expires_in=self.twitch.user_token_seconds)
            if new is None:
                raise HelixError(400, "Invalid refresh token", oauth=True)
            self.twitch.refreshes.append(new)
            return 200, {
                "access_token": new.access_token,
                "refresh_token": new.refresh_token,
                "expires_in": new.expires_in,
                "scope": sorted(new.scopes),
                "token_type": "bearer",
            }
        raise HelixError(400, "Invalid grant type", oauth=True)

    # -- helpers ----------------------------------------------------------------------------------

    def _user(self, user_id: str, what: str = "user_id") -> User:
        user = self.world.users.get(user_id)
        if user is None:
            raise HelixError(400, f"The ID in {what} is not valid.")
        return user

    def _moderates(self, broadcaster_id: str, user_id: str) -> None:
        self._user(broadcaster_id, "broadcaster_id")
        channel = self.world.channels.get(broadcaster_id)
        if channel is None or not channel.can_moderate(user_id):
            raise HelixError(
                403, "The user in moderator_id is not one of the broadcaster's moderators."
            )

    # -- EventSub subscriptions -------------------------------------------------------------------

    async def create_subscription(self, call: Call) -> tuple[int, Any]:
        body = call.body()
        kind, version = str(body.get("type", "")), str(body.get("version", ""))
        condition = body.get("condition")
        transport = body.get("transport")
        if not isinstance(condition, dict) or not isinstance(transport, dict):
            raise HelixError(400, "The request body is missing condition or transport.")
        if transport.get("method") != "websocket":
            raise HelixError(400, "The local Twitch only has websocket transports.")
        if call.token.is_app:
            raise HelixError(400, "invalid transport and auth combination")
        rule = SUBSCRIPTION_RULES.get((kind, version))
        if rule is None:
            raise HelixError(
                400, "The combination of values in the type and version fields is not valid."
            )
        condition = {str(k): str(v) for k, v in condition.items()}
        for key in rule.condition:
            if not condition.get(key):
                raise HelixError(400, f"The condition is missing the {key} field.")
        session = self.twitch.eventsub.sessions.get(str(transport.get("session_id", "")))
        if session is None or session.status != "connected" or not session.live:
            raise HelixError(
                400, "websocket transport session does not exist or has already disconnected"
            )
        user_id = call.user_id
        if session.user_id not in (None, user_id):
            raise HelixError(400, "websocket transport session belongs to another user")
        scopes = call.user_token.scopes
        authorised = condition[rule.token_user] == user_id and all(
            scopes & group for group in rule.scope_groups
        )
        if authorised and rule.moderator:
            channel = self.world.channels.get(condition["broadcaster_user_id"])
            authorised = channel is not None and channel.can_moderate(user_id)
        if not authorised:
            raise HelixError(403, "subscription missing proper authorization")
        mine = [
            s
            for s in self.twitch.eventsub.subscriptions.values()
            if s.enabled and s.user_id == user_id and s.client_id == call.user_token.client_id
        ]
        for existing in mine:
            if (existing.type, existing.version, existing.condition) == (kind, version, condition):
                raise HelixError(409, f"subscription already exists id={existing.id}")
        if sum(1 for s in mine if s.session_id == session.id) >= 300:
            raise HelixError(429, "number of websocket transport subscriptions exceeded")
        sub = Subscription(
            id=new_id(),
            type=kind,
            version=version,
            condition=condition,
            session_id=session.id,
            user_id=user_id,
            client_id=call.user_token.client_id,
            created_at=now_utc(),
        )
        self.twitch.eventsub.add_subscription(sub)
        return 202, {
            "data": [sub.helix()],
            "total": len(mine) + 1,
            "total_cost": 0,
            "max_total_cost": 10,
        }

    def _visible(self, call: Call) -> list[Subscription]:
        token = call.token
        return [
            s
            for s in self.twitch.eventsub.subscriptions.values()
            if s.client_id == token.client_id and (token.is_app or s.user_id == token.user_id)
        ]

    async def list_subscriptions(self, call: Call) -> tuple[int, Any]:
        subs = self._visible(call)
        if status := call.param("status"):
            subs = [s for s in subs if s.status == status]
        if kind := call.param("type"):
            subs = [s for s in subs if s.type == kind]
        if user_id := call.param("user_id"):
            subs = [s for s in subs if user_id in s.condition.values()]
        if sub_id := call.param("subscription_id"):
            subs = [s for s in subs if s.id == sub_id]
        return 200, {
            "data": [s.helix() for s in subs],
            "total": len(subs),
            "total_cost": 0,
            "max_total_cost": 10,
            "pagination": {},
        }

    async def delete_subscription(self, call: Call) -> tuple[int, Any]:
        sub_id = call.need("id")
        sub = next((s for s in self._visible(call) if s.id == sub_id), None)
        if sub is None:
            raise HelixError(404, "subscription not found")
        del self.twitch.eventsub.subscriptions[sub_id]
        return 204, None

    # -- users ------------------------------------------------------------------------------------

    async def get_users(self, call: Call) -> tuple[int, Any]:
        ids, logins = call.params("id"), call.params("login")
        if len(ids) + len(logins) > 100:
            raise HelixError(400, "At most 100 id and login query parameters are allowed.")
        if not ids and not logins:
            token = call.token
            if token.user_id is None:
                raise HelixError(400, "Must provide an ID, Login or OAuth Token")
            ids = [token.user_id]
        found: dict[str, User] = {}
        for user_id in ids:
            if user_id in self.world.users:
                found[user_id] = self.world.users[user_id]
        for login in logins:
            user = self.world.by_login(login)
            if user is not None:
                found[user.id] = user
        return 200, {"data": [u.helix() for u in found.values()]}

    # -- moderation -------------------------------------------------------------------------------

    async def delete_chat_messages(self, call: Call) -> tuple[int, Any]:
        call.scope("moderator:manage:chat_messages")
        broadcaster_id = call.need("broadcaster_id")
        moderator_id = call.need("moderator_id")
        call.acting_as(moderator_id, "moderator_id")
        self._moderates(broadcaster_id, moderator_id)
        message_id = call.param("message_id")
        broadcaster = self.world.users[broadcaster_id]
        if not message_id:
            # No message_id: Twitch wipes the WHOLE chat. Recorded, so tests can insist it never is.
            self.twitch.chat_clears.append(ChatClear(broadcaster_id, moderator_id, call.record))
            for line in self.twitch.chat.values():
                if line.broadcaster_id == broadcaster_id:
                    line.deleted = True
            await self.twitch.eventsub.notify(
                "channel.chat.clear", events.chat_clear_event(broadcaster)
            )
            return 204, None
        found = self.twitch.chat.get(message_id)
        if found is None or found.broadcaster_id != broadcaster_id:
            raise HelixError(404, "The ID in message_id was not found.")
        line = found
        role = self.world.role(broadcaster_id, line.chatter_id)
        if role == "broadcaster":
            raise HelixError(400, "You cannot delete the broadcaster's messages.")
        if role == "moderator" and line.chatter_id != moderator_id:
            raise HelixError(400, "You cannot delete another moderator's messages.")
        if now_utc() - line.sent_at > DELETE_WINDOW:
            raise HelixError(400, "You cannot delete messages that are more than 6 hours old.")
        if not line.deleted:
            line.deleted = True
            line.deleted_by = moderator_id
            self.twitch.deletions.append(
                Deletion(message_id, broadcaster_id, moderator_id, line.chatter_id, call.record.at)
            )
            target = self.world.users.get(line.chatter_id) or User(line.chatter_id, "unknown")
            await self.twitch.eventsub.notify(
                "channel.chat.message_delete",
                events.message_delete_event(broadcaster, target, message_id),
            )
        return 204, None

    async def ban_user(self, call: Call) -> tuple[int, Any]:
        call.scope("moderator:manage:banned_users")
        broadcaster_id = call.need("broadcaster_id")
        moderator_id = call.need("moderator_id")
        call.acting_as(moderator_id, "moderator_id")
        self._moderates(broadcaster_id, moderator_id)
        data = call.body().get("data")
        if not isinstance(data, dict) or not data.get("user_id"):
            raise HelixError(400, 'Missing required parameter "data.user_id"')
        user = self._user(str(data["user_id"]))
        duration_raw = data.get("duration")
        reason = str(data.get("reason") or "")
        if len(reason) > 500:
            raise HelixError(400, "The text in the reason field is too long.")
        duration: int | None = None
        if duration_raw is not None:
            try:
                duration = int(duration_raw)
            except (TypeError, ValueError):
                raise HelixError(400, "The value in the duration field is not valid.") from None
            if not 1 <= duration <= MAX_TIMEOUT_SECONDS:
                raise HelixError(400, "The value in the duration field is not valid.")
        role = self.world.role(broadcaster_id, user.id)
        if role == "broadcaster" or (role == "moderator" and moderator_id != broadcaster_id):
            raise HelixError(400, "The user specified in the user_id field may not be banned.")
        current = self.twitch.active_ban(broadcaster_id, user.id)
        if duration is None and current is not None and current.duration is None:
            raise HelixError(400, "The user specified in the user_id field is already banned.")
        created = now_utc()
        end = created + timedelta(seconds=duration) if duration is not None else None
        ban = Ban(
            broadcaster_id, moderator_id, user.id, duration, reason, created, end, call.record.at
        )
        self.twitch.bans.append(ban)
        broadcaster = self.world.users[broadcaster_id]
        moderator = self.world.users[moderator_id]
        for line in self.twitch.chat.values():
            if line.broadcaster_id == broadcaster_id and line.chatter_id == user.id:
                line.deleted = True
        await self.twitch.eventsub.notify(
            "channel.chat.clear_user_messages", events.clear_user_messages_event(broadcaster, user)
        )
        await self.twitch.eventsub.notify(
            "channel.ban", events.ban_event(broadcaster, user, moderator, reason, created, end)
        )
        row = {
            "broadcaster_id": broadcaster_id,
            "moderator_id": moderator_id,
            "user_id": user.id,
            "created_at": rfc3339(created),
            "end_time": rfc3339(end) if end else None,
        }
        return 200, {"data": [row]}

    async def unban_user(self, call: Call) -> tuple[int, Any]:
        call.scope("moderator:manage:banned_users")
        broadcaster_id = call.need("broadcaster_id")
        moderator_id = call.need("moderator_id")
        call.acting_as(moderator_id, "moderator_id")
        self._moderates(broadcaster_id, moderator_id)
        user_id = call.need("user_id")
        ban = self.twitch.active_ban(broadcaster_id, user_id)
        if ban is None:
            raise HelixError(400, "The user specified in the user_id field is not banned.")
        ban.lifted = True
        return 204, None

    async def get_banned(self, call: Call) -> tuple[int, Any]:
        call.scope("moderation:read", "moderator:manage:banned_users")
        broadcaster_id = call.need("broadcaster_id")
        self._moderates(broadcaster_id, call.user_id)
        wanted = set(call.params("user_id"))
        rows = []
        for ban in self.twitch.bans:
            if ban.broadcaster_id != broadcaster_id or (wanted and ban.user_id not in wanted):
                continue
            if self.twitch.active_ban(broadcaster_id, ban.user_id) is not ban:
                continue
            user, mod = self.world.users[ban.user_id], self.world.users[ban.moderator_id]
            rows.append(
                {
                    "user_id": user.id,
                    "user_login": user.login,
                    "user_name": user.display_name,
                    "expires_at": rfc3339(ban.end_time) if ban.end_time else "",
                    "created_at": rfc3339(ban.created_at),
                    "reason": ban.reason,
                    "moderator_id": mod.id,
                    "moderator_login": mod.login,
                    "moderator_name": mod.display_name,
                }
            )
        return 200, {"data": rows, "pagination": {}}

    async def warn_user(self, call: Call) -> tuple[int, Any]:
        call.scope("moderator:manage:warnings")
        broadcaster_id = call.need("broadcaster_id")
        moderator_id = call.need("moderator_id")
        call.acting_as(moderator_id, "moderator_id")
        self._moderates(broadcaster_id, moderator_id)
        data = call.body().get("data")
        if not isinstance(data, dict) or not data.get("user_id") or not data.get("reason"):
            raise HelixError(400, 'Missing required parameter "data.user_id" or "data.reason"')
        user = self._user(str(data["user_id"]))
        reason = str(data["reason"])
        if len(reason) > 500:
            raise HelixError(400, "The text in the reason field is too long.")
        self.twitch.warnings.append(
            ChatWarning(broadcaster_id, moderator_id, user.id, reason, call.record.at)
        )
        row = {
            "broadcaster_id": broadcaster_id,
            "user_id": user.id,
            "moderator_id": moderator_id,
            "reason": reason,
        }
        return 200, {"data": [row]}

    async def manage_held_message(self, call: Call) -> tuple[int, Any]:
        call.scope("moderator:manage:automod")
        body = call.body()
        user_id, msg_id, action = (str(body.get(k) or "") for k in ("user_id", "msg_id", "action"))
        if not user_id or not msg_id or not action:
            raise HelixError(400, "The user_id, msg_id and action fields are required.")
        call.acting_as(user_id, "user_id")
        if action not in ("ALLOW", "DENY"):
            raise HelixError(400, "The value in action is not valid.")
        held = self.twitch.held.get(msg_id)
        if held is None:
            raise HelixError(404, "The message specified in the msg_id field was not found.")
        self._moderates(held.broadcaster_id, user_id)
        if held.status != "pending":
            raise HelixError(400, "The message specified in the msg_id field was already resolved.")
        await self.twitch.resolve_held(held, user_id, action, call.record.at)
        return 204, None

    async def get_moderators(self, call: Call) -> tuple[int, Any]:
        call.scope("moderation:read", "channel:manage:moderators")
        broadcaster_id = call.need("broadcaster_id")
        call.acting_as(broadcaster_id, "broadcaster_id")
        channel = self.world.channels.get(broadcaster_id)
        wanted = set(call.params("user_id"))
        rows = []
        for mod_id in sorted(channel.moderators if channel else ()):
            if wanted and mod_id not in wanted:
                continue
            user = self.world.users[mod_id]
            rows.append(
                {"user_id": user.id, "user_login": user.login, "user_name": user.display_name}
            )
        return 200, {"data": rows, "pagination": {}}

    async def get_moderated_channels(self, call: Call) -> tuple[int, Any]:
        call.scope("user:read:moderated_channels")
        user_id = call.need("user_id")
        call.acting_as(user_id, "user_id")
        rows = []
        for channel in self.world.channels.values():
            if user_id in channel.moderators:
                user = self.world.users[channel.broadcaster_id]
                rows.append(
                    {
                        "broadcaster_id": user.id,
                        "broadcaster_login": user.login,
                        "broadcaster_name": user.display_name,
                    }
                )
        return 200, {"data": rows, "pagination": {}}

    # -- chat -------------------------------------------------------------------------------------

    async def send_chat_message(self, call: Call) -> tuple[int, Any]:
        body = call.body()
        broadcaster_id = str(body.get("broadcaster_id") or "")
        sender_id = str(body.get("sender_id") or "")
        text = body.get("message")
        if not broadcaster_id or not sender_id or not isinstance(text, str):
            raise HelixError(400, "The broadcaster_id, sender_id and message fields are required.")
        if len(text) > MAX_CHAT_LENGTH:
            raise HelixError(400, "The message is too long.")
        broadcaster = self._user(broadcaster_id, "broadcaster_id")
        sender = self._user(sender_id, "sender_id")
        token = call.token
        if token.is_app:
            granted = self.world.granted(sender_id)
            channel_ok = self.world.role(broadcaster_id, sender_id) in ("broadcaster", "moderator")
            channel_ok = channel_ok or "channel:bot" in self.world.granted(broadcaster_id)
            if "user:bot" not in granted or not channel_ok:
                raise HelixError(
                    403, "The sender has not authorized the app to send chat as a bot."
                )
        else:
            call.scope("user:write:chat")
            call.acting_as(sender_id, "sender_id")
        message_id = new_id()
        banned = self.twitch.active_ban(broadcaster_id, sender_id)
        if banned is not None:
            row = {
                "message_id": "",
                "is_sent": False,
                "drop_reason": {
                    "code": "user_banned",
                    "message": "You are banned from this channel.",
                },
            }
            return 200, {"data": [row]}
        reply = body.get("reply_parent_message_id")
        self.twitch.sent_messages.append(
            SentChat(broadcaster_id, sender_id, message_id, text, reply, call.record.at)
        )
        if self.twitch.echo_bot_messages:
            role = self.world.role(broadcaster_id, sender_id)
            event = events.chat_message_event(
                broadcaster, sender, text, message_id=message_id, role=role
            )
            self.twitch.chat[message_id] = ChatLine(
                message_id, broadcaster_id, sender_id, text, now_utc()
            )
            await self.twitch.eventsub.notify("channel.chat.message", event)
        row = {"message_id": message_id, "is_sent": True, "drop_reason": None}
        return 200, {"data": [row]}

    async def send_whisper(self, call: Call) -> tuple[int, Any]:
        call.scope("user:manage:whispers")
        from_id = call.need("from_user_id")
        to_id = call.need("to_user_id")
        call.acting_as(from_id, "from_user_id")
        sender = self._user(from_id, "from_user_id")
        recipient = self._user(to_id, "to_user_id")
        text = call.body().get("message")
        if not isinstance(text, str) or not text:
            raise HelixError(400, 'Missing required field "message"')
        self.twitch.whispers_sent.append((from_id, to_id, text))
        await self.twitch.eventsub.notify(
            "user.whisper.message", events.whisper_event(sender, recipient, text)
        )
        return 204, None
