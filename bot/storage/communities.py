"""Settings that moderators change per community (a Discord server or a Twitch channel).

Every key is registered here with its type and default, so a typo is an error, not a silently
ignored setting. Communities are named `discord:<guild id>` or `twitch:<channel login>`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.errors import InputError
from bot.storage.database import now

_COMMUNITY = re.compile(r"^(discord:\d{1,20}|twitch:[a-z0-9_]{1,25})$")


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    default: Any
    parse: Callable[[str], Any]
    help: str


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("use true or false")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.strip().lower() not in options:
            raise ValueError("use " + " or ".join(options))
        return text.strip().lower()

    return parse


def _minutes(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 40320:
        raise ValueError("use a number of minutes from 1 to 40320 (28 days, Discord's limit)")
    return int(text)


def _id_list(text: str) -> list[str]:
    items = [t.strip() for t in text.replace(" ", ",").split(",") if t.strip()]
    if text.strip().lower() in ("", "none", "off"):
        return []
    if not all(t.isdigit() or t.replace("_", "").isalnum() for t in items):
        raise ValueError("use channel ids separated by commas, or none")
    return items


def _snowflake(text: str) -> int | None:
    if text.strip().lower() in ("", "none", "off"):
        return None
    if not text.strip().isdigit():
        raise ValueError("use a channel or role id (digits), or none")
    return int(text)


REGISTRY: tuple[Setting, ...] = (
    Setting("dry_run", False, _bool, "log and alert what would be done, change nothing"),
    Setting("lookalikes", True, _bool, "hold look-alikes of listed domains for review"),
    Setting("keywords", True, _bool, "hold messages naming listed brands for review"),
    Setting(
        "unscannable",
        "allow",
        _choice("allow", "hold"),
        "media that cannot be scanned: let it through (allow) or hold it for review (hold)",
    ),
    Setting(
        "hold_channels",
        [],
        _id_list,
        "channels (ids, comma-separated) where unscannable media is always held (fail closed)",
    ),
    Setting(
        "first_offence",
        "timeout",
        _choice("none", "timeout", "ban"),
        "what happens to the author of a blocked item the first time",
    ),
    Setting(
        "repeat_offence",
        "ban",
        _choice("none", "timeout", "ban"),
        "what happens when they do it again (earlier cases not dismissed)",
    ),
    Setting("timeout_minutes", 10, _minutes, "length of a timeout"),
    Setting("notify_author", False, _bool, "tell the author by DM why their message was removed"),
    Setting("alert_channel", None, _snowflake, "Discord channel that receives alerts"),
    Setting("moderator_role", None, _snowflake, "Discord role allowed to review cases"),
)
_BY_KEY = {s.key: s for s in REGISTRY}


def setting(key: str) -> Setting:
    try:
        return _BY_KEY[key]
    except KeyError:
        known = ", ".join(_BY_KEY)
        raise InputError(f"unknown community setting {key!r}: known settings are {known}") from None


def check_community(community: str) -> str:
    if not _COMMUNITY.match(community):
        raise InputError(
            f"community {community!r} is not valid: use discord:<server id> or twitch:<login>"
        )
    return community


class CommunitySettingsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, community: str, key: str) -> Any:
        spec = setting(key)
        row = self.db.execute(
            "SELECT value FROM community_settings WHERE community = ? AND key = ?",
            [check_community(community), key],
        ).fetchone()
        return spec.default if row is None else json.loads(row[0])

    def is_set(self, community: str, key: str) -> bool:
        """True when someone stored a value (the default applies otherwise)."""
        setting(key)
        row = self.db.execute(
            "SELECT 1 FROM community_settings WHERE community = ? AND key = ?",
            [check_community(community), key],
        ).fetchone()
        return row is not None

    def all(self, community: str) -> dict[str, Any]:
        """Every registered setting of a community, defaults for those never set (one query)."""
        rows = self.db.execute(
            "SELECT key, value FROM community_settings WHERE community = ?",
            [check_community(community)],
        ).fetchall()
        stored = {key: json.loads(value) for key, value in rows}
        return {s.key: stored.get(s.key, s.default) for s in REGISTRY}

    def set(self, community: str, key: str, text: str, *, updated_by: str) -> Any:
        """Parse `text` for `key` and store it; returns the stored value."""
        spec = setting(key)
        try:
            value = spec.parse(text)
        except ValueError as exc:
            raise InputError(f"bad value {text!r} for {key}: {exc}") from None
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO community_settings"
                " (community, key, value, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)",
                [check_community(community), key, json.dumps(value), updated_by, now()],
            )
        return value
