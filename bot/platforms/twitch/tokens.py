"""The bot account's Twitch user token: where it comes from, where it is kept, what it may do.

A streamer follows three steps (docs in the README): register an app at dev.twitch.tv (client
id and secret), authorize the bot account with the scopes below, and put the resulting token and
refresh token in TWITCH_BOT_TOKEN / TWITCH_BOT_REFRESH_TOKEN. twitchio validates the token,
refreshes it before it expires, and Shield keeps each refreshed pair in the token store: a JSON
file created owner-only (0600), written atomically, never logged. The store wins over the
environment on the next start, because the environment's token has usually expired by then.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.errors import ShieldError
from bot.settings import Settings

log = logging.getLogger(__name__)

# Scopes the bot account's token must carry, and why (named in the error when one is missing).
REQUIRED_SCOPES: Final[dict[str, str]] = {
    "user:read:chat": "read chat in the guarded channels",
    "user:bot": "appear in chat as a bot",
    "moderator:manage:chat_messages": "delete a message",
    "moderator:manage:banned_users": "time out or ban its author",
    "user:read:whispers": "receive whispers sent to the bot",
    "moderator:manage:automod": "see and deny messages held by AutoMod",
}
CHAT_NOTICE_SCOPE: Final = "user:write:chat"  # required only when twitch.chat_notice is on
WHISPER_REPLY_SCOPE: Final = "user:manage:whispers"  # optional: reply to whispers


class TwitchSetupError(ShieldError):
    """Twitch is configured in a way that cannot work; the message says what to change."""


class MissingScopeError(TwitchSetupError):
    """The bot's token lacks scopes Shield needs; the message names each one."""

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = tuple(sorted(missing))
        needs = "; ".join(
            f"{s} (to {REQUIRED_SCOPES.get(s, 'post notices in chat')})" for s in self.missing
        )
        super().__init__(
            f"the Twitch bot token is missing scope(s): {needs}. Authorize the bot account again "
            f"with these scopes and put the new pair in TWITCH_BOT_TOKEN and "
            f"TWITCH_BOT_REFRESH_TOKEN (then delete the token store file)"
        )


def needed_scopes(settings: Settings) -> frozenset[str]:
    """Every scope this configuration needs."""
    scopes = set(REQUIRED_SCOPES)
    if settings.twitch.chat_notice:
        scopes.add(CHAT_NOTICE_SCOPE)
    return frozenset(scopes)


def check_scopes(granted: Iterable[str], settings: Settings) -> None:
    """Raise MissingScopeError (after a log line) if the token lacks a needed scope."""
    missing = needed_scopes(settings) - set(granted)
    if missing:
        error = MissingScopeError(missing)
        log.error("%s", error)
        raise error


@dataclass(frozen=True, slots=True)
class TokenPair:
    """A user access token and its refresh token; the repr never shows either."""

    token: str
    refresh: str

    def __repr__(self) -> str:
        return "TokenPair(<hidden>)"


class TokenStore:
    """The owner-only JSON file of refreshed user tokens, keyed by Twitch user id."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser().absolute()

    def load(self, user_id: str) -> TokenPair | None:
        """The stored pair for `user_id`, or None; a file others can read is tightened first."""
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("token store %s was readable by others: made it owner-only", self.path)
            self.path.chmod(0o600)
        try:
            data = json.loads(self.path.read_text("utf-8"))
            entry = data[user_id]
            return TokenPair(str(entry["token"]), str(entry["refresh"]))
        except KeyError:
            return None
        except (ValueError, TypeError, OSError) as exc:
            log.warning(
                "token store %s is unreadable (%s): ignoring it", self.path, type(exc).__name__
            )
            return None

    def save(self, user_id: str, pair: TokenPair) -> None:
        """Write the pair for `user_id` atomically into a file only the owner can read."""
        data: dict[str, dict[str, str]] = {}
        try:
            loaded = json.loads(self.path.read_text("utf-8"))
            if isinstance(loaded, dict):
                data = loaded
        except (OSError, ValueError):
            pass
        data[user_id] = {"token": pair.token, "refresh": pair.refresh}
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # an old temp file may have had another mode
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, self.path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        log.info("saved the Twitch token of user %s to %s", user_id, self.path)

    def warn_if_in_repository(self) -> None:
        """Tokens never belong in a source tree: warn when the store sits inside a git checkout."""
        for folder in self.path.parents:
            if (folder / ".git").exists():
                log.warning(
                    "the Twitch token store %s is inside the git checkout %s: keep it out of "
                    "commits (set twitch.token_store to a path outside, or ignore the file)",
                    self.path,
                    folder,
                )
                return


def initial_tokens(settings: Settings, store: TokenStore, bot_id: str) -> list[TokenPair]:
    """Pairs to try, best first: the store's (refreshed earlier), then the environment's."""
    pairs: list[TokenPair] = []
    stored = store.load(bot_id)
    if stored is not None:
        pairs.append(stored)
    secrets = settings.secrets
    if secrets.twitch_bot_token:
        env = TokenPair(secrets.twitch_bot_token, secrets.twitch_bot_refresh_token or "")
        if env not in pairs:
            pairs.append(env)
    if not pairs:
        raise TwitchSetupError(
            "no Twitch user token for the bot account: set TWITCH_BOT_TOKEN and "
            "TWITCH_BOT_REFRESH_TOKEN (authorize the bot account with the scopes "
            + ", ".join(sorted(needed_scopes(settings)))
            + ")"
        )
    return pairs
