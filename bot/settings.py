"""Typed, frozen settings: config/default.toml, then the user's TOML file, then the environment.

Three tiers, one owner each: built-in defaults live in `config/default.toml`, the streamer's
choices in their own TOML file (`--config` or SHIELD_CONFIG), secrets only in the environment.
Unknown keys and wrong types are errors that name the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from bot.errors import SettingsError


def config_dir() -> Path:
    """The folder of default settings and starter lists (in the source tree or the wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "config", here / "_config"):
        if (candidate / "default.toml").is_file():
            return candidate
    raise SettingsError("Shield's config/default.toml is missing: reinstall Shield")


class _Section(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every settings section: immutable, and strict about key names."""


class StorageSettings(_Section, frozen=True):
    database: str = "shield.db"


class LinkSettings(_Section, frozen=True):
    lookalikes: bool = True
    keywords: bool = True
    max_text_chars: int = 20_000


class SeedList(_Section, frozen=True):
    file: str
    list: str
    tier: Literal["block", "review", "allow"] = "block"


class ListSettings(_Section, frozen=True):
    seed: tuple[SeedList, ...] = ()


class LoggingSettings(_Section, frozen=True):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class FetchSettings(_Section, frozen=True):
    enabled: bool = True
    allow_private_addresses: bool = False
    max_bytes: int = 25 * 1024 * 1024
    timeout_seconds: float = 10.0
    max_redirects: int = 5
    user_agent: str = "Mozilla/5.0 (compatible; link-preview)"


class MediaSettings(_Section, frozen=True):
    max_pixels: int = 40_000_000
    max_frames: int = 32
    video_max_seconds: float = 900.0
    video_frames_per_second: float = 1.0
    video_max_frames: int = 120
    decode_size: int = 512
    workers: int = 2
    hash_timeout_seconds: float = 20.0


class MatchingSettings(_Section, frozen=True):
    pdq_block_distance: int = 31
    pdq_review_distance: int = 48
    pdq_min_quality: int = 50
    phash_review_distance: int = 8


class DiscordGuild(_Section, frozen=True):
    """A server's settings seeded from the config file (moderators can change them later)."""

    id: int
    alert_channel: int | None = None
    moderator_role: int | None = None
    dry_run: bool | None = None


class DiscordSettings(_Section, frozen=True):
    api_base: str = "https://discord.com/api/v10"
    gateway: str = "wss://gateway.discord.gg/"
    guilds: tuple[DiscordGuild, ...] = ()
    # Download and hash attachments, embed images and linked media.
    scan_media: bool = True
    media_per_message: int = 8  # attachments and links hashed per message at the most


class TwitchChannel(_Section, frozen=True):
    """A channel to guard, and the Discord server whose moderators get its cases (optional)."""

    login: str
    discord_guild: int | None = None


class TwitchSettings(_Section, frozen=True):
    api_base: str = "https://api.twitch.tv/helix/"
    id_base: str = "https://id.twitch.tv/"
    eventsub_url: str = "wss://eventsub.wss.twitch.tv/ws"
    channels: tuple[TwitchChannel, ...] = ()
    # Where refreshed user tokens are kept (owner-only file), relative to the working folder.
    token_store: str = "shield-twitch-tokens.json"
    chat_notice: bool = False  # post a short notice in chat after removing a message


class VaultSettings(_Section, frozen=True):
    # The master key: SHIELD_VAULT_KEY (base64) if set, else this file, created owner-only.
    key_file: str = "shield-vault.key"
    retention_days: int = 30
    keep_review_media: bool = True  # keep media of review-tier matches for moderators
    keep_reports: bool = True  # keep media that members report
    keep_unscannable: bool = True  # keep media held because it could not be scanned
    preview_pixels: int = 160  # long side of the blurred preview


class DashboardSettings(_Section, frozen=True):
    host: str = "127.0.0.1"
    port: int = 8080
    session_hours: int = 12  # a login lasts this long
    public_url: str | None = None  # e.g. https://shield.example.org, for login links


class ReviewSettings(_Section, frozen=True):
    # Victim-support text in the evidence packet and in Shield's DM and whisper replies;
    # unset, the built-in text naming StopNCII.org, Take It Down and the platforms' reporting.
    support_text: str | None = None


class Secrets(_Section, frozen=True):
    """Tokens and keys, read only from the environment and never printed."""

    discord_token: str | None = None
    twitch_client_id: str | None = None
    twitch_client_secret: str | None = None
    twitch_bot_id: str | None = None
    twitch_bot_token: str | None = None
    twitch_bot_refresh_token: str | None = None
    vault_key: str | None = None

    def __repr__(self) -> str:
        names = [f for f in self.__struct_fields__ if getattr(self, f)]
        return f"Secrets(set={names})"


class Settings(_Section, frozen=True):
    storage: StorageSettings = StorageSettings()
    links: LinkSettings = LinkSettings()
    lists: ListSettings = ListSettings()
    logging: LoggingSettings = LoggingSettings()
    fetch: FetchSettings = FetchSettings()
    media: MediaSettings = MediaSettings()
    matching: MatchingSettings = MatchingSettings()
    discord: DiscordSettings = DiscordSettings()
    twitch: TwitchSettings = TwitchSettings()
    vault: VaultSettings = VaultSettings()
    dashboard: DashboardSettings = DashboardSettings()
    review: ReviewSettings = ReviewSettings()
    secrets: Secrets = Secrets()
    # Where the settings came from, for messages: the user's file, if any.
    source: str | None = None


SUPPORT_TEXT_CHARS = 1500  # room for it in a Discord DM (2000) beside what Shield found

# Checks that TOML types cannot express: (key, test, what the value must be).
_RULES: tuple[tuple[str, Any, str], ...] = (
    ("links.max_text_chars", lambda v: v >= 500, "at least 500"),
    ("fetch.max_bytes", lambda v: 1024 <= v <= 1 << 30, "between 1024 and 1073741824"),
    ("fetch.timeout_seconds", lambda v: 0 < v <= 120, "above 0 and at most 120"),
    ("fetch.max_redirects", lambda v: 0 <= v <= 10, "between 0 and 10"),
    ("media.max_pixels", lambda v: 10_000 <= v <= 500_000_000, "between 10000 and 500000000"),
    ("media.max_frames", lambda v: 1 <= v <= 1000, "between 1 and 1000"),
    ("media.video_max_seconds", lambda v: v > 0, "above 0"),
    ("media.video_frames_per_second", lambda v: 0 < v <= 30, "above 0 and at most 30"),
    ("media.video_max_frames", lambda v: 1 <= v <= 10_000, "between 1 and 10000"),
    ("media.decode_size", lambda v: 64 <= v <= 4096, "between 64 and 4096"),
    ("media.workers", lambda v: 0 <= v <= 64, "between 0 and 64"),
    ("media.hash_timeout_seconds", lambda v: v > 0, "above 0"),
    ("matching.pdq_block_distance", lambda v: 0 <= v <= 256, "between 0 and 256"),
    ("matching.pdq_review_distance", lambda v: 0 <= v <= 256, "between 0 and 256"),
    ("matching.pdq_min_quality", lambda v: 0 <= v <= 100, "between 0 and 100"),
    ("matching.phash_review_distance", lambda v: 0 <= v <= 64, "between 0 and 64"),
    ("discord.media_per_message", lambda v: 0 <= v <= 50, "between 0 and 50"),
    ("discord.api_base", lambda v: v.startswith(("http://", "https://")), "an http(s) URL"),
    ("discord.gateway", lambda v: v.startswith(("ws://", "wss://")), "a ws(s) URL"),
    ("dashboard.port", lambda v: 0 <= v <= 65535, "a port number (0 picks a free one)"),
    ("dashboard.session_hours", lambda v: 1 <= v <= 24 * 30, "between 1 and 720"),
    ("vault.retention_days", lambda v: 1 <= v <= 3650, "between 1 and 3650"),
    ("vault.preview_pixels", lambda v: 32 <= v <= 512, "between 32 and 512"),
    ("twitch.api_base", lambda v: v.startswith(("http://", "https://")), "an http(s) URL"),
    ("twitch.id_base", lambda v: v.startswith(("http://", "https://")), "an http(s) URL"),
    ("twitch.eventsub_url", lambda v: v.startswith(("ws://", "wss://")), "a ws(s) URL"),
    (
        "review.support_text",
        lambda v: v is None or 0 < len(v.strip()) <= SUPPORT_TEXT_CHARS,
        f"text of 1 to {SUPPORT_TEXT_CHARS} characters",
    ),
)

_ENV_SECRETS = {
    "DISCORD_TOKEN": "discord_token",
    "TWITCH_CLIENT_ID": "twitch_client_id",
    "TWITCH_CLIENT_SECRET": "twitch_client_secret",
    "TWITCH_BOT_ID": "twitch_bot_id",
    "TWITCH_BOT_TOKEN": "twitch_bot_token",
    "TWITCH_BOT_REFRESH_TOKEN": "twitch_bot_refresh_token",
    "SHIELD_VAULT_KEY": "vault_key",
}


_ENV_URLS = (
    ("SHIELD_DISCORD_API_BASE", "discord", "api_base"),
    ("SHIELD_DISCORD_GATEWAY", "discord", "gateway"),
    ("SHIELD_TWITCH_API_BASE", "twitch", "api_base"),
    ("SHIELD_TWITCH_ID_BASE", "twitch", "id_base"),
    ("SHIELD_TWITCH_EVENTSUB_URL", "twitch", "eventsub_url"),
)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} does not exist") from None
    except IsADirectoryError:
        raise SettingsError(f"settings file {path} is a folder, not a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc.strerror}") from None


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<field>[^`]+)`")


def _convert(data: Mapping[str, Any], where: str) -> Settings:
    if "secrets" in data or "source" in data:
        raise SettingsError(
            f"{where}: secrets never go in a settings file; set them in the environment "
            f"(for example DISCORD_TOKEN)"
        )
    try:
        settings = msgspec.convert(data, Settings, strict=True)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"{where}: {_explain(str(exc))}") from None
    for key, test, what in _RULES:
        section, name = key.split(".")
        value = getattr(getattr(settings, section), name)
        if not test(value):
            raise SettingsError(f"{where}: {key} must be {what}, not {value!r}")
    return settings


def _explain(message: str) -> str:
    """Turn msgspec's message into one that names the key the way the TOML file writes it."""
    at = _AT.search(message)
    path = at.group("path") if at else ""
    key = re.sub(r"\[(\d+)\]", r"[\1]", path).lstrip(".")
    body = _AT.sub("", message)
    unknown = _UNKNOWN.match(body)
    if unknown:
        full = f"{key}.{unknown.group('field')}" if key else unknown.group("field")
        return f"unknown key '{full}' (check the spelling against config/default.toml)"
    return f"key '{key or '(top level)'}': {body[0].lower()}{body[1:]}"


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Load the defaults, then the user's file (argument or SHIELD_CONFIG), then the environment."""
    env = os.environ if env is None else env
    defaults_path = config_dir() / "default.toml"
    data = _read_toml(defaults_path)
    _convert(data, str(defaults_path))

    user_path = config_path or env.get("SHIELD_CONFIG") or None
    source = None
    if user_path:
        user = _read_toml(Path(user_path))
        _convert(user, str(user_path))
        data = _merge(data, user)
        source = str(user_path)

    if env.get("SHIELD_DB"):
        data = _merge(data, {"storage": {"database": env["SHIELD_DB"]}})
    for var, section, key in _ENV_URLS:
        if env.get(var):
            data = _merge(data, {section: {key: env[var]}})
    if env.get("SHIELD_LOG_LEVEL"):
        data = _merge(data, {"logging": {"level": env["SHIELD_LOG_LEVEL"].upper()}})
    settings = _convert(data, source or "environment")
    secrets = {field: env[var] for var, field in _ENV_SECRETS.items() if env.get(var)}
    return msgspec.structs.replace(settings, secrets=Secrets(**secrets), source=source)


def with_database(settings: Settings, database: str | os.PathLike[str]) -> Settings:
    """The same settings with another database file (the CLI's --db)."""
    storage = msgspec.structs.replace(settings.storage, database=os.fspath(database))
    return msgspec.structs.replace(settings, storage=storage)
