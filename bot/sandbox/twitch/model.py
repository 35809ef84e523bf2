"""The local Twitch's world: the app, users, channels, tokens and what each user has granted."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]

CLIENT_ID = "shield-test-client"
CLIENT_SECRET = "shield-test-secret"
STREAMER_ID = "1001"
BOT_ID = "2002"
MOD_ID = "3003"
VIEWER_IDS = ("4004", "5005")

# Twitch user tokens last about four hours; twitchio refreshes any token with an hour or less left.
USER_TOKEN_SECONDS = 4 * 3600
APP_TOKEN_SECONDS = 60 * 24 * 3600

# What Shield's bot account asks for (issue 5), plus warnings, whispering back and the check of
# which channels it moderates.
BOT_SCOPES: frozenset[str] = frozenset(
    {
        "user:read:chat",
        "user:write:chat",
        "user:bot",
        "user:read:whispers",
        "moderator:manage:chat_messages",
        "moderator:manage:banned_users",
        "moderator:manage:automod",
        "moderator:manage:warnings",
        "user:read:moderated_channels",
        "user:manage:whispers",
    }
)
# The broadcaster lets the bot chat there as a bot (`channel:bot`) and can read its moderator list.
STREAMER_SCOPES: frozenset[str] = frozenset(
    {"channel:bot", "moderation:read", "channel:moderate", "user:read:chat"}
)


def now_utc() -> datetime:
    return datetime.now(UTC)


def rfc3339(when: datetime | None = None) -> str:
    """`2024-05-01T12:00:00.123456Z`: RFC 3339 as Twitch sends it (twitchio reads fromisoformat)."""
    when = (when or now_utc()).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    """A UUID-shaped opaque id, like Twitch's message and subscription ids."""
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


@dataclass
class User:
    id: str
    login: str
    display_name: str = ""
    description: str = ""
    created_at: datetime = field(default_factory=lambda: datetime(2020, 1, 1, tzinfo=UTC))

    def __post_init__(self) -> None:
        self.display_name = self.display_name or self.login

    def helix(self) -> Json:
        """The `GET /helix/users` shape."""
        return {
            "id": self.id,
            "login": self.login,
            "display_name": self.display_name,
            "type": "",
            "broadcaster_type": "",
            "description": self.description,
            "profile_image_url": f"https://static-cdn.jtvnw.net/user-default-pictures/{self.id}.png",
            "offline_image_url": "",
            "view_count": 0,
            "created_at": rfc3339(self.created_at),
        }

    def prefixed(self, prefix: str) -> Json:
        """The `{prefix}_user_id`, `_user_login` and `_user_name` keys EventSub uses."""
        return {
            f"{prefix}_user_id": self.id,
            f"{prefix}_user_login": self.login,
            f"{prefix}_user_name": self.display_name,
        }


@dataclass
class Channel:
    broadcaster_id: str
    moderators: set[str] = field(default_factory=set)
    vips: set[str] = field(default_factory=set)

    def can_moderate(self, user_id: str) -> bool:
        return user_id == self.broadcaster_id or user_id in self.moderators


@dataclass
class Token:
    """An access token; `user_id` None means an app token (client credentials)."""

    access_token: str
    client_id: str
    user_id: str | None
    scopes: frozenset[str]
    expires_at: float  # time.time()
    refresh_token: str | None = None
    revoked: bool = False

    @property
    def expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))

    @property
    def valid(self) -> bool:
        return not self.revoked and time.time() < self.expires_at

    @property
    def is_app(self) -> bool:
        return self.user_id is None


class World:
    """Users, channels, the registered app and the tokens issued so far."""

    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.tokens: dict[str, Token] = {}
        # refresh token -> (user_id, scopes) for this client
        self.refresh_tokens: dict[str, tuple[str, frozenset[str]]] = {}

    # -- users and channels -----------------------------------------------------------------------

    def add_user(self, user_id: str, login: str, display_name: str = "") -> User:
        user = User(user_id, login, display_name)
        self.users[user_id] = user
        return user

    def add_channel(self, broadcaster_id: str, moderators: Iterable[str] = ()) -> Channel:
        channel = Channel(broadcaster_id, set(moderators))
        self.channels[broadcaster_id] = channel
        return channel

    def user(self, ref: str | User) -> User:
        """A user by id, login or the User itself; KeyError if unknown."""
        if isinstance(ref, User):
            return ref
        if ref in self.users:
            return self.users[ref]
        for user in self.users.values():
            if user.login == ref.lower():
                return user
        raise KeyError(f"no user {ref!r} in the local Twitch")

    def by_login(self, login: str) -> User | None:
        return next((u for u in self.users.values() if u.login == login.lower()), None)

    def role(self, broadcaster_id: str, user_id: str) -> str:
        """'broadcaster', 'moderator', 'vip' or 'viewer' in that channel."""
        channel = self.channels.get(broadcaster_id)
        if user_id == broadcaster_id:
            return "broadcaster"
        if channel and user_id in channel.moderators:
            return "moderator"
        if channel and user_id in channel.vips:
            return "vip"
        return "viewer"

    # -- tokens -----------------------------------------------------------------------------------

    def issue_user_token(
        self,
        user: str | User,
        scopes: Iterable[str],
        *,
        expires_in: float = USER_TOKEN_SECONDS,
        refresh_token: str | None = None,
    ) -> Token:
        """A user access token plus a refresh token, as the authorization-code flow gives them."""
        owner = self.user(user)
        scope_set = frozenset(scopes)
        refresh = refresh_token or f"rt{secrets.token_hex(16)}"
        token = Token(
            access_token=f"ut{secrets.token_hex(15)}",
            client_id=self.client_id,
            user_id=owner.id,
            scopes=scope_set,
            expires_at=time.time() + expires_in,
            refresh_token=refresh,
        )
        self.tokens[token.access_token] = token
        self.refresh_tokens[refresh] = (owner.id, scope_set)
        return token

    def issue_app_token(self, *, expires_in: float = APP_TOKEN_SECONDS) -> Token:
        token = Token(
            access_token=f"at{secrets.token_hex(15)}",
            client_id=self.client_id,
            user_id=None,
            scopes=frozenset(),
            expires_at=time.time() + expires_in,
        )
        self.tokens[token.access_token] = token
        return token

    def refresh(
        self, refresh_token: str, *, expires_in: float = USER_TOKEN_SECONDS
    ) -> Token | None:
        """A new access token for a known refresh token (the refresh token stays valid)."""
        found = self.refresh_tokens.get(refresh_token)
        if found is None:
            return None
        user_id, scopes = found
        return self.issue_user_token(
            user_id, scopes, expires_in=expires_in, refresh_token=refresh_token
        )

    def granted(self, user_id: str) -> frozenset[str]:
        """Every scope `user_id` has granted this app, across all its refresh tokens."""
        out: set[str] = set()
        for owner, scopes in self.refresh_tokens.values():
            if owner == user_id:
                out |= scopes
        return frozenset(out)

    def user_tokens(self, user_id: str) -> list[Token]:
        return [t for t in self.tokens.values() if t.user_id == user_id]


def default_world() -> World:
    """Channel `streamer` (1001); `shieldbot` (2002) moderates it with every scope Shield needs;
    `mod1` (3003) is another moderator; `viewer1` (4004) and `viewer2` (5005) chat."""
    world = World()
    world.add_user(STREAMER_ID, "streamer", "Streamer")
    world.add_user(BOT_ID, "shieldbot", "ShieldBot")
    world.add_user(MOD_ID, "mod1", "Mod1")
    world.add_user(VIEWER_IDS[0], "viewer1", "Viewer1")
    world.add_user(VIEWER_IDS[1], "viewer2", "Viewer2")
    world.add_channel(STREAMER_ID, moderators=[BOT_ID, MOD_ID])
    world.issue_user_token(BOT_ID, BOT_SCOPES)
    world.issue_user_token(STREAMER_ID, STREAMER_SCOPES)
    return world
