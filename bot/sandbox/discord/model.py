"""The sandbox's world: users, guilds, channels, roles, members, messages, and their payloads."""

from __future__ import annotations

import enum
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]

DISCORD_EPOCH_MS = 1420070400000


class Perm(enum.IntFlag):
    """Discord permission bits the sandbox checks (the rest pass through untouched)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_THREADS = 1 << 34
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40


ALL_PERMISSIONS = (1 << 51) - 1

# What @everyone may do in a fresh community server.
EVERYONE_PERMISSIONS = int(
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.ADD_REACTIONS
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_INSTANT_INVITE
)
# What Shield asks for when it is invited.
SHIELD_PERMISSIONS = int(
    Perm.VIEW_CHANNEL
    | Perm.READ_MESSAGE_HISTORY
    | Perm.MANAGE_MESSAGES
    | Perm.MODERATE_MEMBERS
    | Perm.BAN_MEMBERS
    | Perm.EMBED_LINKS
    | Perm.SEND_MESSAGES
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.ATTACH_FILES
    | Perm.ADD_REACTIONS
)
MODERATOR_PERMISSIONS = int(
    Perm.MANAGE_MESSAGES
    | Perm.MODERATE_MEMBERS
    | Perm.KICK_MEMBERS
    | Perm.BAN_MEMBERS
    | Perm.MANAGE_THREADS
    | Perm.VIEW_AUDIT_LOG
)


class Intent(enum.IntFlag):
    """Gateway intent bits the sandbox honours."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15


PRIVILEGED_INTENTS = int(Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES | Intent.MESSAGE_CONTENT)


class ChannelType(enum.IntEnum):
    """Discord channel types the sandbox models."""

    TEXT = 0
    DM = 1
    VOICE = 2
    CATEGORY = 4
    NEWS = 5
    NEWS_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    FORUM = 15


THREAD_TYPES = frozenset(
    {ChannelType.NEWS_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD}
)

# Message flags.
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
HAS_SNAPSHOT = 1 << 14


def now_iso() -> str:
    """The current UTC time as Discord writes it."""
    return datetime.now(UTC).isoformat()


class Snowflakes:
    """Unique, increasing, time-based ids (so discord.py's `created_at` is about now)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(stamp, self._last + 1)
        return self._last


@dataclass
class UserSpec:
    """A Discord user (a person, or a bot when `bot` is set)."""

    id: int
    name: str
    bot: bool = False
    global_name: str | None = None


@dataclass
class RoleSpec:
    """A guild role; `position` orders the hierarchy (higher outranks lower)."""

    id: int
    name: str
    permissions: int = 0
    position: int = 1
    managed: bool = False
    bot_id: int | None = None


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (`kind="role"`) or a member (`kind="member"`)."""

    id: int
    kind: str = "role"
    allow: int = 0
    deny: int = 0


@dataclass
class ChannelSpec:
    """A guild channel or thread (threads take their permissions from `parent_id`)."""

    id: int
    name: str
    type: int = ChannelType.TEXT
    parent_id: int | None = None
    position: int = 0
    overwrites: list[Overwrite] = field(default_factory=list)
    topic: str | None = None
    nsfw: bool = False
    owner_id: int | None = None

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES


@dataclass
class MemberSpec:
    """A user's membership of a guild; `communication_disabled_until` is set by timeouts."""

    user_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    communication_disabled_until: str | None = None
    joined_at: str = "2024-01-01T00:00:00+00:00"


@dataclass
class GuildSpec:
    """A guild; `bot_permissions` (unless None) becomes a managed top role given to the bot."""

    id: int
    name: str = "Guild"
    channels: list[ChannelSpec] = field(default_factory=list)
    roles: list[RoleSpec] = field(default_factory=list)
    members: list[MemberSpec] = field(default_factory=list)
    owner_id: int | None = None
    everyone_permissions: int = EVERYONE_PERMISSIONS
    bot_permissions: int | None = SHIELD_PERMISSIONS
    bot_role_id: int | None = None
    bans: dict[int, str | None] = field(default_factory=dict)

    def channel(self, channel_id: int) -> ChannelSpec | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def role(self, role_id: int) -> RoleSpec | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def member(self, user_id: int) -> MemberSpec | None:
        return next((m for m in self.members if m.user_id == user_id), None)


@dataclass
class DMChannel:
    """A direct-message channel between the bot and one user."""

    id: int
    recipient_id: int


@dataclass
class ApplicationSpec:
    """The bot's application; flags 1<<19 = message content intent allowed (unverified bot)."""

    id: int
    name: str = "Shield"
    flags: int = 1 << 19


class World:
    """Everything the local Discord knows, with the payload builders discord.py parses."""

    def __init__(
        self,
        *,
        bot: UserSpec,
        guilds: list[GuildSpec],
        users: list[UserSpec] | None = None,
        application: ApplicationSpec | None = None,
    ) -> None:
        self.ids = Snowflakes()
        self.bot = bot
        self.application = application or ApplicationSpec(id=bot.id, name=bot.name)
        self.users: dict[int, UserSpec] = {bot.id: bot}
        for user in users or ():
            self.users[user.id] = user
        self.guilds: dict[int, GuildSpec] = {}
        self.dms: dict[int, DMChannel] = {}
        self.messages: dict[int, dict[int, Json]] = {}
        for guild in guilds:
            self.add_guild(guild)

    # -- building ---------------------------------------------------------------------------------

    def add_guild(self, guild: GuildSpec) -> GuildSpec:
        """Adds a guild, filling in @everyone, the bot's role and membership, and unknown users."""
        if guild.role(guild.id) is None:
            guild.roles.insert(
                0, RoleSpec(guild.id, "@everyone", guild.everyone_permissions, position=0)
            )
        bot_member = guild.member(self.bot.id)
        if bot_member is None:
            bot_member = MemberSpec(self.bot.id)
            guild.members.append(bot_member)
        if guild.bot_permissions is not None:
            role_id = guild.bot_role_id or self.ids.next()
            role = guild.role(role_id)
            if role is None:
                top = max((r.position for r in guild.roles), default=0) + 1
                role = RoleSpec(
                    role_id, self.bot.name, guild.bot_permissions, top, True, self.bot.id
                )
                guild.roles.append(role)
            guild.bot_role_id = role_id
            if role_id not in bot_member.roles:
                bot_member.roles.append(role_id)
        if guild.owner_id is None:
            guild.owner_id = next((m.user_id for m in guild.members if m.user_id != self.bot.id), 1)
        for member in guild.members:
            self.user(member.user_id)
        for channel in guild.channels:
            self.messages.setdefault(channel.id, {})
        self.guilds[guild.id] = guild
        return guild

    def user(self, user_id: int) -> UserSpec:
        """The user with this id, created on first mention so tests can use any id."""
        if user_id not in self.users:
            self.users[user_id] = UserSpec(user_id, f"user{user_id}")
        return self.users[user_id]

    def dm_channel(self, user_id: int) -> DMChannel:
        """The bot's DM channel with `user_id`, opened on first use."""
        for dm in self.dms.values():
            if dm.recipient_id == user_id:
                return dm
        dm = DMChannel(self.ids.next(), user_id)
        self.user(user_id)
        self.dms[dm.id] = dm
        self.messages[dm.id] = {}
        return dm

    # -- lookups ----------------------------------------------------------------------------------

    def find_channel(
        self, channel_id: int
    ) -> tuple[GuildSpec | None, ChannelSpec | DMChannel | None]:
        """The channel (guild channel, thread or DM) with this id, and its guild if any."""
        if channel_id in self.dms:
            return None, self.dms[channel_id]
        for guild in self.guilds.values():
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel
        return None, None

    def permissions(
        self, guild: GuildSpec, user_id: int, channel: ChannelSpec | None = None
    ) -> int:
        """`user_id`'s permissions in the guild or channel, computed as Discord does."""
        member = guild.member(user_id)
        if member is None:
            return 0
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        everyone = guild.role(guild.id)
        perms = everyone.permissions if everyone else 0
        for role_id in member.roles:
            role = guild.role(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel is not None:
            if channel.is_thread and channel.parent_id is not None:
                channel = guild.channel(channel.parent_id) or channel
            perms = _apply_overwrites(perms, guild, member, channel.overwrites)
            if not perms & Perm.VIEW_CHANNEL:
                return 0
        if _timed_out(member):
            perms &= Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY
        return perms

    def top_position(self, guild: GuildSpec, user_id: int) -> int:
        """The position of the member's highest role (0 for @everyone only)."""
        member = guild.member(user_id)
        roles = [guild.role(r) for r in member.roles] if member else []
        return max((r.position for r in roles if r is not None), default=0)

    def outranks(self, guild: GuildSpec, actor_id: int, target_id: int) -> bool:
        """Whether `actor_id` may moderate `target_id` (owner, admins and higher roles are safe)."""
        if target_id == guild.owner_id:
            return False
        if actor_id == guild.owner_id:
            return True
        if guild.member(target_id) is not None and (
            self.permissions(guild, target_id) == ALL_PERMISSIONS
        ):
            return False
        return self.top_position(guild, actor_id) > self.top_position(guild, target_id)

    # -- payloads ---------------------------------------------------------------------------------

    def user_payload(self, user_id: int) -> Json:
        user = self.user(user_id)
        return {
            "id": str(user.id),
            "username": user.name,
            "discriminator": "0",
            "global_name": user.global_name,
            "avatar": None,
            "bot": user.bot,
            "public_flags": 0,
        }

    def client_user_payload(self) -> Json:
        """The bot's own user, as GET /users/@me and READY give it."""
        data = self.user_payload(self.bot.id)
        data.update(verified=True, mfa_enabled=False, locale="en-US", flags=0, email=None)
        return data

    def role_payload(self, role: RoleSpec) -> Json:
        data: Json = {
            "id": str(role.id),
            "name": role.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": role.position,
            "permissions": str(role.permissions),
            "managed": role.managed,
            "mentionable": False,
            "flags": 0,
        }
        if role.bot_id is not None:
            data["tags"] = {"bot_id": str(role.bot_id)}
        return data

    def member_payload(self, member: MemberSpec, *, with_user: bool = True) -> Json:
        data: Json = {
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in member.roles],
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": member.communication_disabled_until,
        }
        if with_user:
            data["user"] = self.user_payload(member.user_id)
        return data

    def channel_payload(self, guild: GuildSpec | None, channel: ChannelSpec | DMChannel) -> Json:
        """A channel object: DM, guild channel, voice channel, forum or thread."""
        messages = self.messages.get(channel.id, {})
        last = str(max(messages)) if messages else None
        if isinstance(channel, DMChannel):
            return {
                "id": str(channel.id),
                "type": int(ChannelType.DM),
                "recipients": [self.user_payload(channel.recipient_id)],
                "last_message_id": last,
                "flags": 0,
            }
        assert guild is not None
        data: Json = {
            "id": str(channel.id),
            "type": int(channel.type),
            "guild_id": str(guild.id),
            "name": channel.name,
            "position": channel.position,
            "parent_id": str(channel.parent_id) if channel.parent_id else None,
            "permission_overwrites": [
                {
                    "id": str(o.id),
                    "type": 1 if o.kind == "member" else 0,
                    "allow": str(o.allow),
                    "deny": str(o.deny),
                }
                for o in channel.overwrites
            ],
            "nsfw": channel.nsfw,
            "topic": channel.topic,
            "rate_limit_per_user": 0,
            "last_message_id": last,
            "flags": 0,
        }
        if channel.type == ChannelType.VOICE:
            data.update(bitrate=64000, user_limit=0, rtc_region=None)
        elif channel.type == ChannelType.FORUM:
            data.update(available_tags=[], default_reaction_emoji=None, default_forum_layout=0)
        elif channel.is_thread:
            data.update(
                owner_id=str(channel.owner_id or self.bot.id),
                message_count=len(messages),
                total_message_sent=len(messages),
                member_count=1,
                applied_tags=[],
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": "2024-01-01T00:00:00+00:00",
                    "locked": False,
                    "create_timestamp": "2024-01-01T00:00:00+00:00",
                },
            )
        return data

    def guild_payload(self, guild: GuildSpec, *, all_members: bool = True) -> Json:
        """A full guild, as GUILD_CREATE sends it (only the bot's member unless `all_members`)."""
        members = [m for m in guild.members if all_members or m.user_id == self.bot.id]
        return {
            **self.partial_guild_payload(guild),
            "joined_at": "2024-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "member_count": len(guild.members),
            "members": [self.member_payload(m) for m in members],
            "channels": [self.channel_payload(guild, c) for c in guild.channels if not c.is_thread],
            "threads": [self.channel_payload(guild, c) for c in guild.channels if c.is_thread],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def partial_guild_payload(self, guild: GuildSpec) -> Json:
        """A guild as GET /guilds/{id} gives it (no channels or members)."""
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "features": [],
            "roles": [self.role_payload(r) for r in guild.roles],
            "emojis": [],
            "stickers": [],
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
        }

    # -- messages ---------------------------------------------------------------------------------

    def message(self, channel_id: int, message_id: int) -> Json | None:
        return self.messages.get(channel_id, {}).get(message_id)

    def new_message(
        self,
        channel_id: int,
        author_id: int,
        content: str = "",
        *,
        attachments: list[Json] | None = None,
        embeds: list[Json] | None = None,
        components: list[Json] | None = None,
        mentions: list[int] | None = None,
        mention_roles: list[int] | None = None,
        message_snapshots: list[Json] | None = None,
        message_reference: Json | None = None,
        flags: int = 0,
        type: int = 0,
        extra: Json | None = None,
        store: bool = True,
    ) -> Json:
        """Builds (and unless `store=False` keeps) a message as MESSAGE_CREATE carries it."""
        guild, channel = self.find_channel(channel_id)
        if channel is None:
            raise KeyError(f"unknown channel {channel_id}")
        mention_ids = list(mentions or [])
        for match in re.finditer(r"<@!?(\d+)>", content):
            if int(match.group(1)) not in mention_ids:
                mention_ids.append(int(match.group(1)))
        data: Json = {
            "id": str(self.ids.next()),
            "channel_id": str(channel_id),
            "type": type,
            "content": content,
            "author": self.user_payload(author_id),
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": "@everyone" in content,
            "mentions": [self._mention(guild, uid) for uid in mention_ids],
            "mention_roles": [str(r) for r in mention_roles or []],
            "attachments": list(attachments or []),
            "embeds": list(embeds or []),
            "components": list(components or []),
            "pinned": False,
            "flags": flags,
        }
        if guild is not None:
            data["guild_id"] = str(guild.id)
            member = guild.member(author_id)
            if member is not None:
                data["member"] = self.member_payload(member, with_user=False)
        if message_snapshots:
            data["message_snapshots"] = message_snapshots
            data["flags"] |= HAS_SNAPSHOT
        if message_reference is not None:
            data["message_reference"] = message_reference
        if extra:
            data.update(extra)
        if store:
            self.messages.setdefault(channel_id, {})[int(data["id"])] = data
        return data

    def _mention(self, guild: GuildSpec | None, user_id: int) -> Json:
        data = self.user_payload(user_id)
        member = guild.member(user_id) if guild else None
        if member is not None:
            data["member"] = self.member_payload(member, with_user=False)
        return data


def mentions_user(message: Json, user_id: int) -> bool:
    """Whether the message's `mentions` include `user_id`."""
    return any(int(m["id"]) == user_id for m in message.get("mentions", []))


def strip_content(message: Json) -> Json:
    """The message as an app without the MESSAGE_CONTENT intent sees it."""
    data = dict(message)
    data.update(content="", embeds=[], attachments=[], components=[])
    if "message_snapshots" in data:
        data["message_snapshots"] = []
    data.pop("poll", None)
    return data


def _apply_overwrites(
    perms: int, guild: GuildSpec, member: MemberSpec, overwrites: list[Overwrite]
) -> int:
    everyone = next((o for o in overwrites if o.kind == "role" and o.id == guild.id), None)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for o in overwrites:
        if o.kind == "role" and o.id in member.roles:
            allow |= o.allow
            deny |= o.deny
    perms = (perms & ~deny) | allow
    own = next((o for o in overwrites if o.kind == "member" and o.id == member.user_id), None)
    if own is not None:
        perms = (perms & ~own.deny) | own.allow
    return perms


def _timed_out(member: MemberSpec) -> bool:
    until = member.communication_disabled_until
    return until is not None and datetime.fromisoformat(until) > datetime.now(UTC)


class Default:
    """Ids of the default world (guild "Stream"), for tests and the demo."""

    TOKEN = "sandbox.bot.token"
    BOT = 4242
    GUILD = 111
    ALERTS = 222
    GENERAL = 333
    THREAD = 444
    FORUM = 555
    FORUM_POST = 556
    VOICE = 666
    NEWS = 777
    OWNER = 500
    MOD = 501
    MEMBER = 502
    MOD_ROLE = 601
    BOT_ROLE = 602


def default_world(*, bot_permissions: int = SHIELD_PERMISSIONS) -> World:
    """Guild 111 "Stream": a mod-only #alerts, #general with a thread, a forum, voice, news."""
    d = Default
    hidden = int(Perm.VIEW_CHANNEL)
    guild = GuildSpec(
        id=d.GUILD,
        name="Stream",
        owner_id=d.OWNER,
        bot_permissions=bot_permissions,
        bot_role_id=d.BOT_ROLE,
        roles=[RoleSpec(d.MOD_ROLE, "Moderators", MODERATOR_PERMISSIONS, position=1)],
        members=[
            MemberSpec(d.OWNER),
            MemberSpec(d.MOD, roles=[d.MOD_ROLE]),
            MemberSpec(d.MEMBER),
        ],
        channels=[
            ChannelSpec(
                d.ALERTS,
                "alerts",
                position=0,
                topic="Shield reports",
                overwrites=[
                    Overwrite(d.GUILD, deny=hidden),
                    Overwrite(d.MOD_ROLE, allow=hidden),
                    Overwrite(d.BOT_ROLE, allow=hidden),
                ],
            ),
            ChannelSpec(d.GENERAL, "general", position=1),
            ChannelSpec(
                d.THREAD, "clips", ChannelType.PUBLIC_THREAD, parent_id=d.GENERAL, owner_id=d.MEMBER
            ),
            ChannelSpec(d.FORUM, "showcase", ChannelType.FORUM, position=2),
            ChannelSpec(
                d.FORUM_POST,
                "my art",
                ChannelType.PUBLIC_THREAD,
                parent_id=d.FORUM,
                owner_id=d.MEMBER,
            ),
            ChannelSpec(d.VOICE, "Voice chat", ChannelType.VOICE, position=3),
            ChannelSpec(d.NEWS, "announcements", ChannelType.NEWS, position=4),
        ],
    )
    users = [
        UserSpec(d.OWNER, "streamer"),
        UserSpec(d.MOD, "mod"),
        UserSpec(d.MEMBER, "viewer"),
    ]
    return World(bot=UserSpec(d.BOT, "Shield", bot=True), guilds=[guild], users=users)
