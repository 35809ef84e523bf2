"""Keep Twitch tokens out of logs, including twitchio's own.

twitchio puts full request URLs in its error messages, and the OAuth token endpoint takes the
refresh token and the client secret as query parameters; an invalid-token error even quotes the
access token. A filter on twitchio's loggers and ours rewrites every record before any handler
sees it: known secret values, `refresh_token=` / `client_secret=` parameters and `OAuth` /
`Bearer` headers become `<redacted>`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Final

PREFIXES: Final = ("twitchio", "bot.platforms.twitch", "cogs.twitch")
_PATTERNS: Final = (
    re.compile(r"(?i)((?:refresh_token|client_secret|access_token|code)=)[^&\s\"'>]+"),
    re.compile(r"(?i)\b((?:OAuth|Bearer)\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(\"(?:access_token|refresh_token|token|refresh)\"\s*:\s*\")[^\"]+"),
)
_MIN_SECRET: Final = 8  # shorter values would redact ordinary words


class SecretFilter(logging.Filter):
    """Rewrites log records so that no secret value or token-shaped parameter survives."""

    def __init__(self) -> None:
        super().__init__("shield-twitch-secrets")
        self._secrets: set[str] = set()

    def add(self, *values: str | None) -> None:
        """Remember more secret values (tokens as they are issued or refreshed)."""
        self._secrets.update(v for v in values if v and len(v) >= _MIN_SECRET)

    def redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "<redacted>")
        for pattern in _PATTERNS:
            text = pattern.sub(r"\1<redacted>", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the record as it is
            return True
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = self.redact(message)
        record.args = None
        return True


def _loggers() -> list[logging.Logger]:
    """Every logger twitchio and Shield's Twitch modules created (a filter is per logger)."""
    names = [n for n in logging.root.manager.loggerDict if n.startswith(PREFIXES)]
    return [logging.getLogger(n) for n in sorted({*names, *PREFIXES})]


def install(secrets: Iterable[str | None] = ()) -> SecretFilter:
    """Attach one filter to twitchio's loggers and Shield's Twitch loggers; remove() undoes it."""
    found = SecretFilter()
    found.add(*secrets)
    for logger in _loggers():
        logger.addFilter(found)
    return found


def remove(secret_filter: SecretFilter) -> None:
    """Detach the filter (at shutdown, so tests do not stack filters)."""
    for logger in _loggers():
        logger.removeFilter(secret_filter)
